/**
 * Helpers for testing handlers without sockets (Tornado's `tornado.testing` plays this part):
 * drive an `Application` as the HTTP server drives it, through a fake `HTTPConnection` that
 * records what the handler wrote and refuses what a real connection would refuse (headers
 * twice, a write before the headers, finish twice).
 */
import { HTTPHeaders, type HTTPConnection, type RequestStartLine, type ResponseStartLine } from "./httputil.js";
import type { Application } from "./web.js";
import { utf8 } from "./escape.js";

export class FakeConnection implements HTTPConnection {
  startLine: ResponseStartLine | null = null;
  headers: HTTPHeaders | null = null;
  chunks: Uint8Array[] = [];
  finished = false;
  closeCallback: (() => void) | null = null;
  readonly context = { remoteIp: "127.0.0.1", protocol: "http" };
  private resolveDone!: () => void;
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  writeHeaders(startLine: ResponseStartLine | RequestStartLine, headers: HTTPHeaders, chunk?: Uint8Array | string): Promise<void> {
    if (this.startLine) throw new Error("writeHeaders called twice");
    this.startLine = startLine as ResponseStartLine;
    this.headers = headers.copy();
    if (chunk) this.chunks.push(typeof chunk === "string" ? utf8(chunk) : chunk.slice());
    return Promise.resolve();
  }
  write(chunk: Uint8Array): Promise<void> {
    if (!this.startLine) throw new Error("write before writeHeaders");
    this.chunks.push(chunk.slice());
    return Promise.resolve();
  }
  finish(): void {
    if (this.finished) throw new Error("finish called twice");
    this.finished = true;
    this.resolveDone();
  }
  setCloseCallback<T>(callback: ((this: T) => void) | null, thisArg?: T): void {
    this.closeCallback = callback === null ? null : () => callback.call(thisArg as T);
  }
}

export interface FakeResponse {
  code: number;
  reason: string;
  headers: HTTPHeaders;
  /** Each write the handler made reach the connection (one per flush). */
  chunks: Uint8Array[];
  body: string;
  bodyBytes: Uint8Array;
  /** The response as an HTTP/1.1 server would frame it without chunked encoding: status line, headers, blank line, body. */
  raw: string;
  connection: FakeConnection;
}

export async function request(
  app: Application,
  method: string,
  uri: string,
  options: { headers?: Record<string, string> | [string, string][]; body?: string | Uint8Array; version?: string } = {},
): Promise<FakeResponse> {
  const connection = new FakeConnection();
  const delegate = app.startRequest({}, connection);
  const headers = new HTTPHeaders(options.headers ?? {});
  if (!headers.has("Host")) headers.set("Host", "127.0.0.1:8888");
  const body = typeof options.body === "string" ? new TextEncoder().encode(options.body) : options.body;
  if (body && !headers.has("Content-Length")) headers.set("Content-Length", String(body.length));
  await delegate.headersReceived({ kind: "request", method, path: uri, version: options.version ?? "HTTP/1.1" }, headers);
  if (body?.length) await delegate.dataReceived(body);
  delegate.finish();
  await connection.done;
  // Writes made after finish (a bug) would land here too; let the microtasks settle.
  await new Promise((r) => setTimeout(r, 0));
  return toResponse(connection);
}

export function toResponse(connection: FakeConnection): FakeResponse {
  const start = connection.startLine!;
  const headers = connection.headers!;
  let total = 0;
  for (const c of connection.chunks) total += c.length;
  const bodyBytes = new Uint8Array(total);
  let at = 0;
  for (const c of connection.chunks) {
    bodyBytes.set(c, at);
    at += c.length;
  }
  const body = new TextDecoder().decode(bodyBytes);
  let raw = `HTTP/1.1 ${start.code} ${start.reason}\r\n`;
  for (const [k, v] of headers.getAll()) raw += `${k}: ${v}\r\n`;
  raw += "\r\n" + body;
  return { code: start.code, reason: start.reason, headers, chunks: connection.chunks, body, bodyBytes, raw, connection };
}

/** Collects log records until `stop()`; restores the previous sink. */
