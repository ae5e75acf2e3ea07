/**
 * Websockets: our runtime vs `ws` 8 vs the real Tornado 6.2, in the same run (fresh servers each
 * round pinned to CPU 0, the load generator bench/ws-load.ts pinned to CPU 1, medians):
 *
 *  - echo round trips per second, N connections (50) each sending 32-byte messages in a closed
 *    loop, and the server's CPU time per echoed message (robust when the generator or other
 *    work is the limit); paired like the broadcasts: every server up at once with its own
 *    connections, the echo run in half-second slices alternating between them;
 *  - the median time for one broadcast (32 bytes) to reach every one of C clients (1,000), and
 *    the server's CPU time per broadcast, PAIRED: all three servers up at once with C receivers
 *    each, and the broadcasts alternating between them (the order rotating each cycle), so
 *    whatever else loads the machine hits every server alike; the ratio ours/ws is also shown
 *    broadcast by broadcast (median, p10, p90). Run one server after another, single rounds
 *    swung 1.5x with the machine's load. The receivers are lean raw sockets (bench/ws-load.ts),
 *    so the time is the server's; the same with `ws` clients is shown beside it, a time that is
 *    mostly the load process's own (it parses each message slower than any server writes it);
 *  - the server's RSS holding I idle websocket connections (10,000), and per connection.
 *
 *   npm run bench -- --only=ws             # full: 3 rounds, 50 echo connections, 1,000 clients, 10,000 idle
 *   npm run bench -- --only=ws --quick     # the fast check that the bench runs: 1 round, 20 / 100 / 100
 *   BENCH_WS_LOADERS=2 npm run bench -- --only=ws   # split the echo connections over 2 generator processes
 *   BENCH_WS_PARTS=idle npm run bench -- --only=ws  # only some of echo, broadcast, idle (comma-separated)
 *   (BENCH_RT=1 is refused for broadcasts: see RT_SPIN below; pairing is what makes them robust)
 *
 * Every measurement runs once per round on fresh servers: echo and broadcast paired (all three
 * servers at once), idle memory one server after another, the order rotating each round; the
 * table shows medians (over every slice and broadcast of every round). Wall-clock figures move
 * with whatever else runs on the machine, so the server's CPU time per echo and per broadcast
 * (schedstat) is shown beside each, and the targets (ours against `ws`) are checked on both.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpuSecondsOf, median, memoryOf, pairedDistribution, percentile, printTable, ratios, startLoad, startServer, type BenchCase, type BenchContext, type BenchTable, type RunningServer, type ServerSpec } from "../lib.js";

export const WS_SERVERS: ServerSpec[] = [
  { name: "tornado runtime", script: "bench/servers/ws-runtime.ts" },
  { name: "ws 8", script: "bench/servers/ws-ws.ts" },
  { name: "Tornado 6.2 (Python)", script: "bench/servers/ws_tornado.py" },
];
const LOAD = "bench/ws-load.ts";

export interface WsSizes {
  echoConnections: number;
  broadcastClients: number;
  broadcasts: number;
  idleConnections: number;
  loaders: number;
  /** How long the server settles (GC, buffers) before each RSS reading; 2 s unless given (the in-test run). */
  settleMs?: number;
}

type Part = "echo" | "broadcast" | "idle";
const PARTS: readonly Part[] = ["echo", "broadcast", "idle"];

/** The parts to measure: `BENCH_WS_PARTS` (e.g. "idle" or "echo,broadcast"), all by default. */
export function parts(): Set<Part> {
  const asked = (process.env.BENCH_WS_PARTS ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
  const unknown = asked.filter((p) => !PARTS.includes(p as Part));
  if (unknown.length > 0) throw new Error(`BENCH_WS_PARTS: unknown part(s) ${unknown.join(", ")}; use ${PARTS.join(", ")}`);
  return new Set(asked.length > 0 ? (asked as Part[]) : PARTS);
}

export function sizes(ctx: BenchContext): WsSizes {
  const loaders = Math.max(1, Math.min(4, Number(process.env.BENCH_WS_LOADERS ?? 1) || 1));
  return ctx.quick
    ? { echoConnections: 20, broadcastClients: 100, broadcasts: 10, idleConnections: 100, loaders }
    : { echoConnections: 50, broadcastClients: 1000, broadcasts: 100, idleConnections: 10_000, loaders };
}

/** Lines from a load process, as an async queue; rejects when it exits before `want`. */
function lines(child: ChildProcess): (want: string, timeoutMs: number) => Promise<string> {
  const queue: string[] = [];
  const waiters: Array<() => void> = [];
  let buffer = "";
  let exited = false;
  child.stdout!.on("data", (c: Buffer) => {
    buffer += c.toString();
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      queue.push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  child.once("exit", () => {
    exited = true;
    for (const w of waiters.splice(0)) w();
  });
  return async (want, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = queue.findIndex((l) => l === want || l.startsWith(`${want} `));
      if (at >= 0) return queue.splice(at, 1)[0]!.slice(want.length).trim();
      if (exited) throw new Error(`load generator exited before "${want}"`);
      if (Date.now() > deadline) throw new Error(`load generator: no "${want}" within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 500);
      });
    }
  };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.stdin?.end();
    setTimeout(() => child.kill("SIGKILL"), 5000).unref();
  });
}

interface EchoSample {
  perSecond: number;
  cpuUsPerMessage: number;
  errors: number;
}

async function echoOnce(spec: ServerSpec, ctx: BenchContext, s: WsSizes): Promise<EchoSample> {
  const server = await startServer(spec, ctx.pinned);
  const loaders: ChildProcess[] = [];
  try {
    const per = Math.ceil(s.echoConnections / s.loaders);
    for (let k = 0; k < s.loaders; k++) {
      const n = Math.min(per, s.echoConnections - k * per);
      loaders.push(await startLoad(LOAD, ["echo", String(server.port), String(n), String(ctx.warmupSeconds), String(ctx.seconds)], ctx.pinned));
    }
    const readers = loaders.map(lines);
    const limit = (ctx.warmupSeconds + 60) * 1000;
    await Promise.all(readers.map((r) => r("start", limit)));
    const cpu0 = cpuSecondsOf(server.pid);
    const ends = await Promise.all(readers.map((r) => r("end", (ctx.seconds + 60) * 1000)));
    const cpu = cpuSecondsOf(server.pid) - cpu0;
    const results = ends.map((e) => JSON.parse(e) as { roundTrips: number; errors: number; connections: number });
    const total = results.reduce((n, r) => n + r.roundTrips, 0);
    const errors = results.reduce((n, r) => n + r.errors, 0);
    if (total === 0) throw new Error("no echo came back");
    return { perSecond: total / ctx.seconds, cpuUsPerMessage: (cpu * 1e6) / total, errors };
  } finally {
    await Promise.all(loaders.map(stop));
    await server.stop();
  }
}

/** Slices of a paired echo run, half a second each (ctx.seconds of them per server in all). */
const ECHO_SLICE_MS = 500;

/**
 * Paired echo (one load process): every server up at once with its own connections, the
 * closed-loop echo run in half-second slices alternating between the servers (bench/ws-load.ts
 * `paired-echo`). Returns one sample per slice for each server, in WS_SERVERS' order.
 */
async function pairedEcho(ctx: BenchContext, s: WsSizes): Promise<EchoSample[][]> {
  const servers: RunningServer[] = [];
  let load: ChildProcess | null = null;
  try {
    for (const spec of WS_SERVERS) servers.push(await startServer(spec, ctx.pinned));
    const slices = (x: number) => Math.max(1, Math.round((x * 1000) / ECHO_SLICE_MS));
    const args = ["paired-echo", servers.map((x) => x.port).join(","), servers.map((x) => x.pid).join(","), String(s.echoConnections), String(slices(ctx.warmupSeconds)), String(slices(ctx.seconds)), String(ECHO_SLICE_MS)];
    load = await startLoad(LOAD, args, ctx.pinned);
    const read = lines(load);
    await read("start", 120_000);
    const limit = (slices(ctx.warmupSeconds) + slices(ctx.seconds)) * WS_SERVERS.length * (ECHO_SLICE_MS + 100) + 60_000;
    const end = JSON.parse(await read("end", limit)) as { rates: number[][]; cpuUs: number[][]; errors: number[] };
    return WS_SERVERS.map((_, i) => {
      if (end.rates[i]!.length === 0) throw new Error(`${WS_SERVERS[i]!.name}: no echo came back`);
      return end.rates[i]!.map((perSecond, k) => ({ perSecond, cpuUsPerMessage: end.cpuUs[i]![k]!, errors: end.errors[i]! }));
    });
  } finally {
    if (load) await stop(load);
    await Promise.all(servers.map((x) => x.stop()));
  }
}

/** One server's broadcasts from a paired run: each broadcast's time and the server's CPU around it. */
interface BroadcastRun {
  times: number[];
  /** CPU ms per broadcast cycle: the main thread's, and the other threads' (V8's GC helpers, libuv). */
  cpuMain: number[];
  cpuOther: number[];
  missing: number;
}

/** Broadcast receivers: lean raw sockets (the server's time) or `ws` clients (mostly the load process's). */
type Receivers = "raw" | "ws";

/**
 * One paired broadcast run: every server up at once (all on CPU 0), receivers connected to each,
 * and the broadcasts alternating between them (bench/ws-load.ts `paired`), so a burst of other
 * work lands on every server alike instead of on whichever server's run it fell in. Returns
 * the samples per server, in WS_SERVERS' order.
 */
async function pairedBroadcast(ctx: BenchContext, s: WsSizes, receivers: Receivers): Promise<BroadcastRun[]> {
  if (process.env.BENCH_RT === "1") throw new Error(`BENCH_RT=1 is not used for broadcasts: ${RT_SPIN}`);
  const servers: RunningServer[] = [];
  let load: ChildProcess | null = null;
  try {
    for (const spec of WS_SERVERS) servers.push(await startServer(spec, ctx.pinned));
    const args = ["paired", servers.map((x) => x.port).join(","), servers.map((x) => x.pid).join(","), String(s.broadcastClients), String(s.broadcasts), receivers];
    load = await startLoad(LOAD, args, ctx.pinned);
    const read = lines(load);
    await read("start", 180_000);
    const end = JSON.parse(await read("end", 180_000)) as { times: number[][]; cpuMain: number[][]; cpuOther: number[][]; missing: number[]; failed: boolean };
    if (end.failed) throw new Error("a broadcast did not reach every client within 10 s");
    return WS_SERVERS.map((_, i) => ({
      times: end.times[i]!,
      cpuMain: end.cpuMain[i]!.map((ns) => ns / 1e6),
      cpuOther: end.cpuOther[i]!.map((ns) => ns / 1e6),
      missing: end.missing[i]!,
    }));
  } finally {
    if (load) await stop(load);
    await Promise.all(servers.map((x) => x.stop()));
  }
}

/**
 * Why the broadcasts are paired rather than run under `BENCH_RT=1` (measured, see ARCHITECTURE.md):
 * a Node server in SCHED_FIFO pinned to one CPU puts its V8 worker threads in the same class on
 * the same CPU, where they run only when the main thread blocks. After a major GC, cppgc's
 * incremental sweep task finds the sweeping left to those workers unfinished and posts itself
 * again; the main thread runs it round and round through libuv's async wakeup (an eventfd
 * write, epoll, read) and never blocks, so the workers never run: it spins through every idle
 * gap. That was our server's doubled CPU per broadcast (32 ms a cycle instead of 11, all of it
 * the main thread), while ws's was the same in the class as out of it. With three servers
 * in the class on one CPU, the spinning one starves the others outright.
 */
const RT_SPIN =
  "a Node process in SCHED_FIFO on one CPU can spin on V8's incremental sweep task while its worker threads never run (and starves the other servers); the paired run is the robust figure";

/** "median 0.93x (p10 0.80, p90 1.10; ours <= ws in 70% of 300)": a paired ratio's distribution. */
const distribution = (rs: number[]) => pairedDistribution(rs, "ours <= ws", (r) => r <= 1);

interface IdleSample {
  /** Connections open at the first and the second measurement. */
  openedFirst: number;
  opened: number;
  /** The server's RSS before any connection (the old figure, per connection from an empty server). */
  rssBefore: number;
  rssFirst: number;
  rssAfter: number;
}

/**
 * RSS per idle connection as a slope: the server's RSS with a fifth of the connections open,
 * then with all of them, the difference divided by the connections in between. Measured from
 * an empty server instead, the figure would also carry what the first handshakes cost once
 * (compiled code, a heap that grows from its start-up size, and whatever free heap the
 * server's start-up left behind, which differs between servers).
 */
async function idleOnce(spec: ServerSpec, ctx: BenchContext, s: WsSizes): Promise<IdleSample> {
  const server = await startServer(spec, ctx.pinned);
  let load: ChildProcess | null = null;
  // Each measurement lets the server settle (GC, buffers) with its connections idle but open.
  const settled = async () => {
    await new Promise((r) => setTimeout(r, s.settleMs ?? 2000));
    return memoryOf(server.pid).rss;
  };
  try {
    await new Promise((r) => setTimeout(r, 500));
    const rssBefore = memoryOf(server.pid).rss;
    const first = Math.max(1, Math.round(s.idleConnections / 5));
    load = await startLoad(LOAD, ["idle", String(server.port), String(s.idleConnections), String(first)], ctx.pinned);
    const read = lines(load);
    const part = JSON.parse(await read("part", 180_000)) as { opened: number };
    const rssFirst = await settled();
    load.stdin!.write("more\n");
    const ready = JSON.parse(await read("ready", 180_000)) as { opened: number; failed: number };
    const rssAfter = await settled();
    return { openedFirst: part.opened, opened: ready.opened, rssBefore, rssFirst, rssAfter };
  } finally {
    if (load) await stop(load);
    await server.stop();
  }
}

function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

export async function runWs(ctx: BenchContext, s: WsSizes = sizes(ctx), measure: Set<Part> = parts()): Promise<BenchTable[]> {
  const echo: EchoSample[][] = WS_SERVERS.map(() => []);
  const bcast: BroadcastRun[][] = WS_SERVERS.map(() => []);
  const bcastWs: BroadcastRun[][] = WS_SERVERS.map(() => []);
  const idleS: IdleSample[][] = WS_SERVERS.map(() => []);
  const failures: string[] = [];
  const loads: string[] = [];
  const attempt = async <T>(what: string, name: string, f: () => Promise<T>, done: (sample: T) => void) => {
    process.stderr.write(`ws ${what}: ${name}... `);
    try {
      done(await f());
      process.stderr.write("done\n");
    } catch (err) {
      const message = err instanceof Error ? err.message.split("\n")[0]! : String(err);
      failures.push(`${name} ${what}: ${message}`);
      process.stderr.write(`FAILED: ${message}\n`);
    }
  };
  const all = WS_SERVERS.map((x) => x.name).join(", ");
  for (let round = 0; round < ctx.rounds; round++) {
    // Broadcasts are paired: every server in one run, fresh ones each round.
    if (measure.has("broadcast")) {
      await attempt("broadcast, paired", all, () => pairedBroadcast(ctx, s, "raw"), (runs) => runs.forEach((r, i) => bcast[i]!.push(r)));
      await attempt("broadcast (ws clients), paired", all, () => pairedBroadcast(ctx, s, "ws"), (runs) => runs.forEach((r, i) => bcastWs[i]!.push(r)));
      loads.push(loadAverage());
    }
    // Echo is paired too with one load process; split over several, one server after another.
    if (measure.has("echo") && s.loaders === 1) {
      await attempt("echo, paired", all, () => pairedEcho(ctx, s), (runs) => runs.forEach((r, i) => echo[i]!.push(...r)));
      loads.push(loadAverage());
    }
    for (let k = 0; k < WS_SERVERS.length; k++) {
      const i = (k + round) % WS_SERVERS.length;
      const spec = WS_SERVERS[i]!;
      if (measure.has("echo") && s.loaders > 1) await attempt("echo", spec.name, () => echoOnce(spec, ctx, s), (x) => echo[i]!.push(x));
      // Memory moves with GC timing: measured every round as well, and the median taken.
      if (measure.has("idle")) await attempt("idle", spec.name, () => idleOnce(spec, ctx, s), (x) => idleS[i]!.push(x));
      if ((measure.has("echo") && s.loaders > 1) || measure.has("idle")) loads.push(loadAverage());
    }
  }
  /** A paired series pooled over the rounds (cycle by cycle, so ours and ws's stay side by side). */
  const pooled = (runs: BroadcastRun[], f: (r: BroadcastRun) => number[]) => runs.flatMap(f);
  const cpuOf = (r: BroadcastRun) => r.cpuMain.map((m, k) => m + r.cpuOther[k]!);

  const ref = 1; // ws 8
  const med = <T>(xs: T[], f: (x: T) => number) => median(xs.map(f));
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "-");
  /** KiB of RSS per idle connection, median over the rounds. */
  const rssPer = (i: number) => med(idleS[i]!, (x) => ((x.rssAfter - x.rssFirst) * 1024) / Math.max(1, x.opened - x.openedFirst));
  const rows = WS_SERVERS.map((spec, i) => {
    const opened = Math.min(...idleS[i]!.map((x) => x.opened));
    return [
      spec.name,
      fmt(med(echo[i]!, (x) => x.perSecond)),
      fmt(med(echo[i]!, (x) => x.cpuUsPerMessage), 2) + " µs",
      fmt(median(pooled(bcast[i]!, (r) => r.times)), 2) + " ms",
      fmt(percentile(pooled(bcast[i]!, (r) => r.times), 90), 2) + " ms",
      `${fmt(median(pooled(bcast[i]!, cpuOf)), 2)} ms (${fmt(median(pooled(bcast[i]!, (r) => r.cpuMain)), 2)} + ${fmt(median(pooled(bcast[i]!, (r) => r.cpuOther)), 2)})`,
      fmt(median(pooled(bcastWs[i]!, (r) => r.times)), 2) + " ms",
      idleS[i]!.length > 0 ? `${fmt(med(idleS[i]!, (x) => x.rssAfter), 1)} MiB (${opened})` : "-",
      fmt(rssPer(i), 1) + " KiB",
      fmt(med(idleS[i]!, (x) => ((x.rssAfter - x.rssBefore) * 1024) / Math.max(1, x.opened)), 1) + " KiB",
    ];
  });
  const ours = (f: (i: number) => number) => f(0) / f(ref);
  /** One target line: the ratio ours / ws and whether it is met ("not measured" when a part was left out). */
  const target = (what: string, ratio: number, met: (r: number) => boolean) =>
    `target: ${what} ... ${Number.isFinite(ratio) ? `${met(ratio) ? "MET" : "MISSED"} (${ratio.toFixed(2)}x ws)` : "not measured"}`;
  const notes = [
    target("server CPU per echo <= ws", ours((i) => med(echo[i]!, (x) => x.cpuUsPerMessage)), (r) => r <= 1),
    ...(s.loaders === 1 ? [`  paired, slice by slice: ${distribution(ratios(echo[0]!.map((x) => x.cpuUsPerMessage), echo[ref]!.map((x) => x.cpuUsPerMessage)))}`] : []),
    target("echo round trips/s within noise of ws (>= 0.9x) or above", ours((i) => med(echo[i]!, (x) => x.perSecond)), (r) => r >= 0.9),
    ...(s.loaders === 1 ? [`  paired, slice by slice: ${distribution(ratios(echo[0]!.map((x) => x.perSecond), echo[ref]!.map((x) => x.perSecond)))} (here higher is ours better)`] : []),
    target("broadcast time <= ws (ratio of the paired medians)", ours((i) => median(pooled(bcast[i]!, (r) => r.times))), (r) => r <= 1),
    `  paired, broadcast by broadcast: ${distribution(ratios(pooled(bcast[0]!, (r) => r.times), pooled(bcast[ref]!, (r) => r.times)))}`,
    target("server CPU per broadcast <= ws (ratio of the paired medians)", ours((i) => median(pooled(bcast[i]!, cpuOf))), (r) => r <= 1),
    `  paired, broadcast by broadcast: ${distribution(ratios(pooled(bcast[0]!, cpuOf), pooled(bcast[ref]!, cpuOf)))}`,
    `(broadcast with ws clients: ${((r) => (Number.isFinite(r) ? `${r.toFixed(2)}x ws` : "not measured"))(ours((i) => median(pooled(bcastWs[i]!, (r) => r.times))))}; not a target: that time is mostly the load process parsing 1,000 messages)`,
    target("RSS per idle connection <= ws", ours(rssPer), (r) => r <= 1),
  ];
  return [
    {
      title:
        `Websockets, ${ctx.rounds} interleaved round(s); echo: ${s.echoConnections} connections x 32-byte messages, ${ctx.warmupSeconds} s warm-up + ${ctx.seconds} s, ` +
        `${s.loaders === 1 ? `paired (all servers up at once, ${ECHO_SLICE_MS} ms slices alternating)` : `${s.loaders} load processes, one server after another`}; broadcast, paired (all servers up at once, broadcasts alternating): ${s.broadcastClients} raw receivers (and ws clients) x ${s.broadcasts} per server; idle: ${s.idleConnections} connections (RSS per connection: the slope from ${Math.max(1, Math.round(s.idleConnections / 5))} to ${s.idleConnections} open)` +
        (ctx.pinned ? "; servers on CPU 0, load (ws client) on CPU 1" : "; NOT pinned") +
        "; medians",
      columns: ["server", "echo round trips/s", "server CPU / echo", "broadcast to all (median)", "(p90)", "server CPU / broadcast (main + other threads)", "(ws clients)", "RSS idle (conns)", "RSS / idle conn", "(from empty)"],
      rows,
      notes: [
        ...notes,
        "One Node load process on one CPU can itself be the limit of echo/s; the server's CPU per message is the number that holds then.",
        "RSS / idle conn is the slope between a fifth and all of the connections; (from empty) divides by all of them from the server's start, so it also carries one-off costs and whatever free heap start-up left.",
        "Broadcast CPU is each server's threads' schedstat (ns) from just before one of its broadcasts to just before its next (one cycle, idle time included): main thread + other threads (GC helpers, libuv).",
        `load average (1, 5, 15 min) after each part: ${loads.join(" | ")} (about 2 is this benchmark alone)`,
        ...failures.map((f) => `FAILED: ${f}`),
      ],
    },
  ];
}

const wsCase: BenchCase = { name: "ws", run: runWs };
export default wsCase;
