/**
 * The in-page engine's sandbox, driven directly on Node over the memory platform: the same code
 * the worker runs, minus the worker. (The worker itself, its watchdog and the real talk
 * programs are covered in Chromium by e2e/playground-engines.test.ts.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { platform } from "tornado/platform/index";
import { Sandbox } from "./sandbox.js";
import { runtimeModules } from "./modules.js";
import { CommandInput } from "../engine.js";
import { ECHO_PROGRAM, shown } from "../contract.js";

// A server written against the platform directly, so this test needs no more of the runtime
// than the platform and curl.
const rawServer = `import { platform } from "tornado/platform/index";
const body: string = "raw " + platform().name;
console.log("listening", 8888);
platform().listen({ port: 8888, onConnection(socket) {
  socket.onData = () => {
    socket.write(new TextEncoder().encode("HTTP/1.1 200 OK\\r\\nContent-Length: " + body.length + "\\r\\n\\r\\n" + body));
  };
}});
`;

function makeSandbox() {
  const out: Array<[string, string, string]> = [];
  const sandbox = new Sandbox({ modules: runtimeModules, output: (source, stream, text) => out.push([source, stream, text]) });
  return { sandbox, out, text: (source: string) => out.filter((o) => o[0] === source).map((o) => o[2]).join("") };
}

let current: Sandbox | undefined;
afterEach(() => current?.reset());

describe("in-page sandbox", () => {
  it("runs a program on the memory network and curl against it; console goes to the server log", async () => {
    const { sandbox, text } = makeSandbox();
    current = sandbox;
    const started = await sandbox.start({ name: "raw", main: "raw.ts", files: { "raw.ts": rawServer } }, 2000);
    expect(started).toEqual({ ok: true, ports: [8888] });
    expect(text("server")).toBe("listening 8888\n");
    expect(await sandbox.run(["-i", "http://localhost:8888/"])).toBe(0);
    expect(text("command")).toBe("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nraw memory");
    sandbox.reset();
    expect(platform().name).toBe("node");
  });

  it("warms up on a program of its own and leaves nothing of it: no output, no listener, the platform as it was", async () => {
    const { sandbox, out, text } = makeSandbox();
    current = sandbox;
    expect(await sandbox.warm()).toBe(true);
    expect(platform().name).toBe("node");
    // Nothing late either: an access log or a timer of the warm-up program.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(out).toEqual([]);
    // The user's program gets the same port, and curl reaches it, not the warm-up's server.
    expect(await sandbox.start({ name: "raw", main: "raw.ts", files: { "raw.ts": rawServer } }, 2000)).toEqual({ ok: true, ports: [8888] });
    expect(await sandbox.run(["-i", "http://localhost:8888/"])).toBe(0);
    expect(text("command")).toBe("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nraw memory");
    expect(text("server")).toBe("listening 8888\n");
  });

  it("a program can wait with tornado/locks, tornado/queues and tornado/gen on the memory platform", async () => {
    const program = `import { Application, RequestHandler } from "tornado/web";
import { Condition } from "tornado/locks";
import { Queue } from "tornado/queues";
import { sleep, withTimeout } from "tornado/gen";
import { IOLoop } from "tornado/ioloop";
const cond = new Condition();
const q = new Queue<string>(1);
class Poll extends RequestHandler {
  async get() {
    const waiting = cond.wait({ seconds: 5 });
    IOLoop.current().callLater(0.01, () => { q.putNowait("news"); cond.notifyAll(); });
    const notified = await waiting;
    const item = await withTimeout({ seconds: 5 }, q.get());
    await sleep(0.001);
    this.write("notified=" + notified + " item=" + item);
  }
}
new Application([["/poll", Poll]]).listen(8888);
`;
    const { sandbox, text } = makeSandbox();
    current = sandbox;
    expect(await sandbox.start({ name: "poll", main: "poll.ts", files: { "poll.ts": program } }, 2000)).toEqual({ ok: true, ports: [8888] });
    expect(await sandbox.run(["-s", "http://localhost:8888/poll"])).toBe(0);
    expect(text("command")).toBe("notified=true item=news");
  });

  it("reports compile errors with their line, and unknown modules as a crash", async () => {
    const { sandbox } = makeSandbox();
    current = sandbox;
    const broken = await sandbox.start({ name: "b", main: "b.ts", files: { "b.ts": "const a = 1;\nconst b = ;\n" } }, 2000);
    expect(broken).toMatchObject({ ok: false, kind: "compile", line: 2, column: 11, message: "b.ts:2:11: SyntaxError: Unexpected token" });
    const missing = await sandbox.start({ name: "m", main: "m.ts", files: { "m.ts": 'import { x } from "tornado/nope";\nx();\n' } }, 2000);
    expect(missing).toMatchObject({ ok: false, kind: "crash" });
    expect(!missing.ok && missing.message).toContain("Cannot find module 'tornado/nope'");
  });

  it("reports a throw before listening with the program's own line in the stack", async () => {
    const { sandbox } = makeSandbox();
    current = sandbox;
    const r = await sandbox.start({ name: "t", main: "t.ts", files: { "t.ts": "const n: number = 1;\n\nthrow new Error('nope ' + n);\n" } }, 2000);
    expect(r).toMatchObject({ ok: false, kind: "crash" });
    expect(!r.ok && r.message).toMatch(/Error: nope 1\n\s+at .*t\.ts:3:7/);
  });

  it("gives up on a program that never listens", async () => {
    const { sandbox } = makeSandbox();
    current = sandbox;
    const r = await sandbox.start({ name: "q", main: "q.ts", files: { "q.ts": "const quiet = 1;\n" } }, 100);
    expect(r).toEqual({ ok: false, kind: "timeout", message: "the program did not listen within 0.1 s" });
  });

  it("curl with nothing listening fails with curl's exit code 7", async () => {
    const { sandbox, text } = makeSandbox();
    current = sandbox;
    expect(await sandbox.run(["-i", "http://localhost:8888/"])).toBe(7);
    expect(text("command")).toMatch(/curl: \(7\) Failed to connect to localhost port 8888/);
  });

  it("runs wscat as a session: it streams, takes typed lines, and ends on Ctrl+C with 0", async () => {
    const { sandbox } = makeSandbox();
    current = sandbox;
    expect(await sandbox.start(ECHO_PROGRAM, 2000)).toEqual({ ok: true, ports: [8888] });
    const input = new CommandInput();
    const interrupt = new AbortController();
    let out = "";
    const arrived = (pattern: RegExp) => new Promise<void>((resolve) => {
      const check = () => (pattern.test(shown(out)) ? resolve() : setTimeout(check, 5));
      check();
    });
    const ran = sandbox.run(["-c", "ws://localhost:8888/echo"], {
      command: "wscat",
      tty: true,
      stdin: input,
      signal: interrupt.signal,
      output: (_stream, text) => (out += text),
    });
    await arrived(/< welcome\n> $/);
    input.line("hi");
    await arrived(/< echo: hi\n> $/);
    interrupt.abort();
    expect(await ran).toBe(0);
    expect(shown(out)).toBe("Connected (press CTRL+C to quit)\n< welcome\n< echo: hi\n> ");
  });
});
