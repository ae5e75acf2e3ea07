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

/**
 * A socket's four events as methods of one object (an `IOStream`). A socket given one calls it
 * instead of its callback fields: a connection then holds no closure per event, which counts
 * when thousands of websockets sit idle.
 */
export interface SocketEventHandler {
  handleData(chunk: Uint8Array): void;
  handleEnd(): void;
  handleClose(error?: Error): void;
  handleDrain(): void;
}

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
  /** Receives the events instead of the four callbacks when set (at most once, before the first event loop turn). */
  eventHandler: SocketEventHandler | null;
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
 * An address reserved by `bindSockets` (Tornado's list of bound sockets), listened on later by
 * `HTTPServer.addSockets`, in this process or in the children `forkProcesses` starts.
 */
export interface BoundAddress {
  /** The port actually reserved (a free one when 0 was asked for). */
  readonly port: number;
  /** As asked: "" means every interface. */
  readonly host: string;
}

/** How a child process ended: an exit status, or the signal that killed it. */
export interface ChildExit {
  readonly pid: number;
  /** Exit status, or null when a signal killed it. */
  readonly code: number | null;
  /** The signal's number (9 for SIGKILL), or null. */
  readonly signal: number | null;
}

/**
 * Processes, for `tornado/process` (`forkProcesses`, `taskId`, `bindSockets`). Optional: a
 * platform without processes (the in-memory one) leaves it out and those functions say so.
 *
 * Node has no `fork()`: a child is a fresh copy of the program that runs from the top, told its
 * task id and the parent's bound addresses; when it listens on one of them it shares the
 * parent's listening socket and accepts connections from it itself, as Tornado's children do.
 */
export interface PlatformProcesses {
  readonly pid: number;
  /** CPUs on this machine (`forkProcesses(0)` starts one child per CPU). */
  cpuCount(): number;
  /** In a child started by `startChild`: its task id and the parent's bound addresses; else null. */
  readonly child: { readonly taskId: number; readonly sockets: readonly BoundAddress[] } | null;
  /** Reserves `port` (0 = a free one) at `host`; fails as listen would (EADDRINUSE). */
  bind(port: number, host: string): Promise<BoundAddress>;
  /** Starts child `taskId`; `onExit` runs once when it ends. */
  startChild(taskId: number, sockets: readonly BoundAddress[], onExit: (exit: ChildExit) => void): Promise<{ pid: number }>;
  /** Ends this process with `code` (the parent, once every child exited normally). */
  exit(code: number): void;
}

/**
 * One gzip member written piece by piece (Python's `GzipFile`, as Tornado's
 * `GZipContentEncoding` uses it): each `write` returns the bytes ready so far, flushed so the
 * peer can decode everything written up to here; `finishing` ends the member.
 */
export interface PlatformGzip {
  write(chunk: Uint8Array, finishing: boolean): Uint8Array;
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
  /** SHA-1 of the bytes (of a string: its UTF-8 bytes) as lowercase hex (Etags). */
  sha1Hex(data: Uint8Array | string): string;
  /** Optional: `bytes` as ISO-8859-1 text (one char per byte), faster than `escape.latin1`'s portable decoder. */
  latin1?(bytes: Uint8Array): string;
  /**
   * Optional: the length of `text` in UTF-8 (a lone surrogate counts as the 3 bytes of U+FFFD,
   * as TextEncoder writes it); `escape.utf8Length` counts in JavaScript without it.
   */
  utf8Length?(text: string): number;
  /**
   * Optional: writes `text` as UTF-8 (TextEncoder's bytes) into `target` at `offset`, which has
   * room for all of it; returns the bytes written. `escape.utf8Into` uses TextEncoder without it.
   */
  utf8Into?(text: string, target: Uint8Array, offset: number): number;
  /**
   * Optional: `size` zero-filled bytes for output to this platform's sockets, in the form its
   * sockets take as they are (on Node a Buffer: a Uint8Array would get a second view per write).
   * Never handed out twice, so a caller may keep them (the head-line cache does).
   */
  outputBytes?(size: number): Uint8Array;
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
  /**
   * Optional: the line `prefix + head + tail` (`tail` ASCII), where `prefix` and `head` are
   * mostly the same string objects as in the last line (the access log): a platform can keep
   * their bytes and copy them, instead of building and encoding the whole line each time.
   */
  logPieces?(level: LogLevel, prefix: string, head: string, tail: string): void;
  /**
   * A gzip compressor at `level` (1-9) for `compressResponse`; absent where the platform has no
   * synchronous deflate (the in-memory one).
   */
  createGzip?(level: number): PlatformGzip;
  /** Child processes sharing listening sockets; absent where there are no processes. */
  processes?: PlatformProcesses;
  /** Raw DEFLATE streams, if the platform has them (websocket compression is declined otherwise). */
  deflate?: PlatformDeflate;
}

export type LogLevel = "debug" | "info" | "warning" | "error";
