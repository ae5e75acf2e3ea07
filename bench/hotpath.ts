/**
 * The runtime's own cost per request, without sockets: the talk's hello handler served over a
 * fake socket that answers each response with the next request. What it prints (µs of
 * JavaScript per request) is what `npm run bench` cannot separate from the kernel's share, so
 * it is the number to watch while working on the hot path (see ARCHITECTURE.md). There is no
 * peer here: node:http cannot be driven the same way without leaving its native fast path.
 *
 *   npm run bench:hotpath                               # pinned to CPU 0 when taskset exists
 *   node --cpu-prof --import tsx bench/hotpath.ts       # to see where the time goes
 *   bench/hotpath-instructions.sh                        # instructions per request (callgrind)
 */
import { HTTPServer } from "tornado/httpserver";
import type { PlatformSocket, SocketEventHandler } from "tornado/platform/types";
import { Application, RequestHandler } from "tornado/web";

class MainHandler extends RequestHandler {
  get() {
    this.write("Hello, world");
  }
}

/** What wrk sends. */
const REQUEST = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1:8888\r\n\r\n");

class LoopbackSocket implements PlatformSocket {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 50000;
  onData: ((chunk: Uint8Array) => void) | null = null;
  onEnd: (() => void) | null = null;
  onClose: ((error?: Error) => void) | null = null;
  onDrain: (() => void) | null = null;
  eventHandler: SocketEventHandler | null = null;
  responses = 0;
  target = 0;
  done: (() => void) | null = null;
  private readonly send = () => (this.eventHandler ? this.eventHandler.handleData(new Uint8Array(REQUEST)) : this.onData!(new Uint8Array(REQUEST)));
  /**
   * The next request arrives from a promise job, as a data event would come from the loop: not
   * from queueMicrotask, whose per-call AsyncResource wrapper cost the harness about 0.1 µs a
   * request that no real socket pays.
   */
  private static readonly tick = Promise.resolve();

  write(_data: Uint8Array): boolean {
    if (++this.responses < this.target) void LoopbackSocket.tick.then(this.send);
    else this.done?.();
    return true;
  }
  end(): void {}
  destroy(): void {}
  pause(): void {}
  resume(): void {}

  /**
   * Serves `count` requests back to back; resolves with µs per request, wall-clock and CPU
   * (process.cpuUsage: this thread and V8's helper threads, GC included). On a loaded machine
   * the wall-clock figure includes time other processes took; the CPU figure does not.
   */
  run(count: number): Promise<{ wall: number; cpu: number }> {
    this.responses = 0;
    this.target = count;
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    return new Promise((resolve) => {
      this.done = () => {
        const cpu = process.cpuUsage(cpuStarted);
        resolve({ wall: ((performance.now() - started) * 1000) / count, cpu: (cpu.user + cpu.system) / count });
      };
      this.send();
    });
  }
}

// Access-log lines are formatted and encoded as in a deployment; only their batched write to
// stderr is dropped (the kernel's share, as the sockets' is).
const stderrWrite = process.stderr.write;
let logBytes = 0;
process.stderr.write = ((chunk: Uint8Array | string) => {
  logBytes += chunk.length;
  return true;
}) as typeof process.stderr.write;
const server = new HTTPServer(new Application([["/", MainHandler]]));
const socket = new LoopbackSocket();
server.handleSocket(socket);

// `--requests=N`: serve a fixed number (after the same warm-up) and print nothing, for
// instruction counts that do not depend on load: callgrind runs at two N, difference / N.
const fixed = Number(process.argv.find((a) => a.startsWith("--requests="))?.slice(11) ?? 0);
if (fixed > 0) {
  await socket.run(20_000);
  await socket.run(fixed);
  await new Promise((resolve) => setTimeout(resolve, 20));
  process.exit(0);
}
const quick = process.argv.includes("--quick");
const perRun = quick ? 50_000 : 300_000;
for (let i = 0; i < (quick ? 2 : 5); i++) await socket.run(perRun);
const samples: number[] = [];
const cpuSamples: number[] = [];
for (let i = 0; i < (quick ? 3 : 7); i++) {
  const { wall, cpu } = await socket.run(perRun);
  samples.push(wall);
  cpuSamples.push(cpu);
}
// Let the last batch of log lines go out (every 10 ms) while stderr is still dropped.
await new Promise((resolve) => setTimeout(resolve, 50));
process.stderr.write = stderrWrite;
samples.sort((a, b) => a - b);
cpuSamples.sort((a, b) => a - b);
const median = samples[samples.length >> 1]!;
const cpuMedian = cpuSamples[cpuSamples.length >> 1]!;
process.stdout.write(
  `hello handler over a fake socket: ${median.toFixed(2)} µs of JavaScript per request (median of ${samples.length} runs of ${perRun}; best ${samples[0]!.toFixed(2)}; ${(logBytes / 1048576).toFixed(0)} MiB of access log)\n` +
    `  CPU time: ${cpuMedian.toFixed(2)} µs per request (median; best ${cpuSamples[0]!.toFixed(2)}; includes V8's GC threads)\n`,
);
process.exit(0);
