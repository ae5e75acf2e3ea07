/**
 * Test helpers for the transport: run a suite over both platforms, and a raw-bytes HTTP client.
 *
 * The raw client parses responses with its own small, strict parser (not the runtime's), so a
 * server test checks the bytes on the wire rather than agreeing with itself.
 */
import { platform, setPlatform } from "./index.js";
import { defaultPlatform as nodePlatform } from "./node.js";
import { createMemoryPlatform } from "./memory.js";
import type { Platform, PlatformSocket } from "./types.js";
import { setLogSink, type LogRecord } from "../log.js";

export const PLATFORMS: { name: string; make: () => Platform }[] = [
  { name: "node", make: () => nodePlatform },
  { name: "memory", make: () => createMemoryPlatform({ log: () => {} }) },
];

/** Switches the runtime's platform; returns a function that restores the previous one. */
export function usePlatform(p: Platform): () => void {
  const previous = setPlatform(p);
  return () => void setPlatform(previous);
}

/** Captures log records (and keeps test output quiet); `restore()` puts the previous sink back. */
export function captureLogs(): { records: LogRecord[]; restore: () => void; text: () => string } {
  const records: LogRecord[] = [];
  const previous = setLogSink((r) => records.push(r));
  return {
    records,
    restore: () => void setLogSink(previous),
    text: () => records.map((r) => `${r.level} ${r.message}`).join("\n"),
  };
}

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);
export const latin1 = (b: Uint8Array) => {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode.apply(null, b.subarray(i, i + 8192) as unknown as number[]);
  return s;
};

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface RawResponse {
  statusLine: string;
  version: string;
  code: number;
  reason: string;
  /** [name, value] in wire order, names as sent. */
  headers: [string, string][];
  body: Uint8Array;
  /** The whole response as latin-1 text (head and body), for exact-byte assertions. */
  raw: string;
  header(name: string): string | undefined;
}

/** A client that writes raw bytes and reads raw responses. */
export class RawClient {
  // Received bytes are storage[start..length): reads advance `start`, so taking one response
  // from megabytes of pipelined ones costs no copy of the rest.
  private storage = new Uint8Array(0);
  private start = 0;
  private length = 0;
  private get buffer(): Uint8Array {
    return this.storage.subarray(this.start, this.length);
  }
  private consume(n: number): void {
    this.start += n;
    if (this.start === this.length) this.start = this.length = 0;
  }
  closed = false;
  ended = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: PlatformSocket) {
    socket.onData = (chunk) => {
      // Grow by doubling: megabyte responses arrive in many small chunks.
      if (this.length + chunk.length > this.storage.length) {
        const live = this.length - this.start;
        const next = new Uint8Array(Math.max(live * 2, live + chunk.length, 4096));
        next.set(this.storage.subarray(this.start, this.length));
        this.storage = next;
        this.start = 0;
        this.length = live;
      }
      this.storage.set(chunk, this.length);
      this.length += chunk.length;
      this.wake();
    };
    socket.onEnd = () => {
      this.ended = true;
      this.wake();
    };
    socket.onClose = () => {
      this.closed = true;
      this.wake();
    };
  }

  static async connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new RawClient(await platform().connect(host, port));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when `predicate` holds, checked after every event; rejects after `timeoutMs`. */
  private async until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}; have ${JSON.stringify(latin1(this.buffer))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(data: string | Uint8Array): void {
    this.socket.write(typeof data === "string" ? latin1Encode(data) : data);
  }

  /** Sends `data` one byte at a time, `delayMs` apart. */
  async trickle(data: string, delayMs: number): Promise<void> {
    for (const byte of latin1Encode(data)) {
      if (this.closed) return;
      this.socket.write(new Uint8Array([byte]));
      await sleep(delayMs);
    }
  }

  end(): void {
    this.socket.end();
  }

  close(): void {
    this.socket.destroy();
  }

  /** Everything received and not yet consumed, as latin-1. */
  pending(): string {
    return latin1(this.buffer);
  }

  /** Reads one complete response (Content-Length, chunked, or until close). `head` = response to HEAD (no body). */
  async readResponse(options: { timeoutMs?: number; head?: boolean } = {}): Promise<RawResponse> {
    const timeoutMs = options.timeoutMs ?? 5000;
    let parsed: { response: RawResponse; length: number } | null = null;
    await this.until(
      () => {
        parsed = parseResponse(this.buffer, this.ended || this.closed, options.head ?? false);
        return parsed !== null || ((this.ended || this.closed) && this.buffer.length === 0);
      },
      timeoutMs,
      "a response",
    );
    if (parsed === null) throw new Error("connection closed before a response");
    const { response, length } = parsed as { response: RawResponse; length: number };
    this.consume(length);
    return response;
  }

  /** Waits until the server closes (or ends) the connection; returns whatever unread bytes remain. */
  async waitClosed(timeoutMs = 5000): Promise<string> {
    await this.until(() => this.ended || this.closed, timeoutMs, "the connection to close");
    return this.pending();
  }

  /** Waits until at least `n` bytes are buffered. */
  async waitBytes(n: number, timeoutMs = 5000): Promise<string> {
    await this.until(() => this.buffer.length >= n || this.closed || this.ended, timeoutMs, `${n} bytes`);
    return this.pending();
  }

  /** Takes exactly `n` bytes (waiting for them); null if the connection ends first. */
  async readBytes(n: number, timeoutMs = 5000): Promise<Uint8Array | null> {
    await this.until(() => this.buffer.length >= n || this.closed || this.ended, timeoutMs, `${n} bytes`);
    if (this.buffer.length < n) return null;
    const out = this.buffer.slice(0, n);
    this.consume(n);
    return out;
  }

  /** Drops buffered bytes up to and including `marker`. */
  consumeThrough(marker: string): void {
    const at = latin1(this.buffer).indexOf(marker);
    if (at < 0) throw new Error(`marker ${JSON.stringify(marker)} not buffered`);
    this.consume(at + marker.length);
  }
}

export function latin1Encode(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/**
 * Parses one response at the start of `data`. Returns null if incomplete. Throws if the bytes
 * are not a well-formed HTTP/1.x response (what the property test relies on).
 */
export function parseResponse(data: Uint8Array, eof: boolean, isHead = false): { response: RawResponse; length: number } | null {
  let headEnd = -1;
  for (let i = data.indexOf(13); i >= 0 && i + 3 < data.length; i = data.indexOf(13, i + 1)) {
    if (data[i + 1] === 10 && data[i + 2] === 13 && data[i + 3] === 10) {
      headEnd = i;
      break;
    }
  }
  // Cheap early exit for a Content-Length body that has not fully arrived.
  if (headEnd >= 0 && !eof && !isHead) {
    const m = /\r\ncontent-length: ?([0-9]+)\r\n/i.exec(latin1(data.subarray(0, headEnd + 2)));
    if (m && data.length < headEnd + 4 + Number(m[1])) return null;
  }
  if (headEnd < 0) {
    if (eof && data.length > 0) throw new Error(`truncated response head: ${JSON.stringify(latin1(data))}`);
    return null;
  }
  // Only what the response spans is decoded: the buffer may hold megabytes of later responses.
  let whole = null as string | null;
  const wholeText = () => (whole ??= latin1(data));
  const lines = latin1(data.subarray(0, headEnd)).split("\r\n");
  const statusLine = lines[0]!;
  const m = /^(HTTP\/1\.[01]) ([1-5][0-9][0-9]) ([^\r\n]*)$/.exec(statusLine);
  if (!m) throw new Error(`malformed status line ${JSON.stringify(statusLine)}`);
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const hm = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+): ?(.*)$/.exec(line);
    if (!hm) throw new Error(`malformed header line ${JSON.stringify(line)}`);
    headers.push([hm[1]!, hm[2]!]);
  }
  const get = (name: string) => {
    const found = headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
    return found.length ? found.join(",") : undefined;
  };
  const code = Number(m[2]);
  let pos = headEnd + 4;
  let body: Uint8Array;
  const te = get("Transfer-Encoding");
  const cl = get("Content-Length");
  if (te !== undefined && cl !== undefined) throw new Error("both Transfer-Encoding and Content-Length");
  if (isHead || code === 204 || code === 304 || (code >= 100 && code < 200)) {
    body = new Uint8Array(0);
  } else if (te !== undefined) {
    if (te.toLowerCase() !== "chunked") throw new Error(`unexpected Transfer-Encoding ${te}`);
    const parts: number[] = [];
    const text = wholeText();
    for (;;) {
      const eol = text.indexOf("\r\n", pos);
      if (eol < 0) return incomplete(eof);
      const sizeText = text.slice(pos, eol);
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
      const size = parseInt(sizeText, 16);
      if (eol + 2 + size + 2 > text.length) return incomplete(eof);
      if (text.slice(eol + 2 + size, eol + 4 + size) !== "\r\n") throw new Error("chunk not followed by CRLF");
      for (let i = 0; i < size; i++) parts.push(data[eol + 2 + i]!);
      pos = eol + 4 + size;
      if (size === 0) break;
    }
    body = new Uint8Array(parts);
  } else if (cl !== undefined) {
    if (!/^[0-9]+$/.test(cl)) throw new Error(`bad Content-Length ${cl}`);
    const n = Number(cl);
    if (pos + n > data.length) return incomplete(eof);
    body = data.slice(pos, pos + n);
    pos += n;
  } else if (code >= 400 && data.length === pos) {
    // A bare error status line ("HTTP/1.1 400 Bad Request\r\n\r\n") followed by a close.
    body = new Uint8Array(0);
  } else {
    if (!eof) return null;
    body = data.slice(pos);
    pos = data.length;
  }
  const response: RawResponse = {
    statusLine,
    version: m[1]!,
    code,
    reason: m[3]!,
    headers,
    body,
    raw: whole !== null ? whole.slice(0, pos) : latin1(data.subarray(0, pos)),
    header: get,
  };
  return { response, length: pos };
}

function incomplete(eof: boolean): null {
  if (eof) throw new Error("truncated response body");
  return null;
}
