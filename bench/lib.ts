/**
 * Benchmark plumbing shared by bench/run.ts and bench/cases/*.ts: fresh server processes
 * pinned to CPU 0, wrk pinned to CPU 1, peak RSS from /proc, and table printing.
 *
 * Why a fresh process per measured run: a Node server that idles after a few requests can
 * stay 25-40% slower for the rest of its life (V8's memory reducer); see
 * /work/shared/reference/performance-notes.md. Responses are checked after the measured run
 * for the same reason.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as net from "node:net";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH_DIR, "..");

/** What a bench case is given. */
export interface BenchContext {
  /** Seconds of each measured wrk run. */
  seconds: number;
  /** Seconds of warm-up before each measured run. */
  warmupSeconds: number;
  /** Interleaved rounds (each server fresh every round). */
  rounds: number;
  quick: boolean;
  /** Whether CPU pinning is available (taskset on a machine with at least 2 CPUs). */
  pinned: boolean;
}

/** One printed table. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
  /** Lines printed under the table (target checks, caveats). */
  notes?: string[];
}

/**
 * A benchmark case: bench/run.ts imports every bench/cases/*.ts and runs its default export
 * after the built-in HTTP comparison. This is the hook for template engines and the like.
 */
export interface BenchCase {
  name: string;
  run(ctx: BenchContext): Promise<BenchTable[]>;
}

export interface ServerSpec {
  name: string;
  /** A script printing "listening <port>" once bound; bundled to plain JS (or a .py run by python3), run with port 0. */
  script: string;
  /** Extra node flags. */
  nodeArgs?: string[];
  /** CPUs the server may use when pinning (taskset list); default "0", the other is wrk's. */
  cpus?: string;
  /** Environment variables set for the server on top of this process's (a variant of one script). */
  env?: Record<string, string>;
}

export interface RunningServer {
  name: string;
  port: number;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function canPin(): boolean {
  if (!existsSync("/usr/bin/taskset")) return false;
  try {
    const cpus = readFileSync("/proc/cpuinfo", "utf8").match(/^processor\s*:/gm)?.length ?? 1;
    return cpus >= 2;
  } catch {
    return false;
  }
}

/**
 * `BENCH_NICE=-10` runs the server and wrk at that nice level (negative needs root): on a
 * machine shared with other work it keeps their bursts from landing in the measurement.
 */
const NICE = /^-?\d+$/.test(process.env.BENCH_NICE ?? "") ? process.env.BENCH_NICE! : null;
/**
 * `BENCH_RT=1` (root) runs them in the real-time class instead (`chrt -f 1`): a busy machine's
 * other work then never runs before them, so a latency (the websocket broadcast's, which is
 * mostly idle between sends) is measured as on a quiet machine. The kernel still keeps 5% of
 * each CPU for everything else; use it for short, mostly idle parts, not for saturating loads.
 * Beware a Node process: its V8 worker threads share the class and the pinned CPU, and wait for
 * the main thread to block; one that polls instead (V8's incremental sweep task after a major
 * GC) spins until work arrives. The websocket broadcasts are paired instead (bench/cases/ws.ts).
 */
const RT = process.env.BENCH_RT === "1";

function pinned(cpu: number | string, command: string, args: string[], pin: boolean): [string, string[]] {
  const [c, a]: [string, string[]] = pin ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, args];
  if (RT) return ["chrt", ["-f", "1", c, ...a]];
  return NICE === null ? [c, a] : ["nice", ["-n", NICE, c, ...a]];
}

const bundles = new Map<string, string>();

/**
 * Compile a server script (TypeScript, importing `tornado/*`) into one plain ESM file, so the
 * measured process runs what a deployment would: no tsx loader, no esbuild service in it
 * (both cost memory and would inflate every RSS figure). Packages from node_modules (fastify)
 * stay external and load as usual.
 */
export async function bundleServer(script: string): Promise<string> {
  const cached = bundles.get(script);
  if (cached) return cached;
  const esbuild = await import("esbuild");
  const outfile = resolve(ROOT, "node_modules/.cache/tornado-bench", script.replace(/[/\\]/g, "_").replace(/\.ts$/, ".mjs"));
  await esbuild.build({
    entryPoints: [resolve(ROOT, script)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    // Bundle our own runtime (the "tornado" workspace package is .ts); leave real packages to Node.
    plugins: [
      {
        name: "external-packages",
        setup(build) {
          build.onResolve({ filter: /^[^./#]/ }, (args) =>
            args.path.startsWith("tornado/") || args.path.startsWith("node:") ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
  bundles.set(script, outfile);
  return outfile;
}

/** Start a server fresh, on CPU 0, and wait for its "listening <port>" line. */
export async function startServer(spec: ServerSpec, pin: boolean, extraArgs: string[] = []): Promise<RunningServer> {
  // A Python server (the real Tornado) runs under Debian's python3 as it is.
  const cpus = spec.cpus ?? 0;
  const [command, args] = spec.script.endsWith(".py")
    ? pinned(cpus, "/usr/bin/python3", [resolve(ROOT, spec.script), "0", ...extraArgs], pin)
    : pinned(cpus, process.execPath, [...(spec.nodeArgs ?? []), await bundleServer(spec.script), "0", ...extraArgs], pin);
  // The server's stderr (our runtime's access log: one line per request) goes to a file, as in
  // a deployment. Through a pipe to this process it would measure this process instead: at
  // 60k lines/s the pipe fills whenever we are slow to drain it, and the server's log write
  // then blocks (that showed as 150 ms p99 stalls and a 16%-busy server).
  const logDir = mkdtempSync(join(tmpdir(), "tornado-bench-log-"));
  const logFile = join(logDir, "stderr.log");
  const logFd = openSync(logFile, "w");
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...spec.env }, stdio: ["ignore", "pipe", logFd] });
  closeSync(logFd);
  child.once("exit", () => rmSync(logDir, { recursive: true, force: true }));
  const stderrTail = () => {
    try {
      return readFileSync(logFile, "utf8").slice(-10_000);
    } catch {
      return "";
    }
  };
  const port = await new Promise<number>((resolveP, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${spec.name}: no "listening" line within 30 s\n${stderrTail()}`)), 30_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveP(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${spec.name}: exited with ${code} before listening\n${stderrTail()}`));
    });
  });
  return {
    name: spec.name,
    port,
    pid: child.pid!,
    child,
    stop: () =>
      new Promise<void>((resolveP) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveP();
        child.once("exit", () => resolveP());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      }),
  };
}

/** A process and its live children (a multi-process server's parent and workers). */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The parent pid is the second field after the ")" that closes the command name.
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** VmRSS and VmHWM (peak) of a process and its children, summed, in MiB. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  let rss = 0;
  let hwm = 0;
  for (const p of processTree(pid)) {
    const status = readFileSync(`/proc/${p}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    rss += kb("VmRSS") / 1024;
    hwm += kb("VmHWM") / 1024;
  }
  return { rss, hwm };
}

/**
 * CPU seconds (user + system) a process has used so far. Requests per CPU-second of the server
 * hold steady when other work steals CPU time; requests per wall second do not.
 */
export function cpuSecondsOf(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    const stat = readFileSync(`/proc/${p}/stat`, "utf8");
    // Fields after the ")" that closes the command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    total += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return total;
}

/**
 * CPU nanoseconds a process has run so far, from /proc/<pid>/task/*\/schedstat (nanoseconds, not
 * /proc/<pid>/stat's 10 ms ticks, so a slice of a second or one broadcast can be measured):
 * [main thread, other threads (V8's GC helpers, libuv's pool)].
 */
export function cpuNsOf(pid: number): [number, number] {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      if (Number(tid) === pid) main += ns;
      else others += ns;
    } catch {
      // The thread ended while we looked.
    }
  }
  return [main, others];
}

export interface WrkResult {
  requestsPerSecond: number;
  p99Ms: number;
  requests: number;
  errors: number;
  raw: string;
}

/** Parse a wrk latency like "1.58ms", "850.00us", "1.20s". */
function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

export function parseWrk(raw: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(raw)?.[1] ?? NaN);
  const p99 = toMs(/^\s+99%\s+(\S+)/m.exec(raw)?.[1] ?? "");
  const requests = Number(/(\d+) requests in/.exec(raw)?.[1] ?? NaN);
  const m = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(raw)?.[1] ?? 0);
  const errors = (m ? m.slice(1).reduce((n, x) => n + Number(x), 0) : 0) + non2xx;
  return { requestsPerSecond: rps, p99Ms: p99, requests, errors, raw };
}

/** A load generator process (node, a bundled script) on CPU 1, like wrk; its stdout is read by the caller. */
export async function startLoad(script: string, args: string[], pin: boolean): Promise<ChildProcess> {
  const [command, argv] = pinned(1, process.execPath, [await bundleServer(script), ...args], pin);
  return spawn(command, argv, { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
}

/** Run wrk -t1 -c50 on CPU 1 against a loopback URL for a bounded time. */
export function runWrk(url: string, seconds: number, pin: boolean, connections = 50): Promise<WrkResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`wrk only ever targets 127.0.0.1, not ${url}`);
  const [command, args] = pinned(1, "wrk", ["-t1", `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, "--latency", url], pin);
  return new Promise((resolveP, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    // wrk stops itself after -d; this only guards against a hang.
    const guard = setTimeout(() => child.kill("SIGKILL"), (seconds + 30) * 1000);
    child.once("exit", (code) => {
      clearTimeout(guard);
      if (code !== 0) reject(new Error(`wrk exited with ${code}: ${out}`));
      else resolveP(parseWrk(out));
    });
  });
}

/** One raw HTTP/1.1 GET over a fresh loopback socket: status code and body. */
export function fetchOnce(port: number, path = "/"): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolveP, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    socket.setTimeout(5000, () => socket.destroy(new Error("timeout")));
    socket.on("connect", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    socket.on("data", (c) => (data = Buffer.concat([data, c])));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = data.toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const head = split < 0 ? text : text.slice(0, split);
      resolveP({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body: split < 0 ? "" : text.slice(split + 4) });
    });
  });
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** The `p`-th percentile (0-100, nearest rank) of the finite values. */
export function percentile(values: number[], p: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]!;
}

/** Per-cycle ratios ours / theirs of a paired series (the same cycle's measurements, side by side). */
export function ratios(ours: number[], theirs: number[]): number[] {
  const n = Math.min(ours.length, theirs.length);
  return Array.from({ length: n }, (_, k) => ours[k]! / theirs[k]!).filter((r) => Number.isFinite(r));
}

/**
 * "median 0.93x (p10 0.80, p90 1.10; ours <= ws in 70% of 300)": a paired ratio's distribution,
 * with how often a ratio met `test` (described by `label`).
 */
export function pairedDistribution(rs: number[], label: string, test: (r: number) => boolean): string {
  if (rs.length === 0) return "not measured";
  const met = rs.filter(test).length / rs.length;
  return `median ${median(rs).toFixed(2)}x (p10 ${percentile(rs, 10).toFixed(2)}, p90 ${percentile(rs, 90).toFixed(2)}; ${label} in ${Math.round(met * 100)}% of ${rs.length})`;
}

/** The 1, 5 and 15-minute load averages ("11.03 5.41 4.11"): what else shared the CPUs. */
export function loadAverages(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/**
 * `BENCH_NICE=-10` for a browser benchmark: this process (and so the browser it launches
 * next, with all its threads) at that nice level; returns it, or null.
 */
export async function niceBrowserBench(): Promise<number | null> {
  if (NICE === null) return null;
  const { setPriority } = await import("node:os");
  setPriority(Number(NICE));
  return Number(NICE);
}

export function printTable(table: BenchTable): void {
  const cells = [table.columns, ...table.rows.map((r) => r.map(String))];
  const widths = table.columns.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) => "| " + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ") + " |";
  console.log(`\n${table.title}\n`);
  console.log(line(table.columns));
  console.log("|" + widths.map((w, c) => (c === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
  for (const r of cells.slice(1)) console.log(line(r));
  for (const note of table.notes ?? []) console.log(note);
}

/**
 * Deep links (bench/frame.ts, bench/playground.ts): `runs` fresh pages (the browser's cache
 * kept, as a reload) opened straight on `url`. `watch` runs in each page before the deck's
 * scripts (once the document exists) and sets `globalThis[flag]` when its stop condition holds
 * (a frame painted with the output, a DOM state); then `read` takes that page's figures.
 * `watch` is serialised into the page: it may use nothing from this module's scope.
 */
export async function deepLinks<T>(browser: Browser, url: string, runs: number, flag: string, watch: () => void, read: (page: Page) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let r = 0; r < runs; r++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    try {
      // tsx's transpiled functions call __name(); the page has none.
      await page.addInitScript("globalThis.__name = (f) => f");
      await page.addInitScript(
        `{ const watch = ${watch.toString()}; if (document.documentElement) watch(); else document.addEventListener("readystatechange", watch, { once: true }); }`,
      );
      await page.goto(url, { waitUntil: "commit" });
      await page.waitForFunction((name) => (globalThis as Record<string, unknown>)[name] !== undefined, flag, { timeout: 30_000 });
      results.push(await read(page));
    } finally {
      await page.close();
    }
  }
  return results;
}

/**
 * The built deck for a browser bench: `dist` when given, else a fresh `vite build` into a
 * temporary folder (`cleanup` removes it).
 */
export function builtDeck(dist: string | undefined, prefix: string): { dist: string; cleanup: () => void } {
  if (dist) return { dist, cleanup: () => {} };
  const temp = mkdtempSync(join(tmpdir(), prefix));
  const out = join(temp, "dist");
  const vite = join(ROOT, "node_modules", "vite", "bin", "vite.js");
  const built = spawnSync(process.execPath, [vite, "build", "--outDir", out, "--emptyOutDir", "--logLevel", "error"], { cwd: ROOT, stdio: "inherit" });
  if (built.status !== 0) throw new Error("vite build failed");
  return { dist: out, cleanup: () => rmSync(temp, { recursive: true, force: true }) };
}
