/**
 * Test helpers for websockets at the byte level: handshakes and frames written by hand, frames
 * read back with a small parser of their own (not the runtime's), over `RawClient` (either
 * platform). Used by the websocket tests; not part of the runtime's API.
 */
import { RawClient, latin1, latin1Encode, type RawResponse } from "./platform/testkit.js";

export const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
/** RFC 6455's example: the accept value for `KEY`. */
export const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
export const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

/** A handshake request; `headers` replace or add to the standard ones (a null value drops one). */
export function handshakeRequest(path: string, host: string, headers: Record<string, string | null> = {}, method = "GET"): string {
  const base: Record<string, string | null> = {
    Host: host,
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": KEY,
    "Sec-WebSocket-Version": "13",
    ...headers,
  };
  let out = `${method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(base)) if (v !== null) out += `${k}: ${v}\r\n`;
  return out + "\r\n";
}

export interface FrameOptions {
  fin?: boolean;
  /** RSV1..3 bits, as 0x40/0x20/0x10. */
  rsv?: number;
  /** null sends the frame unmasked. */
  mask?: Uint8Array | null;
  /** Force a length form: 7, 16 or 64 bits (a longer form than needed is legal). */
  lengthBits?: 7 | 16 | 64;
}

/** One frame, built byte by byte. */
export function frame(opcode: number, payload: Uint8Array | string = new Uint8Array(0), options: FrameOptions = {}): Uint8Array {
  const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const mask = options.mask === undefined ? MASK : options.mask;
  const bits = options.lengthBits ?? (data.length < 126 ? 7 : data.length <= 0xffff ? 16 : 64);
  const head: number[] = [((options.fin ?? true) ? 0x80 : 0) | (options.rsv ?? 0) | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (bits === 7) head.push(data.length | maskBit);
  else if (bits === 16) head.push(126 | maskBit, data.length >> 8, data.length & 0xff);
  else {
    head.push(127 | maskBit);
    const high = Math.floor(data.length / 2 ** 32);
    for (const b of [high >>> 24, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff]) head.push(b);
    for (const shift of [24, 16, 8, 0]) head.push((data.length >>> shift) & 0xff);
  }
  if (mask) head.push(...mask);
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  for (let i = 0; i < data.length; i++) out[head.length + i] = mask ? data[i]! ^ mask[i % 4]! : data[i]!;
  return out;
}

/** A close frame's payload: the code (2 bytes) and the reason. */
export function closePayload(code: number, reason = ""): Uint8Array {
  const text = new TextEncoder().encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

export interface ReadFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/** Reads one frame from the server; null if the connection ended first. */
export async function readFrame(client: RawClient, timeoutMs = 5000): Promise<ReadFrame | null> {
  const head = await client.readBytes(2, timeoutMs);
  if (head === null) return null;
  let length = head[1]! & 0x7f;
  if (length === 126) {
    const ext = await client.readBytes(2, timeoutMs);
    if (ext === null) return null;
    length = (ext[0]! << 8) | ext[1]!;
  } else if (length === 127) {
    const ext = await client.readBytes(8, timeoutMs);
    if (ext === null) return null;
    length = Number(new DataView(ext.buffer, ext.byteOffset, 8).getBigUint64(0));
  }
  const masked = (head[1]! & 0x80) !== 0;
  const mask = masked ? await client.readBytes(4, timeoutMs) : null;
  const payload = length === 0 ? new Uint8Array(0) : await client.readBytes(length, timeoutMs);
  if (payload === null || (masked && mask === null)) return null;
  if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
  return { fin: (head[0]! & 0x80) !== 0, rsv: head[0]! & 0x70, opcode: head[0]! & 0x0f, masked, payload };
}

/** A frame as one comparable line: "text hi", "binary 00ff", "close 1009 message too big", "ping ", ... */
export function describeFrame(f: ReadFrame): string {
  const flags = `${f.fin ? "" : "(not fin) "}${f.rsv ? `(rsv ${f.rsv.toString(16)}) ` : ""}${f.masked ? "(masked) " : ""}`;
  const names: Record<number, string> = { 0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong" };
  const name = names[f.opcode] ?? `opcode ${f.opcode}`;
  let body: string;
  if (f.opcode === 8) body = f.payload.length >= 2 ? `${(f.payload[0]! << 8) | f.payload[1]!} ${new TextDecoder().decode(f.payload.subarray(2))}` : Buffer.from(f.payload).toString("hex");
  else if (f.opcode === 2 || f.payload.length > 200) body = f.payload.length > 200 ? `${f.payload.length} bytes` : Buffer.from(f.payload).toString("hex");
  else body = latin1(f.payload);
  return `${flags}${name} ${body}`.trimEnd();
}

/** Every frame until the server closes, then "<closed>" (or "<open>" if it is still open after `quietMs`). */
export async function readUntilClosed(client: RawClient, quietMs = 1500): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    let f: ReadFrame | null;
    try {
      f = await readFrame(client, quietMs);
    } catch {
      out.push(client.pending() ? `<open, partial ${JSON.stringify(client.pending())}>` : "<open>");
      return out;
    }
    if (f === null) {
      if (client.pending()) out.push(`<partial ${JSON.stringify(client.pending())}>`);
      out.push("<closed>");
      return out;
    }
    out.push(describeFrame(f));
  }
}

/** Connects, sends a handshake, and reads the response head. */
export async function openRaw(port: number, path = "/echo", headers: Record<string, string | null> = {}): Promise<{ client: RawClient; response: RawResponse }> {
  const client = await RawClient.connect(port);
  client.send(handshakeRequest(path, `127.0.0.1:${port}`, headers));
  const response = await client.readResponse();
  return { client, response };
}

export { latin1Encode };
