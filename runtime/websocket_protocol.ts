/**
 * The WebSocket wire protocol (RFC 6455) after the handshake: frames in and out, the close
 * handshake, pings, and permessage-deflate (RFC 7692). It is Tornado's `WebSocketProtocol13`;
 * `websocket.ts` holds the handshakes and the public classes that drive it.
 *
 * One protocol object owns one `IOStream` (detached from HTTP) and talks to a delegate: the
 * server's `WebSocketHandler` or the client's `WebSocketClientConnection`.
 *
 * Frames are read as Tornado reads them: a 2-byte header, the extended length, the mask, the
 * payload, each checked in Tornado's order, so a peer sees the same outcome from either server.
 * Fields already buffered are taken without waiting (`IOStream.readBufferedBytes`), so a burst
 * of frames costs no promise per field. A message is handled before the next frame is read,
 * and an async `onMessage` is awaited first: messages are handled in order.
 *
 * Where Tornado 6 is more lenient than the RFC, we do as Tornado does, so a peer sees the same
 * bytes from either server:
 * - Unmasked frames from a client are accepted (RFC 6455 5.1 says fail the connection).
 * - A protocol error (reserved bits, an unknown opcode, a fragmented or over-long control frame,
 *   a continuation with nothing to continue, a new message inside a fragmented one, text that
 *   is not UTF-8) drops the connection without a close frame (RFC 7.1.7 would send 1002/1007).
 * - A close frame's code is echoed as received, not validated (1005, 999, 5000 are echoed); a
 *   1-byte close payload gets an empty close frame back.
 * - A message over `maxMessageSize` is answered with close 1009 "message too big", then dropped.
 * - permessage-deflate parameters without a value in a client's offer are ignored, as Tornado's
 *   header parser drops them (so `server_no_context_takeover` is not echoed; RFC 7692 asks it
 *   to be).
 * runtime/websocket_tornado.test.ts holds each of these to Tornado's bytes. Where we differ: an
 * `onMessage` promise that rejects is logged and drops the connection (Tornado stops reading
 * and leaves it open), and a control frame between compressed fragments does not lose the
 * message's compression flag (Tornado's does).
 *
 * Node's zlib compresses asynchronously, so a compressed message may still be on its way when
 * the next write is asked for: writes, control frames and the final close wait in `writeChain`,
 * so frames always leave in the order they were written.
 */
import { jsonEncode, utf8 } from "./escape.js";
import { joinChunks } from "./httpserver.js";
import { IOLoop, PeriodicCallback, type TimeoutHandle } from "./ioloop.js";
import { IOStream, StreamClosedError, WRITTEN, type StreamReader } from "./iostream.js";
import { platform } from "./platform/index.js";
import type { RawDeflater, RawInflater } from "./platform/types.js";

/** A write or ping on a websocket that is closed (or closing). */
export class WebSocketClosedError extends Error {
  override name = "WebSocketClosedError";
  constructor(message = "WebSocket is closed") {
    super(message);
  }
}

/** A websocket handshake or protocol failure on the client side. */
export class WebSocketError extends Error {
  override name = "WebSocketError";
}

export const OPCODE_CONTINUATION = 0x0;
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

const FIN = 0x80;
const RSV1 = 0x40;
const RSV_MASK = 0x70;
const OPCODE_MASK = 0x0f;
/** Not a header bit: `frameBits` keeps the second byte's mask flag here. */
const MASKED = 0x100;

/** Tornado's `_default_max_message_size`: 10 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 10 * 1024 * 1024;

/** What `getCompressionOptions` returns (an empty object enables compression with defaults). */
export interface CompressionOptions {
  /** zlib level 0..9 (default 6). */
  compressionLevel?: number;
  /** zlib memLevel 1..9 (default 8). */
  memLevel?: number;
}

/** The per-connection settings (Tornado's `_WebSocketParams`). */
export interface WebSocketParams {
  /** Seconds between pings; 0 or undefined sends none. */
  pingInterval?: number | null;
  /** Seconds without a pong before closing; default max(3 pings, 30 s). */
  pingTimeout?: number | null;
  maxMessageSize: number;
  compressionOptions?: CompressionOptions | null;
}

/** The side of the protocol that gets messages: a `WebSocketHandler` or a client connection. */
export interface WebSocketDelegate {
  onMessage(message: string | Uint8Array): unknown;
  onPing(data: Uint8Array): unknown;
  onPong(data: Uint8Array): unknown;
  /** The connection is over (both close frames exchanged, or the stream dropped). */
  onWsConnectionClose(code: number | null, reason: string | null): void;
  logException(err: unknown): void;
}

const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const EMPTY = new Uint8Array(0);
const SYNC_FLUSH_TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + the RFC's GUID)). */
export function computeAcceptValue(key: string): string {
  const hex = platform().sha1Hex(utf8(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
  let binary = "";
  for (let i = 0; i < hex.length; i += 2) binary += String.fromCharCode(Number.parseInt(hex.slice(i, i + 2), 16));
  return btoa(binary);
}

/** XORs `data` with the 4-byte `mask` into a new array (Tornado's `_websocket_mask`). */
export function websocketMask(mask: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  const m0 = mask[0]!, m1 = mask[1]!, m2 = mask[2]!, m3 = mask[3]!;
  const n = data.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    out[i] = data[i]! ^ m0;
    out[i + 1] = data[i + 1]! ^ m1;
    out[i + 2] = data[i + 2]! ^ m2;
    out[i + 3] = data[i + 3]! ^ m3;
  }
  for (; i < n; i++) out[i] = data[i]! ^ mask[i & 3]!;
  return out;
}

/**
 * One frame's bytes: header, 7/16/64-bit length, the mask if given, the (masked) payload.
 * Control frames must be final and at most 125 bytes, as Tornado's `_write_frame` insists.
 */
export function encodeFrame(fin: boolean, opcode: number, payload: Uint8Array, flags = 0, mask: Uint8Array | null = null): Uint8Array {
  const length = payload.length;
  if (opcode & 0x8) {
    if (!fin) throw new Error("control frames may not be fragmented");
    if (length > 125) throw new Error("control frame payloads may not exceed 125 bytes");
  }
  const lengthBytes = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
  const headerSize = 2 + lengthBytes + (mask ? 4 : 0);
  const frame = new Uint8Array(headerSize + length);
  frame[0] = (fin ? FIN : 0) | opcode | flags;
  const maskBit = mask ? 0x80 : 0;
  if (lengthBytes === 0) frame[1] = length | maskBit;
  else if (lengthBytes === 2) {
    frame[1] = 126 | maskBit;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 127 | maskBit;
    const high = Math.floor(length / 0x100000000);
    const view = new DataView(frame.buffer);
    view.setUint32(2, high);
    view.setUint32(6, length >>> 0);
  }
  if (mask) {
    frame.set(mask, headerSize - 4);
    const at = headerSize;
    for (let i = 0; i < length; i++) frame[at + i] = payload[i]! ^ mask[i & 3]!;
  } else {
    frame.set(payload, headerSize);
  }
  return frame;
}

/**
 * The last uncompressed server text frame, by its text: a message written to many clients (a
 * broadcast) is encoded once, not once per client. Frames are never changed once made, so one
 * can go to every socket. Only frames up to 64 KiB are kept.
 */
let lastText: string | null = null;
let lastTextFrame: Uint8Array = EMPTY;
function serverTextFrame(text: string): Uint8Array {
  if (text === lastText) return lastTextFrame;
  const frame = encodeFrame(true, OPCODE_TEXT, utf8(text));
  if (frame.length <= 65536) {
    lastText = text;
    lastTextFrame = frame;
  }
  return frame;
}

/** Random masking keys, drawn from `platform().randomBytes` 4 KiB at a time. */
let maskPool: Uint8Array = EMPTY;
let maskAt = 0;
function nextMask(): Uint8Array {
  if (maskAt + 4 > maskPool.length) {
    maskPool = platform().randomBytes(4096);
    maskAt = 0;
  }
  const mask = maskPool.subarray(maskAt, maskAt + 4);
  maskAt += 4;
  return mask;
}

/** `Sec-WebSocket-Extensions` → [name, params] pairs; a parameter without a value maps to null. */
export function parseExtensions(header: string | undefined): [string, Map<string, string | null>][] {
  if (!header) return [];
  return header.split(",").map((extension) => {
    const [name, ...params] = extension.split(";").map((s) => s.trim());
    const map = new Map<string, string | null>();
    for (const p of params) {
      const eq = p.indexOf("=");
      if (eq < 0) map.set(p, null);
      else {
        let value = p.slice(eq + 1).trim();
        if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
        map.set(p.slice(0, eq).trim().toLowerCase(), value);
      }
    }
    return [name!, map];
  });
}

/** `permessage-deflate; client_max_window_bits=10` from a name and its parameters (Tornado's `_encode_header`). */
export function encodeExtension(name: string, params: Map<string, string | null>): string {
  const parts = [name];
  for (const [k, v] of params) parts.push(v === null ? k : `${k}=${v}`);
  return parts.join("; ");
}

const ALLOWED_DEFLATE_PARAMS = new Set(["server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits", "client_max_window_bits"]);

function windowBitsOf(value: string | null | undefined): number {
  if (value === undefined || value === null) return 15;
  const bits = Number(value);
  if (!Number.isInteger(bits) || bits < 8 || bits > 15) throw new WebSocketError(`Invalid max_wbits value ${JSON.stringify(value)}; allowed range 8-15`);
  // zlib's raw deflate has no 256-byte window; 9 reads everything a window of 8 writes.
  return Math.max(bits, 9);
}

/** Compresses each message into one raw-deflate block, as `_PerMessageDeflateCompressor`. */
class PerMessageDeflateCompressor {
  private engine: RawDeflater | null = null;
  constructor(
    private readonly persistent: boolean,
    private readonly windowBits: number,
    private readonly options: CompressionOptions,
  ) {}

  compress(data: Uint8Array): Uint8Array | Promise<Uint8Array> {
    const engine = this.engine ?? platform().deflate!.createDeflater({ windowBits: this.windowBits, level: this.options.compressionLevel, memLevel: this.options.memLevel });
    if (this.persistent) this.engine = engine;
    const out = engine.compress(data);
    const strip = (bytes: Uint8Array): Uint8Array => {
      if (!this.persistent) engine.close();
      // RFC 7692 7.2.1: drop the 00 00 ff ff that every sync flush ends with.
      return bytes.subarray(0, bytes.length - 4);
    };
    return out instanceof Promise ? out.then(strip) : strip(out);
  }

  close(): void {
    this.engine?.close();
    this.engine = null;
  }
}

/** Decompresses one message at a time, refusing output over the message size limit. */
class PerMessageDeflateDecompressor {
  private engine: RawInflater | null = null;
  constructor(
    private readonly persistent: boolean,
    private readonly windowBits: number,
    private readonly maxMessageSize: number,
  ) {}

  decompress(data: Uint8Array): Uint8Array | null | Promise<Uint8Array | null> {
    const engine = this.engine ?? platform().deflate!.createInflater({ windowBits: this.windowBits, maxOutputLength: this.maxMessageSize });
    if (this.persistent) this.engine = engine;
    const input = new Uint8Array(data.length + 4);
    input.set(data);
    input.set(SYNC_FLUSH_TAIL, data.length);
    const out = engine.inflate(input);
    if (!this.persistent) {
      if (out instanceof Promise) void out.finally(() => engine.close()).catch(() => {});
      else engine.close();
    }
    return out;
  }

  close(): void {
    this.engine?.close();
    this.engine = null;
  }
}

/** A message arriving in fragments: the chunks so far, their size, the first frame's opcode. */
interface Fragments {
  chunks: Uint8Array[];
  size: number;
  opcode: number;
}

/** What a frame step returns: null when it finished synchronously, else the promise to await. */
type Step = Promise<unknown> | null;
/** A frame step that needs the next stage's bytes. */
const CONTINUE = 1;

const enum Stage {
  Header,
  Length,
  Payload,
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function";
}

/** Tornado's `WebSocketProtocol13`: one websocket connection over a detached stream. */
export class WebSocketProtocol13 implements StreamReader {
  stream!: IOStream;
  /** The peer sent its close frame (or the connection dropped). */
  clientTerminated = false;
  /** We sent our close frame (or the connection dropped). */
  serverTerminated = false;
  closeCode: number | null = null;
  closeReason: string | null = null;
  selectedSubprotocol: string | null = null;
  lastPing = 0;
  lastPong = 0;
  /** Bytes of frames read, headers included (Tornado's `_wire_bytes_in`). */
  wireBytesIn = 0;

  /** The fragmented message being read, if any (an object only while there is one). */
  private fragments: Fragments | null = null;
  private frameCompressed = false;
  private compressor: PerMessageDeflateCompressor | null = null;
  private decompressor: PerMessageDeflateDecompressor | null = null;
  /** Compressed writes in order when the platform compresses asynchronously. */
  private writeChain: Promise<unknown> | null = null;
  private waiting: TimeoutHandle | null = null;
  private pingCallback: PeriodicCallback | null = null;

  constructor(
    public handler: WebSocketDelegate,
    readonly maskOutgoing: boolean,
    readonly params: WebSocketParams,
  ) {}

  /** True when compression options are set and the platform can deflate. */
  get compressionAvailable(): boolean {
    return this.params.compressionOptions != null && platform().deflate !== undefined;
  }

  get compressed(): boolean {
    return this.compressor !== null;
  }

  /**
   * Sets up permessage-deflate from the agreed parameters (`side` is the end we are). Unknown
   * parameters are an error, as in Tornado.
   */
  createCompressors(side: "server" | "client", agreed: Map<string, string | null>): void {
    for (const key of agreed.keys()) {
      if (!ALLOWED_DEFLATE_PARAMS.has(key)) throw new WebSocketError(`unsupported compression parameter '${key}'`);
    }
    const other = side === "server" ? "client" : "server";
    const options = this.params.compressionOptions ?? {};
    this.compressor = new PerMessageDeflateCompressor(!agreed.has(`${side}_no_context_takeover`), windowBitsOf(agreed.get(`${side}_max_window_bits`)), options);
    this.decompressor = new PerMessageDeflateDecompressor(!agreed.has(`${other}_no_context_takeover`), windowBitsOf(agreed.get(`${other}_max_window_bits`)), this.params.maxMessageSize);
  }

  // ---- writing ------------------------------------------------------------------------------

  /** Writes one frame as is (masked on the client). Tests use it for fragments; applications use `writeMessage`. */
  writeFrame(fin: boolean, opcode: number, data: Uint8Array, flags = 0): Promise<void> {
    return this.stream.write(encodeFrame(fin, opcode, data, flags, this.maskOutgoing ? nextMask() : null));
  }

  /**
   * Sends a message: a string as text, bytes as binary (or text with `binary` false: bytes are
   * sent as they are), an object as JSON text. Resolves once the socket took it; rejects with
   * `WebSocketClosedError` if the connection is closed (the rejection is pre-handled: a caller
   * that does not await loses nothing but the message, as in Tornado).
   */
  writeMessage(message: string | Uint8Array | object, binary = false): Promise<void> {
    if (typeof message === "string" && !binary && this.compressor === null && !this.maskOutgoing) {
      return this.closedAsWebSocket(this.stream.write(serverTextFrame(message)));
    }
    const opcode = binary ? OPCODE_BINARY : OPCODE_TEXT;
    const bytes = message instanceof Uint8Array ? message : utf8(typeof message === "string" ? message : jsonEncode(message));
    if (this.compressor === null) return this.closedAsWebSocket(this.writeFrame(true, opcode, bytes));
    const compressed = this.compressor.compress(bytes);
    if (!(compressed instanceof Promise) && this.writeChain === null) return this.closedAsWebSocket(this.writeFrame(true, opcode, compressed, RSV1));
    const previous = this.writeChain ?? Promise.resolve();
    const written = Promise.all([compressed, previous]).then(([data]) => this.writeFrame(true, opcode, data, RSV1));
    const chain = written.catch(() => {});
    this.writeChain = chain;
    void chain.then(() => {
      if (this.writeChain === chain) this.writeChain = null;
    });
    return this.closedAsWebSocket(written);
  }

  private closedAsWebSocket(written: Promise<void>): Promise<void> {
    if (written === WRITTEN) return written;
    const mapped = written.catch((err: unknown) => {
      throw err instanceof StreamClosedError ? new WebSocketClosedError() : err;
    });
    mapped.catch(() => {});
    return mapped;
  }

  writePing(data: Uint8Array): void {
    this.writeControl(OPCODE_PING, data);
  }

  /** A control frame goes out after any message still being compressed, never before it. */
  private writeControl(opcode: number, data: Uint8Array): void {
    const frame = encodeFrame(true, opcode, data, 0, this.maskOutgoing ? nextMask() : null);
    const send = () => this.stream.write(frame).catch(() => this.abort());
    if (this.writeChain === null) void send();
    else void this.writeChain.then(send);
  }

  // ---- reading ------------------------------------------------------------------------------

  /**
   * Reads and handles frames until the peer's close frame or the stream's end, then tells the
   * delegate; the promise resolves then. The loop is driven by the stream's read callbacks, not
   * by an async function: an idle connection holds no suspended frames or promises, and a
   * message costs none unless `onMessage` returns one.
   */
  receiveFrameLoop(): Promise<void> {
    const done = new Promise<void>((resolve) => (this.loopEnded = resolve));
    this.pump();
    return done;
  }

  /** Starts the frame loop without a promise for its end (the server's and client's way). */
  startFrameLoop(): void {
    this.pump();
  }

  private loopEnded: (() => void) | null = null;
  /** The frame being read: its stage, and its header's first byte (FIN, opcode) with MASKED (0x100). */
  private stage = Stage.Header;
  private frameBits = 0;

  /** Handles frames while they are buffered; returns when one must wait (on the stream or a callback). */
  private pump(): void {
    try {
      while (!this.clientTerminated) {
        const need = this.stageBytes;
        const bytes = need === 0 ? EMPTY : this.stream.readBytesWithCallback(need, this);
        if (bytes === null) return;
        const step = this.advance(bytes);
        if (step === CONTINUE || step === null) continue;
        this.resumeAfter(step);
        return;
      }
    } catch (err) {
      this.onStreamReadError(err);
      return;
    }
    this.endLoop();
  }

  /** The loop goes on once a message's promise (an async `onMessage`, inflation) settles. */
  private resumeAfter(step: Promise<unknown>): void {
    step.then(
      () => this.pump(),
      (err: unknown) => this.onStreamReadError(err),
    );
  }

  /** @internal The bytes `pump` waited for (`IOStream.readBytesWithCallback`). */
  onStreamRead(bytes: Uint8Array): void {
    let step: Step | typeof CONTINUE;
    try {
      step = this.advance(bytes);
    } catch (err) {
      this.onStreamReadError(err);
      return;
    }
    if (step === CONTINUE || step === null) this.pump();
    else this.resumeAfter(step);
  }

  /** @internal The read failed or the stream closed. */
  onStreamReadError(err: unknown): void {
    if (this.loopFinished) return;
    if (!(err instanceof StreamClosedError)) this.handler.logException(err);
    this.abort();
    this.endLoop();
  }

  private loopFinished = false;
  private endLoop(): void {
    if (this.loopFinished) return;
    this.loopFinished = true;
    this.closeCompressors();
    try {
      this.handler.onWsConnectionClose(this.closeCode, this.closeReason);
    } finally {
      const ended = this.loopEnded;
      this.loopEnded = null;
      ended?.();
    }
  }

  /** Bytes the current stage reads: 2 for the header, 2 or 8 for a length, then mask and payload. */
  private stageBytes = 2;

  /** Takes one stage's bytes; CONTINUE when the frame needs more, else the frame was handled (see `Step`). */
  private advance(bytes: Uint8Array): Step | typeof CONTINUE {
    this.wireBytesIn += bytes.length;
    switch (this.stage) {
      case Stage.Header:
        return this.afterHeader(bytes);
      case Stage.Length: {
        const length =
          bytes.length === 2
            ? (bytes[0]! << 8) | bytes[1]!
            : (bytes[0]! * 0x1000000 + ((bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!)) * 0x100000000 + (bytes[4]! * 0x1000000 + ((bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!));
        return this.afterLength(length);
      }
      default: {
        this.stage = Stage.Header;
        this.stageBytes = 2;
        // Unmasked: a copy, as a plain Uint8Array (the application keeps it; Node's Buffer.slice would be a view).
        const bits = this.frameBits;
        const data = (bits & MASKED) === 0 ? new Uint8Array(bytes) : websocketMask(bytes.subarray(0, 4), bytes.subarray(4));
        return this.afterPayload((bits & FIN) !== 0, bits & OPCODE_MASK, data);
      }
    }
  }

  private afterHeader(header: Uint8Array): Step | typeof CONTINUE {
    const first = header[0]!;
    const second = header[1]!;
    const fin = (first & FIN) !== 0;
    let reserved = first & RSV_MASK;
    const opcode = first & OPCODE_MASK;
    const control = (opcode & 0x8) !== 0;
    if (this.decompressor !== null && opcode !== OPCODE_CONTINUATION && !control) {
      // The first frame of a message says whether it is compressed; continuations do not.
      this.frameCompressed = (reserved & RSV1) !== 0;
      reserved &= ~RSV1;
    }
    if (reserved !== 0) return this.abortFrame();
    this.frameBits = (fin ? FIN : 0) | opcode | ((second & 0x80) !== 0 ? MASKED : 0);
    const length7 = second & 0x7f;
    if (control && length7 >= 126) return this.abortFrame();
    if (length7 < 126) return this.afterLength(length7);
    this.stage = Stage.Length;
    this.stageBytes = length7 === 126 ? 2 : 8;
    return CONTINUE;
  }

  private afterLength(length: number): Step | typeof CONTINUE {
    if (length + (this.fragments !== null ? this.fragments.size : 0) > this.params.maxMessageSize) {
      this.close(1009, "message too big");
      return this.abortFrame();
    }
    // Mask and payload in one read: they are adjacent.
    this.stage = Stage.Payload;
    this.stageBytes = ((this.frameBits & MASKED) !== 0 ? 4 : 0) + length;
    return CONTINUE;
  }

  private afterPayload(fin: boolean, opcode: number, data: Uint8Array): Step {
    if (opcode & 0x8) {
      // Control frames may come between fragments and do not touch them.
      if (!fin) return this.abortFrame();
    } else if (opcode === OPCODE_CONTINUATION) {
      const fragments = this.fragments;
      if (fragments === null) return this.abortFrame();
      fragments.chunks.push(data);
      fragments.size += data.length;
      if (!fin) return null;
      opcode = fragments.opcode;
      data = joinChunks(fragments.chunks, fragments.size);
      this.fragments = null;
    } else {
      if (this.fragments !== null) return this.abortFrame();
      if (!fin) {
        this.fragments = { chunks: [data], size: data.length, opcode };
        return null;
      }
    }
    return this.handleMessage(opcode, data);
  }

  /** Protocol error: drop the connection (Tornado's `_abort`); the loop ends at its next check. */
  private abortFrame(): null {
    this.abort();
    return null;
  }

  private handleMessage(opcode: number, data: Uint8Array): Step {
    if (this.clientTerminated) return null;
    if (this.frameCompressed && (opcode === OPCODE_TEXT || opcode === OPCODE_BINARY)) {
      const inflated = this.decompressor!.decompress(data);
      if (inflated instanceof Promise) return inflated.then((d) => this.handleInflated(opcode, d));
      return this.handleInflated(opcode, inflated);
    }
    switch (opcode) {
      case OPCODE_TEXT: {
        let text: string;
        try {
          text = textDecoder.decode(data);
        } catch {
          return this.abortFrame();
        }
        return this.runCallback(() => this.handler.onMessage(text));
      }
      case OPCODE_BINARY:
        return this.runCallback(() => this.handler.onMessage(data));
      case OPCODE_CLOSE: {
        this.clientTerminated = true;
        if (data.length >= 2) this.closeCode = (data[0]! << 8) | data[1]!;
        if (data.length > 2) {
          try {
            this.closeReason = textDecoder.decode(data.subarray(2));
          } catch {
            return this.abortFrame();
          }
        }
        // Echo the received code, if any (RFC 6455 5.5.1).
        this.close(this.closeCode ?? undefined);
        return null;
      }
      case OPCODE_PING:
        this.writeControl(OPCODE_PONG, data);
        // Not awaited, as in Tornado: a slow onPing does not hold up the next frame.
        void this.runCallback(() => this.handler.onPing(data));
        return null;
      case OPCODE_PONG:
        this.lastPong = IOLoop.current().time();
        return this.runCallback(() => this.handler.onPong(data));
      default:
        return this.abortFrame();
    }
  }

  private handleInflated(opcode: number, data: Uint8Array | null): Step {
    if (data === null) {
      this.close(1009, "message too big after decompression");
      return this.abortFrame();
    }
    this.frameCompressed = false;
    return this.handleMessage(opcode, data);
  }

  /**
   * Runs a delegate callback. A throw, or a promise that rejects, is logged and drops the
   * connection; a promise is returned so the loop reads the next frame after it settles.
   */
  private runCallback(callback: () => unknown): Step {
    let result: unknown;
    try {
      result = callback();
    } catch (err) {
      this.handler.logException(err);
      this.abort();
      return null;
    }
    if (!isThenable(result)) return null;
    return Promise.resolve(result).then(
      () => {},
      (err: unknown) => {
        this.handler.logException(err);
        this.abort();
      },
    );
  }

  // ---- closing and pings --------------------------------------------------------------------

  /**
   * Starts (or answers) the close handshake: sends a close frame with `code` and `reason`, then
   * closes the stream once the peer's close frame arrived, or after 5 seconds without it.
   */
  close(code?: number | null, reason?: string | null): void {
    if (!this.serverTerminated) {
      if (!this.stream.closed()) {
        if (code == null && reason != null) code = 1000;
        let payload = EMPTY;
        if (code != null) {
          const reasonBytes = reason != null ? utf8(reason) : EMPTY;
          payload = new Uint8Array(2 + reasonBytes.length);
          payload[0] = (code >> 8) & 0xff;
          payload[1] = code & 0xff;
          payload.set(reasonBytes, 2);
        }
        this.writeControl(OPCODE_CLOSE, payload);
      }
      this.serverTerminated = true;
    }
    if (this.clientTerminated) {
      if (this.waiting !== null) {
        IOLoop.current().removeTimeout(this.waiting);
        this.waiting = null;
      }
      // Messages still being compressed (and our close frame behind them) go out first.
      if (this.writeChain === null) this.stream.close();
      else void this.writeChain.then(() => this.stream.close());
    } else if (this.waiting === null) {
      // Give the peer a few seconds to complete a clean shutdown, then drop it.
      this.waiting = IOLoop.current().callLater(5, () => this.abort());
    }
    this.stopPinging();
  }

  /** Drops the connection without a close handshake. */
  abort(): void {
    this.clientTerminated = true;
    this.serverTerminated = true;
    this.stream?.close();
    this.close();
  }

  /** Either side began closing, or the stream is gone. */
  isClosing(): boolean {
    return this.stream.closed() || this.clientTerminated || this.serverTerminated;
  }

  get pingInterval(): number {
    return this.params.pingInterval ?? 0;
  }

  get pingTimeout(): number {
    return this.params.pingTimeout ?? Math.max(3 * this.pingInterval, 30);
  }

  startPinging(): void {
    if (this.pingInterval > 0) {
      this.lastPing = this.lastPong = IOLoop.current().time();
      this.pingCallback = new PeriodicCallback(() => this.periodicPing(), this.pingInterval * 1000);
      this.pingCallback.start();
    }
  }

  private stopPinging(): void {
    this.pingCallback?.stop();
    this.pingCallback = null;
  }

  /**
   * Sends a ping, or closes when the last pong is older than `pingTimeout` (only if a ping went
   * out recently: a machine that was asleep has not heard from anyone).
   */
  periodicPing(): void {
    if (this.isClosing()) {
      this.stopPinging();
      return;
    }
    const now = IOLoop.current().time();
    const sinceLastPong = now - this.lastPong;
    const sinceLastPing = now - this.lastPing;
    if (sinceLastPing < 2 * this.pingInterval && sinceLastPong > this.pingTimeout) {
      this.close();
      return;
    }
    this.writePing(EMPTY);
    this.lastPing = now;
  }

  setNodelay(value: boolean): void {
    this.stream.setNodelay(value);
  }

  /** Frees the zlib streams once nothing is being compressed any more. */
  private closeCompressors(): void {
    const free = () => {
      this.compressor?.close();
      this.decompressor?.close();
    };
    if (this.writeChain === null) free();
    else void this.writeChain.then(free);
  }
}
