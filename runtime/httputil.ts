/**
 * HTTP utilities shared by the server, the client and the web framework (`tornado.httputil`).
 *
 * This module is also the contract between the transport (`http1connection`, `httpserver`,
 * `httpclient`) and the application layer (`web`): the start lines, `HTTPHeaders`, the
 * `HTTPConnection` a request is answered on, and the delegate interfaces through which a
 * connection hands a parsed message to whoever handles it.
 */
import { latin1, percentDecode, toUnicode, utf8 } from "./escape.js";

/** Raised for malformed input from the peer; the server answers 400 (or the more precise code) and closes. */
export class HTTPInputError extends Error {
  override name = "HTTPInputError";
  /** Status to answer with (400 unless a more precise one applies: 413, 431...). */
  constructor(
    message: string,
    readonly code = 400,
  ) {
    super(message);
  }
}

/** Raised when the application misuses the output side (e.g. writing more than Content-Length). */
export class HTTPOutputError extends Error {
  override name = "HTTPOutputError";
}

/** Standard reason phrases (Python's `http.client.responses`). */
export const responses: Readonly<Record<number, string>> = {
  100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
  200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content",
  205: "Reset Content", 206: "Partial Content", 207: "Multi-Status", 208: "Already Reported", 226: "IM Used",
  300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
  305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
  409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Request Entity Too Large",
  414: "Request-URI Too Long", 415: "Unsupported Media Type", 416: "Requested Range Not Satisfiable",
  417: "Expectation Failed", 418: "I'm a Teapot", 421: "Misdirected Request", 422: "Unprocessable Entity",
  423: "Locked", 424: "Failed Dependency", 425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required",
  429: "Too Many Requests", 431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
  504: "Gateway Timeout", 505: "HTTP Version Not Supported", 506: "Variant Also Negotiates",
  507: "Insufficient Storage", 508: "Loop Detected", 510: "Not Extended", 511: "Network Authentication Required",
};

/** `content-type` → `Content-Type`, as Tornado normalises every header name. */
export function normalizeHeaderName(name: string): string {
  const cached = normalizedNames.get(name);
  if (cached !== undefined) return cached;
  const normalized = name
    .split("-")
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1).toLowerCase() : w))
    .join("-");
  if (normalizedNames.size < 1000) normalizedNames.set(name, normalized);
  return normalized;
}
const normalizedNames = new Map<string, string>();

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers past which an HTTPHeaders keeps a name → position index (see the class). */
const INDEXED_FROM = 16;
/**
 * What an HTTPHeaders holds before its first header: shared, never written (the first header
 * makes the arrays), so headers built from arrays of their own (`adopt`) allocate none.
 */
const NO_NAMES: string[] = [""];
const NO_VALUES: string[] = [""];
// Made from one string and emptied, so their elements kind is the one every header array has
// (an empty literal would be a small-integer array, and each `find` would see two kinds).
NO_NAMES.pop();
NO_VALUES.pop();
const HTTP_WHITESPACE = /^[ \t]+|[ \t]+$/g;

/**
 * A case-insensitive multi-map of headers that remembers insertion order.
 *
 * `get` returns all values joined by `,` (as Tornado); `getList` returns them separately;
 * iteration (`getAll`) yields one `[name, value]` pair per value, in the order they were added.
 */
export class HTTPHeaders {
  /*
   * Names (normalised) and values in two parallel arrays, in insertion order; a header with one
   * value (nearly all) holds the string itself, no array per header. A message has a handful of
   * headers, and for those a scan of an array costs a fraction of a Map: a fresh Map and five
   * `set`s cost about four times five pushes, and every request and response makes one.
   * Past INDEXED_FROM headers a Map from name to position is kept as well, so a head of
   * thousands of headers (64 KiB of them) cannot make parsing quadratic.
   */
  private names: string[] = NO_NAMES;
  private values: (string | string[])[] = NO_VALUES;
  private index: Map<string, number> | null = null;
  private lastKey: string | null = null;

  constructor(init?: Iterable<readonly [string, string]> | Record<string, string>) {
    if (!init) return;
    const entries = Symbol.iterator in init ? (init as Iterable<readonly [string, string]>) : Object.entries(init);
    for (const [k, v] of entries) this.add(k, v);
  }

  /**
   * Headers that take `names`/`values` as they are: normalised, distinct, one value each, fewer
   * than INDEXED_FROM. Lets a caller size the arrays for what it will add (a response's default
   * headers, then its Etag and Content-Length) instead of the 17 slots a first push allocates.
   * @internal
   */
  static adopt(names: string[], values: string[]): HTTPHeaders {
    const headers = new HTTPHeaders();
    headers.names = names;
    headers.values = values;
    return headers;
  }

  /** Position of the normalised `key`, or -1. */
  private find(key: string): number {
    if (this.index !== null) return this.index.get(key) ?? -1;
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === key) return i;
    return -1;
  }

  /** Appends a header not present yet. */
  private append(key: string, value: string | string[]): void {
    const position = this.names.length;
    if (position === 0) {
      // The first header makes the arrays, of its own size: the empty ones may be the shared
      // NO_NAMES/NO_VALUES, and a first push would allocate 17 slots (a request from a load
      // balancer, wrk or an API client has one or two headers; the second push makes the 17).
      this.names = [key];
      this.values = [value];
    } else {
      this.names.push(key);
      this.values.push(value);
    }
    if (this.index !== null) this.index.set(key, position);
    else if (position + 1 === INDEXED_FROM) this.index = new Map(this.names.map((name, i) => [name, i]));
  }

  /** Adds a value, keeping any earlier ones for the same name. */
  add(name: string, value: string): void {
    this.addNormalized(normalizeHeaderName(name), value);
  }

  /** `add` with a name already in normal form (`Content-Type`, not `content-type`). @internal */
  addNormalized(key: string, value: string): void {
    this.lastKey = key;
    const at = this.find(key);
    if (at < 0) this.append(key, value);
    else {
      const current = this.values[at]!;
      if (typeof current === "string") this.values[at] = [current, value];
      else current.push(value);
    }
  }

  /** Replaces all values of the header (Tornado's `headers[name] = value`); it keeps its place. */
  set(name: string, value: string): void {
    this.setNormalized(normalizeHeaderName(name), value);
  }

  get(name: string): string | undefined;
  get(name: string, defaultValue: string): string;
  get(name: string, defaultValue?: string): string | undefined {
    return this.getNormalized(normalizeHeaderName(name)) ?? defaultValue;
  }

  getList(name: string): string[] {
    const at = this.find(normalizeHeaderName(name));
    if (at < 0) return [];
    const current = this.values[at]!;
    return typeof current === "string" ? [current] : [...current];
  }

  has(name: string): boolean {
    return this.find(normalizeHeaderName(name)) >= 0;
  }

  delete(name: string): boolean {
    const at = this.find(normalizeHeaderName(name));
    if (at < 0) return false;
    this.names.splice(at, 1);
    this.values.splice(at, 1);
    if (this.index !== null) this.index = new Map(this.names.map((key, i) => [key, i]));
    return true;
  }

  /**
   * `get`/`has`/`set` for a name already in normalised form (`Content-Length`, never
   * `content-length`): the runtime's own hot paths pass literals and skip `normalizeHeaderName`.
   * @internal
   */
  getNormalized(key: string): string | undefined {
    const at = this.find(key);
    if (at < 0) return undefined;
    const current = this.values[at]!;
    return typeof current === "string" ? current : current.join(",");
  }
  /** @internal */
  hasNormalized(key: string): boolean {
    return this.find(key) >= 0;
  }
  /** @internal */
  setNormalized(key: string, value: string): void {
    const at = this.find(key);
    if (at < 0) this.append(key, value);
    else this.values[at] = value;
  }

  /**
   * True when these headers are exactly `names`/`values` (same order, one value each): lets a
   * serialiser reuse the bytes of an identical earlier head. @internal
   */
  sameAs(names: readonly string[], values: readonly string[]): boolean {
    const own = this.names;
    const ownValues = this.values;
    if (own.length !== names.length) return false;
    for (let i = 0; i < own.length; i++) {
      if (own[i] !== names[i] || ownValues[i] !== values[i]) return false;
    }
    return true;
  }

  /** The names and values for a later `sameAs`, or null when a header has several values. @internal */
  snapshot(): [string[], string[]] | null {
    for (const value of this.values) if (typeof value !== "string") return null;
    return [this.names.slice(), this.values.slice() as string[]];
  }

  /** Header names (normalised), in insertion order. */
  keys(): IterableIterator<string> {
    return this.names.slice()[Symbol.iterator]();
  }

  /** Every `[name, value]` pair, a header with several values yielding several pairs. */
  *getAll(): IterableIterator<[string, string]> {
    const names = this.names;
    const values = this.values;
    for (let i = 0; i < names.length; i++) {
      const current = values[i]!;
      if (typeof current === "string") yield [names[i]!, current];
      else for (const v of current) yield [names[i]!, v];
    }
  }

  /** Calls `fn(name, value)` once per value, in order: `getAll` without an entry array per header (it runs for every response). */
  forEachValue(fn: (name: string, value: string) => void): void {
    const names = this.names;
    const values = this.values;
    for (let i = 0; i < names.length; i++) {
      const current = values[i]!;
      if (typeof current === "string") fn(names[i]!, current);
      else for (let j = 0; j < current.length; j++) fn(names[i]!, current[j]!);
    }
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.getAll();
  }

  get size(): number {
    return this.names.length;
  }

  copy(): HTTPHeaders {
    return new HTTPHeaders(this.getAll());
  }

  /**
   * Adds one raw header line; a line starting with whitespace continues the previous value
   * (obsolete line folding, still accepted by Tornado).
   */
  parseLine(line: string): void {
    if (line[0] === " " || line[0] === "\t") {
      if (this.lastKey === null) throw new HTTPInputError("first header line cannot start with whitespace");
      const at = this.find(this.lastKey);
      const current = this.values[at]!;
      const continuation = " " + line.replace(HTTP_WHITESPACE, "");
      if (typeof current === "string") this.values[at] = current + continuation;
      else current[current.length - 1] += continuation;
      return;
    }
    const colon = line.indexOf(":");
    if (colon < 0) throw new HTTPInputError("no colon in header line");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HTTPInputError(`Invalid header name ${JSON.stringify(name)}`);
    const value = line.slice(colon + 1).replace(HTTP_WHITESPACE, "");
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw new HTTPInputError("Invalid header value");
    this.add(name, value);
  }

  /** Parses a header block (lines separated by `\r\n` or `\n`, no trailing blank line needed). */
  static parse(text: string): HTTPHeaders {
    const headers = new HTTPHeaders();
    for (let line of text.split("\n")) {
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line) headers.parseLine(line);
    }
    return headers;
  }

  toString(): string {
    let out = "";
    for (const [k, v] of this.getAll()) out += `${k}: ${v}\n`;
    return out;
  }
}

export interface RequestStartLine {
  readonly kind: "request";
  readonly method: string;
  readonly path: string;
  readonly version: string;
}

export interface ResponseStartLine {
  readonly kind: "response";
  readonly version: string;
  readonly code: number;
  readonly reason: string;
}

/** Parses `GET /foo HTTP/1.1`; throws `HTTPInputError` on anything else. */
export function parseRequestStartLine(line: string): RequestStartLine {
  const parts = line.split(" ");
  if (parts.length !== 3) throw new HTTPInputError("Malformed HTTP request line");
  const [method, path, version] = parts as [string, string, string];
  if (!/^HTTP\/1\.[0-9]$/.test(version)) {
    throw new HTTPInputError(`Malformed HTTP version in HTTP Request-Line: ${JSON.stringify(version)}`);
  }
  if (!TOKEN.test(method)) throw new HTTPInputError("Malformed HTTP request line");
  if (!path || /[\x00-\x20\x7f]/.test(path)) throw new HTTPInputError("Malformed HTTP request line");
  return { kind: "request", method, path, version };
}

/** Parses `HTTP/1.1 200 OK` (the reason may be empty). */
export function parseResponseStartLine(line: string): ResponseStartLine {
  const m = /^(HTTP\/1\.[0-9]) ([0-9]{3})(?: (.*))?$/.exec(line);
  if (!m) throw new HTTPInputError("Error parsing response start line");
  return { kind: "response", version: m[1]!, code: Number(m[2]), reason: m[3] ?? "" };
}

/**
 * The answering side of one HTTP exchange, implemented by `HTTP1Connection`.
 *
 * `writeHeaders` must be called once, then any number of `write`s, then `finish`. The promises
 * resolve when the bytes have been handed to the socket (flow control for `flush()`).
 */
export interface HTTPConnection {
  /** `chunk`, the body's first bytes, may be given as text: its UTF-8 bytes are what is sent. */
  writeHeaders(startLine: ResponseStartLine | RequestStartLine, headers: HTTPHeaders, chunk?: Uint8Array | string): Promise<void>;
  write(chunk: Uint8Array): Promise<void>;
  finish(): void;
  /**
   * Called once if the connection closes before `finish` (e.g. the client went away), with
   * `thisArg` as `this`: a handler passes one shared function and itself, not a closure per request.
   */
  setCloseCallback<T>(callback: ((this: T) => void) | null, thisArg?: T): void;
  /** Detach the underlying stream (websocket upgrade): the connection stops parsing HTTP. */
  detach?(): unknown;
}

/** Receives one parsed HTTP message, piece by piece. */
export interface HTTPMessageDelegate {
  headersReceived(startLine: RequestStartLine | ResponseStartLine, headers: HTTPHeaders): void | Promise<void>;
  dataReceived(chunk: Uint8Array): void | Promise<void>;
  finish(): void;
  onConnectionClose(): void;
}

/** What `HTTPServer` is given: something that makes a message delegate per request. */
export interface HTTPServerConnectionDelegate {
  startRequest(serverConnection: object, requestConnection: HTTPConnection): HTTPMessageDelegate;
  onClose?(serverConnection: object): void;
}

/** An uploaded file from a multipart body. */
export interface HTTPFile {
  filename: string;
  body: Uint8Array;
  contentType: string;
}

export type Arguments = Record<string, Uint8Array[]>;
export type Files = Record<string, HTTPFile[]>;

/** A fresh dictionary with no prototype, so `__proto__` and friends are ordinary keys. */
export function emptyArgs<T>(): Record<string, T[]> {
  return Object.create(null) as Record<string, T[]>;
}

/**
 * Parses a query string into name → list of byte values (`parse_qs_bytes`). Names are decoded as
 * UTF-8 (Tornado decodes them as latin-1, which garbles non-ASCII names; ours read naturally).
 */
export function parseQsBytes(qs: string | Uint8Array, keepBlankValues = false): Arguments {
  const result = emptyArgs<Uint8Array>();
  if (qs.length === 0) return result; // most requests: no query, no split
  const text = typeof qs === "string" ? qs : latin1(qs);
  for (const field of text.split("&")) {
    if (!field) continue;
    const eq = field.indexOf("=");
    const rawName = eq < 0 ? field : field.slice(0, eq);
    const rawValue = eq < 0 ? "" : field.slice(eq + 1);
    if (eq < 0 && !keepBlankValues) continue; // Python drops "a" without "=" unless keep_blank_values
    if (!rawValue && !keepBlankValues) continue;
    const name = new TextDecoder().decode(percentDecode(rawName.replace(/\+/g, " ")));
    const value = percentDecode(rawValue.replace(/\+/g, " "));
    (result[name] ??= []).push(value);
  }
  return result;
}

/** Parses `form-data; name="a"; filename="b"` into the main value and its parameters. */
export function parseHeaderParams(line: string): [string, Record<string, string>] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"' && line[i - 1] !== "\\") quoted = !quoted;
    if (c === ";" && !quoted) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  const key = parts.shift()!.trim();
  const params: Record<string, string> = Object.create(null);
  for (const p of parts) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    let value = p.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\\\/g, "\\").replace(/\\"/g, '"');
    }
    params[name] = value;
  }
  return [key, params];
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0, last = false): number {
  const end = haystack.length - needle.length;
  if (last) {
    for (let i = end; i >= from; i--) if (matchesAt(haystack, needle, i)) return i;
    return -1;
  }
  for (let i = from; i <= end; i++) if (matchesAt(haystack, needle, i)) return i;
  return -1;
}
function matchesAt(h: Uint8Array, n: Uint8Array, at: number): boolean {
  for (let j = 0; j < n.length; j++) if (h[at + j] !== n[j]) return false;
  return true;
}

/** Parses a `multipart/form-data` body (`parse_multipart_form_data`), appending to `args` and `files`. */
export function parseMultipartFormData(boundaryText: string, data: Uint8Array, args: Arguments, files: Files): void {
  let boundary = boundaryText;
  if (boundary.startsWith('"') && boundary.endsWith('"')) boundary = boundary.slice(1, -1);
  const finalBoundary = utf8(`--${boundary}--`);
  const finalIndex = indexOfBytes(data, finalBoundary, 0, true);
  if (finalIndex < 0) throw new HTTPInputError("Invalid multipart/form-data: no final boundary found");
  const separator = utf8(`--${boundary}\r\n`);
  const body = data.subarray(0, finalIndex);
  const parts: Uint8Array[] = [];
  let start = 0;
  for (;;) {
    const at = indexOfBytes(body, separator, start);
    parts.push(body.subarray(start, at < 0 ? body.length : at));
    if (at < 0) break;
    start = at + separator.length;
  }
  const crlfcrlf = utf8("\r\n\r\n");
  for (const part of parts) {
    if (part.length === 0) continue;
    const eoh = indexOfBytes(part, crlfcrlf);
    if (eoh < 0) throw new HTTPInputError("multipart/form-data missing headers");
    const headers = HTTPHeaders.parse(toUnicode(part.subarray(0, eoh)));
    const [disposition, params] = parseHeaderParams(headers.get("Content-Disposition", ""));
    if (disposition !== "form-data" || part[part.length - 2] !== 13 || part[part.length - 1] !== 10) {
      throw new HTTPInputError("Invalid multipart/form-data");
    }
    const value = part.slice(eoh + 4, part.length - 2);
    const name = params["name"];
    if (!name) throw new HTTPInputError("multipart/form-data value missing name");
    if (params["filename"]) {
      const contentType = headers.get("Content-Type", "application/unknown");
      (files[name] ??= []).push({ filename: params["filename"], body: value, contentType });
    } else {
      (args[name] ??= []).push(value);
    }
  }
}

/** Parses a request body by its Content-Type into `args` and `files` (`parse_body_arguments`). */
export function parseBodyArguments(
  contentType: string,
  body: Uint8Array,
  args: Arguments,
  files: Files,
  headers?: HTTPHeaders,
): void {
  const encoding = headers?.get("Content-Encoding");
  if (encoding && encoding !== "identity") {
    throw new HTTPInputError(`Unsupported Content-Encoding: ${encoding}`, 415);
  }
  if (contentType.startsWith("application/x-www-form-urlencoded")) {
    let parsed: Arguments;
    try {
      parsed = parseQsBytes(body, true);
    } catch (e) {
      throw new HTTPInputError(`Invalid x-www-form-urlencoded body: ${(e as Error).message}`);
    }
    for (const [name, values] of Object.entries(parsed)) (args[name] ??= []).push(...values);
  } else if (contentType.startsWith("multipart/form-data")) {
    const [, params] = parseHeaderParams(contentType);
    const boundary = params["boundary"];
    if (!boundary) throw new HTTPInputError("Invalid multipart/form-data: no boundary");
    parseMultipartFormData(boundary, body, args, files);
  }
}

/** Parses a `Cookie` header into name → value (`parse_cookie`, browser-compatible and lenient). */
export function parseCookie(header: string): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null);
  for (const chunk of header.split(";")) {
    const eq = chunk.indexOf("=");
    let key = eq < 0 ? "" : chunk.slice(0, eq);
    let value = eq < 0 ? chunk : chunk.slice(eq + 1);
    key = key.trim();
    value = value.trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\([0-3][0-7][0-7])/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))).replace(/\\(.)/g, "$1");
    }
    if (key || value) cookies[key] = value;
  }
  return cookies;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `Tue, 24 Nov 2026 23:06:31 GMT` (`format_timestamp`). */
export function formatTimestamp(msSinceEpoch: number): string {
  const d = new Date(msSinceEpoch);
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} GMT`;
}

const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/** Splits `host:port` into its parts; an IPv6 host keeps its brackets, as Tornado's `split_host_and_port`. */
export function splitHostAndPort(netloc: string): [string, number | null] {
  // Same as /^(.+):(\d+)$/ (the last colon, followed by ASCII digits only), without a regex: it runs per request.
  const colon = netloc.lastIndexOf(":");
  if (colon < 1 || colon === netloc.length - 1) return [netloc, null];
  for (let i = colon + 1; i < netloc.length; i++) {
    const c = netloc.charCodeAt(i);
    if (c < 48 || c > 57) return [netloc, null];
  }
  if (LINE_TERMINATOR.test(netloc)) return [netloc, null]; // the regex's "." does not match line terminators
  return [netloc.slice(0, colon), Number(netloc.slice(colon + 1))];
}

/**
 * `s` in a flat string of its own: a slice would keep the string it was cut from alive. V8
 * copies substrings shorter than 13 characters anyway (and shares one-character strings), so
 * those are returned as they are rather than duplicated.
 */
function ownCopy(s: string): string {
  return s.length < 13 ? s : s.split("").join("");
}

/**
 * A single HTTP request as the server hands it to the application (`HTTPServerRequest`).
 *
 * Query arguments are parsed at construction; body arguments after the body arrived
 * (`parseBody`). `arguments` is their union, query first.
 */
export class HTTPServerRequest {
  method: string;
  uri: string;
  version: string;
  headers: HTTPHeaders;
  body: Uint8Array;
  /** Client address; with `xheaders` it comes from `X-Real-Ip` / `X-Forwarded-For`. */
  remoteIp: string;
  /** "http" or "https"; with `xheaders`, from `X-Scheme` / `X-Forwarded-Proto`. */
  protocol: string;
  /** The Host header (or "127.0.0.1"), e.g. `localhost:8888`. */
  host: string;
  path: string;
  query: string;
  connection: HTTPConnection | null;
  /** Monotonic ms when the request started (from the platform clock). */
  startTime: number;
  finishTime: number | null = null;
  private cookieCache: Record<string, string> | null = null;
  /*
   * hostName and the argument dictionaries are built on first use: most requests (no query, no
   * body, no host routing) never read them, and four prototype-less objects plus a host split
   * per request are measurable at tens of thousands of requests a second.
   */
  private hostAtStart: string;
  private _hostName: string | null = null;
  private _arguments: Arguments | null = null;
  private _queryArguments: Arguments | null = null;
  private _bodyArguments: Arguments | null = null;
  private _files: Files | null = null;

  constructor(init: {
    method: string;
    uri: string;
    version?: string;
    headers?: HTTPHeaders;
    body?: Uint8Array;
    remoteIp?: string;
    protocol?: string;
    host?: string;
    connection?: HTTPConnection | null;
    startTime: number;
  }) {
    this.method = init.method;
    this.uri = init.uri;
    this.version = init.version ?? "HTTP/1.0";
    this.headers = init.headers ?? new HTTPHeaders();
    this.body = init.body ?? new Uint8Array(0);
    this.remoteIp = init.remoteIp ?? "127.0.0.1";
    this.protocol = init.protocol ?? "http";
    this.host = init.host ?? this.headers.getNormalized("Host") ?? "127.0.0.1";
    this.hostAtStart = this.host;
    this.connection = init.connection ?? null;
    this.startTime = init.startTime;
    const q = this.uri.indexOf("?");
    this.path = q < 0 ? this.uri : this.uri.slice(0, q);
    this.query = q < 0 ? "" : this.uri.slice(q + 1);
    if (this.query) {
      // Parsed now, as Tornado does, so a malformed query fails here rather than at first use.
      const queryArguments = parseQsBytes(this.query, true);
      this._queryArguments = queryArguments;
      const args = emptyArgs<Uint8Array>();
      for (const [k, v] of Object.entries(queryArguments)) args[k] = [...v];
      this._arguments = args;
    }
  }

  /** `host` (as it was when the request arrived) without the port. */
  get hostName(): string {
    return (this._hostName ??= splitHostAndPort(this.hostAtStart.toLowerCase())[0]);
  }
  set hostName(value: string) {
    this._hostName = value;
  }

  /** Query and body arguments, query first. */
  get arguments(): Arguments {
    return (this._arguments ??= emptyArgs());
  }
  set arguments(value: Arguments) {
    this._arguments = value;
  }

  get queryArguments(): Arguments {
    return (this._queryArguments ??= emptyArgs());
  }
  set queryArguments(value: Arguments) {
    this._queryArguments = value;
  }

  get bodyArguments(): Arguments {
    return (this._bodyArguments ??= emptyArgs());
  }
  set bodyArguments(value: Arguments) {
    this._bodyArguments = value;
  }

  get files(): Files {
    return (this._files ??= emptyArgs());
  }
  set files(value: Files) {
    this._files = value;
  }

  /** Cookies sent by the client, name → value. */
  get cookies(): Record<string, string> {
    if (!this.cookieCache) {
      this.cookieCache = Object.create(null) as Record<string, string>;
      const header = this.headers.get("Cookie");
      if (header) {
        try {
          this.cookieCache = parseCookie(header);
        } catch {
          // Tornado ignores an unparseable Cookie header.
        }
      }
    }
    return this.cookieCache;
  }

  /**
   * Gives the request's header values, host and uri strings of their own. They are slices of
   * the head's text and keep all of it alive; a websocket keeps its request (as Tornado does)
   * for the life of the connection, so it calls this once upgraded.
   */
  ownStrings(): void {
    // One copy for equal strings (`host` is the Host header's value, `path` often the uri).
    const copies = new Map<string, string>();
    const own = (s: string): string => {
      let copy = copies.get(s);
      if (copy === undefined) copies.set(s, (copy = ownCopy(s)));
      return copy;
    };
    const headers = new HTTPHeaders();
    for (const [name, value] of this.headers.getAll()) headers.add(name, own(value));
    this.headers = headers;
    this.host = own(this.host);
    this.hostAtStart = own(this.hostAtStart);
    this.uri = own(this.uri);
    this.path = own(this.path);
    this.query = own(this.query);
  }

  /** `http://localhost:8888/path?q` */
  fullUrl(): string {
    return `${this.protocol}://${this.host}${this.uri}`;
  }

  /** Seconds the request took (until now if not finished), as Tornado's `request_time()`. */
  requestTime(now: number): number {
    return ((this.finishTime ?? now) - this.startTime) / 1000;
  }

  /** Parses the body into `bodyArguments` and `files` by Content-Type; throws `HTTPInputError` if malformed. */
  parseBody(): void {
    parseBodyArguments(this.headers.get("Content-Type", ""), this.body, this.bodyArguments, this.files, this.headers);
    for (const [k, v] of Object.entries(this.bodyArguments)) (this.arguments[k] ??= []).push(...v);
  }
}
