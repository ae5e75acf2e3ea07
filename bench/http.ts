/**
 * The HTTP servers that `npm run bench` compares, and their PAIRED measurement.
 *
 * Run one after another (bench/run.ts's table), each server meets whatever speed the VM's host
 * has during its own run; here that speed swings 2x between rounds and within one (node:http
 * 20.8k, 28.3k, 45.8k req/s in three quiet rounds, and the hello/node:http ratio 1.10, 1.49,
 * 1.24 from the same rounds), so a ratio of medians across servers is not to be trusted. The
 * paired run starts the servers all at once, each pinned to CPU 0, and alternates short wrk runs
 * (slices, 1 s) between them, wrk pinned to CPU 1; ours and node:http always take adjacent
 * slices, and the order changes every cycle so each server takes every place. The ratio is taken
 * cycle by cycle (each pair of adjacent slices saw the same host speed), and its median, p10 and
 * p90 are what the 1.3x target is read from. Each slice also gives the server's CPU time per
 * request from its threads' schedstat (nanoseconds), and wrk's p99.
 *
 * Every server idles for a few seconds while the others take their slices: far from the ~30 s
 * of idling that lets V8's memory reducer slow a Node server for good (performance-notes.md).
 */
import { cpuNsOf, fetchOnce, loadAverages, median, pairedDistribution, percentile, ratios, runWrk, startServer, type BenchContext, type BenchTable, type RunningServer, type ServerSpec } from "./lib.js";

export const SERVERS: ServerSpec[] = [
  { name: "tornado runtime (hello example)", script: "bench/servers/runtime-hello.ts" },
  { name: "node:http (minimal)", script: "bench/servers/nodehttp.ts" },
  { name: "fastify 5", script: "bench/servers/fastify.ts" },
  { name: "node:http + SHA-1 Etag", script: "bench/servers/nodehttp-etag.ts" },
  // tornado/process: two children on both CPUs, which wrk shares: req/CPU-s sums the children.
  { name: "tornado runtime, 2 processes", script: "bench/servers/runtime-hello-processes.ts", cpus: "0,1" },
  // The ceiling (performance-notes.md): the same bytes canned, no HTTP work at all.
  { name: "raw node:net, canned response (ceiling)", script: "bench/servers/rawnet.ts" },
  // BENCH_LOG_UNBATCHED=1: the hello example again with its access log written line by line
  // (Tornado's way), to measure what the batching in platform/node.ts buys.
  ...(process.env.BENCH_LOG_UNBATCHED === "1"
    ? [{ name: "tornado runtime, access log unbatched", script: "bench/servers/runtime-hello-unbatched.ts" }]
    : []),
];
/** node:http, the server every ratio is against. */
export const BASELINE = 1;
const OURS = 0;

export interface PairedOptions {
  /** Measured cycles (each: one slice per server). */
  cycles: number;
  /** Seconds of one slice (wrk's -d: whole seconds). */
  sliceSeconds: number;
  /** Seconds of each server's slice in the warm-up cycle, not counted. */
  warmupSeconds: number;
  /** Indexes into SERVERS, in pairs whose two servers always take adjacent slices. */
  pairs: number[][];
}

/** `BENCH_PAIRED_CYCLES` (default 10 cycles of 4 servers x 1 s; --quick: 3 cycles of ours and node:http). */
export function pairedOptions(ctx: BenchContext): PairedOptions {
  const cycles = Number(process.env.BENCH_PAIRED_CYCLES ?? (ctx.quick ? 3 : 10));
  return {
    cycles: Number.isFinite(cycles) && cycles > 0 ? Math.min(Math.round(cycles), 60) : 10,
    sliceSeconds: 1,
    warmupSeconds: ctx.warmupSeconds,
    // Ours beside node:http, fastify beside node:http + Etag (--quick, a smoke run: ours and node:http only).
    pairs: ctx.quick
      ? [[OURS, BASELINE]]
      : [
          [OURS, BASELINE],
          [2, 3],
        ],
  };
}

/**
 * The servers' order in cycle `k`: each pair's two swap every cycle and the pairs rotate every
 * other cycle (for two pairs: 0 1 2 3, 1 0 3 2, 2 3 0 1, 3 2 1 0), so every server takes every
 * place and a pair's two are always side by side.
 */
export function cycleOrder(pairs: number[][], k: number): number[] {
  const r = Math.floor(k / 2) % pairs.length;
  return [...pairs.slice(r), ...pairs.slice(0, r)].flatMap((p) => (k % 2 ? [...p].reverse() : p));
}

export interface Slice {
  rps: number;
  /** Server CPU (all its threads) per request, µs. */
  cpuUs: number;
  p99: number;
  errors: number;
}

const url = (server: RunningServer) => `http://127.0.0.1:${server.port}/`;

async function slice(server: RunningServer, seconds: number, pin: boolean): Promise<Slice> {
  const [m0, o0] = cpuNsOf(server.pid);
  const result = await runWrk(url(server), seconds, pin);
  // wrk's connections close as it exits: closing them is the slice's work too.
  await new Promise((r) => setTimeout(r, 50));
  const [m1, o1] = cpuNsOf(server.pid);
  return { rps: result.requestsPerSecond, cpuUs: (m1 - m0 + o1 - o0) / 1000 / result.requests, p99: result.p99Ms, errors: result.errors };
}

export interface PairedSlices {
  /** Per server (an index into the list given), one slice per cycle. */
  slices: Map<number, Slice[]>;
  /** Per server, its answer to one GET after the slices ("200 Hello, world" or what was wrong). */
  checked: Map<number, string>;
  /** The load averages before and after the slices. */
  loads: string[];
}

/**
 * The paired run's measurement (see the top of this file) of `servers[i]` for every i in
 * `opts.pairs`: all started at once, a warm-up slice each, then `opts.cycles` cycles in
 * `cycleOrder`; after each cycle, a progress line with what `progress` makes of its slices.
 */
export async function pairedSlices(ctx: BenchContext, servers: ServerSpec[], opts: PairedOptions, progress: (last: (i: number) => Slice) => string): Promise<PairedSlices> {
  const used = opts.pairs.flat();
  const running = new Map<number, RunningServer>();
  const slices = new Map<number, Slice[]>(used.map((i) => [i, []]));
  const checked = new Map<number, string>();
  const loads: string[] = [loadAverages()];
  try {
    for (const i of used) running.set(i, await startServer(servers[i]!, ctx.pinned));
    process.stderr.write(`paired: warm-up cycle (${opts.warmupSeconds} s each)... `);
    for (const i of cycleOrder(opts.pairs, 0)) await runWrk(url(running.get(i)!), opts.warmupSeconds, ctx.pinned);
    process.stderr.write("done\n");
    for (let k = 0; k < opts.cycles; k++) {
      for (const i of cycleOrder(opts.pairs, k)) slices.get(i)!.push(await slice(running.get(i)!, opts.sliceSeconds, ctx.pinned));
      process.stderr.write(`paired cycle ${k + 1}/${opts.cycles}: ${progress((i) => slices.get(i)!.at(-1)!)}\n`);
    }
    loads.push(loadAverages());
    // Checked after the measured slices, so the check itself cannot slow a server down.
    for (const i of used) {
      const response = await fetchOnce(running.get(i)!.port);
      checked.set(i, response.status === 200 && response.body === "Hello, world" ? "200 Hello, world" : `BAD: ${response.status} ${JSON.stringify(response.body.slice(0, 40))}`);
    }
  } finally {
    await Promise.all([...running.values()].map((s) => s.stop()));
  }
  return { slices, checked, loads };
}

export interface PairedResult {
  table: BenchTable;
  /** Per cycle, ours / node:http: req/s, and node:http's CPU per request / ours (higher is ours better for both). */
  rpsRatios: number[];
  cpuRatios: number[];
}

/** The paired run (see the top of this file): its table, and the per-cycle ratios of ours against node:http. */
export async function pairedHttp(ctx: BenchContext, opts: PairedOptions = pairedOptions(ctx)): Promise<PairedResult> {
  const used = opts.pairs.flat();
  const { slices, checked, loads } = await pairedSlices(ctx, SERVERS, opts, (last) => `ours/node:http ${(last(OURS).rps / last(BASELINE).rps).toFixed(2)}x`);
  const of = (i: number, f: (s: Slice) => number) => slices.get(i)!.map(f);
  const against = (i: number) => ({
    rps: ratios(of(i, (s) => s.rps), of(BASELINE, (s) => s.rps)),
    // node:http's CPU per request over ours: requests per CPU-second, ours against node:http.
    cpu: ratios(of(BASELINE, (s) => s.cpuUs), of(i, (s) => s.cpuUs)),
  });
  const range = (rs: number[]) => `${percentile(rs, 10).toFixed(2)} - ${percentile(rs, 90).toFixed(2)}`;
  const rows = used.map((i) => {
    const r = against(i);
    return [
      SERVERS[i]!.name,
      Math.round(median(of(i, (s) => s.rps))).toLocaleString("en-US"),
      median(r.rps).toFixed(2) + "x",
      range(r.rps),
      median(of(i, (s) => s.cpuUs)).toFixed(2) + " µs",
      median(r.cpu).toFixed(2) + "x",
      median(of(i, (s) => s.p99)).toFixed(2) + " ms",
      String(slices.get(i)!.reduce((n, s) => n + s.errors, 0)),
      checked.get(i) ?? "-",
    ];
  });
  const ours = against(OURS);
  const at13 = (r: number) => r >= 1.3;
  const rps = median(ours.rps);
  const cpu = median(ours.cpu);
  const p99 = ratios(of(OURS, (s) => s.p99), of(BASELINE, (s) => s.p99));
  return {
    rpsRatios: ours.rps,
    cpuRatios: ours.cpu,
    table: {
      title:
        `Hello world, PAIRED: ${used.length} servers up at once (CPU 0), ${opts.cycles} cycles of one ${opts.sliceSeconds} s wrk -t1 -c50 slice each` +
        `${ctx.pinned ? " (CPU 1)" : " (NOT pinned)"}, the order changing every cycle, after a ${opts.warmupSeconds} s warm-up slice each; medians over the slices, ratios cycle by cycle`,
      columns: ["server", "req/s", "x node:http", "(p10 - p90)", "server CPU / req", "req/CPU-s x node:http", "p99", "errors", "response after run"],
      rows,
      notes: [
        `target: runtime >= 1.30x node:http (paired, the median of per-cycle ratios) ... ${at13(rps) ? "MET" : "MISSED"} (${rps.toFixed(2)}x)`,
        `  req/s, cycle by cycle: ${pairedDistribution(ours.rps, "ours >= 1.3x", at13)}`,
        `  per server CPU-second, cycle by cycle: ${pairedDistribution(ours.cpu, "ours >= 1.3x", at13)}`,
        `target: runtime p99 <= node:http p99 (paired, slice by slice) ... ${median(p99) <= 1 ? "MET" : "MISSED"} (${pairedDistribution(p99, "ours <= node:http", (r) => r <= 1)})`,
        "THE FIGURE TO TRUST for ours against node:http: the host's speed moves 2x between and within rounds, and two adjacent slices see the same speed; the interleaved table above compares medians of runs minutes apart.",
        "server CPU / req: the server's threads' schedstat over its slice (and the closing of wrk's connections), divided by the slice's requests; req/CPU-s x node:http is node:http's CPU per request over this server's, cycle by cycle.",
        `load average (1, 5, 15 min) before and after: ${loads.join(" | ")} (about 2 is this benchmark alone)`,
      ],
    },
  };
}
