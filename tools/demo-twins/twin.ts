/**
 * A demo's Python twin running on Debian's Tornado 6.2 under port_map.py (its fixed ports moved
 * to free ones), for the twins tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import type { Demo } from "../../slides/demos/catalog.js";
import { PYTHON } from "../real-tornado.js";

const here = import.meta.dirname;

let python: ChildProcess | null = null;
/** Kill the twin started last (tests call it after each case). */
export function stopPythonTwin(): void {
  python?.kill("SIGKILL");
  python = null;
}

/** The twin running under port_map.py, once it listens on every port in `wanted`. */
export async function startPythonTwin(demo: Demo, wanted: Set<string>, cwd: string): Promise<{ ports: Map<string, string>; log: () => string }> {
  const program = resolve(here, "../../slides/demos", demo.name, demo.manifest.python);
  const child = spawn(PYTHON, ["-u", resolve(here, "port_map.py"), program], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  python = child;
  let log = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (log += c.toString()));
  child.stderr!.on("data", (c: Buffer) => ((stderr += c.toString()), (log += c.toString())));
  // Listening: every port the program binds is announced before the loop starts.
  const ports = await new Promise<Map<string, string>>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${demo.name}.py did not listen:\n${stderr}`)), 10_000);
    const check = () => {
      const map = new Map([...stderr.matchAll(/port (\d+) -> (\d+)/g)].map((m) => [m[1]!, m[2]!]));
      if ([...wanted].every((p) => map.has(p))) {
        clearTimeout(timer);
        done(map);
      }
    };
    child.stderr!.on("data", check);
    child.once("exit", (code) => fail(new Error(`${demo.name}.py exited with ${code}:\n${stderr}`)));
  });
  return { ports, log: () => log };
}

