/**
 * A non-blocking, single-threaded HTTP server (`tornado.httpserver`).
 *
 * Accepts connections through the platform (TCP on Node, the in-memory network in a browser),
 * runs `HTTP1ServerConnection` on each, and hands requests to either an
 * `HTTPServerConnectionDelegate` (a `web.Application`) or a plain callback taking an
 * `HTTPServerRequest`, exactly as Tornado's `_CallableAdapter` / `_ProxyAdapter` /
 * `_HTTPRequestContext` do, including `xheaders` for servers behind a proxy.
 */
import { HTTP1ServerConnection, type HTTP1Connection, type HTTP1ConnectionParameters } from "./http1connection.js";
import { IOStream } from "./iostream.js";
import {
  HTTPServerRequest,
  HTTPInputError,
  type HTTPConnection,
  type HTTPHeaders,
  type HTTPMessageDelegate,
  type HTTPServerConnectionDelegate,
  type RequestStartLine,
  type ResponseStartLine,
} from "./httputil.js";
import { genLog } from "./log.js";
import { platform } from "./platform/index.js";
import type { BoundAddress, PlatformListener, PlatformSocket } from "./platform/types.js";
import { bindSockets, forkProcesses } from "./process.js";

export interface HTTPServerOptions extends HTTP1ConnectionParameters {
  /** Trust `X-Real-Ip`/`X-Forwarded-For` and `X-Scheme`/`X-Forwarded-Proto` (behind a proxy). */
  xheaders?: boolean;
  /** Force `request.protocol` (e.g. "https" behind a TLS terminator). */
  protocol?: string;
  /** Proxy addresses to skip in `X-Forwarded-For`. */
  trustedDownstream?: string[];
  /** Seconds a keep-alive connection may wait for its next request (default 3600). */
  idleConnectionTimeout?: number;
  /** Read buffer limit per connection (default 100 MiB). */
  maxBufferSize?: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;

/** `netutil.is_valid_ip`: a literal IPv4 or IPv6 address. */
export function isValidIp(ip: string): boolean {
  if (!ip || ip.includes("\x00")) return false;
  if (IPV4.test(ip)) return true;
  if (!ip.includes(":") || !IPV6.test(ip)) return false;
  // Structural IPv6 check: at most one "::", 8 groups (an embedded IPv4 counts as two).
  const doubles = ip.split("::").length - 1;
  if (doubles > 1) return false;
  const groups = ip.split(":").filter((g) => g !== "");
  let count = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (g.includes(".")) {
      if (i !== groups.length - 1 || !IPV4.test(g)) return false;
      count += 2;
    } else {
      if (g.length > 4) return false;
      count += 1;
    }
  }
  return doubles === 1 ? count < 8 : count === 8;
}

/**
 * Per-connection facts a request needs (`_HTTPRequestContext`): the peer address and the
 * protocol, possibly rewritten per request by xheaders. `String(context)` is the address,
 * which is what log lines show.
 */
export class HTTPRequestContext {
  remoteIp: string;
  protocol: string;
  readonly trustedDownstream: Set<string>;
  private readonly origRemoteIp: string;
  private readonly origProtocol: string;

  constructor(
    readonly address: { remoteAddress: string; remotePort: number },
    protocol?: string,
    trustedDownstream?: Iterable<string>,
  ) {
    this.remoteIp = address.remoteAddress || "0.0.0.0";
    this.protocol = protocol || "http";
    this.origRemoteIp = this.remoteIp;
    this.origProtocol = this.protocol;
    // A Set is taken as it is: the server passes one shared by all its connections.
    this.trustedDownstream = trustedDownstream instanceof Set ? trustedDownstream : new Set(trustedDownstream ?? []);
  }

  toString(): string {
    return this.remoteIp;
  }

  /** Rewrites `remoteIp` and `protocol` from proxy headers. */
  applyXheaders(headers: HTTPHeaders): void {
    // Squid uses X-Forwarded-For, others X-Real-Ip; take the last hop that is not a trusted proxy.
    let ip = headers.get("X-Forwarded-For") ?? this.remoteIp;
    const hops = ip.split(",");
    for (let i = hops.length - 1; i >= 0; i--) {
      ip = hops[i]!.trim();
      if (!this.trustedDownstream.has(ip)) break;
    }
    ip = headers.get("X-Real-Ip") ?? ip;
    if (isValidIp(ip)) this.remoteIp = ip;
    let proto = headers.get("X-Scheme") ?? headers.get("X-Forwarded-Proto") ?? this.protocol;
    if (proto) proto = proto.split(",").pop()!.trim();
    if (proto === "http" || proto === "https") this.protocol = proto;
  }

  /** Xheaders are per request: they must not leak into the next request on the connection. */
  unapplyXheaders(): void {
    this.remoteIp = this.origRemoteIp;
    this.protocol = this.origProtocol;
  }
}

/**
 * Builds the `HTTPServerRequest` for a request head, taking `remoteIp` and `protocol` from the
 * connection's context as Tornado's `HTTPServerRequest.__init__` does. `web.Application` calls
 * this from its message delegate.
 */
export function newServerRequest(connection: HTTPConnection, startLine: RequestStartLine, headers: HTTPHeaders): HTTPServerRequest {
  const context = (connection as Partial<HTTP1Connection>).context;
  const ctx = context instanceof HTTPRequestContext ? context : null;
  return new HTTPServerRequest({
    method: startLine.method,
    uri: startLine.path,
    version: startLine.version,
    headers,
    remoteIp: ctx ? ctx.remoteIp : "0.0.0.0",
    protocol: ctx ? ctx.protocol : "http",
    connection,
    startTime: platform().monotonic(),
  });
}

/** Collects a request's body and calls a plain `(request) => void` callback (`_CallableAdapter`). */
class CallableAdapter implements HTTPMessageDelegate {
  private request: HTTPServerRequest | null = null;
  private chunks: Uint8Array[] = [];
  private size = 0;

  constructor(
    private readonly callback: (request: HTTPServerRequest) => void,
    private readonly connection: HTTPConnection,
  ) {}

  headersReceived(startLine: RequestStartLine | ResponseStartLine, headers: HTTPHeaders): void {
    this.request = newServerRequest(this.connection, startLine as RequestStartLine, headers);
  }

  dataReceived(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  finish(): void {
    const request = this.request!;
    request.body = joinChunks(this.chunks, this.size);
    this.chunks = [];
    try {
      request.parseBody();
    } catch (err) {
      // Tornado logs a malformed body and serves the request anyway, without body arguments.
      if (!(err instanceof HTTPInputError)) throw err;
      genLog.warning("httputil", `Invalid body: ${err.message}`);
    }
    this.callback(request);
  }

  onConnectionClose(): void {
    this.chunks = [];
  }
}

/** Applies xheaders to the connection's context around a request (`_ProxyAdapter`). */
class ProxyAdapter implements HTTPMessageDelegate {
  constructor(
    private readonly delegate: HTTPMessageDelegate,
    private readonly context: HTTPRequestContext | null,
  ) {}

  headersReceived(startLine: RequestStartLine | ResponseStartLine, headers: HTTPHeaders): void | Promise<void> {
    this.context?.applyXheaders(headers);
    return this.delegate.headersReceived(startLine, headers);
  }

  dataReceived(chunk: Uint8Array): void | Promise<void> {
    return this.delegate.dataReceived(chunk);
  }

  finish(): void {
    this.delegate.finish();
    this.context?.unapplyXheaders();
  }

  onConnectionClose(): void {
    this.delegate.onConnectionClose();
    this.context?.unapplyXheaders();
  }
}

export function joinChunks(chunks: Uint8Array[], size?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  if (chunks.length === 0) return new Uint8Array(0);
  const total = size ?? chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function isConnectionDelegate(value: unknown): value is HTTPServerConnectionDelegate {
  return typeof (value as HTTPServerConnectionDelegate).startRequest === "function";
}

export class HTTPServer implements HTTPServerConnectionDelegate {
  readonly options: HTTPServerOptions;
  private readonly connParams: HTTP1ConnectionParameters;
  private readonly requestCallback: HTTPServerConnectionDelegate | ((request: HTTPServerRequest) => void);
  private readonly connections = new Set<HTTP1ServerConnection>();
  private readonly listeners: PlatformListener[] = [];
  /** Bound by `bind()`, listened on by `start()`. */
  private pendingSockets: BoundAddress[] = [];
  private started = false;
  private stopping = false;

  constructor(
    requestCallback: HTTPServerConnectionDelegate | ((request: HTTPServerRequest) => void),
    options: HTTPServerOptions = {},
  ) {
    this.requestCallback = requestCallback;
    this.options = options;
    this.connParams = {
      decompress: options.decompress,
      chunkSize: options.chunkSize,
      maxHeaderSize: options.maxHeaderSize,
      // Tornado's idle_connection_timeout is the time allowed for the next request's head.
      headerTimeout: options.idleConnectionTimeout ?? options.headerTimeout ?? 3600,
      maxBodySize: options.maxBodySize,
      bodyTimeout: options.bodyTimeout,
      noKeepAlive: options.noKeepAlive,
    };
  }

  /** The bound port of the first listener (useful after `listen(0)`), or null. */
  get port(): number | null {
    return this.listeners[0]?.port ?? null;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Starts accepting on `port` (0 picks a free one) at `address` (default all interfaces).
   * Resolves with the bound port; rejects if the port is taken (EADDRINUSE).
   */
  async listen(port: number, address?: string): Promise<number> {
    const listener = await platform().listen({
      port,
      host: address,
      onConnection: (socket) => this.handleSocket(socket),
    });
    this.stopping = false;
    this.listeners.push(listener);
    return listener.port;
  }

  /**
   * Starts accepting on addresses from `bindSockets` (Tornado's `add_sockets`). In a child of
   * `forkProcesses` they are the parent's sockets, shared with the other children.
   */
  async addSockets(sockets: readonly BoundAddress[]): Promise<void> {
    for (const socket of sockets) await this.listen(socket.port, socket.host || undefined);
  }

  /** Reserves an address for `start()` (Tornado's `bind`): `bind(8888); start(0)` serves from every CPU. */
  async bind(port: number, address?: string): Promise<void> {
    const sockets = await bindSockets(port, address);
    if (this.started) await this.addSockets(sockets);
    else this.pendingSockets.push(...sockets);
  }

  /**
   * Starts serving what `bind()` reserved, in `numProcesses` processes (Tornado's `start`): 1
   * serves here; any other number forks (0 = one per CPU) and, like `forkProcesses`, resolves
   * only in the children. `maxRestarts` as in `forkProcesses`.
   */
  async start(numProcesses = 1, maxRestarts?: number): Promise<void> {
    if (this.started) throw new Error("HTTPServer.start() called twice");
    this.started = true;
    if (numProcesses !== 1) await forkProcesses(numProcesses, maxRestarts);
    const sockets = this.pendingSockets;
    this.pendingSockets = [];
    await this.addSockets(sockets);
  }

  /** Serves a socket accepted elsewhere (e.g. a custom listener). */
  handleSocket(socket: PlatformSocket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const stream = new IOStream(socket, { maxBufferSize: this.options.maxBufferSize, traced: true });
    this.handleStream(stream, socket);
  }

  /** `options.trustedDownstream` as one Set for every connection (a Set per connection cost 150 bytes each). */
  private trustedDownstream: Set<string> | null = null;

  handleStream(stream: IOStream, address: { remoteAddress: string; remotePort: number }): void {
    this.trustedDownstream ??= new Set(this.options.trustedDownstream ?? []);
    const context = new HTTPRequestContext(address, this.options.protocol, this.trustedDownstream);
    const conn = new HTTP1ServerConnection(stream, this.connParams, context);
    this.connections.add(conn);
    conn.startServing(this);
  }

  startRequest(serverConnection: object, requestConnection: HTTPConnection): HTTPMessageDelegate {
    let delegate: HTTPMessageDelegate;
    if (isConnectionDelegate(this.requestCallback)) {
      delegate = this.requestCallback.startRequest(serverConnection, requestConnection);
    } else {
      delegate = new CallableAdapter(this.requestCallback, requestConnection);
    }
    if (this.options.xheaders) {
      const context = (requestConnection as Partial<HTTP1Connection>).context;
      delegate = new ProxyAdapter(delegate, context instanceof HTTPRequestContext ? context : null);
    }
    return delegate;
  }

  onClose(serverConnection: object): void {
    this.connections.delete(serverConnection as HTTP1ServerConnection);
  }

  /**
   * Graceful stop: stop accepting, close idle keep-alive connections now, and let requests in
   * flight finish (their responses carry `Connection: close`). Resolves once the listeners are
   * closed; `closeAllConnections()` waits for the rest.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const listeners = this.listeners.splice(0);
    await Promise.all(listeners.map((l) => l.close()));
    for (const conn of this.connections) conn.drain();
  }

  /** Closes every connection and waits for each serving loop to exit. */
  async closeAllConnections(): Promise<void> {
    while (this.connections.size > 0) {
      const conn = this.connections.values().next().value!;
      this.connections.delete(conn);
      await conn.close();
    }
  }
}
