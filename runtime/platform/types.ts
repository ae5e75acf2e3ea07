/**
 * The platform layer: everything the runtime needs from the world outside JavaScript.
 *
 * Tornado talks to the OS through `socket`, `select/epoll`, `hashlib` and `time`. Our port keeps
 * all of that behind this one interface so the core (`ioloop`, `iostream`, `http1connection`,
 * `httpserver`, `web`, `template`, ...) imports nothing from `node:` and runs unchanged on Node
 * (`platform/node.ts`: `node:net`, `node:crypto`, `node:fs`) and in a browser worker
 * (`platform/memory.ts`: an in-memory network of socket pairs and a virtual file system).
 *
 * Bytes are `Uint8Array` everywhere; text is UTF-8 through `TextEncoder`/`TextDecoder`.
 */

/** One end of a bidirectional byte stream (a TCP connection, or half of an in-memory pair). */
export interface PlatformSocket {
  /** Address of the peer, e.g. "127.0.0.1". Used for `request.remoteIp`. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Queue bytes for sending. Returns false when the platform's send buffer is above its
   * high-water mark; `onDrain` then fires once it has emptied (back-pressure, as Node's net).
   */
  write(data: Uint8Array): boolean;
  /**
   * Half-close: no more writes; the peer sees end-of-stream after the queued bytes.
   * `onFlushed` runs once every queued byte has been handed over (a server closing a
   * connection then calls `destroy()`, as Node's `destroySoon`).
   */
  end(onFlushed?: () => void): void;
  /** Close both directions now; queued bytes may be dropped. Idempotent. */
  destroy(): void;
  /** Stop / restart delivering `onData` (used to bound read buffers). */
  pause(): void;
  resume(): void;
  /** Disable Nagle where that means something. */
  setNoDelay?(noDelay: boolean): void;
  /** Handlers; set each at most once, before the first event loop turn. */
  onData: ((chunk: Uint8Array) => void) | null;
  /** The peer ended its side (FIN). */
  onEnd: (() => void) | null;
  /** The socket is fully closed, for any reason (after this no other event fires). */
  onClose: ((error?: Error) => void) | null;
  onDrain: (() => void) | null;
}

/** A listening socket. */
export interface PlatformListener {
  /** The port actually bound (useful when asked for port 0). */
  readonly port: number;
  readonly host: string;
  /** Stop accepting new connections; existing ones stay open. */
  close(): Promise<void>;
}

export interface ListenOptions {
  port: number;
  /** Default: all interfaces on Node ("::" / "0.0.0.0"); ignored by the memory network. */
  host?: string;
  /** Called for every accepted connection. */
  onConnection: (socket: PlatformSocket) => void;
}

/**
 * Synchronous file access: Tornado loads templates and static files synchronously. The
 * framework only reads; `writeFile` is there for the command-line tools built on the runtime
 * (curl's `-c` cookie jar), on platforms that can write.
 */
export interface PlatformFileSystem {
  /** The file's bytes, or null if it does not exist / is not a regular file. */
  readFile(path: string): Uint8Array | null;
  /** Modification time in ms since the epoch, or null if missing. */
  mtime(path: string): number | null;
  isDirectory(path: string): boolean;
  /** Create or replace a file (relative paths from the working directory); throws on failure. */
  writeFile?(path: string, data: Uint8Array): void;
}

/**
 * Raw DEFLATE (RFC 1951, no zlib header or trailer), for websocket permessage-deflate (RFC 7692).
 * A platform may return results synchronously or as promises; callers accept both.
 */
export interface PlatformDeflate {
  /** A compressor that keeps its window between calls (context takeover). */
  createDeflater(options: { windowBits: number; level?: number; memLevel?: number }): RawDeflater;
  /** A decompressor that keeps its window between calls; output beyond `maxOutputLength` is refused. */
  createInflater(options: { windowBits: number; maxOutputLength: number }): RawInflater;
}

export interface RawDeflater {
  /** Compresses `data` and flushes with Z_SYNC_FLUSH: the output ends with 00 00 ff ff. */
  compress(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Frees the compressor. */
  close(): void;
}

export interface RawInflater {
  /** Decompresses `data`; null when the output would exceed `maxOutputLength`. Throws on corrupt input. */
  inflate(data: Uint8Array): Uint8Array | null | Promise<Uint8Array | null>;
  close(): void;
}

export interface Platform {
  /** "node" or "memory": shows up in logs and tests, never in behaviour. */
  readonly name: string;
  listen(options: ListenOptions): Promise<PlatformListener>;
  /** Open a client connection. Rejects with an Error whose message reads like curl's/Node's ("connect ECONNREFUSED 127.0.0.1:8888"). */
  connect(host: string, port: number): Promise<PlatformSocket>;
  /** SHA-1 of the bytes as lowercase hex (Etags). */
  sha1Hex(data: Uint8Array): string;
  /** HMAC(key, data) as lowercase hex, for "sha1" or "sha256" (secure cookies). */
  hmacHex(algorithm: "sha1" | "sha256", key: Uint8Array, data: Uint8Array): string;
  /** Cryptographically strong random bytes. */
  randomBytes(length: number): Uint8Array;
  /** Wall clock, ms since the epoch (Date headers, cookie timestamps). */
  now(): number;
  /** Monotonic clock in ms with sub-ms precision (timeouts, request timing). */
  monotonic(): number;
  fs: PlatformFileSystem;
  /** Where log lines go (Tornado's logging module). `level` is "info" | "warning" | "error". */
  log(level: LogLevel, message: string): void;
  /** Raw DEFLATE streams, if the platform has them (websocket compression is declined otherwise). */
  deflate?: PlatformDeflate;
}

export type LogLevel = "debug" | "info" | "warning" | "error";
