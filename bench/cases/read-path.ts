/**
 * `npm run bench -- --only=read-path`: what Node's stream reads cost a server per request, against
 * reads through `net.Socket`'s `onread` into one shared buffer (runtime/platform/node.ts, the
 * runtime's default; ARCHITECTURE.md, "Seventh round: Node's read path"). Two pairs, each one
 * bundle started both ways, so the read path is the whole difference:
 *   the raw node:net ceiling (bench/servers/rawnet.ts), RAWNET_ONREAD=1 against 0 (`data` events);
 *   the hello example (bench/servers/runtime-hello.ts), TORNADO_NODE_STREAM_READS=0 against 1.
 * Measured as bench/http.ts's paired run (its `pairedSlices`): all four up at once on CPU 0,
 * 1 s wrk slices on CPU 1 alternating, each server beside its twin; the server's CPU per request
 * from schedstat, the ratio onread / stream cycle by cycle.
 *
 *   npm run bench -- --only=read-path                           # 10 cycles x 4 x 1 s after 3 s warm-up each: about a minute
 *   BENCH_PAIRED_CYCLES=2 npm run bench -- --only=read-path --quick   # a smoke run (1 s warm-up): about 15 s
 */
import { median, pairedDistribution, percentile, ratios, type BenchCase, type BenchContext, type BenchTable, type ServerSpec } from "../lib.js";
import { pairedOptions, pairedSlices, type PairedOptions, type Slice } from "../http.js";

export const READ_PATH_SERVERS: ServerSpec[] = [
  { name: "raw node:net ceiling, onread", script: "bench/servers/rawnet.ts", env: { RAWNET_ONREAD: "1" } },
  { name: "raw node:net ceiling, data events", script: "bench/servers/rawnet.ts", env: { RAWNET_ONREAD: "0" } },
  { name: "hello example, onread (default)", script: "bench/servers/runtime-hello.ts", env: { TORNADO_NODE_STREAM_READS: "0" } },
  { name: "hello example, stream reads", script: "bench/servers/runtime-hello.ts", env: { TORNADO_NODE_STREAM_READS: "1" } },
];
/** [onread, stream] pairs, indexes into READ_PATH_SERVERS; each pair's two take adjacent slices. */
const PAIRS = [
  [0, 1],
  [2, 3],
];
const PAIR_NAMES = ["ceiling (raw node:net), onread / data events", "hello example, onread / stream reads"];

/** bench/http.ts's paired options (cycles from BENCH_PAIRED_CYCLES, --quick: 3), with these pairs. */
export function readPathOptions(ctx: BenchContext): PairedOptions {
  return { ...pairedOptions(ctx), pairs: PAIRS };
}

/** The paired run of READ_PATH_SERVERS and its table. */
export async function runReadPath(ctx: BenchContext, opts: PairedOptions): Promise<BenchTable> {
  const { slices, checked, loads } = await pairedSlices(ctx, READ_PATH_SERVERS, opts, (last) =>
    opts.pairs.map(([a, b], p) => `${PAIR_NAMES[p]!.split(",")[0]} CPU/req onread/stream ${(last(a!).cpuUs / last(b!).cpuUs).toFixed(2)}x`).join(", "),
  );
  const of = (i: number, f: (s: Slice) => number) => slices.get(i)!.map(f);
  const cpu = (s: Slice) => s.cpuUs;
  const rps = (s: Slice) => s.rps;
  /** The stream-reading twin of server i (itself for a stream reader). */
  const twin = (i: number) => opts.pairs.find((p) => p.includes(i))![1]!;
  const rows = opts.pairs.flat().map((i) => {
    const r = ratios(of(i, cpu), of(twin(i), cpu));
    return [
      READ_PATH_SERVERS[i]!.name,
      Math.round(median(of(i, rps))).toLocaleString("en-US"),
      median(of(i, cpu)).toFixed(2) + " µs",
      median(r).toFixed(2) + "x",
      `${percentile(r, 10).toFixed(2)} - ${percentile(r, 90).toFixed(2)}`,
      median(of(i, (s) => s.p99)).toFixed(2) + " ms",
      String(slices.get(i)!.reduce((n, s) => n + s.errors, 0)),
      checked.get(i) ?? "-",
    ];
  });
  const cheaper = (r: number) => r < 1;
  return {
    title:
      `Node's read path, PAIRED: ${opts.pairs.flat().length} servers up at once (CPU 0), ${opts.cycles} cycles of one ${opts.sliceSeconds} s wrk -t1 -c50 slice each` +
      `${ctx.pinned ? " (CPU 1)" : " (NOT pinned)"}, each beside its twin, the order changing every cycle, after a ${opts.warmupSeconds} s warm-up slice each; medians over the slices, ratios cycle by cycle`,
    columns: ["server", "req/s", "server CPU / req", "CPU / req x stream reads", "(p10 - p90)", "p99", "errors", "response after run"],
    rows,
    notes: [
      ...opts.pairs.flatMap(([a, b], p) => [
        `${PAIR_NAMES[p]}, CPU per request, cycle by cycle: ${pairedDistribution(ratios(of(a!, cpu), of(b!, cpu)), "onread cheaper", cheaper)}`,
        `  req/s, cycle by cycle: ${pairedDistribution(ratios(of(a!, rps), of(b!, rps)), "onread faster", (r) => r > 1)}`,
      ]),
      "Each pair is one bundle started two ways (RAWNET_ONREAD=1/0, TORNADO_NODE_STREAM_READS=0/1): the read path is the whole difference.",
      "server CPU / req: the server's threads' schedstat over its slice (and the closing of wrk's connections), divided by the slice's requests; below 1.00x, onread costs less.",
      `load average (1, 5, 15 min) before and after: ${loads.join(" | ")} (about 2 is this benchmark alone)`,
    ],
  };
}

const readPath: BenchCase = {
  name: "read-path",
  run: async (ctx) => [await runReadPath(ctx, readPathOptions(ctx))],
};
export default readPath;
