/**
 * The websocket load generator of `npm run bench -- --only=ws`, run as its own process (pinned
 * to CPU 1 by bench/cases/ws.ts), with `ws` as the client. Loopback only; every phase bounded
 * in time. It talks to its parent on stdout, one line per event:
 *
 *   echo <port> <connections> <warmup s> <seconds>   -> "start", then "end {roundTrips, errors}"
 *   broadcast <port> <clients> <count> [raw|ws]      -> "start", then "end {medianMs, p90Ms, times, missing}"
 *   paired <port,port,..> <pid,pid,..> <clients> <count> [raw|ws]
 *                                                    -> "start", then "end {times, cpuMain, cpuOther, missing, failed}":
 *                                                       per server, each broadcast's ms and CPU ns (see paired())
 *   paired-echo <port,..> <pid,..> <connections> <warmup slices> <slices> <slice ms>
 *                                                    -> "start", then "end {rates, cpuUs, errors}": per server, each
 *                                                       slice's round trips/s and CPU µs per echo (see pairedEcho())
 *   idle <port> <count> [first]                      -> "part {opened}" once `first` are open, then (after a
 *                                                       line on stdin) "ready {opened, failed}" with all;
 *                                                       holds until stdin closes
 *
 * Echo is closed-loop: each connection sends a 32-byte message and sends the next when the echo
 * is back. A broadcast is one 32-byte message that the server sends to every client; its time is
 * from the trigger being sent to the last client having it.
 *
 * Broadcast receivers are `raw` by default: plain sockets that make a real handshake (checked:
 * 101 and the accept key), then read frames with `net.Socket`'s `onread` (one shared buffer, no
 * stream, no allocation) and compare each frame's bytes; the trigger is a masked frame. With `ws`
 * clients (`ws`), the one load process spends about 3x the server's time per message parsing
 * 1,000 messages through ws's streams and events, so the time measured was that process's: its
 * arrivals came at its own steady rate whatever the server, long after every server had
 * written the last frame (ARCHITECTURE.md, "Websocket broadcast"). Raw receivers keep up with
 * the server, so the time is the server's: the trigger read, then 1,000 writes.
 */
import { createHash } from "node:crypto";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { cpuNsOf } from "./lib.js";

const [mode, portText, a, b, c] = process.argv.slice(2);
const PAYLOAD = "x".repeat(32);
const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// A hard stop, whatever happens: a stuck server must not leave this process behind.
setTimeout(() => process.exit(3), 240_000).unref();

function open(onMessage?: (ws: WebSocket, data: WebSocket.RawData) => void, port = Number(portText)): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
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

/**
 * Open `count` connections with `connect` (a `ws` client or a raw receiver), at most 200
 * handshakes in flight; those that failed (null) are left out, and the caller counts them.
 */
async function inBatches<T>(count: number, connect: () => Promise<T | null>): Promise<T[]> {
  const all: T[] = [];
  for (let k = 0; k < count; k += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, count - k) }, connect));
    for (const c of batch) if (c) all.push(c);
  }
  return all;
}

/** Open `count` `ws` connections. */
function openMany(count: number, onMessage?: (ws: WebSocket, data: WebSocket.RawData) => void, port = Number(portText)): Promise<WebSocket[]> {
  return inBatches(count, () => open(onMessage, port));
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

/** A broadcast receiver: `send` writes the trigger; what arrives goes to the caller's onMessage. */
interface Receiver {
  send(message: string): void;
  terminate(): void;
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = createHash("sha1").update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
/** One read buffer for every raw socket: `onread` hands us the bytes before the next read. */
const READ_BUFFER = Buffer.alloc(64 * 1024);

/**
 * A raw websocket client for broadcasts: a real handshake, then unmasked server frames parsed
 * from `onread`'s shared buffer (a frame split over reads is kept until it is whole).
 */
function openRaw(port: number, onMessage: (text: string) => void): Promise<Receiver | null> {
  return new Promise((resolve) => {
    let head = "";
    let open = false;
    let pending: Buffer | null = null;
    const frames = (data: Buffer) => {
      let at = 0;
      while (data.length - at >= 2) {
        let length = data[at + 1]! & 0x7f;
        let start = at + 2;
        if (length === 126) {
          if (data.length - at < 4) break;
          length = data.readUInt16BE(at + 2);
          start = at + 4;
        } else if (length === 127) {
          if (data.length - at < 10) break;
          length = Number(data.readBigUInt64BE(at + 2));
          start = at + 10;
        }
        if (data.length < start + length) break;
        if ((data[at]! & 0x0f) === 0x1) onMessage(data.toString("latin1", start, start + length));
        at = start + length;
      }
      pending = at < data.length ? Buffer.from(data.subarray(at)) : null;
    };
    const socket = net.connect({
      host: "127.0.0.1",
      port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback(n: number, buf: Buffer) {
          const chunk = buf.subarray(0, n);
          if (open) {
            frames(pending === null ? chunk : Buffer.concat([pending, chunk]));
            return true;
          }
          head += chunk.toString("latin1");
          const end = head.indexOf("\r\n\r\n");
          if (end < 0) return true;
          clearTimeout(timer);
          if (!head.startsWith("HTTP/1.1 101") || !head.toLowerCase().includes(`\r\nsec-websocket-accept: ${ACCEPT.toLowerCase()}\r\n`)) {
            socket.destroy();
            resolve(null);
            return false;
          }
          open = true;
          resolve(receiver);
          if (end + 4 < head.length) frames(Buffer.from(head.slice(end + 4), "latin1"));
          return true;
        },
      },
    });
    const receiver: Receiver = {
      // A client's frames are masked (RFC 6455 5.1); a zero key leaves the text as it is.
      send: (message) => socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | message.length, 0, 0, 0, 0]), Buffer.from(message, "latin1")])),
      terminate: () => socket.destroy(),
    };
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, 30_000);
    socket.once("connect", () =>
      socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`),
    );
    socket.once("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

async function openReceivers(clients: number, kind: string, onMessage: (text: string) => void, port = Number(portText)): Promise<Receiver[]> {
  if (kind === "ws") return openMany(clients, (_ws, data) => onMessage(data.toString()), port);
  return inBatches(clients, () => openRaw(port, onMessage));
}

async function broadcast(clients: number, count: number, kind: string): Promise<void> {
  let id = 0;
  let received = 0;
  let reached: (() => void) | null = null;
  const sockets = await openReceivers(clients, kind, (text) => {
    if (text.startsWith(`B${id} `)) {
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

/**
 * Paired broadcasts: receivers on every server at once (all up together), and the broadcasts
 * alternating between the servers, the order rotating each cycle, so whatever else the machine
 * does hits every server alike. Each server's CPU per broadcast is read from its threads'
 * schedstat (nanoseconds, not 10 ms ticks) from just before one of its broadcasts to just before
 * its next: the broadcast and whatever the server does while idle in between (its timers).
 */
async function paired(ports: number[], pids: number[], clients: number, count: number, kind: string): Promise<void> {
  let id = "";
  let received = 0;
  let want = 0;
  let reached: (() => void) | null = null;
  const onMessage = (text: string) => {
    if (text.startsWith(id)) {
      received++;
      if (received === want) reached?.();
    }
  };
  const sockets: Receiver[][] = [];
  for (const port of ports) sockets.push(await openReceivers(clients, kind, onMessage, port));
  const missing = sockets.map((s) => clients - s.length);
  await sleep(500);
  say("start");
  const times: number[][] = ports.map(() => []);
  const cpuMain: number[][] = ports.map(() => []);
  const cpuOther: number[][] = ports.map(() => []);
  const last = pids.map((pid) => cpuNsOf(pid));
  const deadline = Date.now() + 150_000;
  let failed = false;
  // Warm-up cycles first (the first broadcasts run before the JITs have compiled the path), not counted.
  const warmup = Math.min(10, Math.ceil(count / 5));
  for (let k = -warmup; k < count && !failed && Date.now() < deadline; k++) {
    for (let j = 0; j < ports.length; j++) {
      const i = (j + k + warmup) % ports.length;
      const now = cpuNsOf(pids[i]!);
      if (k > 0) {
        cpuMain[i]!.push(now[0] - last[i]![0]);
        cpuOther[i]!.push(now[1] - last[i]![1]);
      }
      last[i] = now;
      id = `B${k + warmup}.${i} `;
      received = 0;
      want = sockets[i]!.length;
      const message = id.padEnd(32, "b");
      const all = new Promise<boolean>((resolve) => {
        reached = () => resolve(true);
        setTimeout(() => resolve(false), 10_000);
      });
      const t0 = performance.now();
      sockets[i]![0]!.send(message);
      if (!(await all)) {
        failed = true;
        break;
      }
      if (k >= 0) times[i]!.push(performance.now() - t0);
      await sleep(20);
    }
  }
  say(`end ${JSON.stringify({ times, cpuMain, cpuOther, missing, failed })}`);
  for (const s of sockets) for (const r of s) r.terminate();
}

/**
 * Paired echo: `connections` clients on every server at once, and the closed-loop echo run in
 * slices of `sliceMs` that alternate between the servers (the order rotating each cycle), so
 * other work on the machine hits every server alike. Per slice: the round trips in it and the
 * server's CPU (schedstat, ns) over the slice and the drain of what was in flight after it.
 */
async function pairedEcho(ports: number[], pids: number[], connections: number, warmup: number, slices: number, sliceMs: number): Promise<void> {
  let active = -1;
  const counts = ports.map(() => 0);
  const sockets: WebSocket[][] = [];
  for (let i = 0; i < ports.length; i++) {
    sockets.push(
      await openMany(
        connections,
        (ws) => {
          counts[i]!++;
          if (active === i) ws.send(PAYLOAD);
        },
        ports[i],
      ),
    );
  }
  const errors = sockets.map((s) => connections - s.length);
  say("start");
  const rates: number[][] = ports.map(() => []);
  const cpuUs: number[][] = ports.map(() => []);
  for (let k = -warmup; k < slices; k++) {
    for (let j = 0; j < ports.length; j++) {
      const i = (j + k + warmup) % ports.length;
      const [m0, o0] = cpuNsOf(pids[i]!);
      counts[i] = 0;
      active = i;
      for (const ws of sockets[i]!) ws.send(PAYLOAD);
      await sleep(sliceMs);
      active = -1;
      const inSlice = counts[i]!;
      await sleep(50); // what was in flight comes back, and the server is idle again
      const [m1, o1] = cpuNsOf(pids[i]!);
      if (k >= 0 && counts[i]! > 0) {
        rates[i]!.push((inSlice * 1000) / sliceMs);
        cpuUs[i]!.push((m1 - m0 + o1 - o0) / 1000 / counts[i]!);
      }
    }
  }
  say(`end ${JSON.stringify({ rates, cpuUs, errors })}`);
  for (const s of sockets) for (const ws of s) ws.terminate();
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
else if (mode === "broadcast") await broadcast(Number(a), Number(b), c ?? "raw");
else if (mode === "paired") await paired(portText!.split(",").map(Number), a!.split(",").map(Number), Number(b), Number(c), process.argv[7] ?? "raw");
else if (mode === "paired-echo") await pairedEcho(portText!.split(",").map(Number), a!.split(",").map(Number), Number(b), Number(c), Number(process.argv[7]), Number(process.argv[8]));
else if (mode === "idle") await idle(Number(a), Number(b ?? 0));
else throw new Error(`unknown mode ${mode}`);
process.exit(0);
