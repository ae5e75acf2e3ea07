/**
 * The real Tornado the differential tests compare against: Debian's python3-tornado (6.2),
 * under Debian's own python (the `python3` on PATH may be another interpreter without it).
 *
 * Probed once. Without it the differential tests skip and say why; under CI they may not
 * (`.ci/run` installs it), so a missing Tornado there fails the run instead of passing quietly.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as net from "node:net";

export const PYTHON = "/usr/bin/python3";

const probe = spawnSync(PYTHON, ["-c", "import tornado; print(tornado.version)"], { encoding: "utf8" });

/** "6.2", or null when the real Tornado cannot be imported. */
export const tornadoVersion: string | null = probe.status === 0 ? probe.stdout.trim() : null;
export const hasTornado = tornadoVersion !== null;

if (!hasTornado && process.env.CI) {
  throw new Error(`CI: ${PYTHON} cannot import tornado, so the differential tests cannot run (apt-get install python3-tornado)`);
}

/**
 * Runs a Python program under the real Tornado; it prints its port(s) on one line once it
 * listens. Resolves with the process and those ports.
 */
export function startTornadoProgram(script: string, args: string[]): Promise<{ child: ChildProcess; ports: number[] }> {
  const child = spawn(PYTHON, [script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) resolve({ child, ports: out.trim().split(" ").map(Number) });
    });
    child.once("exit", (code) => reject(new Error(`python exited (${code}): ${err}`)));
  });
}

/** Everything a server sends on one connection for one raw request, until it closes (or 5 s pass). */
export function rawExchange(port: number, request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.write(Buffer.from(request, "latin1"));
  });
}

/**
 * `startTornadoProgram` for a server with one port, with `stop()` (closing stdin, which the
 * scripts take as their cue to exit, then SIGTERM).
 */
export async function startPythonServer(script: string, args: readonly string[] = []): Promise<{ port: number; stop(): void }> {
  const { child, ports } = await startTornadoProgram(script, [...args]);
  return {
    port: ports[0]!,
    stop() {
      child.stdin!.end();
      child.kill("SIGTERM");
    },
  };
}
