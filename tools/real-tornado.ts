/**
 * The real Tornado the differential tests compare against: Debian's python3-tornado (6.2),
 * under Debian's own python (the `python3` on PATH may be another interpreter without it).
 *
 * Probed once. Without it the differential tests skip and say why; under CI they may not
 * (`.ci/run` installs it), so a missing Tornado there fails the run instead of passing quietly.
 */
import { spawnSync } from "node:child_process";

export const PYTHON = "/usr/bin/python3";

const probe = spawnSync(PYTHON, ["-c", "import tornado; print(tornado.version)"], { encoding: "utf8" });

/** "6.2", or null when the real Tornado cannot be imported. */
export const tornadoVersion: string | null = probe.status === 0 ? probe.stdout.trim() : null;
export const hasTornado = tornadoVersion !== null;

if (!hasTornado && process.env.CI) {
  throw new Error(`CI: ${PYTHON} cannot import tornado, so the differential tests cannot run (apt-get install python3-tornado)`);
}

/**
 * Runs a Python server script under Debian's python, waits for the port it prints on stdout,
 * and returns it with `stop()` (closing stdin, which the scripts take as their cue to exit).
 */
export async function startPythonServer(script: string, args: readonly string[] = []): Promise<{ port: number; stop(): void }> {
  const { spawn } = await import("node:child_process");
  const child = spawn(PYTHON, [script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} printed no port within 15 s\n${stderr}`)), 15_000);
    child.stdout!.on("data", (c: Buffer) => {
      const m = /^(\d+)$/m.exec(c.toString());
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}\n${stderr}`));
    });
  });
  return {
    port,
    stop() {
      child.stdin!.end();
      child.kill("SIGTERM");
    },
  };
}
