/**
 * tornado/process over real processes and sockets: Tornado's multi-process recipe
 * (runtime/testdata/process-server.ts) serving from two children that share one listening
 * socket, real curl as the client (a fresh connection per request). Which child accepts a
 * connection is the kernel's choice, so the tests never count on a spread: to see the second
 * child serve, the first is blocked inside a request (`/hold`) and cannot accept.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMemoryPlatform } from "./platform/memory.js";
import { setPlatform } from "./platform/index.js";
import { bindSockets, forkProcesses, taskId } from "./process.js";
import { sleep } from "./platform/testkit.js";
import { bundleForTest, type Bundle } from "./testdata/bundle.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const haveCurl = existsSync("/usr/bin/curl");

interface Who {
  taskId: number;
  pid: number;
}

/** The program, bundled once (testdata/bundle.ts): parents, children and restarts start fast. */
let server: Bundle;
beforeAll(async () => {
  server = await bundleForTest(join(ROOT, "runtime/testdata/process-server.ts"));
});
afterAll(() => server.dispose());

class Program {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly dir = mkdtempSync(join(tmpdir(), "tornado-process-"));
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(mode: "recipe" | "start", processes: number, maxRestarts: number, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [server.file, mode, String(processes), String(maxRestarts), this.dir], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (c: Buffer) => (this.stdout += c.toString()));
    this.child.stderr!.on("data", (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolveP) => this.child.once("exit", (code, signal) => resolveP({ code, signal })));
  }

  /** Waits (bounded) until `pattern` matches the output; returns the match. */
  async waitFor(pattern: RegExp, stream: "stdout" | "stderr" = "stdout", seconds = 30): Promise<RegExpMatchArray> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const m = this[stream].match(pattern);
      if (m) return m;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`no ${pattern} in ${stream} after ${seconds} s\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await sleep(20);
    }
  }

  /** The children serving now, by task id (the last line each one printed). */
  async serving(count: number): Promise<{ port: number; pids: Map<number, number> }> {
    const lines = new RegExp(`(?:task \\d+ pid \\d+ port \\d+\\n[^]*){${count}}`);
    await this.waitFor(lines);
    const pids = new Map<number, number>();
    let port = 0;
    for (const m of this.stdout.matchAll(/task (\d+) pid (\d+) port (\d+)/g)) {
      pids.set(Number(m[1]), Number(m[2]));
      port = Number(m[3]);
    }
    return { port, pids };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function curl(url: string): Promise<{ code: number; body: string }> {
  return new Promise((resolveP) => {
    const child = spawn("/usr/bin/curl", ["-s", "--max-time", "30", url], { stdio: ["ignore", "pipe", "ignore"] });
    let body = "";
    child.stdout.on("data", (c: Buffer) => (body += c.toString()));
    child.once("exit", (code) => resolveP({ code: code ?? -1, body }));
  });
}

async function who(port: number, path = "/"): Promise<Who> {
  const r = await curl(`http://127.0.0.1:${port}${path}`);
  expect(r.code, `curl ${path}`).toBe(0);
  return JSON.parse(r.body) as Who;
}

/** Blocks whichever child accepts `/hold`; meanwhile another child must answer `/`. */
async function bothServe(program: Program, port: number): Promise<Set<number>> {
  rmSync(join(program.dir, "release"), { force: true });
  rmSync(join(program.dir, "held"), { force: true });
  const held = who(port, "/hold");
  const heldPid = Number((await waitForFile(join(program.dir, "held"))).trim());
  const other = await who(port, "/");
  expect(other.pid).not.toBe(heldPid);
  writeFileSync(join(program.dir, "release"), "");
  const first = await held;
  expect(first.pid).toBe(heldPid);
  return new Set([first.taskId, other.taskId]);
}

/**
 * POST /reads, head and body in one write (so the child reads them in one read): the child's
 * answer says which read path delivered them (testdata/process-server.ts).
 */
function reads(port: number): Promise<{ answer: Who & { bodyBytes: number; memory: number }; requestBytes: number }> {
  const body = "x".repeat(100);
  const request = Buffer.from(`POST /reads HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, "latin1");
  return new Promise((resolveP, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error("no answer to POST /reads in 30 s")));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      if (!text.startsWith("HTTP/1.1 200 ")) return reject(new Error(`POST /reads: ${JSON.stringify(text.slice(0, 200))}`));
      resolveP({ answer: JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)), requestBytes: request.length });
    });
  });
}

async function waitForFile(path: string): Promise<string> {
  const { readFileSync } = await import("node:fs");
  for (let i = 0; i < 1500; i++) {
    if (existsSync(path)) {
      const text = readFileSync(path, "utf8");
      if (text) return text;
    }
    await sleep(20);
  }
  throw new Error(`${path} never appeared`);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const programs: Program[] = [];
afterEach(async () => {
  await Promise.all(programs.splice(0).map((p) => p.stop()));
});
function run(mode: "recipe" | "start", processes: number, maxRestarts = 100, env: Record<string, string> = {}): Program {
  const p = new Program(mode, processes, maxRestarts, env);
  programs.push(p);
  return p;
}

describe.skipIf(!haveCurl)("forkProcesses over real processes", () => {
  it("bindSockets + forkProcesses(2) + addSockets: both children serve the one port, task ids 0 and 1", async () => {
    const program = run("recipe", 2);
    const { port, pids } = await program.serving(2);
    expect([...pids.keys()].sort()).toEqual([0, 1]);
    expect(new Set(pids.values()).size).toBe(2);
    expect(pids.get(0)).not.toBe(program.child.pid);
    expect(await bothServe(program, port)).toEqual(new Set([0, 1]));
    expect(program.stderr).toMatch(/\[I \d{6} [\d:]{8} process\] Starting 2 processes/);
  });

  it("HTTPServer.bind + start(2) does the same", async () => {
    const program = run("start", 2);
    const { port } = await program.serving(2);
    expect(await bothServe(program, port)).toEqual(new Set([0, 1]));
  });

  // A child's server takes its connections through cluster's handle, not through a listen of
  // its own: this proves acceptIntoUserBuffer (platform/node.ts) still replaces the accept
  // callback there, so children read into the shared buffer (whichever child the kernel gives
  // each connection to: both run the same code). The control run with
  // TORNADO_NODE_STREAM_READS=1 shows the observable tells the two paths apart.
  it.each(["recipe", "start"] as const)("%s: a child reads through the shared buffer (onread), not Node's streams", async (mode) => {
    const program = run(mode, 2);
    const { port, pids } = await program.serving(2);
    for (let i = 0; i < 3; i++) {
      const { answer } = await reads(port);
      expect([...pids.values()]).toContain(answer.pid);
      expect(answer.bodyBytes).toBe(100);
      // A copy into Node's pool (Buffer.allocUnsafe of a small size), not a read of its own.
      expect(answer.memory).toBe(Buffer.poolSize);
    }
    const streams = run(mode, 2, 100, { TORNADO_NODE_STREAM_READS: "1" });
    const streamed = await streams.serving(2);
    const { answer, requestBytes } = await reads(streamed.port);
    expect([...streamed.pids.values()]).toContain(answer.pid);
    expect(answer.memory).toBe(requestBytes);
  });

  it("a killed child: the next requests are still served, and it is restarted under its task id", async () => {
    const program = run("recipe", 2);
    const { port, pids } = await program.serving(2);
    const victim = pids.get(0)!;
    process.kill(victim, "SIGKILL");
    for (let i = 0; i < 5; i++) {
      const answer = await who(port);
      expect(answer.pid).not.toBe(victim);
    }
    await program.waitFor(new RegExp(`child 0 \\(pid ${victim}\\) killed by signal 9, restarting`), "stderr");
    const restarted = await program.serving(3);
    const newPid = restarted.pids.get(0)!;
    expect(newPid).not.toBe(victim);
    expect(restarted.pids.get(1)).toBe(pids.get(1));
    expect(restarted.port).toBe(port);
    expect(await bothServe(program, port)).toEqual(new Set([0, 1]));
  });

  it("maxRestarts is honoured: past it the parent gives up", async () => {
    const program = run("recipe", 1, 1);
    const first = (await program.serving(1)).pids.get(0)!;
    process.kill(first, "SIGKILL");
    const second = (await program.serving(2)).pids.get(0)!;
    expect(second).not.toBe(first);
    process.kill(second, "SIGKILL");
    const { code } = await program.exited;
    expect(code).not.toBe(0);
    expect(program.stderr).toContain("Too many child restarts, giving up");
    expect(program.stdout.match(/task 0 pid/g)).toHaveLength(2);
  });

  it("an error exit restarts the child; once every child exits normally the parent exits 0", async () => {
    const program = run("recipe", 1);
    const { port, pids } = await program.serving(1);
    expect((await curl(`http://127.0.0.1:${port}/exit?code=3`)).body).toBe("bye");
    await program.waitFor(new RegExp(`child 0 \\(pid ${pids.get(0)}\\) exited with status 3, restarting`), "stderr");
    const again = (await program.serving(2)).pids.get(0)!;
    expect((await curl(`http://127.0.0.1:${port}/exit?code=0`)).body).toBe("bye");
    expect(await program.exited).toEqual({ code: 0, signal: null });
    expect(program.stderr).toContain(`child 0 (pid ${again}) exited normally`);
    expect(alive(again)).toBe(false);
  });
});

describe("tornado/process on a platform without processes", () => {
  it("the memory platform declines with a clear error", async () => {
    const previous = setPlatform(createMemoryPlatform());
    try {
      expect(() => forkProcesses(2)).toThrow(/forkProcesses needs a platform with processes \(Node\); the memory platform has none/);
      await expect(bindSockets(0)).rejects.toThrow(/bindSockets needs a platform with processes/);
      expect(taskId()).toBeNull();
    } finally {
      setPlatform(previous);
    }
  });
});
