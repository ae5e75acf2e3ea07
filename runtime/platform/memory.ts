/**
 * The platform in a browser (or anywhere without an OS): an in-memory network, a virtual file
 * system and pure-JS hashes.
 *
 * The deck's in-page engine runs the same runtime code over this platform: `listen(8888)`
 * registers a port in a table, and `connect("localhost", 8888)` hands the listener one end of
 * a socket pair. Delivery between the ends is asynchronous (a microtask), ordered, honours
 * pause/resume and back-pressure, and ends/destroys like Node's `net` with `allowHalfOpen`, so
 * code that works here works over TCP too. No `node:` imports: this file must load in a worker.
 */
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type {
  ListenOptions,
  LogLevel,
  Platform,
  PlatformFileSystem,
  PlatformListener,
  PlatformSocket,
  SocketEventHandler,
} from "./types.js";

/** Above this many queued bytes `write` returns false, as a kernel send buffer would. */
const HIGH_WATER_MARK = 64 * 1024;
/** A string's UTF-8 bytes, for hashing a body the handler kept as text. */
const utf8Bytes = new TextEncoder();
const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", ""]);

/** Node-style errors (`err.code`), so callers can tell ECONNREFUSED from EADDRINUSE. */
function netError(code: string, message: string): Error {
  const err = new Error(message) as Error & { code: string };
  err.code = code;
  return err;
}

/** One end of an in-memory connection. Bytes written here are delivered to `peer.onData`. */
export class MemorySocket implements PlatformSocket {
  onData: ((chunk: Uint8Array) => void) | null = null;
  onEnd: (() => void) | null = null;
  onClose: ((error?: Error) => void) | null = null;
  onDrain: (() => void) | null = null;
  eventHandler: SocketEventHandler | null = null;
  peer!: MemorySocket;

  /** Chunks written by this end, not yet delivered to the peer. */
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private needDrain = false;
  /** We called end(): a FIN follows the queued bytes. */
  private writeEnded = false;
  /** The FIN was delivered to the peer. */
  private finDelivered = false;
  private flushedCallbacks: (() => void)[] = [];
  /** The peer's FIN reached us. */
  private readEnded = false;
  private paused = false;
  private closed = false;

  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly localPort: number,
  ) {}

  write(data: Uint8Array): boolean {
    if (this.closed || this.writeEnded) return false;
    if (data.length === 0) return this.queuedBytes < HIGH_WATER_MARK;
    // Copy: the writer may reuse its buffer, and the kernel would have copied too.
    this.queue.push(data.slice());
    this.queuedBytes += data.length;
    this.scheduleFlush();
    if (this.queuedBytes >= HIGH_WATER_MARK) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  end(onFlushed?: () => void): void {
    if (onFlushed) {
      if (this.closed || this.finDelivered) queueMicrotask(onFlushed);
      else this.flushedCallbacks.push(onFlushed);
    }
    if (this.closed || this.writeEnded) return;
    this.writeEnded = true;
    this.scheduleFlush();
  }

  destroy(): void {
    if (this.closed) return;
    this.queue = [];
    this.queuedBytes = 0;
    this.closeNow();
    // The peer sees end-of-stream (a FIN, or a reset it reads as one) and then closes too.
    const peer = this.peer;
    queueMicrotask(() => {
      if (peer.closed) return;
      if (!peer.readEnded) {
        peer.readEnded = true;
        invoke(() => peer.emitEnd());
      }
      peer.closeNow();
    });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // Data the peer queued while we were paused waits in the peer's queue.
    if (this.peer && !this.peer.closed) this.peer.scheduleFlush();
  }

  setNoDelay(): void {}

  get isClosed(): boolean {
    return this.closed;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Hands queued chunks to the peer while it is not paused; then the FIN if we ended. */
  private flush(): void {
    const peer = this.peer;
    if (this.closed) return;
    if (peer.closed) {
      this.queue = [];
      this.queuedBytes = 0;
      return;
    }
    while (this.queue.length > 0) {
      if (peer.paused || peer.closed) return;
      const chunk = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      invoke(() => peer.emitData(chunk));
    }
    if (this.needDrain) {
      this.needDrain = false;
      invoke(() => this.emitDrain());
    }
    // A paused reader sees end-of-stream only once resumed, as with Node's streams.
    if (this.writeEnded && !this.finDelivered && !peer.paused && !peer.closed) {
      this.finDelivered = true;
      const callbacks = this.flushedCallbacks;
      this.flushedCallbacks = [];
      for (const cb of callbacks) invoke(cb);
      peer.readEnded = true;
      invoke(() => peer.emitEnd());
      // Each side is fully closed once both directions are done (Node's allowHalfOpen).
      if (peer.finDelivered) peer.closeNow();
      if (this.readEnded) this.closeNow();
    }
  }

  // Events go to the event handler when there is one, else to the callbacks.
  private emitData(chunk: Uint8Array): void {
    if (this.eventHandler !== null) this.eventHandler.handleData(chunk);
    else this.onData?.(chunk);
  }
  private emitEnd(): void {
    if (this.eventHandler !== null) this.eventHandler.handleEnd();
    else this.onEnd?.();
  }
  private emitDrain(): void {
    if (this.eventHandler !== null) this.eventHandler.handleDrain();
    else this.onDrain?.();
  }
  private emitClose(): void {
    if (this.eventHandler !== null) this.eventHandler.handleClose();
    else this.onClose?.();
  }

  private closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    const callbacks = this.flushedCallbacks;
    this.flushedCallbacks = [];
    for (const cb of callbacks) invoke(cb);
    // Like Node's 'close', it comes after the current turn's events.
    queueMicrotask(() => invoke(() => this.emitClose()));
  }
}

/** An exception in a handler must not break delivery for the rest of the network: rethrow it later. */
function invoke(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

/** A virtual file system: absolute path → bytes. */
export class MemoryFileSystem implements PlatformFileSystem {
  private readonly files = new Map<string, { data: Uint8Array; mtime: number }>();

  constructor(
    readonly cwd: string,
    private readonly clock: () => number,
  ) {}

  /** Absolute, normalised path (`.`/`..` resolved, no trailing slash). */
  resolve(path: string): string {
    const full = path.startsWith("/") ? path : `${this.cwd}/${path}`;
    const parts: string[] = [];
    for (const part of full.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") parts.pop();
      else parts.push(part);
    }
    return "/" + parts.join("/");
  }

  writeFile(path: string, data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data.slice();
    this.files.set(this.resolve(path), { data: bytes, mtime: this.clock() });
  }

  deleteFile(path: string): boolean {
    return this.files.delete(this.resolve(path));
  }

  clear(): void {
    this.files.clear();
  }

  readFile(path: string): Uint8Array | null {
    return this.files.get(this.resolve(path))?.data ?? null;
  }

  mtime(path: string): number | null {
    return this.files.get(this.resolve(path))?.mtime ?? null;
  }

  isDirectory(path: string): boolean {
    const dir = this.resolve(path);
    if (dir === "/") return true;
    const prefix = dir + "/";
    for (const name of this.files.keys()) if (name.startsWith(prefix)) return true;
    return false;
  }

  /** Every file's absolute path, sorted. */
  list(): string[] {
    return [...this.files.keys()].sort();
  }
}

class MemoryListener implements PlatformListener {
  readonly host = "127.0.0.1";
  closed = false;
  constructor(
    private readonly network: MemoryNetwork,
    readonly port: number,
    readonly onConnection: (socket: PlatformSocket) => void,
  ) {}

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.network.release(this);
    }
    return Promise.resolve();
  }
}

/** Ports and listeners of one in-memory host. */
class MemoryNetwork {
  private readonly listeners = new Map<number, MemoryListener>();
  private nextEphemeral = 49152;

  private ephemeralPort(): number {
    for (let i = 0; i < 16384; i++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port >= 65535 ? 49152 : port + 1;
      if (!this.listeners.has(port)) return port;
    }
    throw netError("EADDRNOTAVAIL", "no free ephemeral port");
  }

  listen(options: ListenOptions): Promise<PlatformListener> {
    const requested = options.port;
    if (!Number.isInteger(requested) || requested < 0 || requested > 65535) {
      return Promise.reject(new RangeError(`options.port should be >= 0 and < 65536. Received ${requested}.`));
    }
    if (requested !== 0 && this.listeners.has(requested)) {
      return Promise.reject(netError("EADDRINUSE", `listen EADDRINUSE: address already in use :::${requested}`));
    }
    const port = requested === 0 ? this.ephemeralPort() : requested;
    const listener = new MemoryListener(this, port, options.onConnection);
    this.listeners.set(port, listener);
    return Promise.resolve(listener);
  }

  release(listener: MemoryListener): void {
    if (this.listeners.get(listener.port) === listener) this.listeners.delete(listener.port);
  }

  connect(host: string, port: number): Promise<PlatformSocket> {
    return new Promise((resolve, reject) => {
      // Asynchronous like a real connect, so callers never see a synchronous callback.
      queueMicrotask(() => {
        if (!LOOPBACK.has(host)) {
          reject(netError("ENOTFOUND", `getaddrinfo ENOTFOUND ${host}`));
          return;
        }
        const address = host === "::1" || host === "[::1]" ? "::1" : "127.0.0.1";
        const listener = this.listeners.get(port);
        if (!listener || listener.closed) {
          reject(netError("ECONNREFUSED", `connect ECONNREFUSED ${address}:${port}`));
          return;
        }
        const clientPort = this.ephemeralClientPort();
        const client = new MemorySocket(address, port, clientPort);
        const server = new MemorySocket(address, clientPort, port);
        client.peer = server;
        server.peer = client;
        try {
          listener.onConnection(server);
        } catch (err) {
          server.destroy();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        resolve(client);
      });
    });
  }

  private clientPorts = 32768;
  private ephemeralClientPort(): number {
    this.clientPorts = this.clientPorts >= 60999 ? 32768 : this.clientPorts + 1;
    return this.clientPorts;
  }

  closeAll(): void {
    for (const listener of [...this.listeners.values()]) void listener.close();
  }
}

export interface MemoryPlatformOptions {
  /** Initial files; keys are absolute or relative to `cwd`. */
  files?: Record<string, string | Uint8Array>;
  /** Working directory for relative paths (default "/"). */
  cwd?: string;
  /** Where log lines go (default: the console). */
  log?: (level: LogLevel, message: string) => void;
}

export interface MemoryPlatform extends Platform {
  readonly fs: MemoryFileSystem;
  writeFile(path: string, data: string | Uint8Array): void;
  deleteFile(path: string): boolean;
  /** Closes every listener and restores the initial files. */
  reset(): void;
}

const monotonicClock: () => number =
  typeof performance !== "undefined" && typeof performance.now === "function"
    ? () => performance.now()
    : () => Date.now();

export function createMemoryPlatform(options: MemoryPlatformOptions = {}): MemoryPlatform {
  const cwd = options.cwd ?? "/";
  let network = new MemoryNetwork();
  const fs = new MemoryFileSystem(cwd, () => Date.now());
  const initial = options.files ?? {};
  const loadInitial = () => {
    fs.clear();
    for (const [path, data] of Object.entries(initial)) fs.writeFile(path, data);
  };
  loadInitial();
  const log =
    options.log ??
    ((_level: LogLevel, message: string) => {
      // The platform's stderr: the one place the memory platform may use the console.
      console.error(message);
    });
  return {
    name: "memory",
    listen: (opts) => network.listen(opts),
    connect: (host, port) => network.connect(host, port),
    sha1Hex: (data) => bytesToHex(sha1(typeof data === "string" ? utf8Bytes.encode(data) : data)),
    hmacHex: (algorithm, key, data) => bytesToHex(hmac(algorithm === "sha1" ? sha1 : sha256, key, data)),
    randomBytes(length) {
      const out = new Uint8Array(length);
      // getRandomValues fills at most 65536 bytes per call.
      for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
      return out;
    },
    now: () => Date.now(),
    monotonic: monotonicClock,
    fs,
    log,
    writeFile: (path, data) => fs.writeFile(path, data),
    deleteFile: (path) => fs.deleteFile(path),
    reset() {
      network.closeAll();
      network = new MemoryNetwork();
      loadInitial();
    },
  };
}

export const defaultPlatform: Platform = createMemoryPlatform();
