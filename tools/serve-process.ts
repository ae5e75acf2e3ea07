/**
 * `npm run serve` (tools/serve.ts) as a child process serving a deck folder, for the tests:
 * tools/serve.test.ts, the e2e global setup (the "served" deck host) and the room's browser
 * test. Resolves once the whole announcement is printed (the URLs, the QR code, then the secret
 * links last), so tests read what a person reads.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  /** Everything the process printed on stdout so far (the announcement first). */
  readonly stdout: string;
  /** Everything it logged on stderr so far (the server's log). */
  readonly log: string;
  /** The presenter and remote links it printed (secret; for the tests of the room). */
  presenterLink: string;
  remoteLink: string;
  stop(): Promise<void>;
}

/** Starts tools/serve.ts on `dist` (no build, port 0) with `args`, e.g. ["--host", "127.0.0.1"]. */
export function startServe(dist: string, args: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "tools/serve.ts", "--dist", dist, "--no-build", "--port", "0", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let log = "";
  child.stderr!.on("data", (c: Buffer) => (log += c.toString()));
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once("exit", () => done());
      child.kill("SIGTERM");
    });
  return new Promise((done, fail) => {
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      const port = /this machine: +http:\/\/[^:/]+:(\d+)\//.exec(stdout)?.[1];
      const presenter = /presenter .*: (http\S+)\n/.exec(stdout)?.[1];
      // The remote's link is the announcement's last line.
      const remote = /remote .*: (http\S+)\n/.exec(stdout)?.[1];
      if (port && presenter && remote) {
        done({
          child,
          port: Number(port),
          get stdout() {
            return stdout;
          },
          get log() {
            return log;
          },
          presenterLink: presenter,
          remoteLink: remote,
          stop,
        });
      }
    });
    child.once("exit", (code) => fail(new Error(`npm run serve exited with ${code}:\n${stdout}\n${log}`)));
  });
}
