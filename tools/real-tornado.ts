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
