/**
 * The websocket load generator of `npm run bench -- --only=ws`, run as its own process (pinned
 * to CPU 1 by bench/cases/ws.ts), with `ws` as the client. Loopback only; every phase bounded
 * in time. It talks to its parent on stdout, one line per event:
 *
 *   echo <port> <connections> <warmup s> <seconds>   -> "start", then "end {roundTrips, errors}"
 *   broadcast <port> <clients> <count>               -> "start", then "end {medianMs, p90Ms, times, missing}"
 *   idle <port> <count> [first]                      -> "part {opened}" once `first` are open, then (after a
 *                                                       line on stdin) "ready {opened, failed}" with all;
 *                                                       holds until stdin closes
 *
 * Echo is closed-loop: each connection sends a 32-byte message and sends the next when the echo
 * is back. A broadcast is one 32-byte message that the server sends to every client; its time is
 * from the trigger being sent to the last client having it.
 */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

const [mode, portText, a, b, c] = process.argv.slice(2);
const url = `ws://127.0.0.1:${Number(portText)}/ws`;
const PAYLOAD = "x".repeat(32);
const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// A hard stop, whatever happens: a stuck server must not leave this process behind.
setTimeout(() => process.exit(3), 240_000).unref();

function open(onMessage?: (ws: WebSocket, data: WebSocket.RawData) => void): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      resolve(null);
    }, 30_000);
    ws.once("open", () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
    if (onMessage) ws.on("message", (data) => onMessage(ws, data));
  });
}

/** Open `count` connections, at most 200 handshakes in flight. */
async function openMany(count: number, onMessage?: (ws: WebSocket, data: WebSocket.RawData) => void): Promise<WebSocket[]> {
  const all: WebSocket[] = [];
  for (let k = 0; k < count; k += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, count - k) }, () => open(onMessage)));
    for (const ws of batch) if (ws) all.push(ws);
  }
  return all;
}

async function echo(connections: number, warmup: number, seconds: number): Promise<void> {
  let roundTrips = 0;
  let errors = 0;
  let running = true;
  const sockets = await openMany(connections, (ws) => {
    roundTrips++;
    if (running) ws.send(PAYLOAD);
  });
  errors += connections - sockets.length;
  for (const ws of sockets) {
    ws.on("error", () => errors++);
    ws.send(PAYLOAD);
  }
  await sleep(warmup * 1000);
  roundTrips = 0;
  say("start");
  await sleep(seconds * 1000);
  const done = roundTrips;
  running = false;
  say(`end ${JSON.stringify({ roundTrips: done, errors, connections: sockets.length })}`);
  for (const ws of sockets) ws.terminate();
}

async function broadcast(clients: number, count: number): Promise<void> {
  let id = 0;
  let received = 0;
  let reached: (() => void) | null = null;
  const sockets = await openMany(clients, (_ws, data) => {
    if (data.toString().startsWith(`B${id} `)) {
      received++;
      if (received === sockets.length) reached?.();
    }
  });
  const missing = clients - sockets.length;
  await sleep(500);
  say("start");
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    id = k;
    received = 0;
    const message = `B${id} `.padEnd(32, "b");
    const all = new Promise<boolean>((resolve) => {
      reached = () => resolve(true);
      setTimeout(() => resolve(false), 10_000);
    });
    const t0 = performance.now();
    sockets[0]!.send(message);
    if (!(await all)) break;
    times.push(performance.now() - t0);
    await sleep(20);
  }
  const sorted = [...times].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  say(`end ${JSON.stringify({ medianMs: at(0.5), p90Ms: at(0.9), times: times.length, missing })}`);
  for (const ws of sockets) ws.terminate();
}

async function idle(count: number, first: number): Promise<void> {
  process.stdin.resume();
  const ended = new Promise((r) => process.stdin.once("end", r));
  const sockets: WebSocket[] = [];
  if (first > 0) {
    sockets.push(...(await openMany(Math.min(first, count))));
    say(`part ${JSON.stringify({ opened: sockets.length })}`);
    // The parent measures the server, then asks for the rest.
    await new Promise((r) => process.stdin.once("data", r));
  }
  sockets.push(...(await openMany(count - Math.min(first, count))));
  say(`ready ${JSON.stringify({ opened: sockets.length, failed: count - sockets.length })}`);
  // Hold until the parent closes our stdin (it has measured the server by then).
  await ended;
  for (const ws of sockets) ws.terminate();
}

if (mode === "echo") await echo(Number(a), Number(b), Number(c));
else if (mode === "broadcast") await broadcast(Number(a), Number(b));
else if (mode === "idle") await idle(Number(a), Number(b ?? 0));
else throw new Error(`unknown mode ${mode}`);
process.exit(0);
