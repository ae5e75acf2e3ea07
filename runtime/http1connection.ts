/**
 * HTTP/1.x on an IOStream, for servers and clients (`tornado.http1connection`).
 *
 * `HTTP1Connection` carries one message exchange: the server reads a request and writes a
 * response, the client writes a request and reads a response. `HTTP1ServerConnection` loops
 * over requests on one stream (keep-alive, pipelining). The structure follows Tornado 6 so
 * its behaviour carries over: status line always `HTTP/1.1`, chunked output when an HTTP/1.1
 * response has no Content-Length, `Connection: close` / `Keep-Alive` bookkeeping,
 * `100 (Continue)`, and malformed input answered with a bare status line and a close.
 *
 * Where the issue asks for more precise codes than Tornado 6.2 sends, we send them (see
 * `readMessage`): 431 for an oversized head (6.2 just closes), 413 for an oversized body (6.2
 * answers 400), 400 for a bad chunk size (6.2 logs an uncaught ValueError and closes).
 */
import { latin1, utf8Into, utf8Length } from "./escape.js";
import { appLog, genLog } from "./log.js";
import { platform } from "./platform/index.js";
import { IOLoop, type TimeoutHandle } from "./ioloop.js";
import { StreamClosedError, UnsatisfiableReadError, WRITTEN, type IOStream } from "./iostream.js";
import {
  HTTPHeaders,
  HTTPInputError,
  HTTPOutputError,
  normalizeHeaderName,
  parseRequestStartLine,
  parseResponseStartLine,
  responses,
  type HTTPConnection,
  type HTTPMessageDelegate,
  type HTTPServerConnectionDelegate,
  type RequestStartLine,
  type ResponseStartLine,
} from "./httputil.js";

export interface HTTP1ConnectionParameters {
  /** Close the connection after each request. */
  noKeepAlive?: boolean;
  /** Most bytes handed to `dataReceived` at once (default 65536). */
  chunkSize?: number;
  /** Most bytes in a request/response head (default 65536). */
  maxHeaderSize?: number;
  /** Seconds to wait for a complete head before closing (server: the idle timeout). */
  headerTimeout?: number;
  /** Most bytes of body (default 100 MiB). */
  maxBodySize?: number;
  /** Seconds to wait for a complete body. */
  bodyTimeout?: number;
  /** Decode `Content-Encoding: gzip` bodies. */
  decompress?: boolean;
  /**
   * Client: frame a POST/PUT/PATCH that has no Content-Length as chunked (default true, as
   * Tornado). false sends such a request with no body framing at all, as curl -X POST does.
   */
  chunkRequests?: boolean;
}

/** Header pairs in wire order with their original casing (client requests), or `HTTPHeaders`. */
export type HeaderInput = HTTPHeaders | ReadonlyArray<readonly [string, string]>;

const DEFAULT_CHUNK_SIZE = 65536;
const DEFAULT_MAX_HEADER_SIZE = 65536;
const DEFAULT_MAX_BODY_SIZE = 104857600;
const CRLF = new Uint8Array([13, 10]);
const LAST_CHUNK = new Uint8Array([48, 13, 10, 13, 10]); // "0\r\n\r\n"
const CONTINUE_100 = new Uint8Array([...'HTTP/1.1 100 (Continue)\r\n\r\n'].map((c) => c.charCodeAt(0)));
const noop = () => {};
const DIGITS = /^[0-9]+$/;
const HEX_DIGITS = /^[0-9a-fA-F]+$/;

/** An exception from the application's delegate: already logged, the connection just closes. */
class QuietError extends Error {
  override name = "QuietError";
}

/** A body that claims gzip but is not: the client's fault, answered with 400 (not an application error). */
class InvalidGzipError extends HTTPInputError {}

/** Logs an exception thrown by the application's delegate and turns it into a QuietError. */
function quietly(err: unknown): Error {
  if (err instanceof InvalidGzipError) return err;
  logUncaught(err);
  return new QuietError(String(err));
}

function logUncaught(err: unknown): void {
  const detail = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  appLog.error("http1connection", `Uncaught exception\n${detail}`);
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value !== undefined && value !== null && typeof (value as Promise<unknown>).then === "function";
}

/** Awaits a delegate's promise, logging its rejection like a synchronous throw. */
async function awaitDelegate(value: Promise<unknown>): Promise<void> {
  try {
    await value;
  } catch (err) {
    throw quietly(err);
  }
}

const asciiEncoder = new TextEncoder();

/**
 * Output buffers for heads come from 64 KiB slabs, as Node's Buffer pool does: a fresh
 * Uint8Array past 64 bytes is allocated off the heap and costs several times a view. Slabs are
 * never reused, so a slice stays valid for as long as the socket holds it. A view is made with
 * the constructor, not `subarray` (which looks up the species constructor: measured 1.5-2x).
 * A platform that has bytes of its sockets' own kind (`outputBytes`, Node's Buffers) cuts them.
 */
let slab = new ArrayBuffer(0);
let slabOffset = 0;
function allocate(size: number): Uint8Array {
  const native = platform().outputBytes;
  if (native !== undefined) return native(size);
  if (size > 8192) return new Uint8Array(size);
  if (slabOffset + size > slab.byteLength) {
    slab = new ArrayBuffer(65536);
    slabOffset = 0;
  }
  const out = new Uint8Array(slab, slabOffset, size);
  // Keep slices 8-byte aligned, like Node's pool.
  slabOffset = (slabOffset + size + 7) & ~7;
  return out;
}

/** tchar (RFC 7230): the characters of methods and header names. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

function isToken(text: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * `GET /path HTTP/1.1` without split or regexes. Anything unusual (other versions, errors) goes
 * to httputil's parseRequestStartLine, which has the exact rules and messages.
 */
function parseRequestLine(line: string): RequestStartLine {
  // Keep-alive clients mostly repeat their request line; a start line is read-only.
  if (line === lastRequestLine && lastRequestStart !== null) return lastRequestStart;
  const sp1 = line.indexOf(" ");
  const sp2 = sp1 < 0 ? -1 : line.indexOf(" ", sp1 + 1);
  if (sp1 > 0 && sp2 > sp1 + 1 && line.length === sp2 + 9 && line.startsWith("HTTP/1.", sp2 + 1)) {
    const minor = line.charCodeAt(sp2 + 8);
    if ((minor === 49 || minor === 48) && isToken(line, 0, sp1)) {
      let ok = true;
      for (let i = sp1 + 1; i < sp2; i++) {
        const c = line.charCodeAt(i);
        if (c <= 0x20 || c === 0x7f) {
          ok = false;
          break;
        }
      }
      if (ok) {
        const version = minor === 49 ? "HTTP/1.1" : "HTTP/1.0";
        const start: RequestStartLine = { kind: "request", method: knownMethod(line, sp1), path: line.slice(sp1 + 1, sp2), version };
        lastRequestLine = line;
        lastRequestStart = start;
        return start;
      }
    }
  }
  return parseRequestStartLine(line);
}

/** The last request line parsed on the fast path, and what it parsed to. */
let lastRequestLine = "";
let lastRequestStart: RequestStartLine | null = null;

/**
 * The method as one of the standard literals when it is one: a literal is interned, so the
 * comparisons and property lookups that follow (`method === "GET"`, the handler's `get`) cost a
 * pointer compare instead of a string compare or a string-table lookup.
 */
function knownMethod(line: string, end: number): string {
  for (const method of STANDARD_METHODS) if (end === method.length && line.startsWith(method)) return method;
  return line.slice(0, end);
}
const STANDARD_METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"] as const;

/**
 * Header names as clients usually spell them, which are already Tornado's normal form, by
 * length. A line whose name is one of them (case and all) takes the literal: no slice, and no
 * hash of a fresh string for `normalizeHeaderName`'s Map, about 500 instructions a header under
 * callgrind (ARCHITECTURE.md, "Fifth round"). Any other spelling is normalised as before.
 */
const KNOWN_HEADER_NAMES: (string[] | undefined)[] = [];
for (const name of [
  "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Connection", "Content-Length",
  "Content-Type", "Cookie", "Referer", "Origin", "Cache-Control", "Pragma", "Upgrade", "Authorization",
  "If-None-Match", "If-Modified-Since", "Transfer-Encoding", "Expect", "X-Requested-With", "X-Forwarded-For",
]) {
  // Only names that are their own normal form (not "WWW-Authenticate", say): the literal is the key.
  if (normalizeHeaderName(name) === name) (KNOWN_HEADER_NAMES[name.length] ??= []).push(name);
}

function knownHeaderName(text: string, start: number, colon: number): string | null {
  const candidates = KNOWN_HEADER_NAMES[colon - start];
  if (candidates !== undefined) for (const name of candidates) if (text.startsWith(name, start)) return name;
  return null;
}

/**
 * Parses header lines from `text` starting at `start` (what `HTTPHeaders.parse` does), with a
 * fast path for ordinary `Name: value` lines; folded lines and anything invalid go through
 * `HTTPHeaders.parseLine`, which has the exact rules and error messages.
 */
function parseHeaderBlock(text: string, start: number): HTTPHeaders {
  const headers = new HTTPHeaders();
  const n = text.length;
  let pos = start;
  while (pos < n) {
    let eol = text.indexOf("\n", pos);
    if (eol < 0) eol = n;
    let end = eol;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    if (end > pos) {
      const colon = text.indexOf(":", pos);
      let fast = false;
      // A known name (the literal, spelt out in the text) is a token: no need to check it.
      const known = colon > pos && colon < end ? knownHeaderName(text, pos, colon) : null;
      if (known !== null || (colon > pos && colon < end && isToken(text, pos, colon))) {
        let vs = colon + 1;
        let ve = end;
        while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
        while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
        fast = true;
        for (let i = vs; i < ve; i++) {
          const c = text.charCodeAt(i);
          if ((c < 32 && c !== 9) || c === 127) {
            fast = false;
            break;
          }
        }
        if (fast) {
          if (known !== null) headers.addNormalized(known, text.slice(vs, ve));
          else headers.add(text.slice(pos, colon), text.slice(vs, ve));
        }
      }
      if (!fast) headers.parseLine(text.slice(pos, end));
    }
    pos = eol + 1;
  }
  return headers;
}

/** Writes `text` as latin-1 into `target` at `offset`; characters above U+00FF are an error, as in Python. */
function encodeLatin1Into(text: string, target: Uint8Array, offset: number): void {
  // ASCII (nearly every head) is the same in UTF-8: let the native encoder do it. Anything
  // else comes out longer in UTF-8, which we notice, and redo byte by byte below.
  const view = offset === 0 ? target : target.subarray(offset);
  const done = asciiEncoder.encodeInto(text, view);
  if (done.read === text.length && done.written === text.length) return;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 255) throw new RangeError(`header text cannot be encoded as latin-1: ${JSON.stringify(text)}`);
    target[offset + i] = c;
  }
}

/** The bytes of `text` + CRLF as latin-1; a CR or LF inside is header injection, refused as Tornado does. */
function latin1Line(text: string): Uint8Array {
  if (text.indexOf("\n") >= 0 || text.indexOf("\r") >= 0) throw new Error(`Newline in header: ${JSON.stringify(text)}`);
  // From the slab: a slice is never reused, so it may be cached.
  const bytes = allocate(text.length + 2);
  encodeLatin1Into(text, bytes, 0);
  bytes[text.length] = 13;
  bytes[text.length + 1] = 10;
  return bytes;
}

/**
 * Encoded head lines, remembered per header name (the last value only, for at most 256 names).
 * Consecutive responses mostly repeat each header's value (Server, Content-Type, this second's
 * Date...), and a hit copies bytes that were checked and encoded once. Building the head as one
 * string instead makes a rope of four pieces per header that costs more to flatten than the
 * rest of the response.
 */
const lineCache = new Map<string, { value: string; bytes: Uint8Array }>();
const statusCache = new Map<number, { value: string; bytes: Uint8Array }>();
/** Scratch for the head being built (one at a time): its encoded lines and their total length. */
const headLines: Uint8Array[] = [];
let headLineCount = 0;
let headLength = 0;
function addHeadLine(name: string, value: string): void {
  const line = headerLine(name, value);
  headLines[headLineCount++] = line;
  headLength += line.length;
}

function headerLine(name: string, value: string): Uint8Array {
  const hit = lineCache.get(name);
  if (hit !== undefined && hit.value === value) return hit.bytes;
  const bytes = latin1Line(name + ": " + value);
  if (hit !== undefined) {
    hit.value = value;
    hit.bytes = bytes;
  } else {
    if (lineCache.size >= 256) lineCache.clear();
    lineCache.set(name, { value, bytes });
  }
  return bytes;
}

/** `HTTP/1.1 <code> <reason>` CRLF (the status line is always HTTP/1.1, as Tornado's). */
function statusLine(start: ResponseStartLine): Uint8Array {
  const hit = statusCache.get(start.code);
  if (hit !== undefined && hit.value === start.reason) return hit.bytes;
  const bytes = latin1Line(`HTTP/1.1 ${start.code} ${start.reason}`);
  if (statusCache.size >= 256) statusCache.clear();
  statusCache.set(start.code, { value: start.reason, bytes });
  return bytes;
}

/** The head as lines joined (the scratch of `addHeadLine`), blank line included, from the slab. */
function joinHeadLines(): Uint8Array {
  const data = allocate(headLength);
  let at = 0;
  for (let i = 0; i < headLineCount; i++) {
    const line = headLines[i]!;
    data.set(line, at);
    at += line.length;
  }
  data[at++] = 13;
  data[at] = 10;
  return data;
}

function clientHead(requestLine: string, headers: HeaderInput): Uint8Array {
  const firstLine = latin1Line(requestLine);
  headLines[0] = firstLine;
  headLineCount = 1;
  headLength = firstLine.length + 2; // and the blank line
  if (headers instanceof HTTPHeaders) headers.forEachValue(addHeadLine);
  else for (const [name, value] of headers) addHeadLine(name, value);
  return joinHeadLines();
}

/**
 * The last response head a server wrote, kept with its status and headers: a server mostly
 * repeats its last head (the same handler, this second's Date, the same Etag for the same
 * body), and then the whole head is one copy instead of a line cache lookup and a copy per
 * header. Any difference, even in one value, builds the head line by line as before.
 */
let lastHead: { code: number; reason: string; names: string[]; values: string[]; bytes: Uint8Array } | null = null;

function serverHead(start: ResponseStartLine, headers: HTTPHeaders): Uint8Array {
  const last = lastHead;
  if (last !== null && last.code === start.code && last.reason === start.reason && headers.sameAs(last.names, last.values)) return last.bytes;
  const firstLine = statusLine(start);
  headLines[0] = firstLine;
  headLineCount = 1;
  headLength = firstLine.length + 2; // and the blank line
  headers.forEachValue(addHeadLine);
  // Slab slices are never reused, so the bytes stay valid for as long as they are cached.
  const bytes = joinHeadLines();
  const snapshot = headers.snapshot();
  lastHead = snapshot === null ? null : { code: start.code, reason: start.reason, names: snapshot[0], values: snapshot[1], bytes };
  return bytes;
}

/** `name` in normalised form. */
function headerLookup(headers: HeaderInput, name: string): string | undefined {
  if (headers instanceof HTTPHeaders) return headers.getNormalized(name);
  const lower = name.toLowerCase();
  let found: string | undefined;
  for (const [k, v] of headers) if (k.toLowerCase() === lower) found = found === undefined ? v : `${found},${v}`;
  return found;
}

type ResolvedParams = HTTP1Connection["params"];
/** Parameters → the same with defaults filled in; a resolved object maps to itself. */
const resolvedFor = new WeakMap<HTTP1ConnectionParameters, ResolvedParams>();

/** The parameters with their defaults filled in; a server connection does this once, not per request. */
function resolveParams(params: HTTP1ConnectionParameters): ResolvedParams {
  // A server passes the same parameters for every connection (and request): resolve them once.
  const known = resolvedFor.get(params);
  if (known !== undefined) return known;
  const out: ResolvedParams = {
    noKeepAlive: params.noKeepAlive ?? false,
    chunkSize: params.chunkSize ?? DEFAULT_CHUNK_SIZE,
    maxHeaderSize: params.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE,
    headerTimeout: params.headerTimeout,
    maxBodySize: params.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
    bodyTimeout: params.bodyTimeout,
    decompress: params.decompress ?? false,
    chunkRequests: params.chunkRequests ?? true,
  };
  resolvedFor.set(params, out);
  resolvedFor.set(out, out);
  return out;
}

/**
 * One lazily re-armed timer per connection. Setting a deadline is a field write, not a host
 * timer, so idle/header timeouts cost almost nothing per request; the timer, when it fires
 * early, re-arms for whatever remains.
 */
class Deadline {
  private at = Infinity;
  private handle: TimeoutHandle | null = null;
  private target: HTTP1Connection | null = null;
  private kind: "header" | "body" = "header";

  set(seconds: number, target: HTTP1Connection, kind: "header" | "body"): void {
    const loop = IOLoop.current();
    this.at = loop.time() + seconds;
    this.target = target;
    this.kind = kind;
    if (this.handle && this.handle.deadline > this.at) {
      loop.removeTimeout(this.handle);
      this.handle = null;
    }
    if (!this.handle) this.handle = loop.callAt(this.at, this.fire);
  }

  clear(): void {
    this.at = Infinity;
    this.target = null;
  }

  dispose(): void {
    this.clear();
    IOLoop.current().removeTimeout(this.handle);
    this.handle = null;
  }

  private readonly fire = (): void => {
    this.handle = null;
    if (this.at === Infinity) return;
    const loop = IOLoop.current();
    if (loop.time() < this.at) {
      this.handle = loop.callAt(this.at, this.fire);
      return;
    }
    const target = this.target!;
    const kind = this.kind;
    this.clear();
    target.onTimeout(kind);
  };
}

/**
 * Implements the HTTP/1.x protocol for one message exchange. On the server it is created per
 * request by `HTTP1ServerConnection`; on the client per request by the HTTP client.
 */
export class HTTP1Connection implements HTTPConnection {
  readonly params: Required<Omit<HTTP1ConnectionParameters, "headerTimeout" | "bodyTimeout">> & {
    headerTimeout: number | undefined;
    bodyTimeout: number | undefined;
  };
  /** Opaque, from the server (the request context: remote IP, protocol). */
  readonly context: unknown;
  stream: IOStream | null;
  /** The server connection this request arrived on, if any (for graceful stop). */
  serverConnection: HTTP1ServerConnection | null = null;
  /** Raw head lines of the last message read (start line first), as received. Client side fills it. */
  rawHeadLines: string[] | null = null;
  /** The request head bytes exactly as written (client side), for verbose output. */
  requestHead: Uint8Array | null = null;
  /** Why the last message was rejected as malformed, if it was. */
  inputError: Error | null = null;
  /** True while waiting for a message head (a graceful stop may close such a connection). */
  waitingForHead = false;

  private bodyTimeout: number | undefined;
  private maxBodySize: number;
  private readFinished = false;
  private writeFinished = false;
  private disconnectOnFinish = false;
  private requestStartLine: RequestStartLine | null = null;
  /** The response's start line, once written (server) or read (client). */
  responseStartLine: ResponseStartLine | null = null;
  private requestHeaders: HTTPHeaders | null = null;
  private chunkingOutput = false;
  private headersWritten = false;
  private expectedContentRemaining: number | null = null;
  /** A write whose promise has not resolved (null when the socket took everything). */
  private pendingWrite: Promise<void> | null = null;
  private closeCallback: ((this: unknown) => void) | null = null;
  private closeCallbackThis: unknown = undefined;
  private finishDone = false;
  private finishResolve: (() => void) | null = null;
  private deadline: Deadline | null;
  private ownDeadline = false;
  private timedOut: "header" | "body" | null = null;
  /** The delegate has seen a head but not yet `finish`: if the exchange ends now, it hears `onConnectionClose`. */
  private delegateOpen = false;

  constructor(stream: IOStream, readonly isClient: boolean, params: HTTP1ConnectionParameters = {}, context?: unknown, deadline?: Deadline) {
    this.stream = stream;
    this.params = resolveParams(params);
    this.context = context;
    this.bodyTimeout = this.params.bodyTimeout;
    this.maxBodySize = this.params.maxBodySize;
    this.deadline = deadline ?? null;
  }

  /**
   * Reads one message (a response on the client, a request on the server) into `delegate`.
   * Resolves to true if the stream is still open afterwards.
   */
  readResponse(delegate: HTTPMessageDelegate): Promise<boolean> {
    if (this.params.decompress) delegate = new GzipMessageDelegate(delegate);
    return this.readMessage(delegate);
  }

  /** Per-request override of `bodyTimeout` (seconds). */
  setBodyTimeout(timeout: number): void {
    this.bodyTimeout = timeout;
  }

  /** Per-request override of `maxBodySize` (bytes), e.g. for a streaming upload handler. */
  setMaxBodySize(size: number): void {
    this.maxBodySize = size;
  }

  /** @internal Called by the deadline when a header or body timeout expires. */
  onTimeout(kind: "header" | "body"): void {
    this.timedOut = kind;
    if (kind === "body") genLog.info("http1connection", `Timeout reading body from ${String(this.context ?? "peer")}`);
    this.stream?.close();
  }

  private startDeadline(seconds: number, kind: "header" | "body"): void {
    if (!this.deadline) {
      this.deadline = new Deadline();
      this.ownDeadline = true;
    }
    this.deadline.set(seconds, this, kind);
  }

  private stopDeadline(): void {
    if (!this.deadline) return;
    if (this.ownDeadline) this.deadline.dispose();
    else this.deadline.clear();
  }

  /** Client (and any caller that wants a promise): reads a head, then the message it starts. */
  private async readMessage(delegate: HTTPMessageDelegate): Promise<boolean> {
    let head: Uint8Array;
    try {
      head = await this.readHead();
    } catch (err) {
      return this.headFailed(err);
    }
    return this.onHead(head, delegate);
  }

  private async readHead(): Promise<Uint8Array> {
    const headerTimeout = this.params.headerTimeout;
    const headerFuture = this.stream!.readUntilHeaderEnd(this.params.maxHeaderSize);
    this.waitingForHead = true;
    if (headerTimeout !== undefined) this.startDeadline(headerTimeout, "header");
    try {
      return await headerFuture;
    } finally {
      this.headArrived();
    }
  }

  /** @internal The server waits for this exchange's head (the header timeout runs meanwhile). */
  awaitHead(): void {
    this.waitingForHead = true;
    const headerTimeout = this.params.headerTimeout;
    if (headerTimeout !== undefined) this.startDeadline(headerTimeout, "header");
  }

  /** @internal The head arrived, or reading it failed. */
  headArrived(): void {
    if (!this.waitingForHead) return;
    this.waitingForHead = false;
    if (this.params.headerTimeout !== undefined) this.stopDeadline();
  }

  /** @internal Reading the head failed: a timeout or a closed stream ends quietly, malformed input gets its 4xx. */
  headFailed(err: unknown): boolean {
    try {
      return this.messageFailed(err);
    } finally {
      this.clearCallbacks();
    }
  }

  /**
   * @internal Processes the message that `head` starts: its body, the delegate's answer, and the
   * wait for the application to finish. Runs synchronously as far as the delegate and the body
   * allow (a whole GET answered at once never touches a promise) and returns a promise from the
   * first wait on. Resolves to true if the stream is still open afterwards.
   */
  onHead(head: Uint8Array, delegate: HTTPMessageDelegate): boolean | Promise<boolean> {
    let result: boolean | Promise<boolean>;
    try {
      result = this.startMessage(head, delegate);
    } catch (err) {
      return this.failMessage(delegate, err);
    }
    if (isPromise(result)) {
      return result.then(
        (open) => this.endMessage(delegate, open),
        (err: unknown) => this.failMessage(delegate, err),
      );
    }
    return this.endMessage(delegate, result);
  }

  /** The end of a message that went well (`open`: the stream is still open). */
  private endMessage(delegate: HTTPMessageDelegate, open: boolean): boolean {
    this.releaseDelegate(delegate);
    return open;
  }

  /** The end of a message that failed: malformed input is answered (`messageFailed`); anything else is rethrown. */
  private failMessage(delegate: HTTPMessageDelegate, err: unknown): boolean {
    try {
      return this.messageFailed(err);
    } finally {
      this.releaseDelegate(delegate);
    }
  }

  /** A delegate that saw the head but never `finish` hears that the connection closed; the close callbacks are cleared. */
  private releaseDelegate(delegate: HTTPMessageDelegate): void {
    if (this.delegateOpen) {
      this.delegateOpen = false;
      try {
        delegate.onConnectionClose();
      } catch (closeError) {
        logUncaught(closeError);
      }
    }
    this.clearCallbacks();
  }

  /** Returns false for an error that ends the exchange quietly or with a 4xx; rethrows anything else. */
  private messageFailed(err: unknown): boolean {
    if (this.timedOut !== null && err instanceof StreamClosedError) return false;
    if (err instanceof HTTPInputError || err instanceof UnsatisfiableReadError) {
      const code = err instanceof HTTPInputError ? err.code : 431;
      this.inputError = err;
      genLog.info("http1connection", `Malformed HTTP message from ${String(this.context ?? "peer")}: ${err.message}`);
      const stream = this.stream;
      if (!this.isClient && stream !== null && !stream.closed()) {
        // close() below flushes it before the socket ends.
        stream.write(`HTTP/1.1 ${code} ${responses[code] ?? "Bad Request"}\r\n\r\n`).catch(noop);
      }
      this.close();
      return false;
    }
    throw err;
  }

  private startMessage(head: Uint8Array, delegate: HTTPMessageDelegate): boolean | Promise<boolean> {
    const headers = this.parseHeaders(head);
    const startLineText = this.startLineText;
    let startLine: RequestStartLine | ResponseStartLine;
    if (this.isClient) {
      const resp = parseResponseStartLine(startLineText);
      this.responseStartLine = resp;
      startLine = resp;
      this.disconnectOnFinish = false;
    } else {
      const req = parseRequestLine(startLineText);
      this.requestStartLine = req;
      this.requestHeaders = headers;
      startLine = req;
      this.disconnectOnFinish = !this.canKeepAlive(req, headers);
    }
    this.delegateOpen = true;
    let headerRecv: unknown;
    try {
      headerRecv = delegate.headersReceived(startLine, headers);
    } catch (err) {
      throw quietly(err);
    }
    if (isPromise(headerRecv)) return awaitDelegate(headerRecv).then(() => this.afterHeaders(startLine, headers, delegate));
    return this.afterHeaders(startLine, headers, delegate);
  }

  private afterHeaders(startLine: RequestStartLine | ResponseStartLine, headers: HTTPHeaders, delegate: HTTPMessageDelegate): boolean | Promise<boolean> {
    const stream = this.stream;
    if (stream === null) {
      // Detached (websocket upgrade).
      this.delegateOpen = false;
      return false;
    }
    let skipBody = false;
    if (this.isClient) {
      const code = (startLine as ResponseStartLine).code;
      if (this.requestStartLine !== null && this.requestStartLine.method === "HEAD") skipBody = true;
      if (code === 304) skipBody = true;
      if (code >= 100 && code < 200) {
        if (headers.has("Content-Length") || headers.has("Transfer-Encoding")) {
          throw new HTTPInputError(`Response code ${code} cannot have body`);
        }
        // An interim response (100 Continue): the real one follows; the delegate sees both heads.
        this.delegateOpen = false;
        return this.readMessage(delegate);
      }
    } else if (headers.getNormalized("Expect") === "100-continue" && !this.writeFinished) {
      void stream.write(CONTINUE_100);
    }
    if (!skipBody) {
      const body = this.readBody(this.isClient ? (startLine as ResponseStartLine).code : 0, headers, delegate);
      if (body !== null) {
        if (this.bodyTimeout === undefined) return body.then(() => this.afterBody(delegate));
        this.startDeadline(this.bodyTimeout, "body");
        return body.then(
          () => {
            this.stopDeadline();
            return this.afterBody(delegate);
          },
          (err: unknown) => {
            this.stopDeadline();
            throw err;
          },
        );
      }
    }
    return this.afterBody(delegate);
  }

  private afterBody(delegate: HTTPMessageDelegate): boolean | Promise<boolean> {
    this.readFinished = true;
    if (!this.writeFinished || this.isClient) {
      this.delegateOpen = false;
      let fin: unknown;
      try {
        fin = delegate.finish();
      } catch (err) {
        throw quietly(err);
      }
      if (isPromise(fin)) return awaitDelegate(fin).then(() => this.afterDelegateFinish());
    }
    return this.afterDelegateFinish();
  }

  private afterDelegateFinish(): boolean | Promise<boolean> {
    // The application answers asynchronously: notice the client going away meanwhile.
    if (!this.finishDone && this.stream !== null && !this.stream.closed()) {
      const finished = new Promise<void>((resolve) => (this.finishResolve = resolve));
      this.stream.setCloseCallback(() => this.onConnectionClose());
      return finished.then(() => this.afterAnswer());
    }
    return this.afterAnswer();
  }

  private afterAnswer(): boolean {
    if (this.isClient && this.disconnectOnFinish) this.close();
    return this.stream !== null;
  }

  private clearCallbacks(): void {
    this.closeCallback = null;
    this.closeCallbackThis = undefined;
    if (this.stream !== null) this.stream.setCloseCallback(null);
  }

  /**
   * Runs `callback` if the connection closes while the application is still producing the
   * response (after the request was read).
   */
  setCloseCallback<T>(callback: ((this: T) => void) | null, thisArg?: T): void {
    this.closeCallback = callback as ((this: unknown) => void) | null;
    this.closeCallbackThis = thisArg;
  }

  private onConnectionClose(): void {
    const callback = this.closeCallback;
    const thisArg = this.closeCallbackThis;
    this.closeCallback = null;
    this.closeCallbackThis = undefined;
    if (callback) {
      try {
        callback.call(thisArg);
      } catch (err) {
        logUncaught(err);
      }
    }
    this.resolveFinish();
    this.clearCallbacks();
  }

  private resolveFinish(): void {
    if (this.finishDone) return;
    this.finishDone = true;
    const resolve = this.finishResolve;
    this.finishResolve = null;
    resolve?.();
  }

  close(): void {
    this.stream?.close();
    this.clearCallbacks();
    this.resolveFinish();
  }

  /** Takes the stream away from HTTP processing (websockets). Only during `headersReceived`. */
  detach(): IOStream {
    this.clearCallbacks();
    const stream = this.stream!;
    this.stream = null;
    // The request (and so this object) lives as long as the websocket: let go of the server's
    // serving loop (its deadline, callbacks) and the head, which nothing reads any more.
    this.serverConnection = null;
    this.requestHeaders = null;
    this.deadline = null;
    this.resolveFinish();
    return stream;
  }

  /** True when the next response on this connection will close it. */
  willClose(): boolean {
    return this.disconnectOnFinish;
  }

  writeHeaders(startLine: ResponseStartLine | RequestStartLine, headers: HeaderInput, chunk?: Uint8Array | string): Promise<void> {
    // A second head would land in the middle of the body.
    if (this.headersWritten) throw new HTTPOutputError("writeHeaders() called twice");
    this.headersWritten = true;
    let first = "";
    /** The response's Content-Length, looked up once on the server (undefined: none, or not known yet). */
    let contentLength: string | undefined;
    if (this.isClient) {
      const req = startLine as RequestStartLine;
      this.requestStartLine = req;
      first = `${req.method} ${req.path} ${req.version === "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1"}`;
      const te = headerLookup(headers, "Transfer-Encoding");
      this.chunkingOutput =
        this.params.chunkRequests &&
        req.version !== "HTTP/1.0" &&
        (req.method === "POST" || req.method === "PUT" || req.method === "PATCH") &&
        headerLookup(headers, "Content-Length") === undefined &&
        (te === undefined || te === "chunked");
      if (this.chunkingOutput && te === undefined) {
        if (headers instanceof HTTPHeaders) headers.set("Transfer-Encoding", "chunked");
        else headers = [...headers, ["Transfer-Encoding", "chunked"]];
      }
    } else {
      const resp = startLine as ResponseStartLine;
      const req = this.requestStartLine!;
      const h = headers as HTTPHeaders;
      this.responseStartLine = resp;
      const code = resp.code;
      const bodyless = req.method === "HEAD" || code === 204 || code === 304 || (code >= 100 && code < 200);
      contentLength = h.getNormalized("Content-Length");
      const hasLength = contentLength !== undefined;
      this.chunkingOutput = req.version === "HTTP/1.1" && !bodyless && !hasLength && !h.hasNormalized("Transfer-Encoding");
      if (this.serverConnection !== null && this.serverConnection.draining) this.disconnectOnFinish = true;
      if (req.version === "HTTP/1.0" && !bodyless && !hasLength) {
        // Tornado 6.2 would keep such a connection open although the body can only end with
        // the connection; the client would wait forever. Close it instead.
        this.disconnectOnFinish = true;
      }
      if (req.version === "HTTP/1.1" && this.disconnectOnFinish) h.set("Connection", "close");
      // Tornado 6 answers every HTTP/1.0 keep-alive request with this header, even one it then
      // closes (a POST without a length, a body that ends with the connection): same bytes here.
      if (req.version === "HTTP/1.0" && (this.requestHeaders!.get("Connection") ?? "").toLowerCase() === "keep-alive") {
        h.set("Connection", "Keep-Alive");
      }
      if (this.chunkingOutput) h.set("Transfer-Encoding", "chunked");
    }
    if (!this.isClient && (this.requestStartLine!.method === "HEAD" || (startLine as ResponseStartLine).code === 304)) {
      this.expectedContentRemaining = 0;
    } else {
      const cl = this.isClient ? headerLookup(headers, "Content-Length") : contentLength;
      this.expectedContentRemaining = cl !== undefined ? Number.parseInt(cl, 10) : null;
    }
    // Serialise the head (and the first chunk) into one buffer: one socket write per response.
    const head = this.isClient ? clientHead(first, headers) : serverHead(startLine as ResponseStartLine, headers as HTTPHeaders);
    const headSize = head.length;
    let size = headSize;
    let prefix = "";
    // A text chunk (a handler's body) is encoded straight into the buffer below.
    const chunkLength = chunk === undefined ? 0 : typeof chunk === "string" ? utf8Length(chunk) : chunk.length;
    if (chunkLength > 0) {
      this.checkContentLength(chunkLength);
      if (this.chunkingOutput) prefix = chunkLength.toString(16) + "\r\n";
      size += prefix.length + chunkLength + (this.chunkingOutput ? 2 : 0);
    }
    const data = allocate(size);
    data.set(head, 0);
    let at = headSize;
    if (chunkLength > 0) {
      if (prefix) {
        encodeLatin1Into(prefix, data, at);
        at += prefix.length;
      }
      if (typeof chunk === "string") utf8Into(chunk, data, at);
      else data.set(chunk!, at);
      if (this.chunkingOutput) {
        data[size - 2] = 13;
        data[size - 1] = 10;
      }
    }
    if (this.isClient) this.requestHead = data.subarray(0, headSize);
    return this.writeRaw(data);
  }

  private writeRaw(data: Uint8Array): Promise<void> {
    const stream = this.stream;
    if (stream === null || stream.closed()) {
      const failed = Promise.reject(new StreamClosedError());
      failed.catch(noop);
      return failed;
    }
    const p = stream.write(data);
    // Only a write still waiting for the socket to drain delays finishing the request.
    this.pendingWrite = stream.writing() ? p : null;
    return p;
  }

  /** Counts `length` more body bytes against the Content-Length; writing past it is an error. */
  private checkContentLength(length: number): void {
    if (this.expectedContentRemaining !== null) {
      this.expectedContentRemaining -= length;
      if (this.expectedContentRemaining < 0) {
        // Close now to stop further framing errors.
        this.stream?.close();
        throw new HTTPOutputError("Tried to write more data than Content-Length");
      }
    }
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.stream === null || this.stream.closed()) return this.writeRaw(chunk);
    if (this.writeFinished) throw new HTTPOutputError("Cannot write() after finish()");
    if (chunk.length === 0) return WRITTEN;
    this.checkContentLength(chunk.length);
    if (!this.chunkingOutput) return this.writeRaw(chunk);
    // Never an empty chunk: that would mean end-of-body.
    const prefix = chunk.length.toString(16) + "\r\n";
    const data = allocate(prefix.length + chunk.length + 2);
    encodeLatin1Into(prefix, data, 0);
    data.set(chunk, prefix.length);
    data[data.length - 2] = 13;
    data[data.length - 1] = 10;
    return this.writeRaw(data);
  }

  finish(): void {
    const stream = this.stream;
    // A second finish would write a second end-of-body into the next response: ignore it.
    if (stream === null || this.writeFinished) return;
    if (this.expectedContentRemaining !== null && this.expectedContentRemaining !== 0 && !stream.closed()) {
      const missing = this.expectedContentRemaining;
      stream.close();
      throw new HTTPOutputError(`Tried to write ${missing} bytes less than Content-Length`);
    }
    if (this.chunkingOutput && !stream.closed()) this.writeRaw(LAST_CHUNK).catch(noop);
    this.writeFinished = true;
    // The application answered before reading the whole body: the only way to skip the rest of
    // the input is to close once the response is out.
    if (!this.readFinished) this.disconnectOnFinish = true;
    if (this.pendingWrite === null) this.finishRequest();
    else {
      const done = () => this.finishRequest();
      this.pendingWrite.then(done, done);
    }
  }

  private finishRequest(): void {
    this.clearCallbacks();
    if (!this.isClient && this.disconnectOnFinish) {
      this.close();
      return;
    }
    this.resolveFinish();
  }

  private canKeepAlive(startLine: RequestStartLine, headers: HTTPHeaders): boolean {
    if (this.params.noKeepAlive) return false;
    if (this.serverConnection !== null && this.serverConnection.draining) return false;
    let connection = headers.getNormalized("Connection");
    if (connection !== undefined) connection = connection.toLowerCase();
    if (startLine.version === "HTTP/1.1") return connection !== "close";
    if (
      headers.has("Content-Length") ||
      (headers.get("Transfer-Encoding") ?? "").toLowerCase() === "chunked" ||
      startLine.method === "HEAD" ||
      startLine.method === "GET"
    ) {
      return connection === "keep-alive";
    }
    return false;
  }

  /** The start line `parseHeaders` found (a field, not a pair returned per message). */
  private startLineText = "";

  private parseHeaders(data: Uint8Array): HTTPHeaders {
    // Skip blank lines some clients send between requests (RFC 7230 section 3.5).
    let from = 0;
    while (from < data.length && (data[from] === 13 || data[from] === 10)) from++;
    const text = latin1(from === 0 ? data : data.subarray(from));
    const eol = text.indexOf("\n");
    if (eol < 0) throw new HTTPInputError("Malformed HTTP message: no start line");
    const startLine = text.charCodeAt(eol - 1) === 13 ? text.slice(0, eol - 1) : text.slice(0, eol);
    if (this.isClient) this.rawHeadLines = splitLines(text);
    this.startLineText = startLine;
    return parseHeaderBlock(text, eol + 1);
  }

  private readBody(code: number, headers: HTTPHeaders, delegate: HTTPMessageDelegate): Promise<void> | null {
    let contentLength: number | null = null;
    const te = headers.getNormalized("Transfer-Encoding");
    const clHeader = headers.getNormalized("Content-Length");
    if (clHeader !== undefined) {
      if (te !== undefined) {
        // Both would let a proxy and us disagree on where the body ends (request smuggling).
        throw new HTTPInputError("Message with both Transfer-Encoding and Content-Length");
      }
      let cl = clHeader;
      if (cl.includes(",")) {
        // Proxies sometimes duplicate the header; identical values are fine.
        const pieces = cl.split(/,\s*/);
        if (pieces.some((p) => p !== pieces[0])) throw new HTTPInputError(`Multiple unequal Content-Lengths: ${JSON.stringify(cl)}`);
        cl = pieces[0]!;
        headers.set("Content-Length", cl);
      }
      if (!DIGITS.test(cl)) throw new HTTPInputError(`Only integer Content-Length is allowed: ${cl}`);
      contentLength = Number(cl);
      // Tornado 6.2 answers 400 here; the issue asks for 413.
      if (contentLength > this.maxBodySize) throw new HTTPInputError("Content-Length too long", 413);
    }
    if (code === 204) {
      if (te !== undefined || (contentLength !== null && contentLength !== 0)) {
        throw new HTTPInputError(`Response with code ${code} should not have body`);
      }
      contentLength = 0;
    }
    if (contentLength !== null) return contentLength === 0 ? null : this.readFixedBody(contentLength, delegate);
    if (te !== undefined) {
      if (te.toLowerCase() === "chunked") return this.readChunkedBody(delegate);
      if (!this.isClient) throw new HTTPInputError(`Unsupported Transfer-Encoding ${te}`);
    }
    if (this.isClient) return this.readBodyUntilClose(delegate);
    return null;
  }

  /**
   * Hands one piece of body to the delegate. A server that has already answered (and finished
   * writing) still reads the rest of the body off the wire, but nobody is listening for it.
   */
  private async deliverBody(delegate: HTTPMessageDelegate, piece: Uint8Array): Promise<void> {
    if (this.writeFinished && !this.isClient) return;
    let ret: unknown;
    try {
      ret = delegate.dataReceived(piece);
    } catch (err) {
      throw quietly(err);
    }
    if (isPromise(ret)) await awaitDelegate(ret);
  }

  private async readFixedBody(contentLength: number, delegate: HTTPMessageDelegate): Promise<void> {
    const stream = this.stream!;
    const chunkSize = this.params.chunkSize;
    while (contentLength > 0) {
      const body = await stream.readBytes(Math.min(chunkSize, contentLength), true);
      contentLength -= body.length;
      await this.deliverBody(delegate, body);
    }
  }

  private async readChunkedBody(delegate: HTTPMessageDelegate): Promise<void> {
    const stream = this.stream!;
    const chunkSize = this.params.chunkSize;
    let totalSize = 0;
    for (;;) {
      let line: Uint8Array;
      try {
        line = await stream.readUntil(CRLF, 64);
      } catch (err) {
        if (err instanceof UnsatisfiableReadError) throw new HTTPInputError("chunk size line too long");
        throw err;
      }
      let sizeText = latin1(line.subarray(0, line.length - 2));
      const semicolon = sizeText.indexOf(";");
      if (semicolon >= 0) sizeText = sizeText.slice(0, semicolon); // chunk extensions are ignored
      sizeText = sizeText.trim();
      if (!HEX_DIGITS.test(sizeText)) throw new HTTPInputError(`invalid chunk size ${JSON.stringify(sizeText)}`);
      const chunkLen = Number.parseInt(sizeText, 16);
      if (chunkLen === 0) {
        const crlf = await stream.readBytes(2);
        if (crlf[0] !== 13 || crlf[1] !== 10) throw new HTTPInputError("improperly terminated chunked request");
        return;
      }
      totalSize += chunkLen;
      // Tornado 6.2 answers 400 here; the issue asks for 413.
      if (totalSize > this.maxBodySize) throw new HTTPInputError("chunked body too large", 413);
      let remaining = chunkLen;
      while (remaining > 0) {
        const chunk = await stream.readBytes(Math.min(remaining, chunkSize), true);
        remaining -= chunk.length;
        await this.deliverBody(delegate, chunk);
      }
      const crlf = await stream.readBytes(2);
      if (crlf[0] !== 13 || crlf[1] !== 10) throw new HTTPInputError("chunk not terminated by CRLF");
    }
  }

  private async readBodyUntilClose(delegate: HTTPMessageDelegate): Promise<void> {
    const body = await this.stream!.readUntilClose();
    await this.deliverBody(delegate, body);
  }
}

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  const out: string[] = [];
  for (let line of lines) {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line) out.push(line);
  }
  return out;
}

/** Wraps a delegate to decode `Content-Encoding: gzip` bodies (DecompressionStream: Node and browsers). */
class GzipMessageDelegate implements HTTPMessageDelegate {
  private writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  private pump: Promise<void> | null = null;
  private failure: unknown = null;

  constructor(private readonly delegate: HTTPMessageDelegate) {}

  headersReceived(startLine: RequestStartLine | ResponseStartLine, headers: HTTPHeaders): void | Promise<void> {
    if ((headers.get("Content-Encoding") ?? "").toLowerCase() === "gzip") {
      const ds = new DecompressionStream("gzip");
      this.writer = ds.writable.getWriter() as WritableStreamDefaultWriter<Uint8Array>;
      const reader = (ds.readable as ReadableStream<Uint8Array>).getReader();
      this.pump = (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          const ret = this.delegate.dataReceived(value);
          if (isPromise(ret)) await ret;
        }
      })();
      this.pump.catch((err: unknown) => (this.failure = err));
      // Downstream sees the decoded body; the original coding stays visible under another name.
      headers.add("X-Consumed-Content-Encoding", headers.get("Content-Encoding")!);
      headers.delete("Content-Encoding");
    }
    return this.delegate.headersReceived(startLine, headers);
  }

  async dataReceived(chunk: Uint8Array): Promise<void> {
    if (!this.writer) {
      const ret = this.delegate.dataReceived(chunk);
      if (isPromise(ret)) await ret;
      return;
    }
    if (this.failure) throw new InvalidGzipError(`invalid gzip data: ${String(this.failure)}`);
    // Copy: the stream may hold the chunk after we return, and the read buffer is reused.
    await this.writer.write(chunk.slice()).catch((err: unknown) => {
      throw new InvalidGzipError(`invalid gzip data: ${String(err)}`);
    });
  }

  finish(): void | Promise<void> {
    if (!this.writer) return this.delegate.finish();
    const writer = this.writer;
    return (async () => {
      try {
        await writer.close();
        await this.pump;
      } catch (err) {
        throw new InvalidGzipError(`invalid gzip data: ${String(err)}`);
      }
      this.delegate.finish();
    })();
  }

  onConnectionClose(): void {
    this.writer?.abort().catch(noop);
    this.delegate.onConnectionClose();
  }
}

/**
 * Serves HTTP/1.x requests, one after another, on one stream.
 *
 * The loop is callback-driven rather than an async loop: a request whose head is buffered (or
 * arrives in a data event) is parsed, dispatched and answered in that same call, and the next
 * head is looked for before returning. An exchange that has to wait (a body to read, an async
 * handler) continues from its promise. At keep-alive rates that saves a promise and two
 * microtask hops per request; the observable order of events is Tornado's either way.
 */
export class HTTP1ServerConnection {
  readonly params: HTTP1ConnectionParameters;
  readonly context: unknown;
  /** Set by a graceful stop: the current request finishes with `Connection: close`, no new one starts. */
  draining = false;
  /** The exchange in progress (or waiting for its head). */
  private current: HTTP1Connection | null = null;
  private currentDelegate: HTTPMessageDelegate | null = null;
  private delegate: HTTPServerConnectionDelegate | null = null;
  private serving: Promise<void> | null = null;
  private servingEnded: (() => void) | null = null;
  private readonly deadline = new Deadline();
  /** `params` with the defaults filled in once, not per request. */
  private readonly exchangeParams: ResolvedParams;

  constructor(
    readonly stream: IOStream,
    params?: HTTP1ConnectionParameters,
    context?: unknown,
  ) {
    this.params = params ?? {};
    this.context = context;
    this.exchangeParams = resolveParams(this.params);
  }

  /** Closes the connection; resolves once the serving loop has exited. */
  async close(): Promise<void> {
    this.stream.close();
    await this.serving;
  }

  /** Stop after the current request; closes right away if between requests. */
  drain(): void {
    this.draining = true;
    if (this.current !== null && this.current.waitingForHead && this.stream.readBufferSize === 0) this.stream.close();
  }

  startServing(delegate: HTTPServerConnectionDelegate): void {
    this.delegate = delegate;
    this.serving = new Promise<void>((resolve) => (this.servingEnded = resolve));
    this.serveRequests();
  }

  /** Serves requests for as long as each head is already buffered and each answer completes at once. */
  private serveRequests(): void {
    for (;;) {
      const conn = new HTTP1Connection(this.stream, false, this.exchangeParams, this.context, this.deadline);
      conn.serverConnection = this;
      this.current = conn;
      let head: Uint8Array | null;
      try {
        const delegate = this.delegate!.startRequest(this, conn);
        this.currentDelegate = this.exchangeParams.decompress ? new GzipMessageDelegate(delegate) : delegate;
        head = this.stream.readUntilHeaderEndWithCallback(this.exchangeParams.maxHeaderSize, this.onHead, this.onHeadError);
      } catch (err) {
        if (this.run(conn, null, err)) continue;
        return;
      }
      if (head === null) {
        conn.awaitHead();
        return;
      }
      if (!this.run(conn, head, null)) return;
    }
  }

  private readonly onHead = (head: Uint8Array): void => {
    const conn = this.current!;
    conn.headArrived();
    if (this.run(conn, head, null)) this.serveRequests();
  };

  private readonly onHeadError = (err: Error): void => {
    const conn = this.current!;
    conn.headArrived();
    if (this.run(conn, null, err)) this.serveRequests();
  };

  /** Runs one exchange from its head (or from the error reading it). True when the next request can be served now. */
  private run(conn: HTTP1Connection, head: Uint8Array | null, headError: unknown): boolean {
    let outcome: boolean | Promise<boolean>;
    try {
      outcome = head !== null ? conn.onHead(head, this.currentDelegate!) : conn.headFailed(headError);
    } catch (err) {
      this.stop(err);
      return false;
    }
    return this.settle(outcome);
  }

  /** Takes an exchange's outcome: a pending one carries on from its promise; false or a drain ends the loop. */
  private settle(outcome: boolean | Promise<boolean>): boolean {
    if (isPromise(outcome)) {
      outcome.then(
        (open) => {
          if (this.settle(open)) this.serveRequests();
        },
        (err: unknown) => this.stop(err),
      );
      return false;
    }
    if (outcome && !this.draining) return true;
    if (this.draining) this.stream.close();
    this.stop(null);
    return false;
  }

  /** Ends the loop: an error other than a closed stream is logged and closes the connection. */
  private stop(err: unknown): void {
    if (this.servingEnded === null) return;
    const conn = this.current;
    if (err !== null && !(err instanceof StreamClosedError) && !(err instanceof UnsatisfiableReadError)) {
      if (!(err instanceof QuietError)) logUncaught(err);
      conn?.close();
    }
    this.current = null;
    this.currentDelegate = null;
    this.deadline.dispose();
    const ended = this.servingEnded;
    this.servingEnded = null;
    try {
      this.delegate!.onClose?.(this);
    } finally {
      ended();
    }
  }
}
