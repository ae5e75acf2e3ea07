/**
 * The access log's second is the Date header's second, over real sockets on Node: the line's
 * timestamp reuses the Date header's cached second (web.ts `logRequest`, `currentDateHeader`)
 * instead of reading the clock again, and it must never show another second than the response
 * it logs. The server is a real process (runtime/testdata/date-log-server.ts) writing its log to
 * stderr through the Node platform's batched writer, as in a deployment.
 *
 * Nothing here depends on the machine's speed: requests are spread across second boundaries
 * (a burst from 150 ms before one to 150 ms after, then a few more later), and one request's handler runs
 * past a boundary on purpose, its Date set before the boundary and its line logged after it.
 * Both figures come from one cache whatever the timing; a log that read a clock of its own
 * shows the next second for that request (checked by breaking `logRequest`).
 *
 * The handlers here finish in the tick they start in, as the talk's examples do. A handler that
 * awaits across a boundary is logged with the second it finishes in (as Tornado logs it), while
 * its Date shows the second it began in.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "./platform/testkit.js";
import { bundleForTest, type Bundle } from "./testdata/bundle.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

let bundle: Bundle;
let child: ChildProcess;
let port = 0;
let stderr = "";

beforeAll(async () => {
  bundle = await bundleForTest(join(ROOT, "runtime/testdata/date-log-server.ts"));
  child = spawn(process.execPath, [bundle.file], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  let stdout = "";
  port = await new Promise<number>((resolveP, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port line within 30 s\n${stderr}`)), 30_000);
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      const m = /port (\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolveP(Number(m[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}\n${stderr}`)));
  });
}, 60_000);

afterAll(() => {
  child?.kill("SIGKILL");
  bundle?.dispose();
});

/** GET `path` over a fresh connection; the Date header's second (Unix seconds). */
async function dateSecondOf(path: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: "close" } });
  await response.text();
  expect(response.status).toBe(200);
  return Date.parse(response.headers.get("date")!) / 1000;
}

/**
 * The second of the access-log line for `path` (`[I 261130 08:30:31 web] 200 GET /path (...)`),
 * waiting (bounded) for the batched log to reach stderr.
 */
async function logSecondOf(path: string): Promise<number> {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const line = new RegExp(`^\\[I (\\d\\d)(\\d\\d)(\\d\\d) (\\d\\d):(\\d\\d):(\\d\\d) web\\] 200 GET ${escaped} \\(`, "m");
  for (const deadline = Date.now() + 10_000; ; await sleep(20)) {
    const m = line.exec(stderr);
    if (m) {
      const [yy, mo, dd, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
      return Date.UTC(2000 + yy, mo - 1, dd, h, mi, s) / 1000;
    }
    if (Date.now() > deadline) throw new Error(`no access-log line for ${path} within 10 s:\n${stderr.slice(-2000)}`);
  }
}

/** Sleep until `lead` ms before the next second boundary at least 300 ms away. */
async function untilBeforeBoundary(lead: number): Promise<void> {
  let next = (Math.floor(Date.now() / 1000) + 1) * 1000;
  if (next - lead - Date.now() < 300) next += 1000;
  await sleep(next - lead - Date.now());
}

describe("access log and Date header, over real sockets on Node", () => {
  it("every response's access-log line shows its Date header's second, across second boundaries", { timeout: 60_000 }, async () => {
    let spanned = 0;
    let id = 0;
    // Up to five bursts, until one's responses show two different seconds (on a loaded machine
    // a burst can land wholly after its boundary); every request of every burst is checked.
    for (let burst = 0; burst < 5 && spanned === 0; burst++) {
      await untilBeforeBoundary(150);
      const paths: string[] = [];
      const dates: Array<Promise<number>> = [];
      // From 150 ms before the boundary to 150 ms after, 20 ms apart; then three more later.
      for (const at of [...Array.from({ length: 16 }, (_, k) => k * 20), 500, 700, 900]) {
        const path = `/burst/${burst}/${id++}`;
        paths.push(path);
        dates.push(sleep(at).then(() => dateSecondOf(path)));
      }
      const seconds = await Promise.all(dates);
      for (let k = 0; k < paths.length; k++) {
        expect({ path: paths[k], log: await logSecondOf(paths[k]!) }).toEqual({ path: paths[k], log: seconds[k] });
      }
      if (new Set(seconds.slice(0, 16)).size > 1) spanned++;
    }
    expect(spanned).toBeGreaterThan(0);
  });

  it("a handler that runs past a second boundary is logged with its Date header's second", { timeout: 30_000 }, async () => {
    await untilBeforeBoundary(300);
    const before = Date.now();
    const date = await dateSecondOf("/cross/1");
    // The handler began before the boundary it ran past (5 ms past it, then answered).
    expect(Math.floor(Date.now() / 1000)).toBeGreaterThan(Math.floor(before / 1000));
    expect(await logSecondOf("/cross/1")).toBe(date);
    // And a request after it is logged with the new second, as its Date shows.
    const after = await dateSecondOf("/after-cross");
    expect(await logSecondOf("/after-cross")).toBe(after);
  });
});
