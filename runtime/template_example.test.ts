/**
 * The talk's template programs, run as the deck runs them (tools/example.ts, cwd slides/examples,
 * the port redirected to an ephemeral one) and fetched over a real socket.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { afterAll, describe, expect, test } from "vitest";

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
});

/** Starts `npm run example -- <name>` on port 0 and resolves with the port it announces. */
function serve(name: string): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", "tools/example.ts", name, "--port", "0"], {
    cwd: process.cwd(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`example ${name} did not start:\n${stderr}`)), 15_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /http:\/\/localhost:(\d+)\//.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`example ${name} exited with ${code}:\n${stderr}`));
    });
  });
}

describe("template examples", () => {
  test("templates.ts serves the slide's 32 bytes with the slide's Etag", async () => {
    const port = await serve("templates");
    const response = await fetch(`http://127.0.0.1:${port}/`);
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.status).toBe(200);
    expect(body.toString()).toBe("<html>\n<h1> hello!</h1>\n</html>\n");
    expect(body.length).toBe(32);
    expect(response.headers.get("etag")).toBe('"3e7020fdb7b87ef428cbdd140c96217044748c27"');
    expect(createHash("sha1").update(body).digest("hex")).toBe("3e7020fdb7b87ef428cbdd140c96217044748c27");
  });

  test("templates-features.ts: inheritance, for, if, autoescape and a UI module with its CSS", async () => {
    const port = await serve("templates-features");
    const response = await fetch(`http://127.0.0.1:${port}/`);
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    // herencia: page.html fills base.html's blocks.
    expect(html).toMatch(/^<html>\n<head><title>templates<\/title>/);
    expect(html).toContain("<h1>templates</h1>");
    // the module's CSS, spliced before </head> by render()
    expect(html).toContain('<style type="text/css">\n.entry { border-left: 4px solid #c33; padding-left: 8px }\n</style>\n</head>');
    // for: one module render per entry; if: the count line
    expect(html.match(/<div class="entry">/g)).toHaveLength(2);
    expect(html).toContain("<h2>herencia</h2>");
    expect(html).toContain("<p>2 entries</p>");
    // autoescape: the user's <script> is text, not markup
    expect(html).toContain("<p>&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;</p>");
    expect(html).not.toContain("<script>");
  });
});
