import { afterEach, describe, expect, it } from "vitest";
import { bootNodeContainer, type NodeContainer } from "./node-backed.js";

let container: NodeContainer | undefined;
afterEach(async () => {
  await container?.teardown();
  container = undefined;
});

async function collect(stream: ReadableStream<string>): Promise<string> {
  let text = "";
  await stream.pipeTo(new WritableStream({ write: (c) => void (text += c) }));
  return text;
}

describe("node-backed container", () => {
  it("mounts trees, spawns node with merged output and exit codes", async () => {
    container = bootNodeContainer();
    await container.mount({
      "a.mjs": { file: { contents: 'import { x } from "./lib/x.mjs"; console.log(x); console.error("err"); process.exitCode = 3;' } },
      lib: { directory: { "x.mjs": { file: { contents: 'export const x = "from lib";' } } } },
    });
    const proc = await container.spawn("node", ["a.mjs"]);
    const [out, code] = await Promise.all([collect(proc.output), proc.exit]);
    expect(code).toBe(3);
    expect(out).toContain("from lib\n");
    expect(out).toContain("err\n");
  });

  it("mounts at a mount point and runs with cwd there; rm removes it", async () => {
    container = bootNodeContainer();
    await container.fs.mkdir("app", { recursive: true });
    await container.mount({ "b.mjs": { file: { contents: "console.log(process.cwd())" } } }, { mountPoint: "app" });
    const proc = await container.spawn("node", ["b.mjs"], { cwd: "app" });
    expect((await collect(proc.output)).trim()).toBe(`${container.workdir}/app`);
    await container.fs.rm("app", { recursive: true, force: true });
    const again = await container.spawn("node", ["b.mjs"], { cwd: "." });
    expect(await again.exit).toBe(1);
  });

  it("reports a listening port by probing, and its closing when the process is killed", async () => {
    container = bootNodeContainer();
    const events: string[] = [];
    let opened!: (p: number) => void;
    const open = new Promise<number>((r) => (opened = r));
    container.on("port", (port, type) => {
      events.push(`${type} ${port}`);
      if (type === "open") opened(port);
    });
    await container.mount({
      "s.mjs": {
        file: {
          contents:
            'import net from "node:net"; const s = net.createServer(); s.listen(0, "127.0.0.1", () => console.log("port", s.address().port));',
        },
      },
    });
    const proc = await container.spawn("node", ["s.mjs"]);
    let out = "";
    let printed!: () => void;
    const printedLine = new Promise<void>((r) => (printed = r));
    void proc.output.pipeTo(new WritableStream({ write: (c) => void ((out += c), /port \d+\n/.test(out) && printed()) }));
    const port = await open;
    // The probe can see the socket before the program's line has come through the pipe: the
    // line is what proves it is the program's port, so kill only once it is here.
    await printedLine;
    expect(out).toContain(`port ${port}\n`);
    proc.kill();
    expect(await proc.exit).toBe(137);
    // The container probes again as the process closes, before `exit` resolves.
    expect(events).toEqual([`open ${port}`, `close ${port}`]);
  });

  it("gives each port a preview URL (another origin) that forwards HTTP and websocket upgrades, and closes the program's side when the browser's closes", async () => {
    container = bootNodeContainer();
    let opened!: (v: { port: number; url: string }) => void;
    const open = new Promise<{ port: number; url: string }>((r) => (opened = r));
    container.on("port", (port, type, url) => type === "open" && opened({ port, url }));
    await container.mount({
      "h.mjs": {
        file: {
          contents: `import http from "node:http";
const s = http.createServer((req, res) => {
  if (req.url === "/wait") { req.socket.on("close", () => console.log("client left")); return; }
  res.end("hello " + req.url);
});
s.on("upgrade", (req, socket) => { socket.write("HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n"); socket.on("data", (d) => socket.write(d)); });
s.listen(0, "127.0.0.1", () => console.log("port", s.address().port));`,
        },
      },
    });
    const proc = await container.spawn("node", ["h.mjs"]);
    let out = "";
    void proc.output.pipeTo(new WritableStream({ write: (c) => void (out += c) }));
    const { port, url } = await open;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(new URL(url).port).not.toBe(String(port));
    expect(await (await fetch(new URL("/page?x=1", url))).text()).toBe("hello /page?x=1");
    // An upgrade goes through as bytes: the 101, then an echo.
    const net = await import("node:net");
    const raw = net.connect(Number(new URL(url).port), "127.0.0.1");
    let got = "";
    raw.on("data", (d) => (got += d.toString()));
    raw.write("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    await expect.poll(() => got, { timeout: 5000 }).toMatch(/^HTTP\/1\.1 101 /);
    raw.write("ping-bytes");
    await expect.poll(() => got, { timeout: 5000 }).toMatch(/ping-bytes$/);
    raw.destroy();
    // A browser that goes away mid-request: the program sees its client leave.
    const controller = new AbortController();
    const waiting = fetch(new URL("/wait", url), { signal: controller.signal }).catch(() => "aborted");
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    expect(await waiting).toBe("aborted");
    await expect.poll(() => out, { timeout: 5000 }).toContain("client left");
    proc.kill();
    await proc.exit;
  });

  it("gives each container a localhost of its own: two run a server on 8888 side by side, and each one's clients reach its own", async () => {
    const containers = [bootNodeContainer(), bootNodeContainer()];
    try {
      expect(containers[0]!.host).not.toBe(containers[1]!.host);
      const answers = await Promise.all(
        containers.map(async (c, i) => {
          const opened = new Promise<string>((r) => c.on("port", (port, type, url) => type === "open" && port === 8888 && r(url)));
          await c.mount({
            // Bound as the talk binds: port 8888 on every interface.
            "s.mjs": { file: { contents: `import http from "node:http"; http.createServer((q, r) => r.end("container ${i}, client " + q.socket.remoteAddress)).listen(8888);` } },
            "get.mjs": { file: { contents: 'const r = await fetch("http://localhost:8888/"); console.log(await r.text());' } },
          });
          const server = await c.spawn("node", ["s.mjs"]);
          const url = await opened;
          const client = await c.spawn("node", ["get.mjs"]);
          const [out, code] = await Promise.all([collect(client.output), client.exit]);
          expect(code).toBe(0);
          // The preview URL reaches the same program from outside the container.
          const outside = await (await fetch(url)).text();
          server.kill();
          await server.exit;
          return [out.trim(), outside.replace(/client .*/, "")];
        }),
      );
      // Clients come from 127.0.0.1, as on a plain localhost, so the programs log what they would.
      expect(answers).toEqual([
        ["container 0, client 127.0.0.1", "container 0, "],
        ["container 1, client 127.0.0.1", "container 1, "],
      ]);
    } finally {
      await Promise.all(containers.map((c) => c.teardown()));
    }
  });
});
