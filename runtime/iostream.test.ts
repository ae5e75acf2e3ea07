import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IOStream, StreamClosedError, UnsatisfiableReadError } from "./iostream.js";
import { platform } from "./platform/index.js";
import { PLATFORMS, dec, enc, latin1, sleep, usePlatform } from "./platform/testkit.js";
import type { PlatformListener, PlatformSocket } from "./platform/types.js";

for (const { name, make } of PLATFORMS) {
  describe(`IOStream on the ${name} platform`, () => {
    let restore: () => void;
    let listener: PlatformListener;
    let accepted: ((s: PlatformSocket) => void) | null = null;

    beforeAll(async () => {
      restore = usePlatform(make());
      listener = await platform().listen({ port: 0, host: "127.0.0.1", onConnection: (s) => accepted?.(s) });
    });
    afterAll(async () => {
      await listener.close();
      restore();
    });

    /** A connected pair: `server` is an IOStream, `client` a raw socket. */
    async function pair(): Promise<{ server: IOStream; client: PlatformSocket }> {
      const got = new Promise<PlatformSocket>((resolve) => (accepted = resolve));
      const client = await platform().connect("127.0.0.1", listener.port);
      const server = new IOStream(await got);
      return { server, client };
    }

    it("reads until a delimiter that arrives one byte at a time, leaving the rest buffered", async () => {
      const { server, client } = await pair();
      const reading = server.readUntil("\r\n\r\n");
      for (const ch of "GET / HTTP/1.1\r\n\r\nnext") {
        client.write(enc(ch));
        await sleep(0);
      }
      expect(dec(await reading)).toBe("GET / HTTP/1.1\r\n\r\n");
      expect(dec(await server.readBytes(4))).toBe("next");
      server.close();
      client.destroy();
    });

    it("finds a delimiter split across chunks and reads several messages from one chunk", async () => {
      const { server, client } = await pair();
      client.write(enc("one|tw"));
      expect(dec(await server.readUntil("|"))).toBe("one|");
      client.write(enc("o||three||"));
      expect(dec(await server.readUntil("||"))).toBe("two||");
      expect(dec(await server.readUntil(enc("||")))).toBe("three||");
      server.close();
      client.destroy();
    });

    it("reads an HTTP head ending in CRLF CRLF, LF LF or mixed", async () => {
      const { server, client } = await pair();
      client.write(enc("A\r\n\r\nB\n\nC\n\r\nD"));
      expect(dec(await server.readUntilHeaderEnd())).toBe("A\r\n\r\n");
      expect(dec(await server.readUntilHeaderEnd())).toBe("B\n\n");
      expect(dec(await server.readUntilHeaderEnd())).toBe("C\n\r\n");
      const pending = server.readUntilHeaderEnd();
      client.write(enc("\r"));
      await sleep(5);
      client.write(enc("\n\r\n"));
      expect(dec(await pending)).toBe("D\r\n\r\n");
      server.close();
      client.destroy();
    });

    it("reads a head with a callback: at once when buffered, from the data event when not, errors from a microtask", async () => {
      const { server, client } = await pair();
      client.write(enc("A\r\n\r\nB"));
      await sleep(20);
      const never = () => expect.unreachable("no callback for a buffered head");
      expect(dec(server.readUntilHeaderEndWithCallback(undefined, never, never)!)).toBe("A\r\n\r\n");
      const heads: string[] = [];
      const errors: Error[] = [];
      expect(server.readUntilHeaderEndWithCallback(undefined, (h) => heads.push(dec(h)), (e) => errors.push(e))).toBeNull();
      expect(() => server.readUntilHeaderEnd()).toThrow("Already reading");
      client.write(enc("\n\nC"));
      for (let i = 0; i < 50 && heads.length === 0; i++) await sleep(5);
      expect(heads).toEqual(["B\n\n"]);
      // A pending read fails when the stream closes; the error arrives after close() returns.
      expect(server.readUntilHeaderEndWithCallback(undefined, (h) => heads.push(dec(h)), (e) => errors.push(e))).toBeNull();
      server.close();
      expect(errors).toEqual([]);
      await sleep(0);
      expect(errors.map((e) => e.name)).toEqual(["StreamClosedError"]);
      // On a closed stream the read fails at once.
      expect(() => server.readUntilHeaderEndWithCallback(undefined, never, never)).toThrow(StreamClosedError);
      client.destroy();
    });

    it("reads until a regex", async () => {
      const { server, client } = await pair();
      client.write(enc("abc123def"));
      expect(dec(await server.readUntilRegex(/\d+/))).toBe("abc123");
      server.close();
      client.destroy();
    });

    it("rejects a read whose delimiter is not within maxBytes, leaving the stream open", async () => {
      const { server, client } = await pair();
      const reading = server.readUntil("\n", 8);
      client.write(enc("0123456789abcdef"));
      await expect(reading).rejects.toBeInstanceOf(UnsatisfiableReadError);
      expect(server.closed()).toBe(false);
      await server.write(enc("still writable"));
      server.close();
      client.destroy();
    });

    it("reads exact byte counts, or partial ones", async () => {
      const { server, client } = await pair();
      const exact = server.readBytes(5);
      client.write(enc("ab"));
      await sleep(5);
      client.write(enc("cdefg"));
      expect(dec(await exact)).toBe("abcde");
      expect(dec(await server.readBytes(100, true))).toBe("fg");
      expect((await server.readBytes(0)).length).toBe(0);
      server.close();
      client.destroy();
    });

    it("reads until close", async () => {
      const { server, client } = await pair();
      const all = server.readUntilClose();
      client.write(enc("part1 "));
      await sleep(5);
      client.write(enc("part2"));
      client.end();
      expect(dec(await all)).toBe("part1 part2");
      await sleep(5);
      expect(server.closed()).toBe(true);
    });

    it("allows one read at a time", async () => {
      const { server, client } = await pair();
      const first = server.readBytes(1);
      expect(() => server.readBytes(1)).toThrow(/Already reading/);
      client.write(enc("x"));
      await first;
      server.close();
      client.destroy();
    });

    it("rejects pending reads and writes after close, and runs the close callback once", async () => {
      const { server, client } = await pair();
      let calls = 0;
      server.setCloseCallback(() => calls++);
      const pending = server.readUntil("\n");
      client.destroy();
      await expect(pending).rejects.toBeInstanceOf(StreamClosedError);
      await sleep(10);
      expect(server.closed()).toBe(true);
      expect(calls).toBe(1);
      await expect(server.write(enc("late"))).rejects.toBeInstanceOf(StreamClosedError);
      expect(() => server.readBytes(1)).not.toThrow();
      await expect(server.readBytes(1)).rejects.toBeInstanceOf(StreamClosedError);
    });

    it("still delivers bytes buffered before the peer closed", async () => {
      const { server, client } = await pair();
      client.write(enc("last words"));
      client.end();
      await sleep(20);
      expect(dec(await server.readBytes(10))).toBe("last words");
      await expect(server.readBytes(1)).rejects.toBeInstanceOf(StreamClosedError);
    });

    it("flushes queued output before closing", async () => {
      const { server, client } = await pair();
      const received: Uint8Array[] = [];
      const closed = new Promise<void>((resolve) => {
        client.onData = (c) => received.push(c.slice());
        client.onEnd = () => client.end();
        client.onClose = () => resolve();
      });
      const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
      void server.write(big).catch(() => {});
      server.close();
      await closed;
      const total = received.reduce((n, c) => n + c.length, 0);
      expect(total).toBe(big.length);
      const joined = new Uint8Array(total);
      let off = 0;
      for (const c of received) {
        joined.set(c, off);
        off += c.length;
      }
      expect(joined.every((b, i) => b === i % 251)).toBe(true);
    });

    it("applies back-pressure: a write to a paused peer resolves only once it drains", async () => {
      const { server, client } = await pair();
      client.pause();
      const big = new Uint8Array(8 * 1024 * 1024);
      let resolved = false;
      const writing = server.write(big).then(() => (resolved = true));
      await sleep(50);
      expect(resolved).toBe(false);
      expect(server.writing()).toBe(true);
      let got = 0;
      client.onData = (c) => (got += c.length);
      client.resume();
      await writing;
      expect(resolved).toBe(true);
      await sleep(20);
      expect(got).toBeGreaterThan(0);
      server.close();
      client.destroy();
    });

    it("moves a megabyte in random chunk sizes intact, and never rewrites bytes it already returned", async () => {
      const { server, client } = await pair();
      const data = new Uint8Array(1 << 20);
      let seed = 42;
      for (let i = 0; i < data.length; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        data[i] = seed & 0xff;
      }
      (async () => {
        let off = 0;
        while (off < data.length) {
          const n = 1 + ((off * 7919) % 9000);
          client.write(data.subarray(off, off + n));
          off += n;
          if (off % 5 === 0) await sleep(0);
        }
      })();
      const pieces: Uint8Array[] = [];
      let total = 0;
      while (total < data.length) {
        const piece = await server.readBytes(Math.min(4099, data.length - total));
        pieces.push(piece);
        total += piece.length;
      }
      let off = 0;
      for (const p of pieces) {
        for (let i = 0; i < p.length; i++) if (p[i] !== data[off + i]) throw new Error(`mismatch at ${off + i}`);
        off += p.length;
      }
      expect(off).toBe(data.length);
      server.close();
      client.destroy();
    });

    it("stops reading from a peer that sends while nobody reads, and resumes on the next read", async () => {
      const { server, client } = await pair();
      // More than loopback TCP buffers absorb, so the sender must feel the pause.
      const total = 24 * 1024 * 1024;
      let sent = 0;
      let writable = true;
      client.onDrain = () => (writable = true);
      // Send as fast as the platform accepts, honouring back-pressure.
      const sending = (async () => {
        while (sent < total) {
          if (!writable) {
            await sleep(1);
            continue;
          }
          writable = client.write(new Uint8Array(16384).fill(7));
          sent += 16384;
        }
      })();
      await sleep(100);
      // Nobody reads: the stream holds at most about one high-water mark plus one chunk.
      expect(server.readBufferSize).toBeLessThanOrEqual(65536 + 65536);
      expect(sent).toBeLessThan(total);
      let got = 0;
      while (got < total) got += (await server.readBytes(65536, true)).length;
      await sending;
      expect(got).toBe(total);
      server.close();
      client.destroy();
    });

    it("enforces maxBufferSize by closing", async () => {
      const got = new Promise<PlatformSocket>((resolve) => (accepted = resolve));
      const client = await platform().connect("127.0.0.1", listener.port);
      const server = new IOStream(await got, { maxBufferSize: 1000 });
      const reading = server.readUntil("\n");
      client.write(new Uint8Array(5000).fill(65));
      await expect(reading).rejects.toBeInstanceOf(UnsatisfiableReadError);
      expect(server.closed()).toBe(true);
      client.destroy();
      expect(latin1(new Uint8Array([72, 105]))).toBe("Hi");
    });
  });
}
