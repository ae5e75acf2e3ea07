/**
 * `npm run example -- <name>` as a person uses it: the runner is a real process (node + tsx),
 * real curl (/usr/bin/curl) fetches from it, and the output is held to the talk's own slide.
 * The only differences allowed are Tornado 6's (a Date header, its header order) and our
 * Server name. Our curl must print the same bytes as real curl. Ports here are ephemeral
 * (`--port 0`); tools/example.serial.test.ts repeats the hello slide on the talk's 8888.
 */
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { curl } from "tornado/curl";
import { serverHeader } from "tornado/web";
import { parseCurlInclude, run, slideFor, startExample, type RunningExample } from "./talk-expectations.js";

const haveCurl = existsSync("/usr/bin/curl");
const running: RunningExample[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
});

async function ourCurl(argv: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const out: Uint8Array[] = [];
  let stderr = "";
  const code = await curl(argv, {
    stdout: (c) => out.push(typeof c === "string" ? new TextEncoder().encode(c) : c.slice()),
    stderr: (t) => (stderr += t),
    isTTY: false,
  });
  return { stdout: Buffer.concat(out).toString("utf8"), stderr, code };
}

/** Tornado 6's order for a plain 200 from RequestHandler.write. */
const TORNADO6_ORDER = ["Server", "Content-Type", "Date", "Etag", "Content-Length"];

for (const name of ["hello", "json", "templates"] as const) {
  describe(`npm run example -- ${name}`, () => {
    it.skipIf(!haveCurl)("real curl -i prints the slide's status line, body, Content-Length, Etag and Content-Type", async () => {
      const slide = slideFor(name);
      const example = await startExample(name, 0);
      running.push(example);
      const url = slide.url.replace("localhost:8888", `localhost:${example.port}`);
      const real = await run("/usr/bin/curl", ["-s", "-i", url]);
      expect(real.code).toBe(0);
      const got = parseCurlInclude(real.stdout);
      expect(got.statusLine).toBe(slide.statusLine);
      // The slide shows the body's lines; Content-Length (checked below) pins its exact bytes.
      expect(got.body.replace(/\n$/, "")).toBe(slide.body);
      const value = (headers: Array<[string, string]>, n: string) => headers.find(([k]) => k === n)?.[1];
      for (const header of ["Content-Length", "Etag", "Content-Type"]) {
        expect(value(got.headers, header), header).toBe(value(slide.headers, header));
      }
      expect(Buffer.byteLength(got.body)).toBe(Number(value(slide.headers, "Content-Length")));
      // Tornado 6's own differences: a Date header, insertion order; and our Server name.
      expect(got.headers.map(([k]) => k)).toEqual(TORNADO6_ORDER);
      expect([...slide.headers.map(([k]) => k), "Date"].sort()).toEqual([...TORNADO6_ORDER].sort());
      expect(value(got.headers, "Server")).toBe(serverHeader);
      expect(value(got.headers, "Date")).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);

      // The same command through our curl: the same bytes (Date masked only if the second ticked).
      const argv = ["-i", url];
      const [theirs, ours] = [await run("/usr/bin/curl", ["-s", ...argv]), await ourCurl(["-s", ...argv])];
      const dates = (s: string) => s.match(/Date: [^\r]+/g)?.join() ?? "";
      const mask = (s: string) => (dates(theirs.stdout) === dates(ours.stdout) ? s : s.replace(/Date: [^\r]+/, "Date: {DATE}"));
      expect(mask(ours.stdout)).toBe(mask(theirs.stdout));
      expect(ours.code).toBe(theirs.code);
      await example.stop();
    });
  });
}

describe.skipIf(!haveCurl)("npm run example -- hello --processes 2", () => {
  it("serves from two processes, and from the other while one is killed and restarted", async () => {
    const example = await startExample("hello", 0, ["--processes", "2"]);
    running.push(example);
    expect(example.stderr()).toContain(`on http://localhost:${example.port}/ from 2 processes`);
    const accepting = async (count: number) => {
      for (let i = 0; i < 1500 && (example.stderr().match(/accepting on port/g)?.length ?? 0) < count; i++) await new Promise((r) => setTimeout(r, 20));
      return new Map([...example.stderr().matchAll(/process (\d) \(pid (\d+)\) accepting on port (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]));
    };
    const pids = await accepting(2);
    expect([...pids.keys()].sort()).toEqual([0, 1]);
    const hello = () => run("/usr/bin/curl", ["-s", "--max-time", "20", `http://127.0.0.1:${example.port}/`]);
    // A stopped process cannot accept: with each child stopped in turn, the other one answers.
    for (const pid of pids.values()) {
      process.kill(pid, "SIGSTOP");
      try {
        expect((await hello()).stdout).toBe("Hello, world");
      } finally {
        process.kill(pid, "SIGCONT");
      }
    }
    process.kill(pids.get(1)!, "SIGKILL");
    expect((await hello()).stdout).toBe("Hello, world");
    const after = await accepting(3);
    expect(after.get(1)).not.toBe(pids.get(1));
    expect(example.stderr()).toContain(`child 1 (pid ${pids.get(1)}) killed by signal 9, restarting`);
    process.kill(after.get(0)!, "SIGSTOP");
    try {
      expect((await hello()).stdout).toBe("Hello, world");
    } finally {
      process.kill(after.get(0)!, "SIGCONT");
    }
    await example.stop();
  });
});

describe("the runner's own errors", () => {
  it("an unknown name lists the examples and exits 2", async () => {
    const r = await run(process.execPath, ["--import", "tsx", "tools/example.ts", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('example: no example named "nope"');
    expect(r.stderr).toMatch(/available examples: .*\bhello\b.*\bjson\b.*\btemplates\b/);
  });
  it("no name prints the usage and exits 2", async () => {
    const r = await run(process.execPath, ["--import", "tsx", "tools/example.ts"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^usage: npm run example -- <name>/);
  });
  it("a bad port is refused before anything starts", async () => {
    const r = await run(process.execPath, ["--import", "tsx", "tools/example.ts", "hello", "--port", "http"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("example: not a port number: http");
  });
  it("a port already taken says so and exits 1", async () => {
    const first = await startExample("hello", 0);
    running.push(first);
    const r = await run(process.execPath, ["--import", "tsx", "tools/example.ts", "json", "--port", String(first.port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${first.port} is in use`);
    await first.stop();
  });
});
