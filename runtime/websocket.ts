/**
 * WebSockets (`tornado.websocket`): `WebSocketHandler` on the server, `websocketConnect` on the
 * client. The frames themselves are in `websocket_protocol.ts`.
 *
 * ```ts
 * class Echo extends WebSocketHandler {
 *   open() { clients.add(this); }
 *   onMessage(message: string | Uint8Array) { this.writeMessage({ echo: message }); }  // an object goes out as JSON
 *   onClose() { clients.delete(this); }
 * }
 * const ws = await websocketConnect("ws://localhost:8888/echo");
 * await ws.writeMessage("hi");
 * await ws.readMessage();   // '{"echo": "hi"}'; null once the connection is closed
 * ```
 *
 * The handshake is an ordinary request: `WebSocketHandler.get` checks it as Tornado 6 does (400
 * without `Upgrade: websocket`, `Connection: Upgrade` or a key; 426 with `Sec-WebSocket-Version:
 * 7, 8, 13` for another version; 403 for a foreign `Origin`; 405 for other methods, as any
 * handler without them), answers 101 through the normal response path (so the access log shows
 * it), then takes the stream away from HTTP (`RequestHandler.detach` → `HTTP1Connection.detach`)
 * and runs the frame loop on it. Nothing here touches a socket API: the same code serves over
 * `node:net` and over the in-memory network. See `websocket_protocol.ts` for where we follow
 * Tornado's leniency and where RFC 6455.
 */
import { HTTP1Connection } from "./http1connection.js";
import { HTTPClientError } from "./httpclient.js";
import { HTTPHeaders, responses, type HTTPMessageDelegate, type RequestStartLine, type ResponseStartLine } from "./httputil.js";
import { IOLoop } from "./ioloop.js";
import { IOStream } from "./iostream.js";
import { appLog, genLog } from "./log.js";
import { platform } from "./platform/index.js";
import { RequestHandler } from "./web.js";
import {
  computeAcceptValue,
  DEFAULT_MAX_MESSAGE_SIZE,
  encodeExtension,
  parseExtensions,
  WebSocketClosedError,
  WebSocketError,
  WebSocketProtocol13,
  type CompressionOptions,
  type WebSocketDelegate,
  type WebSocketParams,
} from "./websocket_protocol.js";

export { WebSocketClosedError, WebSocketError, WebSocketProtocol13, computeAcceptValue, type CompressionOptions } from "./websocket_protocol.js";

export type WebSocketMessage = string | Uint8Array;

function closedPromise(message?: string): Promise<never> {
  const failed = Promise.reject(new WebSocketClosedError(message));
  failed.catch(() => {});
  return failed;
}

function formatError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
}

const NOT_SUPPORTED = "Method not supported for Web Sockets";
/** A detached handler's response headers: empty, shared, never written (header methods throw then). */
const DETACHED_HEADERS = new HTTPHeaders();
/** A shared empty output buffer: a handler keeps none of its own once open (thousands may be idle). */
const NO_OUTPUT = Object.freeze([]) as unknown as Uint8Array[];

/** The last connection's params, reused while the settings stay the same: one object for all connections, not one each. */
let lastParams: WebSocketParams | null = null;
function sharedParams(pingInterval: number | null, pingTimeout: number | null, maxMessageSize: number, compressionOptions: CompressionOptions | null): WebSocketParams {
  const p = lastParams;
  if (p !== null && p.pingInterval === pingInterval && p.pingTimeout === pingTimeout && p.maxMessageSize === maxMessageSize && p.compressionOptions === compressionOptions) return p;
  return (lastParams = Object.freeze({ pingInterval, pingTimeout, maxMessageSize, compressionOptions }));
}

/**
 * A websocket endpoint. Override `open`, `onMessage` and `onClose`; send with `writeMessage`.
 *
 * Settings: `websocketPingInterval` (seconds; pings keep idle connections alive and find dead
 * ones), `websocketPingTimeout` (seconds without a pong before closing; default max(3 pings,
 * 30 s)), `websocketMaxMessageSize` (bytes, default 10 MiB; a bigger message closes with 1009).
 */
export class WebSocketHandler extends RequestHandler implements WebSocketDelegate {
  /** The protocol once the handshake is accepted; null before and after. */
  wsConnection: WebSocketProtocol13 | null = null;
  closeCode: number | null = null;
  closeReason: string | null = null;
  private onCloseCalled = false;
  /** The stream was detached: HTTP output methods now throw. */
  private detached = false;

  /** The handshake. Do not override: implement `open` instead. */
  async get(...args: unknown[]): Promise<void> {
    const headers = this.request.headers;
    if ((headers.get("Upgrade") ?? "").toLowerCase() !== "websocket") {
      return this.refuse(400, 'Can "Upgrade" only to "WebSocket".');
    }
    const connection = (headers.get("Connection") ?? "").split(",").map((s) => s.trim().toLowerCase());
    if (!connection.includes("upgrade")) return this.refuse(400, '"Connection" must be "Upgrade".');
    // Version 8 clients send Sec-WebSocket-Origin; 13 sends Origin.
    const origin = headers.get("Origin") ?? headers.get("Sec-Websocket-Origin");
    if (origin !== undefined && !this.checkOrigin(origin)) return this.refuse(403, "Cross origin websockets not allowed");
    const protocol = this.getWebsocketProtocol();
    if (protocol === null) {
      this.setStatus(426, "Upgrade Required");
      this.setHeader("Sec-WebSocket-Version", "7, 8, 13");
      return;
    }
    this.wsConnection = protocol;
    await this.acceptConnection(protocol, args as string[]);
  }

  private refuse(status: number, message: string): void {
    this.setStatus(status);
    this.finish(message);
    genLog.debug("websocket", message);
  }

  /** Tornado's `accept_connection`: answers 101, takes the stream, runs `open`, then the frame loop. */
  private async acceptConnection(protocol: WebSocketProtocol13, openArgs: string[]): Promise<void> {
    const headers = this.request.headers;
    if (!headers.get("Host") || !headers.get("Sec-Websocket-Key") || !headers.get("Sec-Websocket-Version")) {
      return this.refuse(400, "Missing/Invalid WebSocket headers");
    }
    const offered = headers.get("Sec-WebSocket-Protocol");
    const subprotocols = offered ? offered.split(",").map((s) => s.trim()) : [];
    const selected = this.selectSubprotocol(subprotocols);
    if (selected) {
      if (!subprotocols.includes(selected)) throw new Error(`selectSubprotocol returned ${JSON.stringify(selected)}, which was not offered`);
      protocol.selectedSubprotocol = selected;
      this.setHeader("Sec-WebSocket-Protocol", selected);
    }
    if (protocol.compressionAvailable) {
      for (const [name, offered] of parseExtensions(headers.get("Sec-WebSocket-Extensions"))) {
        if (name !== "permessage-deflate") continue;
        // Tornado's header parser drops parameters without a value: an offered
        // client_max_window_bits is not echoed, and server_no_context_takeover is not honoured
        // (RFC 7692 7.1.1.1 would have it echoed). We answer with Tornado's bytes.
        const params = new Map([...offered].filter(([, v]) => v !== null));
        try {
          protocol.createCompressors("server", params);
        } catch (err) {
          // Tornado 6.2 trips over its own error handling here (a 500); a 400 says what is wrong.
          return this.refuse(400, `Invalid permessage-deflate offer: ${err instanceof Error ? err.message : String(err)}`);
        }
        this.setHeader("Sec-WebSocket-Extensions", encodeExtension("permessage-deflate", params));
        break;
      }
    }
    this.clearHeader("Content-Type");
    this.setStatus(101);
    this.setHeader("Upgrade", "websocket");
    this.setHeader("Connection", "Upgrade");
    this.setHeader("Sec-WebSocket-Accept", computeAcceptValue(headers.get("Sec-Websocket-Key")!));
    this.finish();
    protocol.stream = this.detachStream();
    protocol.startPinging();
    try {
      const opened = this.open(...openArgs);
      if (opened && typeof (opened as Promise<void>).then === "function") await opened;
    } catch (err) {
      this.logException(err);
      protocol.abort();
      this.onWsConnectionClose(protocol.closeCode, protocol.closeReason);
      return;
    }
    // Not awaited (Tornado awaits it): the handshake's request is over, and an idle connection
    // then holds no suspended async frames (get, acceptConnection), only the stream's callback.
    protocol.startFrameLoop();
  }

  private detachStream(): IOStream {
    const stream = this.detach() as IOStream;
    this.detached = true;
    // The 101's headers were written and no other response follows: do not keep them (and
    // their Map) for the life of the connection.
    this._headers = DETACHED_HEADERS;
    this._writeBuffer = NO_OUTPUT;
    // Nor the HTTP exchange: the stream is the websocket's now, and the detached connection
    // (its start lines, the server's connection context) would only hold memory. The request
    // itself stays, with its headers and arguments, as in Tornado, in strings of its own
    // rather than slices that would keep the whole head's text.
    this.request.connection = null;
    this.request.ownStrings();
    return stream;
  }

  // ---- what an application overrides --------------------------------------------------------

  /** The connection is open; `pathArgs` are the route's groups. May be async: no message is handled before it resolves. */
  open(..._pathArgs: string[]): void | Promise<void> {}

  /** A message arrived: text as a string, binary as bytes. May be async: the next message waits for it. */
  onMessage(_message: WebSocketMessage): void | Promise<void> {
    throw new Error("onMessage must be overridden");
  }

  /** A ping arrived (the pong is already sent). */
  onPing(_data: Uint8Array): void {}

  /** A pong arrived. */
  onPong(_data: Uint8Array): void | Promise<void> {}

  /** The connection closed; `closeCode`/`closeReason` hold what the client's close frame said. */
  onClose(): void {}

  /**
   * Which of the offered subprotocols to use (null: none; the client may then give up). Called
   * once per handshake, with an empty list when none were offered.
   */
  selectSubprotocol(_subprotocols: string[]): string | null {
    return null;
  }

  /** The subprotocol chosen by `selectSubprotocol`. */
  get selectedSubprotocol(): string | null {
    if (this.wsConnection === null) throw new Error("selectedSubprotocol before the connection was accepted");
    return this.wsConnection.selectedSubprotocol;
  }

  /** Options to enable permessage-deflate (`{}` for the defaults); null (the default) disables it. */
  getCompressionOptions(): CompressionOptions | null {
    return null;
  }

  /**
   * Whether to accept a browser's connection from `origin`. The default accepts only the same
   * host (`Origin`'s host:port equals the `Host` header): browsers let any page open a websocket
   * anywhere, so a cookie-authenticated socket would otherwise be open to every site.
   */
  checkOrigin(origin: string): boolean {
    let netloc: string;
    try {
      netloc = new URL(origin).host;
    } catch {
      // Python's urlparse of a string without "//" has an empty netloc.
      const m = /^[^:/?#]*:?\/\/([^/?#]*)/.exec(origin);
      netloc = m ? m[1]! : "";
    }
    return netloc.toLowerCase() === this.request.headers.get("Host");
  }

  get pingInterval(): number | null {
    return (this.settings.websocketPingInterval as number | undefined) ?? null;
  }

  get pingTimeout(): number | null {
    return (this.settings.websocketPingTimeout as number | undefined) ?? null;
  }

  get maxMessageSize(): number {
    return (this.settings.websocketMaxMessageSize as number | undefined) ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /** The protocol for the requested version (7, 8 and 13 are the same protocol), or null. */
  getWebsocketProtocol(): WebSocketProtocol13 | null {
    const version = this.request.headers.get("Sec-WebSocket-Version");
    if (version !== "7" && version !== "8" && version !== "13") return null;
    return new WebSocketProtocol13(this, false, sharedParams(this.pingInterval, this.pingTimeout, this.maxMessageSize, this.getCompressionOptions()));
  }

  // ---- what an application calls ------------------------------------------------------------

  /**
   * Sends a message: a string as text, bytes as binary when `binary` (as text otherwise), an
   * object as JSON. The promise resolves when the socket took it (flow control) and rejects
   * with `WebSocketClosedError` once the connection is closing; not awaiting it is fine.
   */
  writeMessage(message: WebSocketMessage | Record<string, unknown>, binary = false): Promise<void> {
    const ws = this.wsConnection;
    if (ws === null || ws.isClosing()) return closedPromise();
    return ws.writeMessage(message, binary);
  }

  /** Sends a ping (up to 125 bytes of data). Throws `WebSocketClosedError` when closing. */
  ping(data: string | Uint8Array = new Uint8Array(0)): void {
    const ws = this.wsConnection;
    if (ws === null || ws.isClosing()) throw new WebSocketClosedError();
    ws.writePing(typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  /** Starts the close handshake with an optional status `code` (RFC 6455 7.4.1) and `reason`. */
  close(code?: number | null, reason?: string | null): void {
    const ws = this.wsConnection;
    if (ws !== null) {
      ws.close(code, reason);
      this.wsConnection = null;
    }
  }

  /** Disables Nagle's algorithm, for small messages that must go out at once. */
  setNodelay(value: boolean): void {
    if (this.wsConnection === null) throw new Error("setNodelay before the connection was accepted");
    this.wsConnection.setNodelay(value);
  }

  /** The connection went away before the handshake finished, or is torn down. */
  override onConnectionClose(): void {
    const ws = this.wsConnection;
    if (ws !== null) {
      // A finished close handshake may still be flushing (compressed messages): leave it be.
      if (!(ws.clientTerminated && ws.serverTerminated)) ws.abort();
      this.wsConnection = null;
    }
    if (!this.onCloseCalled) {
      this.onCloseCalled = true;
      try {
        this.onClose();
      } catch (err) {
        this.logException(err);
      }
    }
  }

  /** @internal From the protocol: the connection is over. */
  onWsConnectionClose(code: number | null, reason: string | null): void {
    this.closeCode = code;
    this.closeReason = reason;
    this.onConnectionClose();
  }

  // After the upgrade there is no HTTP response to write to.
  override write(chunk: string | Uint8Array | Record<string, unknown>): void {
    if (this.detached) throw new Error(NOT_SUPPORTED);
    super.write(chunk);
  }
  override finish(chunk?: string | Uint8Array | Record<string, unknown> | null): Promise<void> {
    if (this.detached) throw new Error(NOT_SUPPORTED);
    return super.finish(chunk);
  }
  override flush(includeFooters = false): Promise<void> {
    if (this.detached) throw new Error(NOT_SUPPORTED);
    return super.flush(includeFooters);
  }
  override setHeader(name: string, value: string | number | Date | Uint8Array): void {
    if (this.detached) throw new Error(NOT_SUPPORTED);
    super.setHeader(name, value);
  }
  override setStatus(statusCode: number, reason?: string | null): void {
    if (this.detached) throw new Error(NOT_SUPPORTED);
    super.setStatus(statusCode, reason);
  }
  override addHeader(name: string, value: string | number | Date | Uint8Array): void {
    if (this.detached) throw new Error(NOT_SUPPORTED);
    super.addHeader(name, value);
  }
  override clearHeader(name: string): void {
    if (this.detached) throw new Error(NOT_SUPPORTED);
    super.clearHeader(name);
  }
  override redirect(url: string, permanent = false, status?: number): void {
    if (this.detached) throw new Error(NOT_SUPPORTED);
    super.redirect(url, permanent, status);
  }
}

// ---- the client ---------------------------------------------------------------------------

export interface WebSocketConnectOptions {
  /** Offered in `Sec-WebSocket-Protocol`; the server's choice is `selectedSubprotocol`. */
  subprotocols?: readonly string[] | null;
  /** Seconds between pings (0 or undefined: none). */
  pingInterval?: number | null;
  pingTimeout?: number | null;
  /** Largest message accepted (default 10 MiB); a bigger one closes with 1009. */
  maxMessageSize?: number;
  /** Offer permessage-deflate (if the platform can deflate). */
  compressionOptions?: CompressionOptions | null;
  /** Receive messages here instead of through `readMessage`; null means closed. */
  onMessageCallback?: ((message: WebSocketMessage | null) => void) | null;
  /** Extra request headers (e.g. Origin, Cookie). */
  headers?: Record<string, string> | ReadonlyArray<readonly [string, string]>;
  /** Seconds to connect (default 20); the handshake then has 20 seconds more, as Tornado's request timeout. */
  connectTimeout?: number;
}

/** A client's websocket (Tornado's `WebSocketClientConnection`); made by `websocketConnect`. */
export class WebSocketClientConnection implements WebSocketDelegate {
  /** The protocol while open; null once `close` was called. */
  protocol: WebSocketProtocol13 | null;
  closeCode: number | null = null;
  closeReason: string | null = null;
  /** Response headers of the handshake. */
  headers: HTTPHeaders = new HTTPHeaders();

  private readonly queue: WebSocketMessage[] = [];
  private readonly readers: ((message: WebSocketMessage | null) => void)[] = [];
  private readonly spaceWaiters: (() => void)[] = [];
  private closed = false;
  private readonly selected: string | null;

  /** @internal Use `websocketConnect`. */
  constructor(
    protocol: WebSocketProtocol13,
    private readonly onMessageCallback: ((message: WebSocketMessage | null) => void) | null,
  ) {
    this.protocol = protocol;
    this.selected = protocol.selectedSubprotocol;
  }

  /** The subprotocol the server selected, or null. */
  get selectedSubprotocol(): string | null {
    return this.selected;
  }

  /** Sends a message (see `WebSocketHandler.writeMessage`); rejects with `WebSocketClosedError` once closed. */
  writeMessage(message: WebSocketMessage | Record<string, unknown>, binary = false): Promise<void> {
    if (this.protocol === null) return closedPromise("Client connection has been closed");
    return this.protocol.writeMessage(message, binary);
  }

  /**
   * The next message; null once the connection is closed (and every later call). With an
   * `onMessageCallback` messages go there instead. One unread message is buffered; the next
   * waits on the wire (back-pressure), as Tornado's `Queue(1)`.
   */
  readMessage(): Promise<WebSocketMessage | null> {
    const message = this.queue.shift();
    if (message !== undefined) {
      this.spaceWaiters.shift()?.();
      return Promise.resolve(message);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.readers.push(resolve));
  }

  /** Starts the close handshake (`code`, `reason` as in `WebSocketHandler.close`). */
  close(code?: number | null, reason?: string | null): void {
    if (this.protocol !== null) {
      this.protocol.close(code, reason);
      this.protocol = null;
    }
  }

  /** Sends a ping with up to 125 bytes of data. */
  ping(data: string | Uint8Array = new Uint8Array(0)): void {
    if (this.protocol === null || this.protocol.isClosing()) throw new WebSocketClosedError();
    this.protocol.writePing(typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  /** @internal */
  onMessage(message: WebSocketMessage): Promise<void> | null {
    if (this.onMessageCallback) {
      this.onMessageCallback(message);
      return null;
    }
    const reader = this.readers.shift();
    if (reader) {
      reader(message);
      return null;
    }
    this.queue.push(message);
    if (this.queue.length <= 1) return null;
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  onPing(_data: Uint8Array): void {}
  onPong(_data: Uint8Array): void {}

  /** @internal */
  onWsConnectionClose(code: number | null, reason: string | null): void {
    this.closeCode = code;
    this.closeReason = reason;
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.spaceWaiters.splice(0)) waiter();
    if (this.onMessageCallback) this.onMessageCallback(null);
    for (const reader of this.readers.splice(0)) reader(null);
  }

  /** @internal */
  logException(err: unknown): void {
    appLog.error("websocket", `Uncaught exception ${formatError(err)}`);
  }
}

/** Reads the handshake response: a 101 detaches the stream; anything else is collected for the error. */
class HandshakeReader implements HTTPMessageDelegate {
  code = 0;
  reason = "";
  headers: HTTPHeaders | null = null;
  stream: IOStream | null = null;

  constructor(private readonly connection: HTTP1Connection) {}

  headersReceived(startLine: RequestStartLine | ResponseStartLine, headers: HTTPHeaders): void {
    const response = startLine as ResponseStartLine;
    this.code = response.code;
    this.reason = response.reason;
    this.headers = headers;
    if (response.code === 101) this.stream = this.connection.detach();
  }

  dataReceived(): void {}
  finish(): void {}
  onConnectionClose(): void {}
}

/**
 * Opens a websocket to `url` (`ws://host:port/path`). Resolves once the server accepted the
 * handshake; rejects with `HTTPClientError` for an error status (e.g. 403), `WebSocketError`
 * for any other non-websocket answer, or `HTTPClientError` 599 when the connection fails or
 * times out.
 */
export async function websocketConnect(url: string, options: WebSocketConnectOptions = {}): Promise<WebSocketClientConnection> {
  const parsed = new URL(url);
  if (parsed.protocol !== "ws:" && parsed.protocol !== "http:") throw new WebSocketError(`Unsupported url scheme: ${url}`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = parsed.port ? Number(parsed.port) : 80;
  const params: WebSocketParams = {
    pingInterval: options.pingInterval ?? null,
    pingTimeout: options.pingTimeout ?? null,
    maxMessageSize: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    compressionOptions: options.compressionOptions ?? null,
  };
  const protocol = new WebSocketProtocol13(null as unknown as WebSocketDelegate, true, params);
  const loop = IOLoop.current();
  let stream: IOStream | null = null;
  let timedOut: string | null = null;
  let rejectTimeout: (err: Error) => void = () => {};
  const timeout = new Promise<never>((_, reject) => (rejectTimeout = reject));
  timeout.catch(() => {});
  const fail = (message: string) => {
    timedOut = message;
    stream?.close();
    rejectTimeout(new HTTPClientError(599, message));
  };
  let timer = loop.callLater(options.connectTimeout ?? 20, fail, "Timeout while connecting");
  try {
    const connecting = platform().connect(host, port);
    connecting.then((socket) => timedOut !== null && socket.destroy(), () => {});
    let socket;
    try {
      socket = await Promise.race([connecting, timeout]);
    } catch (err) {
      if (err instanceof HTTPClientError) throw err;
      throw new HTTPClientError(599, err instanceof Error ? err.message : String(err));
    }
    stream = new IOStream(socket);
    loop.removeTimeout(timer);
    timer = loop.callLater(20, fail, "Timeout during request");

    const key = btoa(String.fromCharCode(...platform().randomBytes(16)));
    const pairs: [string, string][] = [
      ["Upgrade", "websocket"],
      ["Connection", "Upgrade"],
      ["Sec-WebSocket-Key", key],
      ["Sec-WebSocket-Version", "13"],
    ];
    if (options.subprotocols != null) pairs.push(["Sec-WebSocket-Protocol", options.subprotocols.join(",")]);
    const offerDeflate = protocol.compressionAvailable;
    // Always let the server choose our window size; no parameters of our own are asked for.
    if (offerDeflate) pairs.push(["Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"]);
    const extra = options.headers ? (Array.isArray(options.headers) ? options.headers : Object.entries(options.headers)) : [];
    const has = (name: string) => pairs.some(([k]) => k.toLowerCase() === name.toLowerCase());
    for (const [k, v] of extra as [string, string][]) {
      if (!has(k)) pairs.push([k, v]);
    }
    if (!has("Host")) pairs.push(["Host", parsed.host]);
    if (!has("User-Agent")) pairs.push(["User-Agent", "Tornado/6.2"]);

    const connection = new HTTP1Connection(stream, true, { noKeepAlive: true });
    const startLine: RequestStartLine = { kind: "request", method: "GET", path: (parsed.pathname || "/") + parsed.search, version: "HTTP/1.1" };
    void connection.writeHeaders(startLine, pairs).catch(() => {});
    connection.finish();
    const handshake = new HandshakeReader(connection);
    await Promise.race([connection.readResponse(handshake), timeout]);
    if (handshake.code !== 101 || handshake.stream === null) {
      stream.close();
      if (handshake.code === 0) throw new HTTPClientError(599, stream.error?.message ?? "Stream closed");
      if (handshake.code < 200 || handshake.code >= 300) throw new HTTPClientError(handshake.code, handshake.reason || responses[handshake.code]);
      throw new WebSocketError("Non-websocket response");
    }
    const headers = handshake.headers!;
    if ((headers.get("Upgrade") ?? "").toLowerCase() !== "websocket" || (headers.get("Connection") ?? "").toLowerCase() !== "upgrade" || headers.get("Sec-Websocket-Accept") !== computeAcceptValue(key)) {
      stream.close();
      throw new WebSocketError("Invalid websocket handshake response");
    }
    for (const [name, agreed] of parseExtensions(headers.get("Sec-WebSocket-Extensions"))) {
      if (name === "permessage-deflate" && offerDeflate) {
        try {
          protocol.createCompressors("client", agreed);
        } catch (err) {
          stream.close();
          throw err;
        }
      } else {
        stream.close();
        throw new WebSocketError(`unsupported extension ${JSON.stringify(name)}`);
      }
    }
    protocol.selectedSubprotocol = headers.get("Sec-WebSocket-Protocol") ?? null;
    protocol.stream = handshake.stream;
    const client = new WebSocketClientConnection(protocol, options.onMessageCallback ?? null);
    client.headers = headers;
    protocol.handler = client;
    protocol.startFrameLoop();
    protocol.startPinging();
    return client;
  } finally {
    loop.removeTimeout(timer);
  }
}
