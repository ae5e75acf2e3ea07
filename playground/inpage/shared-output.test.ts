/**
 * The shared output channel with its writer in a real thread (worker_threads over a real
 * SharedArrayBuffer, as the in-page engine's Web Worker writes it) and its reader here.
 */
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { createSharedOutput, SharedOutputReader, type OutputStream } from "./shared-output.js";

type Chunk = [OutputStream, string];
interface Posted {
  seq: number;
  stream: OutputStream;
  text: string;
}

/** The module as the thread imports it: the same source, types stripped (it imports nothing). */
const moduleUrl = "data:text/javascript;base64," +
  Buffer.from(transformSync(readFileSync(new URL("./shared-output.ts", import.meta.url), "utf8"), { loader: "ts", format: "esm" }).code).toString("base64");

/**
 * A thread that writes `chunks` as the engine's worker does: into the buffer, then a message
 * with the sequence number. With `waitForClose` it waits (Atomics.wait on the header's closed
 * slot) after the first `waitForClose` chunks until the reader closes the channel.
 */
function writeInThread(buffer: SharedArrayBuffer, chunks: Chunk[], options: { waitForClose?: number } = {}): Promise<Posted[]> {
  const source = `
    import { parentPort, workerData } from "node:worker_threads";
    const { SharedOutputWriter } = await import(workerData.moduleUrl);
    const writer = new SharedOutputWriter(workerData.buffer);
    const header = new Int32Array(workerData.buffer, 0, 4);
    workerData.chunks.forEach(([stream, text], i) => {
      if (i === workerData.waitForClose) Atomics.wait(header, 1, 0, 10000);
      const seq = writer.write(stream, text);
      parentPort.postMessage({ seq, stream, text });
    });
    parentPort.postMessage("done");
  `;
  return new Promise((resolve, reject) => {
    const posted: Posted[] = [];
    const worker = new Worker(source, { eval: true, workerData: { moduleUrl, buffer, chunks, waitForClose: options.waitForClose ?? -1 } });
    worker.on("message", (m: Posted | "done") => {
      if (m === "done") void worker.terminate().then(() => resolve(posted));
      else posted.push(m);
    });
    worker.on("error", reject);
  });
}

function reader(buffer: SharedArrayBuffer) {
  const got: Chunk[] = [];
  return { got, reader: new SharedOutputReader(buffer, (text, stream) => got.push([stream, text])) };
}

const multiByte: Chunk[] = [
  ["stdout", "HTTP/1.1 200 OK\r\n"],
  ["stdout", "héllo wörld ☃ — 日本語 😀\n"],
  ["stderr", "ошибка: ∅\n"],
  ["stdout", "🎉".repeat(50)],
  ["stdout", ""],
  ["stdout", "Hello, world"],
];

describe("the shared output channel (writer in a worker thread)", () => {
  it("delivers every chunk once, in order, taking what is in the buffer and skipping the message copies", async () => {
    const buffer = createSharedOutput(4096);
    const posted = await writeInThread(buffer, multiByte);
    expect(posted.map((p) => p.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    const { got, reader: r } = reader(buffer);
    // The first message came before the frame; the frame takes the rest; later messages are copies.
    r.message(posted[0]!.seq, posted[0]!.text, posted[0]!.stream);
    expect(r.take()).toBe(5);
    for (const p of posted) r.message(p.seq, p.text, p.stream);
    expect(got).toEqual(multiByte);
    expect(r.take()).toBe(0);
  });

  it("without a take, the messages alone give exactly the same", async () => {
    const buffer = createSharedOutput(4096);
    const posted = await writeInThread(buffer, multiByte);
    const { got, reader: r } = reader(buffer);
    for (const p of posted) r.message(p.seq, p.text, p.stream);
    expect(got).toEqual(multiByte);
    // The buffer's copies of what the messages gave are not delivered again.
    expect(r.take()).toBe(0);
    expect(got).toEqual(multiByte);
  });

  it("a chunk bigger than the buffer goes by message, and so does everything after it", async () => {
    const chunks: Chunk[] = [["stdout", "first\n"], ["stdout", "x".repeat(5000)], ["stdout", "third\n"], ["stderr", "fourth\n"]];
    const buffer = createSharedOutput(1024);
    const posted = await writeInThread(buffer, chunks);
    const { got, reader: r } = reader(buffer);
    // Only the prefix before the big chunk is in the buffer: "third" after it never is.
    expect(r.take()).toBe(1);
    expect(got).toEqual([chunks[0]]);
    for (const p of posted) r.message(p.seq, p.text, p.stream);
    expect(got).toEqual(chunks);
  });

  it("many chunks: the buffer holds a prefix, the messages the rest, none twice", async () => {
    const chunks: Chunk[] = Array.from({ length: 5000 }, (_, i) => [i % 7 === 0 ? "stderr" : "stdout", `line ${i} ✓\n`]);
    const buffer = createSharedOutput(8192);
    const posted = await writeInThread(buffer, chunks);
    const { got, reader: r } = reader(buffer);
    for (const p of posted.slice(0, 10)) r.message(p.seq, p.text, p.stream);
    const taken = r.take();
    expect(taken).toBeGreaterThan(100);
    expect(taken).toBeLessThan(chunks.length - 10);
    for (const p of posted) r.message(p.seq, p.text, p.stream);
    expect(got).toEqual(chunks);
  });

  it("takes while the thread is writing: whatever it sees is whole and in order", async () => {
    const chunks: Chunk[] = Array.from({ length: 3000 }, (_, i) => ["stdout", `${i}:${"é".repeat(i % 13)}\n`]);
    const buffer = createSharedOutput(256 * 1024);
    const { got, reader: r } = reader(buffer);
    const writing = writeInThread(buffer, chunks);
    // Take repeatedly as the other thread publishes (the page's frames do the same, once).
    const deadline = Date.now() + 10_000;
    while (got.length < chunks.length && Date.now() < deadline) {
      r.take();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const posted = await writing;
    for (const p of posted) r.message(p.seq, p.text, p.stream);
    expect(got).toEqual(chunks);
  });

  it("once the reader closes, the writer copies nothing more: later chunks come by message", async () => {
    const chunks: Chunk[] = [["stdout", "before\n"], ["stdout", "after\n"], ["stdout", "later\n"]];
    const buffer = createSharedOutput(4096);
    const { got, reader: r } = reader(buffer);
    const writing = writeInThread(buffer, chunks, { waitForClose: 1 });
    // The thread waits after its first chunk until the channel is closed.
    const header = new Int32Array(buffer, 0, 4);
    const deadline = Date.now() + 10_000;
    while (Atomics.load(header, 0) < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(r.take()).toBe(1);
    r.close();
    Atomics.notify(header, 1);
    const posted = await writing;
    expect(r.take()).toBe(0);
    for (const p of posted) r.message(p.seq, p.text, p.stream);
    expect(got).toEqual(chunks);
  });

  it("a chunk with a lone surrogate (not UTF-8) goes by message, unchanged", async () => {
    const chunks: Chunk[] = [["stdout", "ok\n"], ["stdout", "half \ud83d pair"], ["stdout", "end\n"]];
    const buffer = createSharedOutput(4096);
    const posted = await writeInThread(buffer, chunks);
    const { got, reader: r } = reader(buffer);
    expect(r.take()).toBe(1);
    for (const p of posted) r.message(p.seq, p.text, p.stream);
    expect(got).toEqual(chunks);
    expect(got[1]![1]).toBe("half \ud83d pair");
  });
});
