/**
 * The platform on Node: real TCP sockets (`node:net`), OpenSSL hashes (`node:crypto`), the real
 * file system (`node:fs`) and stderr for logs.
 *
 * This is the only runtime module allowed to import `node:`. It adapts Node's event-emitter
 * sockets to the small callback contract in `types.ts`, so the core stays platform-free.
 */
// Buffer and process from their modules, not the globals: in Node 20 those globals are accessors,
// so every `Buffer.isBuffer`/`Buffer.from` on the write path was a getter call (about 200
// instructions a request under callgrind, see ARCHITECTURE.md "Fifth round").
import { Buffer } from "node:buffer";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import process from "node:process";
import * as util from "node:util";
import * as zlib from "node:zlib";
import type {
  BoundAddress,
  ChildExit,
  ListenOptions,
  LogLevel,
  Platform,
  PlatformListener,
  PlatformGzip,
  PlatformProcesses,
  PlatformDeflate,
  PlatformSocket,
  RawDeflater,
  RawInflater,
  SocketEventHandler,
} from "./types.js";

/** `crypto.hash` (Node >= 20.12) hashes in one call: about half the cost of createHash().update().digest(). */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array | string, encoding: "hex") => string }).hash;

/** Bytes as ISO-8859-1 text: Buffer's native latin-1 decoder, about half TextDecoder's cost on a request head. */
const latin1Slice = (Buffer.prototype as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice;

/**
 * Buffer's own UTF-8 writer (it takes any Uint8Array as `this`): a body kept as text goes
 * straight into the response's buffer, with no intermediate bytes.
 */
const utf8Write = (Buffer.prototype as Buffer & { utf8Write(text: string, offset: number, length: number): number }).utf8Write;

/**
 * Output bytes (`Platform.outputBytes`): Buffers cut from 64 KiB zero-filled slabs, as
 * http1connection.ts cut Uint8Arrays before; a Buffer goes to `socket.write` as it is, where a
 * Uint8Array got a Buffer view of its own per write (`asBuffer`). Slabs are never reused.
 */
let outputSlab = new ArrayBuffer(0);
let outputOffset = 0;
function outputBytes(size: number): Uint8Array {
  if (size > 8192) return Buffer.alloc(size);
  if (outputOffset + size > outputSlab.byteLength) {
    outputSlab = new ArrayBuffer(65536);
    outputOffset = 0;
  }
  const out = Buffer.from(outputSlab, outputOffset, size);
  // 8-byte aligned slices, like Node's pool.
  outputOffset = (outputOffset + size + 7) & ~7;
  return out;
}

/** The `NodeSocket` that a `net.Socket` belongs to (the listeners below are shared by every socket). */
const OWNER = Symbol("NodeSocket");
type OwnedSocket = net.Socket & { [OWNER]: NodeSocket };

// One set of listener functions for all sockets (Node calls them with the socket as `this`),
// rather than five closures per connection: thousands of idle websockets each kept them.
function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  const owner = this[OWNER];
  const handler = owner.eventHandler;
  if (handler !== null) handler.handleData(chunk);
  else owner.onData?.(chunk);
}

/**
 * Sockets read into this one buffer (`net.Socket`'s `onread` option), and each read is copied
 * out into a small Buffer from Node's pool before it is delivered. Node's default read path
 * mallocs 64 KiB per read in C++, shrinks it into a fresh ArrayBuffer, then pushes it through
 * `Readable` (`addChunk`, the `data` event, `maybeReadMore`'s nextTick and `read(0)`); the
 * hello example runs about a fifth fewer instructions a request this way (ARCHITECTURE.md,
 * "Seventh round: Node's read path"; `npm run bench -- --only=read-path` measures both ways).
 * One buffer serves every socket because a read's callback runs to its end before libuv
 * delivers the next read; the copy is what lets a handler keep the bytes past that (a body read
 * in a later turn, a pipelined request). runtime/process.test.ts checks that cluster children
 * read this way too (their connections come through cluster's handle).
 */
const READ_BUFFER = Buffer.allocUnsafe(65536);
function onSocketRead(this: OwnedSocket, size: number, buffer: Uint8Array): boolean {
  const chunk = Buffer.allocUnsafe(size);
  // A request head is mostly under 128 bytes: copied by hand, it needs no view of the buffer.
  if (size <= 128) for (let i = 0; i < size; i++) chunk[i] = buffer[i]!;
  else chunk.set(buffer.subarray(0, size));
  onSocketData.call(this, chunk);
  // Anything but false keeps reading; a handler that wants to stop calls pause(), which stops the handle.
  return true;
}
const userBufferReads = { buffer: READ_BUFFER, callback: onSocketRead };

function onSocketEnd(this: OwnedSocket): void {
  const owner = this[OWNER];
  const handler = owner.eventHandler;
  if (handler !== null) handler.handleEnd();
  else owner.onEnd?.();
}
function onSocketDrain(this: OwnedSocket): void {
  const owner = this[OWNER];
  const handler = owner.eventHandler;
  if (handler !== null) handler.handleDrain();
  else owner.onDrain?.();
}
function onSocketError(this: OwnedSocket, err: Error): void {
  this[OWNER].error = err;
}
function onSocketClose(this: OwnedSocket): void {
  const owner = this[OWNER];
  const handler = owner.eventHandler;
  if (handler !== null) handler.handleClose(owner.error);
  else owner.onClose?.(owner.error);
}

/**
 * Whether new sockets read into the shared buffer: on Node itself. WebContainer's Node
 * (`process.versions.webcontainer`) implements `net` its own way, and whether it honours
 * `onread` and the accept internals below cannot be tried here (it cannot boot on our
 * machines), so there sockets keep Node's stream reads, as they do with
 * `TORNADO_NODE_STREAM_READS=1` (read when a server listens or a client connects).
 */
function readsIntoUserBuffer(): boolean {
  return process.env.TORNADO_NODE_STREAM_READS !== "1" && (process.versions as Record<string, string | undefined>).webcontainer === undefined;
}

/**
 * The bytes as a Buffer, as `net.Socket.write` would make them (a view, no copy), remembering
 * the last one: a broadcast writes the same frame to every client (websocket_protocol.ts
 * shares it), and one view then serves them all instead of one per socket.
 */
let lastBytes: Uint8Array | null = null;
let lastBuffer: Buffer | null = null;
function asBuffer(data: Uint8Array): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data !== lastBytes) {
    lastBytes = data;
    lastBuffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  return lastBuffer!;
}

/** Wraps a `net.Socket` in the platform contract. Handlers are read at event time, so they may be set late. */
class NodeSocket implements PlatformSocket {
  onData: ((chunk: Uint8Array) => void) | null = null;
  onEnd: (() => void) | null = null;
  onClose: ((error?: Error) => void) | null = null;
  onDrain: (() => void) | null = null;
  eventHandler: SocketEventHandler | null = null;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** @internal The socket's error, reported with its close. */
  error: Error | undefined = undefined;

  /** `readsDelivered`: the socket was made with `onread: userBufferReads`, which delivers its data. */
  constructor(
    private readonly socket: net.Socket,
    readsDelivered: boolean,
  ) {
    // "::ffff:127.0.0.1" is how a dual-stack listener reports an IPv4 peer; Tornado shows "127.0.0.1".
    const address = socket.remoteAddress ?? "0.0.0.0";
    this.remoteAddress = address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
    this.remotePort = socket.remotePort ?? 0;
    (socket as OwnedSocket)[OWNER] = this;
    if (!readsDelivered) socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("drain", onSocketDrain);
    socket.on("error", onSocketError);
    socket.on("close", onSocketClose);
  }

  write(data: Uint8Array): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(asBuffer(data));
  }

  end(onFlushed?: () => void): void {
    if (this.socket.destroyed) {
      onFlushed?.();
      return;
    }
    if (this.socket.writableFinished) onFlushed?.();
    else if (onFlushed) this.socket.once("finish", onFlushed);
    if (!this.socket.writableEnded) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  setNoDelay(noDelay: boolean): void {
    this.socket.setNoDelay(noDelay);
  }
}

class NodeListener implements PlatformListener {
  constructor(
    private readonly server: net.Server,
    readonly port: number,
    readonly host: string,
  ) {}

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      // net.Server.close waits for every open connection; we only want to stop accepting.
      this.server.close(() => resolve());
      // Resolve as soon as the listening socket is gone, not when the last connection ends.
      queueMicrotask(resolve);
    });
  }
}

function listen(options: ListenOptions): Promise<PlatformListener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      options.onConnection(new NodeSocket(socket, false));
    });
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    const host = options.host || undefined;
    server.listen({ port: options.port, host, backlog: 1024 }, () => {
      server.off("error", onError);
      server.on("error", (err) => process.stderr.write(`listener error: ${err.message}\n`));
      acceptIntoUserBuffer(server, options.onConnection);
      const address = server.address() as net.AddressInfo;
      resolve(new NodeListener(server, address.port, address.address));
    });
  });
}

/** What Node's accept callback hands over: a libuv TCP handle (undocumented, so only what is used). */
interface AcceptedHandle {
  readonly __acceptedHandle: unique symbol;
}
type ServerHandle = { onconnection?: (status: number, handle: AcceptedHandle) => void };

/**
 * `net.Server` has no `onread` option (only `net.Socket` and `net.connect` do), so the server's
 * accept callback is replaced by one that makes the connection's `net.Socket` itself, as
 * `net.js`'s own `onconnection` does, with `onread`. Node's cluster workers receive connections
 * through the same callback. `_handle.onconnection` and the `handle` option are Node internals
 * (stable since Node 0.x; the cluster module depends on them): when they are not there, or
 * `readsIntoUserBuffer()` says no, the server keeps Node's `connection` event and its
 * stream reads. Node's own bookkeeping of the server's connections (`getConnections`,
 * `maxConnections`, close waiting for them) is left out; NodeListener.close never waited.
 */
function acceptIntoUserBuffer(server: net.Server, onConnection: ListenOptions["onConnection"]): void {
  const handle = (server as net.Server & { _handle?: ServerHandle | null })._handle;
  if (!handle || typeof handle.onconnection !== "function" || !readsIntoUserBuffer()) return;
  handle.onconnection = (status, clientHandle) => {
    if (status < 0) {
      const code = util.getSystemErrorName(status);
      server.emit("error", Object.assign(new Error(`accept ${code}`), { code, errno: status, syscall: "accept" }));
      return;
    }
    const socket = new net.Socket({
      handle: clientHandle,
      allowHalfOpen: true,
      readable: true,
      writable: true,
      onread: userBufferReads,
    } as net.SocketConstructorOpts);
    socket.setNoDelay(true);
    onConnection(new NodeSocket(socket, true));
  };
}

function connect(host: string, port: number): Promise<PlatformSocket> {
  return new Promise((resolve, reject) => {
    const userBuffer = readsIntoUserBuffer();
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true, ...(userBuffer ? { onread: userBufferReads } : {}) });
    const onError = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(new NodeSocket(socket, userBuffer));
    });
  });
}

/**
 * Log lines are collected as they are logged and written together. A line logged after a quiet
 * spell goes out at the end of the event-loop turn, as before batching; a busy log is written
 * every 10 ms or 64 Ki characters, and whatever is pending at exit synchronously. Tornado writes
 * each line as it is logged; at tens of thousands of access-log lines a second, a write per line
 * (or per turn) costs about as much as serving the request, and no reader of a log can tell 10 ms
 * apart. (A process killed by a signal it does not handle can lose those last 10 ms of lines.)
 * Each line is encoded into the batch's buffer as it is logged (one native call), so a pending
 * line is bytes outside the JavaScript heap. Kept as strings and joined once per batch (43 ns a
 * line against 60-125 ns), the lines of the last 10 ms survived every young-generation
 * collection meanwhile, and V8 grew the young generation to 16 MiB for them: fewer, longer
 * pauses (see ARCHITECTURE.md, "Where the microseconds go").
 */
const LOG_BATCH_BYTES = 65536;
const LOG_DELAY_MS = 10;
let logBuffer: Buffer | null = null;
let logUsed = 0;
let logTimer: ReturnType<typeof setTimeout> | null = null;
let logImmediate: ReturnType<typeof setImmediate> | null = null;
/** performance.now() of the last write: a write less than LOG_DELAY_MS ago means the log is busy. */
let lastLogWrite = -Infinity;
let exitHookInstalled = false;
/** `TORNADO_LOG_BATCH=0`: each line written as it is logged, as Tornado does (to measure the batching against). */
let logUnbatched = false;

/**
 * Buffer's own UTF-8 writer, as `latin1Slice` above: `write(string, offset)` sorts out its
 * optional arguments first, which cost more than the encoding of a 60-byte line (profiled: 4.8%
 * of a request against 2.1%).
 */
type LogBuffer = Buffer & { utf8Write(text: string, offset: number): number };

/** The pending bytes (the buffer is handed over: a new one takes the next lines), or null. */
function takeLogBytes(): Buffer | null {
  if (logTimer !== null) {
    clearTimeout(logTimer);
    logTimer = null;
  }
  if (logImmediate !== null) {
    clearImmediate(logImmediate);
    logImmediate = null;
  }
  if (logUsed === 0 || logBuffer === null) return null;
  const bytes = logBuffer.subarray(0, logUsed);
  logBuffer = null;
  logUsed = 0;
  lastLogWrite = performance.now();
  return bytes;
}

function flushLog(): void {
  const bytes = takeLogBytes();
  if (bytes !== null) process.stderr.write(bytes);
}

function flushLogSync(): void {
  const bytes = takeLogBytes();
  if (bytes === null) return;
  try {
    fs.writeSync(2, bytes);
  } catch {
    // stderr is gone; nothing else to do at exit.
  }
}

function installLog(): void {
  exitHookInstalled = true;
  logUnbatched = process.env.TORNADO_LOG_BATCH === "0";
  process.on("exit", flushLogSync);
}

function writeLogLine(line: string): void {
  if (!exitHookInstalled) installLog();
  // At most 3 UTF-8 bytes per UTF-16 unit, and the newline.
  const worst = line.length * 3 + 1;
  if (logUnbatched || worst > LOG_BATCH_BYTES) {
    flushLog();
    process.stderr.write(line + "\n");
    return;
  }
  if (logUsed + worst > LOG_BATCH_BYTES) flushLog();
  const buffer = (logBuffer ??= Buffer.allocUnsafeSlow(LOG_BATCH_BYTES));
  logUsed += (buffer as LogBuffer).utf8Write(line, logUsed);
  buffer[logUsed++] = 10;
  scheduleLogWrite();
}

/*
 * The UTF-8 bytes of the last line prefix and head given to `writeLogPieces`, together: an
 * access line's `[I 261130 05:40:00 web] ` and `200 GET / (127.0.0.1) ` repeat (the same string
 * objects), so the line is one copy and a few ASCII bytes, not a rope flattened and encoded per
 * request (measured alone: 37 against 97 ns a line, and no string left for the collector). One
 * copy, not one per piece: `Uint8Array#set` is a builtin call of about 170 instructions.
 */
let lastLogPrefix = "";
let lastLogHead = "";
let lastLogStartBytes: Buffer = Buffer.alloc(0);

function writeLogPieces(prefix: string, head: string, tail: string): void {
  if (!exitHookInstalled) installLog();
  if (prefix !== lastLogPrefix || head !== lastLogHead) {
    lastLogPrefix = prefix;
    lastLogHead = head;
    lastLogStartBytes = Buffer.from(prefix + head, "utf8");
  }
  const startBytes = lastLogStartBytes;
  const size = startBytes.length + tail.length + 1;
  if (logUnbatched || size > LOG_BATCH_BYTES) {
    writeLogLine(prefix + head + tail);
    return;
  }
  if (logUsed + size > LOG_BATCH_BYTES) flushLog();
  const buffer = (logBuffer ??= Buffer.allocUnsafeSlow(LOG_BATCH_BYTES));
  let at = logUsed;
  buffer.set(startBytes, at);
  at += startBytes.length;
  for (let i = 0; i < tail.length; i++) buffer[at++] = tail.charCodeAt(i) & 0x7f;
  buffer[at++] = 10;
  logUsed = at;
  scheduleLogWrite();
}

/** Pending lines go out at the end of this turn after a quiet spell, else within LOG_DELAY_MS of the last write. */
function scheduleLogWrite(): void {
  if (logTimer === null && logImmediate === null) {
    // Pending lines must not keep the process alive: the exit hook writes them.
    const sinceWrite = performance.now() - lastLogWrite;
    if (sinceWrite >= LOG_DELAY_MS) logImmediate = setImmediate(flushLog).unref();
    else logTimer = setTimeout(flushLog, LOG_DELAY_MS - sinceWrite).unref();
  }
}

/**
 * CRC-32 (gzip's trailer), from a table. Not `zlib.crc32`: on Node 20.20, once optimised, it
 * returned 0 for an empty chunk after a non-empty one (seen in runtime/web_gzip.test.ts), and
 * next to deflating the same bytes this costs little.
 */
const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(data: Uint8Array, value: number): number {
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * A gzip member written piece by piece, synchronously. Node's synchronous zlib calls each start
 * a fresh stream, so every piece is raw-deflated on its own, ending on a sync flush (byte
 * aligned, not final) or, for the last, on the final block: the pieces concatenate into one
 * valid deflate stream. The header is Python's GzipFile's (mtime now, XFL from the level, OS
 * "unknown"), so the bytes around the deflate data are those Tornado sends.
 */
function createGzip(level: number): PlatformGzip {
  let started = false;
  let crc = 0;
  let size = 0;
  return {
    write(chunk, finishing) {
      const parts: Uint8Array[] = [];
      if (!started) {
        started = true;
        const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 9 ? 2 : level === 1 ? 4 : 0, 0xff]);
        header.writeUInt32LE(Math.floor(Date.now() / 1000) >>> 0, 4);
        parts.push(header);
      }
      crc = crc32(chunk, crc);
      size = (size + chunk.length) >>> 0;
      parts.push(zlib.deflateRawSync(chunk, { level, finishFlush: finishing ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH }));
      if (finishing) {
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(crc >>> 0, 0);
        trailer.writeUInt32LE(size, 4);
        parts.push(trailer);
      }
      return Buffer.concat(parts);
    },
  };
}

/**
 * Child processes through `node:cluster`, with its SCHED_NONE policy: the parent binds each
 * address the children listen on and hands the socket to every one of them; each child accepts
 * from it itself and the kernel spreads the connections, as with Tornado's pre-forked children.
 * (Cluster's default, round-robin, would have the parent accept every connection and pass it
 * on, one more hop and one process doing work that Tornado's parent never does.) A child runs
 * the program from the top; it learns its task id and the parent's addresses from two
 * environment variables, removed at once so that its own children do not inherit them.
 */
const TASK_ID_ENV = "TORNADO_TASK_ID";
const SOCKETS_ENV = "TORNADO_BOUND_SOCKETS";

function readChildInfo(): PlatformProcesses["child"] {
  const id = process.env[TASK_ID_ENV];
  const sockets = process.env[SOCKETS_ENV];
  delete process.env[TASK_ID_ENV];
  delete process.env[SOCKETS_ENV];
  if (id === undefined || !/^\d+$/.test(id)) return null;
  let parsed: BoundAddress[] = [];
  try {
    const value = JSON.parse(sockets ?? "[]") as unknown;
    if (Array.isArray(value)) parsed = value.filter((s): s is BoundAddress => typeof s?.port === "number" && typeof s?.host === "string");
  } catch {
    // No addresses: the child binds its own.
  }
  return { taskId: Number(id), sockets: parsed };
}

/** Read once per process: every platform created here (tests make several) sees the same. */
let childInfo: PlatformProcesses["child"] | undefined;

function createNodeProcesses(): PlatformProcesses {
  childInfo ??= readChildInfo();
  const child = childInfo;
  return {
    pid: process.pid,
    child,
    cpuCount: () => Math.max(1, os.cpus().length),
    bind(port, host) {
      // Bound and released at once: it resolves port 0 and fails early (EADDRINUSE) as Tornado's
      // bind_sockets does. Node has no bind-without-listen, and a listening socket here would
      // accept connections the parent never serves; the children's first listen binds it again.
      return new Promise<BoundAddress>((resolve, reject) => {
        const probe = net.createServer();
        probe.once("error", reject);
        probe.listen({ port, host: host || undefined, exclusive: true }, () => {
          const bound = { port: (probe.address() as net.AddressInfo).port, host };
          probe.close(() => resolve(bound));
        });
      });
    },
    async startChild(taskId, sockets, onExit) {
      // Loaded on first use: a WebContainer's Node, which also runs this file, may lack it.
      const cluster = (await import("node:cluster")).default;
      if (!cluster.isPrimary) throw new Error("a child process cannot start children of its own");
      cluster.schedulingPolicy = cluster.SCHED_NONE;
      const worker = cluster.fork({ [TASK_ID_ENV]: String(taskId), [SOCKETS_ENV]: JSON.stringify(sockets) });
      const pid = worker.process.pid!;
      worker.once("exit", (code: number | null, signal: NodeJS.Signals | null) => {
        const exit: ChildExit = { pid, code: signal ? null : code, signal: signal ? (os.constants.signals[signal] ?? 0) : null };
        onExit(exit);
      });
      return { pid };
    },
    exit(code) {
      flushLogSync();
      process.exit(code);
    },
  };
}

/**
 * Runs zlib streams one flush at a time: `write(data)` then `flush(Z_SYNC_FLUSH)` gives one
 * self-contained block per message while keeping the window (context takeover), what Python's
 * `compressobj().compress() + flush(Z_SYNC_FLUSH)` gives Tornado synchronously. Node has no
 * synchronous streaming zlib (its *Sync functions close the engine after one call), so results
 * are promises, queued so messages come out in order.
 */
function flushingStream(engine: zlib.DeflateRaw | zlib.InflateRaw, maxOutputLength: number): (data: Uint8Array) => Promise<Uint8Array | null> {
  let chunks: Buffer[] = [];
  let size = 0;
  let failure: Error | null = null;
  engine.on("data", (chunk: Buffer) => {
    size += chunk.length;
    // Past the limit nothing more is kept: a decompression bomb costs no memory.
    if (size <= maxOutputLength) chunks.push(chunk);
  });
  engine.on("error", (err: Error) => (failure = err));
  let queue: Promise<unknown> = Promise.resolve();
  return (data) => {
    const run = queue.then(
      () =>
        new Promise<Uint8Array | null>((resolve, reject) => {
          if (failure) return reject(failure);
          engine.write(data);
          engine.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            const out = size > maxOutputLength ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
            chunks = [];
            size = 0;
            if (failure) reject(failure);
            else resolve(out);
          });
        }),
    );
    queue = run.catch(() => {});
    return run;
  };
}

const nodeDeflate: PlatformDeflate = {
  createDeflater({ windowBits, level, memLevel }): RawDeflater {
    const engine = zlib.createDeflateRaw({ windowBits, level: level ?? zlib.constants.Z_DEFAULT_COMPRESSION, memLevel: memLevel ?? 8 });
    const run = flushingStream(engine, Infinity);
    return { compress: (data) => run(data) as Promise<Uint8Array>, close: () => engine.close() };
  },
  createInflater({ windowBits, maxOutputLength }): RawInflater {
    const engine = zlib.createInflateRaw({ windowBits });
    return { inflate: flushingStream(engine, maxOutputLength), close: () => engine.close() };
  },
};

export function createNodePlatform(): Platform {
  return {
    name: "node",
    listen,
    connect,
    sha1Hex(data) {
      // A string is hashed as its UTF-8 bytes by both.
      return oneShotHash ? oneShotHash("sha1", data, "hex") : crypto.createHash("sha1").update(data).digest("hex");
    },
    hmacHex(algorithm, key, data) {
      return crypto.createHmac(algorithm, key).update(data).digest("hex");
    },
    randomBytes(length) {
      return new Uint8Array(crypto.randomBytes(length));
    },
    latin1: (bytes) => latin1Slice.call(bytes, 0, bytes.length),
    utf8Length: (text) => Buffer.byteLength(text),
    utf8Into: (text, target, offset) => utf8Write.call(target, text, offset, target.length - offset),
    outputBytes,
    now: () => Date.now(),
    monotonic: () => performance.now(),
    fs: {
      readFile(path) {
        try {
          const stat = fs.statSync(path);
          if (!stat.isFile()) return null;
          return fs.readFileSync(path);
        } catch {
          return null;
        }
      },
      mtime(path) {
        try {
          return fs.statSync(path).mtimeMs;
        } catch {
          return null;
        }
      },
      isDirectory(path) {
        try {
          return fs.statSync(path).isDirectory();
        } catch {
          return false;
        }
      },
      writeFile(path, data) {
        fs.writeFileSync(path, data);
      },
    },
    log(_level: LogLevel, message: string) {
      writeLogLine(message);
    },
    logPieces(_level: LogLevel, prefix: string, head: string, tail: string) {
      writeLogPieces(prefix, head, tail);
    },
    createGzip,
    processes: createNodeProcesses(),
    deflate: nodeDeflate,
  };
}

export const defaultPlatform: Platform = createNodePlatform();
