/**
 * A command's output in shared memory, beside its messages (ARCHITECTURE.md "Live output within
 * one frame").
 *
 * The worker's answer to a command is a message task, and Chromium runs the frame that was due
 * during a slide change's long task before any task queued meanwhile: output posted by the
 * worker always lands one frame after the slide. When the page is cross-origin isolated, the
 * worker also appends each chunk of a run to a SharedArrayBuffer, and the page reads it
 * synchronously where it chooses (the deck: in the slide's first animation frame, before the
 * terminal draws). The messages still carry every chunk with its sequence number; the reader
 * delivers each chunk once, in order, whichever copy reaches it first.
 *
 * Layout: a header of Int32 slots, then records `[length u32][stream u8][3 bytes pad][UTF-8]`,
 * each padded to 4 bytes. The buffer is append-only for the run: a chunk that does not fit
 * (or the reader closed the channel) stops the writer for good, so the buffer always holds a
 * prefix of the run's chunks and the rest come by message only.
 */

export type OutputStream = "stdout" | "stderr";

/** Header slots (Int32): chunks published (the writer's release store), channel closed. */
const PUBLISHED = 0;
const CLOSED = 1;
const HEADER_BYTES = 16;
const RECORD_HEADER = 8;

/** Room for the first output of a command (a `curl -i` answer is a few hundred bytes). */
export const SHARED_OUTPUT_BYTES = 32 * 1024;

/** Whether this page can share memory with its workers (SharedArrayBuffer crosses postMessage). */
export function sharedOutputSupported(): boolean {
  return typeof SharedArrayBuffer === "function" && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

export function createSharedOutput(bytes = SHARED_OUTPUT_BYTES): SharedArrayBuffer {
  if (bytes < HEADER_BYTES + RECORD_HEADER) throw new RangeError(`a shared output buffer needs at least ${HEADER_BYTES + RECORD_HEADER} bytes`);
  return new SharedArrayBuffer(bytes);
}

/** A lone surrogate would not survive UTF-8; such a chunk goes by message (exactly as today). */
const LONE_SURROGATE = /\p{Cs}/u;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The worker's side: numbers every chunk of the run and copies it into the buffer while it can. */
export class SharedOutputWriter {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private seq = 0;
  private end = HEADER_BYTES;
  private stopped = false;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
  }

  /** Copy `text` into the buffer if it fits; returns its sequence number for the message copy. */
  write(stream: OutputStream, text: string): number {
    const seq = this.seq++;
    if (this.stopped) return seq;
    if (Atomics.load(this.header, CLOSED) !== 0 || LONE_SURROGATE.test(text)) {
      this.stopped = true;
      return seq;
    }
    const encoded = encoder.encode(text);
    const size = RECORD_HEADER + ((encoded.length + 3) & ~3);
    if (this.end + size > this.bytes.length) {
      this.stopped = true;
      return seq;
    }
    this.view.setUint32(this.end, encoded.length, true);
    this.view.setUint8(this.end + 4, stream === "stderr" ? 1 : 0);
    this.bytes.set(encoded, this.end + RECORD_HEADER);
    this.end += size;
    // The store publishes the record: a reader that loads this count sees its bytes.
    Atomics.store(this.header, PUBLISHED, seq + 1);
    return seq;
  }
}

/**
 * The page's side: delivers each chunk once, in sequence order, from the buffer (`take`) or from
 * its message (`message`), whichever comes first.
 */
export class SharedOutputReader {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** Chunks delivered so far, by either path: the next one due has this sequence number. */
  private delivered = 0;
  /** Records read from the buffer, and where the next one starts. */
  private read = 0;
  private offset = HEADER_BYTES;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly deliver: (text: string, stream: OutputStream) => void,
  ) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
  }

  /** A chunk's message: delivered unless the buffer gave it already. */
  message(seq: number, text: string, stream: OutputStream): void {
    if (seq < this.delivered) return;
    this.delivered = seq + 1;
    this.deliver(text, stream);
  }

  /** Deliver now, synchronously, every chunk the writer has published and no message has; returns how many. */
  take(): number {
    const published = Atomics.load(this.header, PUBLISHED);
    let taken = 0;
    while (this.read < published) {
      const length = this.view.getUint32(this.offset, true);
      const stream: OutputStream = this.view.getUint8(this.offset + 4) === 1 ? "stderr" : "stdout";
      const start = this.offset + RECORD_HEADER;
      const seq = this.read++;
      this.offset = start + ((length + 3) & ~3);
      if (seq < this.delivered) continue;
      // slice() copies into an ordinary buffer: TextDecoder may refuse a shared view.
      const text = decoder.decode(this.bytes.slice(start, start + length));
      this.delivered = seq + 1;
      this.deliver(text, stream);
      taken++;
    }
    return taken;
  }

  /** Nothing more will be taken from the buffer: the writer stops copying (messages carry all). */
  close(): void {
    Atomics.store(this.header, CLOSED, 1);
  }
}
