/**
 * A non-blocking HTTP/1.1 client (`tornado.httpclient` with `simple_httpclient`).
 *
 * `AsyncHTTPClient.fetch` opens a connection through the platform (TCP, or the in-memory
 * network in a browser), writes the request with `HTTP1Connection` and reads the response:
 * Content-Length, chunked, or read-until-close bodies; 1xx interim responses skipped;
 * redirects followed; gzip decoded. As in Tornado 6 a non-2xx response rejects with
 * `HTTPClientError` unless `raiseError: false`, and network failures and timeouts are code 599.
 *
 * As Tornado's simple client, at most `maxClients` (default 10) fetches run at once; the others
 * wait in a queue, in order. A fetch that waits there longer than its connect or request timeout
 * (the smaller) fails with 599 "Timeout in request queue"; once started it has `connectTimeout`
 * to connect ("Timeout while connecting") and `requestTimeout` from its start to finish
 * ("Timeout during request"). A timeout of 0 means none, as in Tornado.
 *
 * Header order and casing are kept on the wire as given, so a caller (the curl emulation) can
 * reproduce another client's request head byte for byte; `response.requestHead` and
 * `response.rawHeaderLines` expose what was written and read.
 */
import { HTTP1Connection, type HeaderInput } from "./http1connection.js";
import { IOLoop, type TimeoutHandle } from "./ioloop.js";
import { IOStream, StreamClosedError } from "./iostream.js";
import { Semaphore, type Releaser } from "./locks.js";
import {
  HTTPHeaders,
  HTTPInputError,
  responses,
  type HTTPMessageDelegate,
  type RequestStartLine,
  type ResponseStartLine,
} from "./httputil.js";
import { platform, type Platform } from "./platform/index.js";
import { TimeoutError } from "./util.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type HeadersInit = HTTPHeaders | Record<string, string> | ReadonlyArray<readonly [string, string]>;

export interface HTTPRequestOptions {
  method?: string;
  headers?: HeadersInit;
  body?: string | Uint8Array;
  /** Seconds to establish the connection (default 20; 0: none). */
  connectTimeout?: number;
  /** Seconds for the whole request, from when it leaves the client's queue (default 20; 0: none). */
  requestTimeout?: number;
  followRedirects?: boolean;
  maxRedirects?: number;
  /** Ask for and decode gzip (default true, as Tornado); with caller-given headers only decode. */
  decompressResponse?: boolean;
  /** Allow a body with GET or none with POST, and any method name. */
  allowNonstandardMethods?: boolean;
  /** Add Tornado's default headers (Connection: close, Host, User-Agent, Accept-Encoding) when missing (default true). */
  defaultHeaders?: boolean;
  userAgent?: string;
  /** Called with each response head line as received, "\r\n" included (Tornado's `header_callback`), interim responses too. */
  headerCallback?: (line: string) => void;
  /** Called with each body chunk as it arrives; the response body is then empty. */
  streamingCallback?: (chunk: Uint8Array) => void;
  /** Called with the exact request head bytes once written. */
  onRequestSent?: (head: Uint8Array) => void;
  /** "HTTP/1.0" sends an HTTP/1.0 request line (curl -0); default "HTTP/1.1". */
  version?: "HTTP/1.0" | "HTTP/1.1";
  /** The platform whose sockets and clock to use; default the current `platform()`. */
  platform?: Platform;
}

export class HTTPRequest {
  url: string;
  method: string;
  headers: HeadersInit;
  body: Uint8Array | undefined;
  connectTimeout: number;
  requestTimeout: number;
  followRedirects: boolean;
  maxRedirects: number;
  decompressResponse: boolean;
  allowNonstandardMethods: boolean;
  defaultHeaders: boolean;
  userAgent: string | undefined;
  headerCallback: ((line: string) => void) | undefined;
  streamingCallback: ((chunk: Uint8Array) => void) | undefined;
  onRequestSent: ((head: Uint8Array) => void) | undefined;
  version: "HTTP/1.0" | "HTTP/1.1";
  platform: Platform | undefined;
  /** Monotonic ms when the request was created. */
  readonly startTime: number;

  constructor(url: string, options: HTTPRequestOptions = {}) {
    this.url = url;
    this.method = options.method ?? "GET";
    this.headers = options.headers ?? new HTTPHeaders();
    this.body = typeof options.body === "string" ? encoder.encode(options.body) : options.body;
    this.connectTimeout = options.connectTimeout ?? 20;
    this.requestTimeout = options.requestTimeout ?? 20;
    this.followRedirects = options.followRedirects ?? true;
    this.maxRedirects = options.maxRedirects ?? 5;
    this.decompressResponse = options.decompressResponse ?? true;
    this.allowNonstandardMethods = options.allowNonstandardMethods ?? false;
    this.defaultHeaders = options.defaultHeaders ?? true;
    this.userAgent = options.userAgent;
    this.headerCallback = options.headerCallback;
    this.streamingCallback = options.streamingCallback;
    this.onRequestSent = options.onRequestSent;
    this.version = options.version ?? "HTTP/1.1";
    this.platform = options.platform;
    this.startTime = (options.platform ?? platform()).monotonic();
  }

  /** Header pairs in the order given, original casing kept. */
  headerPairs(): [string, string][] {
    const h = this.headers;
    if (h instanceof HTTPHeaders) return [...h.getAll()];
    if (Array.isArray(h)) return h.map(([k, v]) => [k, v] as [string, string]);
    return Object.entries(h as Record<string, string>);
  }
}

/** A non-2xx response or a failure (599: no response at all). */
export class HTTPClientError extends Error {
  override name = "HTTPClientError";
  constructor(
    readonly code: number,
    message?: string,
    readonly response?: HTTPResponse,
  ) {
    super(`HTTP ${code}: ${message ?? responses[code] ?? "Unknown"}`);
  }
}

/** Tornado's other name for `HTTPClientError` (`tornado.httpclient.HTTPError`). */
export { HTTPClientError as HTTPError };

/** A timeout (code 599); its message is Tornado's text alone, e.g. "Timeout during request". */
export class HTTPTimeoutError extends HTTPClientError {
  override name = "HTTPTimeoutError";
  constructor(message: string) {
    super(599, message);
    this.message = message || "Timeout";
  }
}

/** The connection closed before the response was complete (code 599; message "Stream closed"). */
export class HTTPStreamClosedError extends HTTPClientError {
  override name = "HTTPStreamClosedError";
  constructor(message: string) {
    super(599, message);
    this.message = message || "Stream closed";
  }
}

/** Tornado's `min(connect, request) or connect or request`: the smaller timeout, a zero one skipped. */
function queueTimeout(req: HTTPRequest): number {
  const { connectTimeout: c, requestTimeout: r } = req;
  return (c && r ? Math.min(c, r) : 0) || c || r;
}

export interface AsyncHTTPClientOptions {
  /** How many fetches run at once; the rest wait in order (default 10, as Tornado's). */
  maxClients?: number;
}

export class HTTPResponse {
  /** Raw response header lines exactly as received, in order, original casing, without the status line. */
  rawHeaderLines: string[] = [];
  /** The status line as received, e.g. "HTTP/1.1 200 OK". */
  rawStatusLine = "";
  /** The request head bytes exactly as written for the final request. */
  requestHead: Uint8Array = new Uint8Array(0);
  /** "HTTP/1.1" or "HTTP/1.0". */
  version = "HTTP/1.1";

  constructor(
    readonly request: HTTPRequest,
    readonly code: number,
    readonly reason: string,
    readonly headers: HTTPHeaders,
    readonly body: Uint8Array,
    readonly effectiveUrl: string,
    readonly error: HTTPClientError | null,
    /** Seconds from the request's start to the end of the response. */
    readonly requestTime: number,
  ) {}

  get text(): string {
    return decoder.decode(this.body);
  }

  /** Throws `error` if there is one. */
  rethrow(): void {
    if (this.error) throw this.error;
  }
}

export type FetchOptions = HTTPRequestOptions & { raiseError?: boolean };

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Collects one response from an `HTTP1Connection`. */
class ResponseCollector implements HTTPMessageDelegate {
  startLine: ResponseStartLine | null = null;
  headers: HTTPHeaders | null = null;
  chunks: Uint8Array[] = [];
  size = 0;
  finished = false;
  rawLines: string[] = [];

  constructor(
    private readonly connection: HTTP1Connection,
    private readonly request: HTTPRequest,
  ) {}

  headersReceived(startLine: RequestStartLine | ResponseStartLine, headers: HTTPHeaders): void {
    const resp = startLine as ResponseStartLine;
    const lines = this.connection.rawHeadLines ?? [];
    if (this.request.headerCallback) {
      for (const line of lines) this.request.headerCallback(line + "\r\n");
      this.request.headerCallback("\r\n");
    }
    if (resp.code >= 100 && resp.code < 200) return; // interim: the final response follows
    this.startLine = resp;
    this.headers = headers;
    this.rawLines = lines;
  }

  dataReceived(chunk: Uint8Array): void {
    if (this.request.streamingCallback) {
      this.request.streamingCallback(chunk);
      return;
    }
    // Copy: the stream's buffer views may be shared with later reads.
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  finish(): void {
    this.finished = true;
  }

  onConnectionClose(): void {}

  body(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0]!.slice();
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

const STANDARD_METHODS = new Set(["GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"]);

export class AsyncHTTPClient {
  private static _instance: AsyncHTTPClient | null = null;
  private static configured: AsyncHTTPClientOptions = {};
  private closed = false;
  private readonly streams = new Set<IOStream>();
  readonly maxClients: number;
  /** One count per running fetch: `acquire` waits in line once `maxClients` run. */
  private readonly slots: Semaphore;

  /** The shared client (Tornado's `AsyncHTTPClient()`). */
  static instance(): AsyncHTTPClient {
    if (!AsyncHTTPClient._instance || AsyncHTTPClient._instance.closed) AsyncHTTPClient._instance = new AsyncHTTPClient({}, AsyncHTTPClient.configured);
    return AsyncHTTPClient._instance;
  }

  /** Options for the shared client made from now on (Tornado's `AsyncHTTPClient.configure(None, max_clients=...)`). */
  static configure(options: AsyncHTTPClientOptions): void {
    AsyncHTTPClient.configured = { ...options };
  }

  constructor(
    readonly defaults: HTTPRequestOptions = {},
    options: AsyncHTTPClientOptions = {},
  ) {
    this.maxClients = options.maxClients ?? 10;
    if (!(this.maxClients >= 1)) throw new RangeError(`maxClients must be at least 1, got ${this.maxClients}`);
    this.slots = new Semaphore(this.maxClients);
  }

  /** Fetches running now. */
  get active(): number {
    return this.maxClients - this.slots.counter;
  }

  /** Fetches waiting for one of the `maxClients` places. */
  get queued(): number {
    return this.slots.waiterCount;
  }

  /** Closes open connections; further fetches fail. */
  close(): void {
    this.closed = true;
    for (const s of this.streams) s.close();
    this.streams.clear();
    if (AsyncHTTPClient._instance === this) AsyncHTTPClient._instance = null;
  }

  /**
   * Fetches `request` (a URL or an `HTTPRequest`). Resolves with the response; rejects with
   * `HTTPClientError` for non-2xx codes and failures (599) unless `raiseError` is false, in
   * which case the response carries `error`.
   */
  async fetch(request: string | HTTPRequest, options: FetchOptions = {}): Promise<HTTPResponse> {
    if (this.closed) throw new Error("fetch() called on closed AsyncHTTPClient");
    const { raiseError = true, ...rest } = options;
    let req: HTTPRequest;
    if (typeof request === "string") {
      req = new HTTPRequest(request, { ...this.defaults, ...rest });
    } else {
      req = request;
      if (Object.keys(rest).length > 0) throw new Error("kwargs can't be used if request is an HTTPRequest object");
    }
    const response = await this.fetchFollowingRedirects(req, req.maxRedirects);
    if (raiseError && response.error) throw response.error;
    return response;
  }

  private async fetchFollowingRedirects(req: HTTPRequest, redirectsLeft: number): Promise<HTTPResponse> {
    const response = await this.fetchQueued(req);
    const code = response.code;
    const location = response.headers.get("Location");
    if (req.followRedirects && redirectsLeft > 0 && location !== undefined && [301, 302, 303, 307, 308].includes(code)) {
      const nextUrl = new URL(location, req.url).toString();
      const next = new HTTPRequest(nextUrl, {
        method: req.method,
        headers: req.headerPairs().filter(([k]) => k.toLowerCase() !== "host"),
        body: req.body,
        connectTimeout: req.connectTimeout,
        requestTimeout: req.requestTimeout,
        followRedirects: true,
        maxRedirects: req.maxRedirects,
        decompressResponse: req.decompressResponse,
        allowNonstandardMethods: req.allowNonstandardMethods,
        defaultHeaders: req.defaultHeaders,
        userAgent: req.userAgent,
        headerCallback: req.headerCallback,
        streamingCallback: req.streamingCallback,
        onRequestSent: req.onRequestSent,
        version: req.version,
        platform: req.platform,
      });
      // 302/303 (and 301 after POST) become a GET without a body, as browsers and Tornado do.
      if (code === 302 || code === 303 || (code === 301 && req.method === "POST")) {
        next.method = "GET";
        next.body = undefined;
        next.headers = next
          .headerPairs()
          .filter(([k]) => !["content-length", "content-type", "content-encoding", "transfer-encoding"].includes(k.toLowerCase()));
      }
      return this.fetchFollowingRedirects(next, redirectsLeft - 1);
    }
    return response;
  }

  private errorResponse(req: HTTPRequest, error: HTTPClientError): HTTPResponse {
    const seconds = ((req.platform ?? platform()).monotonic() - req.startTime) / 1000;
    return new HTTPResponse(req, error.code, messageOf(error), new HTTPHeaders(), new Uint8Array(0), req.url, error, seconds);
  }

  /** Waits for one of the `maxClients` places, then fetches; each redirect queues again, as in Tornado. */
  private async fetchQueued(req: HTTPRequest): Promise<HTTPResponse> {
    let releaser: Releaser;
    try {
      const timeout = queueTimeout(req);
      releaser = await this.slots.acquire(timeout ? { seconds: timeout } : null);
    } catch (err) {
      if (err instanceof TimeoutError) return this.errorResponse(req, new HTTPTimeoutError("Timeout in request queue"));
      throw err;
    }
    try {
      if (this.closed) return this.errorResponse(req, new HTTPClientError(599, "fetch() called on closed AsyncHTTPClient"));
      return await this.fetchOnce(req);
    } finally {
      releaser.release();
    }
  }

  /** One request on a fresh connection. Failures become a 599 response, never a rejection. */
  private async fetchOnce(req: HTTPRequest): Promise<HTTPResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return this.errorResponse(req, new HTTPClientError(599, `Invalid URL ${req.url}`));
    }
    if (url.protocol !== "http:") {
      return this.errorResponse(req, new HTTPClientError(599, `Unsupported url scheme: ${req.url}`));
    }
    const method = req.method;
    if (!req.allowNonstandardMethods) {
      if (!STANDARD_METHODS.has(method)) return this.errorResponse(req, new HTTPClientError(599, `unknown method ${method}`));
      const bodyExpected = method === "POST" || method === "PATCH" || method === "PUT";
      const bodyPresent = req.body !== undefined;
      if (bodyExpected !== bodyPresent) {
        const message = `Body must ${bodyExpected ? "not " : ""}be None for method ${method} (unless allowNonstandardMethods is true)`;
        return this.errorResponse(req, new HTTPClientError(599, message));
      }
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = url.port ? Number(url.port) : 80;
    const loop = IOLoop.current();

    let stream: IOStream | null = null;
    let timeoutHandle: TimeoutHandle | null = null;
    let timedOut: string | null = null;
    let rejectTimeout: (err: Error) => void = () => {};
    const timeout = new Promise<never>((_, reject) => (rejectTimeout = reject));
    timeout.catch(() => {});
    const failTimeout = (message: string) => {
      timedOut = message;
      stream?.close();
      rejectTimeout(new HTTPTimeoutError(message));
    };
    // Tornado's clocks start when the fetch leaves the queue: connecting may take the smaller of
    // the two timeouts, the whole request `requestTimeout`.
    const startTime = loop.time();
    const connectTimeout = queueTimeout(req);
    if (connectTimeout) timeoutHandle = loop.callAt(startTime + connectTimeout, failTimeout, "Timeout while connecting");
    const connecting = (req.platform ?? platform()).connect(host, port);
    // A connection that completes after we gave up must not leak.
    connecting.then(
      (socket) => {
        if (timedOut !== null) socket.destroy();
      },
      () => {},
    );
    try {
      const socket = await Promise.race([connecting, timeout]);
      stream = new IOStream(socket);
      if (timedOut) {
        stream.close();
        throw new HTTPTimeoutError(timedOut);
      }
      this.streams.add(stream);
      loop.removeTimeout(timeoutHandle);
      timeoutHandle = null;
      if (req.requestTimeout) timeoutHandle = loop.callAt(startTime + req.requestTimeout, failTimeout, "Timeout during request");

      const conn = new HTTP1Connection(stream, true, {
        decompress: req.decompressResponse,
        noKeepAlive: true,
        chunkRequests: req.defaultHeaders,
      });
      const pairs = this.requestHeaders(req, url, method);
      const startLine: RequestStartLine = { kind: "request", method, path: (url.pathname || "/") + url.search, version: req.version };
      const collector = new ResponseCollector(conn, req);
      const sending = conn.writeHeaders(startLine, pairs as HeaderInput);
      req.onRequestSent?.(conn.requestHead!);
      if (req.body !== undefined && req.body.length > 0) void conn.write(req.body);
      conn.finish();
      await Promise.race([sending, timeout]);
      const reading = conn.readResponse(collector);
      await Promise.race([reading, timeout]);
      if (!collector.finished || collector.startLine === null || collector.headers === null) {
        const reason = conn.inputError ? conn.inputError.message : stream.error ? stream.error.message : "Stream closed";
        throw new HTTPClientError(599, reason);
      }
      const start = collector.startLine;
      const seconds = ((req.platform ?? platform()).monotonic() - req.startTime) / 1000;
      const isError = start.code < 200 || start.code >= 300;
      const body = collector.body();
      const response = new HTTPResponse(
        req,
        start.code,
        start.reason || responses[start.code] || "Unknown",
        collector.headers,
        body,
        req.url,
        null,
        seconds,
      );
      response.rawStatusLine = collector.rawLines[0] ?? "";
      response.rawHeaderLines = collector.rawLines.slice(1);
      response.requestHead = conn.requestHead ?? new Uint8Array(0);
      response.version = start.version;
      if (isError) {
        (response as { error: HTTPClientError | null }).error = new HTTPClientError(start.code, start.reason || undefined, response);
      }
      return response;
    } catch (err) {
      if (err instanceof HTTPClientError) return this.errorResponse(req, err);
      if (err instanceof StreamClosedError) return this.errorResponse(req, timedOut !== null ? new HTTPTimeoutError(timedOut) : new HTTPStreamClosedError("Stream closed"));
      if (err instanceof HTTPInputError) return this.errorResponse(req, new HTTPClientError(599, err.message));
      const wrapped = timedOut !== null ? new HTTPTimeoutError(timedOut) : new HTTPClientError(599, messageOf(err));
      (wrapped as { cause?: unknown }).cause = err;
      return this.errorResponse(req, wrapped);
    } finally {
      loop.removeTimeout(timeoutHandle);
      if (stream) {
        stream.close();
        this.streams.delete(stream);
      }
    }
  }

  /** The header pairs to send: the caller's, in order, plus Tornado's defaults where missing. */
  private requestHeaders(req: HTTPRequest, url: URL, method: string): [string, string][] {
    const pairs = req.headerPairs();
    const has = (name: string) => pairs.some(([k]) => k.toLowerCase() === name.toLowerCase());
    if (req.defaultHeaders) {
      if (!has("Connection")) pairs.push(["Connection", "close"]);
      if (!has("Host")) pairs.push(["Host", url.host]);
      if (!has("User-Agent")) pairs.push(["User-Agent", req.userAgent ?? "Tornado/6.2"]);
      if (req.decompressResponse && !has("Accept-Encoding")) pairs.push(["Accept-Encoding", "gzip"]);
    } else if (!has("Host")) {
      pairs.unshift(["Host", url.host]);
    }
    if (req.body !== undefined && !has("Content-Length") && !has("Transfer-Encoding")) {
      pairs.push(["Content-Length", String(req.body.length)]);
    } else if (req.defaultHeaders && req.body === undefined && (method === "POST" || method === "PUT" || method === "PATCH") && !has("Content-Length")) {
      pairs.push(["Content-Length", "0"]);
    }
    return pairs;
  }
}
