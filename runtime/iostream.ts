/**
 * Buffered, promise-based reads and writes over a platform socket (`tornado.iostream`).
 *
 * The read side keeps one contiguous buffer (`buf[start..end)`), like Tornado's bytearray: a
 * chunk that arrives while the buffer is empty is adopted without copying, later chunks are
 * appended into spare capacity that grows by doubling, so trickled input costs O(n) and the
 * common case (a whole request in one packet) costs no copy at all. Results are `subarray`
 * views; bytes already handed out are never overwritten because a full buffer is replaced,
 * never compacted in place.
 *
 * At most one read is pending at a time (as in Tornado). When no read is pending and enough is
 * buffered the socket is paused, which bounds memory for idle or pipelining clients.
 */
import { latin1 } from "./escape.js";
import { IOLoop, traceEvent, tracer, type TimeoutHandle } from "./ioloop.js";
import type { PlatformSocket, SocketEventHandler } from "./platform/types.js";

/** The stream is closed; `realError` is the socket error that closed it, if any. */
export class StreamClosedError extends Error {
  override name = "StreamClosedError";
  constructor(readonly realError?: Error) {
    super(realError ? `Stream is closed: ${realError.message}` : "Stream is closed");
  }
}

/** A read cannot be satisfied within its `maxBytes` (or the buffer limit). */
export class UnsatisfiableReadError extends Error {
  override name = "UnsatisfiableReadError";
}

/** Too much unsent data is queued (`maxWriteBufferSize`). */
export class StreamBufferFullError extends Error {
  override name = "StreamBufferFullError";
}

export interface IOStreamOptions {
  /** Most bytes buffered for one read (default 100 MiB, as Tornado). */
  maxBufferSize?: number;
  /** Most unsent bytes queued before `write` fails (default unlimited). */
  maxWriteBufferSize?: number;
  /** Report this stream's reads and writes to the loop's trace hook (HTTPServer's streams). */
  traced?: boolean;
}

const EMPTY = new Uint8Array(0);
const DEFAULT_MAX_BUFFER = 104857600;
/** Pause the socket when this much is buffered and nobody is reading. */
const READ_HIGH_WATER = 65536;
/**
 * What `write` returns when the socket took the bytes at once (nearly always): one shared,
 * already-resolved promise, which callers may recognise to skip marking it handled.
 */
export const WRITTEN: Promise<void> = Promise.resolve();
const noop = () => {};
const encoder = new TextEncoder();

const enum ReadKind {
  None,
  Delimiter,
  HeaderEnd,
  Regex,
  Bytes,
  UntilClose,
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** Marks a promise as handled so an unobserved rejection cannot crash the process; callers who await still see it. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(noop);
  return promise;
}

/** Receives the bytes of `readBytesWithCallback`, or the error that ended the read. */
export interface StreamReader {
  onStreamRead(data: Uint8Array): void;
  onStreamReadError(err: Error): void;
}

export class IOStream implements SocketEventHandler {
  readonly socket: PlatformSocket;
  /** Why the stream closed, if it closed because of an error. */
  error: Error | null = null;
  readonly maxBufferSize: number;
  readonly maxWriteBufferSize: number;
  private readonly traced: boolean;

  // Read buffer: live bytes are buf[start..end).
  private buf: Uint8Array = EMPTY;
  private start = 0;
  private end = 0;
  /** True when `buf` was allocated here (and may be appended into); false when adopted from the socket. */
  private owned = false;

  // The pending read.
  private readKind = ReadKind.None;
  private readDelimiter: Uint8Array = EMPTY;
  private readRegex: RegExp | null = null;
  private readBytesWanted = 0;
  private readPartial = false;
  private readMaxBytes = 0;
  /** How far (relative to `start`) a delimiter search already looked, so trickled input is not rescanned. */
  private scanned = 0;
  private readResolve: ((data: Uint8Array) => void) | null = null;
  private readReject: ((err: Error) => void) | null = null;
  /**
   * The pending read's promise. It is marked handled only when it is about to reject (see
   * `rejectPending`): a `.catch` attached up front would cost a promise and a microtask on
   * every read that succeeds, i.e. on every request.
   */
  private readPromise: Promise<Uint8Array> | null = null;
  /** A callback-style read's error callback (instead of `readReject`); it runs from a microtask, as a rejection would. */
  private readErrorCallback: ((err: Error) => void) | null = null;
  /** A callback-style read's receiver when it is an object (`readBytesWithCallback`). */
  private readReader: StreamReader | null = null;

  private paused = false;
  private eof = false;
  private _closed = false;
  private closeCallback: (() => void) | null = null;

  // Write side: the platform buffers; we track back-pressure only.
  /** Writers waiting for the socket to drain; null (not an empty array) while there are none, as is usual. */
  private writeWaiters: { resolve: () => void; reject: (err: Error) => void }[] | null = null;
  private pendingWriteBytes = 0;
  private needDrain = false;
  private lingerTimer: TimeoutHandle | null = null;

  constructor(socket: PlatformSocket, options: IOStreamOptions = {}) {
    this.socket = socket;
    this.maxBufferSize = options.maxBufferSize ?? DEFAULT_MAX_BUFFER;
    this.maxWriteBufferSize = options.maxWriteBufferSize ?? Infinity;
    this.traced = options.traced ?? false;
    // One handler object, not four closures per connection (see SocketEventHandler).
    socket.eventHandler = this;
  }

  /** Bytes read from the socket but not yet consumed by a read. */
  get readBufferSize(): number {
    return this.end - this.start;
  }

  closed(): boolean {
    return this._closed;
  }

  /** True while a read is pending. */
  reading(): boolean {
    return this.readKind !== ReadKind.None;
  }

  /** True while written bytes wait for the socket to drain. */
  writing(): boolean {
    return this.needDrain;
  }

  /** Runs `cb` once the stream closes (replacing any earlier callback; null removes it). */
  setCloseCallback(cb: (() => void) | null): void {
    this.closeCallback = cb;
    // Tornado notices a peer's FIN while the application works; that is when the callback matters.
    if (cb && this.eof && !this._closed && this.readKind === ReadKind.None && this.end === this.start) this.close();
  }

  setNodelay(value: boolean): void {
    this.socket.setNoDelay?.(value);
  }

  // ---- reads ------------------------------------------------------------------------------

  /** Reads up to and including `delimiter`; rejects `UnsatisfiableReadError` (and closes) past `maxBytes`. */
  readUntil(delimiter: Uint8Array | string, maxBytes?: number): Promise<Uint8Array> {
    const delim = toBytes(delimiter);
    if (delim.length === 0) throw new TypeError("empty delimiter");
    this.readDelimiter = delim;
    return this.startRead(ReadKind.Delimiter, maxBytes);
  }

  /**
   * Reads up to the end of an HTTP head: the first `\r?\n\r?\n` (what Tornado reads with
   * `read_until_regex`), found with byte scans instead of a regex over a decoded string.
   */
  readUntilHeaderEnd(maxBytes?: number): Promise<Uint8Array> {
    return this.startRead(ReadKind.HeaderEnd, maxBytes);
  }

  /**
   * `readUntilHeaderEnd` in the callback style Tornado's IOStream had before futures: returns the
   * head at once if it is buffered; otherwise returns null, and later calls `onHead` (at once,
   * from the data event) or `onError` (from a microtask, as a rejection would be seen). A read
   * that fails at once throws. The server's keep-alive loop uses it: no promise and no
   * microtask between a request's bytes arriving and its answer.
   */
  readUntilHeaderEndWithCallback(maxBytes: number | undefined, onHead: (data: Uint8Array) => void, onError: (err: Error) => void): Uint8Array | null {
    if (this.readKind !== ReadKind.None) throw new Error("Already reading");
    return this.callbackRead(this.beginRead(ReadKind.HeaderEnd, maxBytes), onHead, onError);
  }

  /**
   * `readBytes` in the same callback style (see `readUntilHeaderEndWithCallback`), delivering to
   * an object rather than to two closures: the bytes at once if buffered, else null and
   * `reader.onStreamRead` later (or `onStreamReadError` from a microtask). The websocket frame
   * loop reads with it, so waiting for the next frame costs no promise, and an idle connection
   * no closures.
   */
  readBytesWithCallback(n: number, reader: StreamReader): Uint8Array | null {
    if (this.readKind !== ReadKind.None) throw new Error("Already reading");
    this.readBytesWanted = n;
    this.readPartial = false;
    const ready = this.beginRead(ReadKind.Bytes, undefined);
    if (ready === null) {
      this.readReader = reader;
      this.resumeIfPaused();
    }
    return ready;
  }

  /** A begun read that is not `ready` waits with these callbacks instead of a promise. */
  private callbackRead(ready: Uint8Array | null, onData: (data: Uint8Array) => void, onError: (err: Error) => void): Uint8Array | null {
    if (ready === null) {
      this.readResolve = onData;
      this.readErrorCallback = onError;
      this.resumeIfPaused();
    }
    return ready;
  }

  /** Reads up to the end of the first match of `regex` (tested against the buffer as latin-1 text). */
  readUntilRegex(regex: RegExp, maxBytes?: number): Promise<Uint8Array> {
    this.readRegex = new RegExp(regex.source, regex.flags.replace(/[gy]/g, ""));
    return this.startRead(ReadKind.Regex, maxBytes);
  }

  /** Reads exactly `n` bytes, or (with `partial`) whatever is available as soon as anything is, up to `n`. */
  readBytes(n: number, partial = false): Promise<Uint8Array> {
    if (!Number.isInteger(n) || n < 0) throw new TypeError(`invalid byte count ${n}`);
    this.readBytesWanted = n;
    this.readPartial = partial;
    return this.startRead(ReadKind.Bytes, undefined);
  }

  /**
   * Takes exactly `n` bytes if the buffer already holds them and no read is pending; otherwise
   * returns null (and `readBytes` waits for them). The websocket frame loop reads frames that
   * are already buffered without a promise per header field.
   */
  readBufferedBytes(n: number): Uint8Array | null {
    if (this.readKind !== ReadKind.None || this.end - this.start < n) return null;
    return this.consume(n);
  }

  /** Reads everything until the peer closes. */
  readUntilClose(): Promise<Uint8Array> {
    return this.startRead(ReadKind.UntilClose, undefined);
  }

  private startRead(kind: ReadKind, maxBytes: number | undefined): Promise<Uint8Array> {
    if (this.readKind !== ReadKind.None) throw new Error("Already reading");
    let ready: Uint8Array | null;
    try {
      ready = this.beginRead(kind, maxBytes);
    } catch (err) {
      return quiet(Promise.reject(err as Error));
    }
    // Satisfied by what is buffered: no resolver closure.
    if (ready !== null) return Promise.resolve(ready);
    const promise = new Promise<Uint8Array>((resolve, reject) => {
      this.readResolve = resolve;
      this.readReject = reject;
    });
    this.readPromise = promise;
    this.resumeIfPaused();
    return promise;
  }

  /**
   * Starts a read: returns the bytes if the buffer satisfies it (the read is then over), throws
   * if it fails at once, or returns null with the read pending (the caller sets the resolvers).
   */
  private beginRead(kind: ReadKind, maxBytes: number | undefined): Uint8Array | null {
    this.readKind = kind;
    this.readMaxBytes = maxBytes ?? Infinity;
    this.scanned = 0;
    const ready = this.tryRead();
    if (ready !== null) {
      this.readKind = ReadKind.None;
      return ready;
    }
    if (this.readKind === ReadKind.None) {
      // tryRead failed the read (limit exceeded): it left the error for us.
      const err = this.failedRead!;
      this.failedRead = null;
      throw err;
    }
    if (this._closed || this.eof) {
      const err = this.readError();
      this.readKind = ReadKind.None;
      if (!this._closed) this.close();
      throw err;
    }
    return null;
  }

  private resumeIfPaused(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private failedRead: Error | null = null;

  private readError(): Error {
    return new StreamClosedError(this.error ?? undefined);
  }

  /**
   * Tries to satisfy the pending read from the buffer. Returns the bytes (consumed), or null if
   * more data is needed; on a limit violation it clears the read, stores the error in
   * `failedRead`, and closes the stream.
   */
  private tryRead(): Uint8Array | null {
    const available = this.end - this.start;
    let take = -1;
    switch (this.readKind) {
      case ReadKind.Bytes:
        if (available >= this.readBytesWanted) take = this.readBytesWanted;
        else if (this.readPartial && available > 0) take = available;
        else if (this.readBytesWanted > this.maxBufferSize) return this.fail(new UnsatisfiableReadError(`read of ${this.readBytesWanted} bytes exceeds the buffer limit`), true);
        break;
      case ReadKind.Delimiter:
        take = this.findDelimiter();
        break;
      case ReadKind.HeaderEnd:
        take = this.findHeaderEnd();
        break;
      case ReadKind.Regex:
        take = this.findRegex();
        break;
      case ReadKind.UntilClose:
        if (this._closed || this.eof) take = available;
        break;
      default:
        return null;
    }
    if (take >= 0) {
      if (take > this.readMaxBytes && this.readKind !== ReadKind.Bytes && this.readKind !== ReadKind.UntilClose) {
        return this.fail(new UnsatisfiableReadError(`delimiter not found within ${this.readMaxBytes} bytes`));
      }
      return this.consume(take);
    }
    if (this.readKind !== ReadKind.Bytes && this.readKind !== ReadKind.UntilClose && available > this.readMaxBytes) {
      return this.fail(new UnsatisfiableReadError(`delimiter not found within ${this.readMaxBytes} bytes`));
    }
    if (available > this.maxBufferSize) {
      return this.fail(new UnsatisfiableReadError(`reached maximum read buffer size ${this.maxBufferSize}`), true);
    }
    return null;
  }

  /**
   * Fails the pending read. Unlike Tornado, a `maxBytes` violation leaves the stream open so the
   * caller can answer first (the HTTP server sends 431 before closing); exceeding the buffer
   * limit closes it.
   */
  private fail(err: Error, close = false): null {
    this.readKind = ReadKind.None;
    this.failedRead = err;
    if (close) this.close(err);
    return null;
  }

  private consume(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    // A chunk that is exactly one read (a request per packet, the usual case) needs no view.
    const out = this.start === 0 && n === this.buf.length ? this.buf : this.buf.subarray(this.start, this.start + n);
    this.start += n;
    if (this.start === this.end) {
      // Drop the reference: the next chunk is adopted, and handed-out views stay intact.
      this.buf = EMPTY;
      this.start = this.end = 0;
      this.owned = false;
    }
    return out;
  }

  /** Length through the delimiter, or -1. */
  private findDelimiter(): number {
    const buf = this.buf;
    const delim = this.readDelimiter;
    const first = delim[0]!;
    const dl = delim.length;
    const limit = this.end - dl;
    let i = this.start + Math.max(0, this.scanned - dl + 1);
    while (i <= limit) {
      const at = buf.indexOf(first, i);
      if (at < 0 || at > limit) break;
      let j = 1;
      while (j < dl && buf[at + j] === delim[j]) j++;
      if (j === dl) return at + dl - this.start;
      i = at + 1;
    }
    this.scanned = this.end - this.start;
    return -1;
  }

  /** Length through the first `\n\n` or `\n\r\n`, or -1. */
  private findHeaderEnd(): number {
    const buf = this.buf;
    const end = this.end;
    let i = this.start + Math.max(0, this.scanned - 2);
    for (;;) {
      const at = buf.indexOf(10, i);
      if (at < 0 || at + 1 >= end) break; // none, or a final "\n" that needs more bytes to decide
      const next = buf[at + 1];
      if (next === 10) return at + 2 - this.start;
      if (next === 13) {
        if (at + 2 >= end) break;
        if (buf[at + 2] === 10) return at + 3 - this.start;
      }
      i = at + 1;
    }
    this.scanned = end - this.start;
    return -1;
  }

  private findRegex(): number {
    const m = this.readRegex!.exec(latin1(this.buf.subarray(this.start, this.end)));
    return m ? m.index + m[0].length : -1;
  }

  /** @internal A socket event. */
  handleData(chunk: Uint8Array): void {
    if (this._closed || chunk.length === 0) return;
    if (tracer.hook !== null && this.traced) traceEvent("readable", `${chunk.length} bytes from port ${this.socket.remotePort}`);
    this.append(chunk);
    if (this.readKind !== ReadKind.None) this.satisfyPending();
    if (!this.paused && this.readKind === ReadKind.None && !this._closed && this.end - this.start >= READ_HIGH_WATER) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private append(chunk: Uint8Array): void {
    const live = this.end - this.start;
    if (live === 0) {
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.owned = false;
      return;
    }
    if (this.owned && this.end + chunk.length <= this.buf.length) {
      this.buf.set(chunk, this.end);
      this.end += chunk.length;
      return;
    }
    const needed = live + chunk.length;
    const grown = new Uint8Array(Math.max(needed * 2, 4096));
    grown.set(this.buf.subarray(this.start, this.end), 0);
    grown.set(chunk, live);
    this.buf = grown;
    this.start = 0;
    this.end = needed;
    this.owned = true;
  }

  private satisfyPending(): void {
    const result = this.tryRead();
    if (result !== null) {
      const resolve = this.readResolve;
      const reader = this.readReader;
      this.clearPending();
      if (tracer.hook !== null && this.traced) traceEvent("callback", `read callback (${result.length} bytes)`);
      if (reader !== null) reader.onStreamRead(result);
      else resolve!(result);
      return;
    }
    if (this.readKind === ReadKind.None) {
      // The read failed (limit exceeded; close() already rejected it, or we do now).
      const err = this.failedRead!;
      this.failedRead = null;
      this.rejectPending(err);
    }
  }

  private clearPending(): void {
    this.readKind = ReadKind.None;
    this.readResolve = null;
    this.readReject = null;
    this.readErrorCallback = null;
    this.readReader = null;
    this.readPromise = null;
    this.readRegex = null;
  }

  /** Rejects the pending read; marked handled first, so a caller that never awaits it cannot crash the process. */
  private rejectPending(err: Error): void {
    const reject = this.readReject;
    const onError = this.readErrorCallback;
    const reader = this.readReader;
    this.readPromise?.catch(noop);
    this.clearPending();
    if (reject !== null) reject(err);
    else if (onError !== null) queueMicrotask(() => onError(err));
    else if (reader !== null) queueMicrotask(() => reader.onStreamReadError(err));
  }

  /** @internal A socket event. */
  handleEnd(): void {
    if (this._closed) return;
    this.eof = true;
    if (this.readKind !== ReadKind.None) {
      // A read that the buffer cannot satisfy never will be; readUntilClose completes now.
      // (Only readUntilClose can complete here: others were tried as each byte arrived.)
      const result = this.tryRead();
      if (result !== null) {
        const resolve = this.readResolve!;
        this.clearPending();
        resolve(result);
      }
      this.close();
      return;
    }
    // Waiting on the application (close callback set): the peer going away closes us, as
    // Tornado. Pipelined requests still buffered are served first.
    if (this.closeCallback && this.end === this.start) this.close();
  }

  /** @internal A socket event. */
  handleClose(err?: Error): void {
    if (err && !this.error) this.error = err;
    if (!this._closed) {
      if (this.readKind === ReadKind.UntilClose) {
        const result = this.consume(this.end - this.start);
        const resolve = this.readResolve!;
        this.clearPending();
        resolve(result);
      }
      this.close();
    }
    this.rejectWriters();
  }

  // ---- writes -----------------------------------------------------------------------------

  /**
   * Queues `data` on the socket. The promise resolves once the socket accepted it without
   * exceeding its send buffer (immediately, usually) or after the buffer drained: flow control
   * for `flush()`. It rejects with `StreamClosedError` if the stream closes first.
   */
  write(data: Uint8Array | string): Promise<void> {
    if (this._closed) return quiet(Promise.reject(this.readError()));
    const bytes = toBytes(data);
    if (this.needDrain && this.pendingWriteBytes + bytes.length > this.maxWriteBufferSize) {
      return quiet(Promise.reject(new StreamBufferFullError("Reached maximum write buffer size")));
    }
    const ok = this.socket.write(bytes);
    if (tracer.hook !== null && this.traced) traceEvent("write", `${bytes.length} bytes to port ${this.socket.remotePort}`);
    if (ok && !this.needDrain) return WRITTEN;
    this.needDrain = true;
    this.pendingWriteBytes += bytes.length;
    return quiet(new Promise<void>((resolve, reject) => (this.writeWaiters ??= []).push({ resolve, reject })));
  }

  /** @internal A socket event. */
  handleDrain(): void {
    this.needDrain = false;
    this.pendingWriteBytes = 0;
    const waiters = this.writeWaiters;
    if (waiters === null) return;
    this.writeWaiters = null;
    for (const w of waiters) w.resolve();
  }

  private rejectWriters(): void {
    const waiters = this.writeWaiters;
    if (waiters === null) return;
    this.writeWaiters = null;
    const err = this.readError();
    for (const w of waiters) w.reject(err);
  }

  // ---- closing ----------------------------------------------------------------------------

  /**
   * Closes the stream: pending reads that the buffer cannot satisfy reject with
   * `StreamClosedError` (carrying `error`), `readUntilClose` resolves with the buffer, queued
   * output is still flushed (then the socket is destroyed), and the close callback runs on the
   * next loop iteration.
   */
  close(error?: Error): void {
    if (this._closed) return;
    this._closed = true;
    if (error && !this.error) this.error = error;
    if (this.readKind !== ReadKind.None) {
      const resolve = this.readResolve;
      if (this.readKind === ReadKind.UntilClose && resolve) {
        const result = this.consume(this.end - this.start);
        this.clearPending();
        resolve(result);
      } else {
        this.rejectPending(this.failedRead ?? this.readError());
      }
    }
    // Buffered bytes stay readable after the close, as in Tornado: a response that arrived
    // just before the peer hung up is still delivered.
    const socket = this.socket;
    if (this.needDrain) {
      // A peer that never reads must not pin the socket forever.
      this.lingerTimer = IOLoop.current().callLater(5, () => socket.destroy());
    }
    socket.end(() => {
      IOLoop.current().removeTimeout(this.lingerTimer);
      socket.destroy();
    });
    if (this.paused) {
      // Let Node see the peer's FIN/RST so the socket can finish closing.
      this.paused = false;
      socket.resume();
    }
    const cb = this.closeCallback;
    this.closeCallback = null;
    if (cb) IOLoop.current().addCallback(cb);
    if (!this.needDrain) this.rejectWriters();
  }
}
