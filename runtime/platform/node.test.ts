import * as net from "node:net";
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";

import { createNodePlatform, defaultPlatform } from "./node.js";

const enc = (s: string) => new TextEncoder().encode(s);

describe("node platform", () => {
  it("hashes with OpenSSL: Tornado's hello-world Etag and RFC 2202/4231 HMAC vectors", () => {
    expect(defaultPlatform.sha1Hex(enc("Hello, world"))).toBe("e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8");
    expect(defaultPlatform.sha1Hex(enc(""))).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect(defaultPlatform.hmacHex("sha1", enc("Jefe"), enc("what do ya want for nothing?"))).toBe("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    expect(defaultPlatform.hmacHex("sha256", enc("Jefe"), enc("what do ya want for nothing?"))).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("reads real files", () => {
    const here = decodeURIComponent(new URL(import.meta.url).pathname);
    const data = defaultPlatform.fs.readFile(here)!;
    expect(new TextDecoder().decode(data)).toContain("reads real files");
    expect(defaultPlatform.fs.mtime(here)).toBeGreaterThan(0);
    expect(defaultPlatform.fs.readFile(here + ".missing")).toBeNull();
    expect(defaultPlatform.fs.isDirectory(here.replace(/\/[^/]*$/, ""))).toBe(true);
    expect(defaultPlatform.fs.readFile(here.replace(/\/[^/]*$/, ""))).toBeNull(); // a directory is not a file
  });

  it("listens on an ephemeral port, connects, and reports EADDRINUSE and ECONNREFUSED like Node", async () => {
    const p = createNodePlatform();
    const received: string[] = [];
    const listener = await p.listen({
      port: 0,
      host: "127.0.0.1",
      onConnection: (s) => {
        s.onData = (c) => {
          received.push(new TextDecoder().decode(c));
          s.write(enc("pong"));
          s.end();
        };
      },
    });
    expect(listener.port).toBeGreaterThan(0);
    await expect(p.listen({ port: listener.port, host: "127.0.0.1", onConnection: () => {} })).rejects.toMatchObject({ code: "EADDRINUSE" });
    const client = await p.connect("127.0.0.1", listener.port);
    expect(client.remotePort).toBe(listener.port);
    const reply = await new Promise<string>((resolve) => {
      let text = "";
      client.onData = (c) => (text += new TextDecoder().decode(c));
      client.onEnd = () => client.end();
      client.onClose = () => resolve(text);
      client.write(enc("ping"));
    });
    expect(reply).toBe("pong");
    expect(received).toEqual(["ping"]);
    await listener.close();
    await expect(p.connect("127.0.0.1", listener.port)).rejects.toMatchObject({
      code: "ECONNREFUSED",
      message: `connect ECONNREFUSED 127.0.0.1:${listener.port}`,
    });
  });

  // Reads land in one buffer shared by every socket (net.Socket's `onread`) and are copied out:
  // a chunk a handler keeps must still hold its own bytes after other sockets have read.
  for (const streamReads of [false, true]) {
    it(`keeps each read's bytes after other sockets read, ends and echoes${streamReads ? " (Node's stream reads)" : ""}`, async () => {
      const previous = process.env.TORNADO_NODE_STREAM_READS;
      if (streamReads) process.env.TORNADO_NODE_STREAM_READS = "1";
      else delete process.env.TORNADO_NODE_STREAM_READS;
      const p = createNodePlatform();
      const kept: Uint8Array[][] = [];
      const ended: number[] = [];
      const listener = await p.listen({
        port: 0,
        host: "127.0.0.1",
        onConnection: (s) => {
          const index = kept.push([]) - 1;
          s.onData = (c) => {
            kept[index]!.push(c);
            s.write(c);
          };
          s.onEnd = () => {
            ended.push(index);
            s.end();
          };
        },
      });
      try {
        const letters = ["a", "b", "c"];
        const clients = letters.map(() => net.connect({ port: listener.port, host: "127.0.0.1", allowHalfOpen: true }));
        // One client at a time, each waiting for its echo, so every read reuses the buffer.
        for (const [i, client] of clients.entries()) {
          const sent = letters[i]!.repeat(3000);
          const echoed = await new Promise<string>((resolve) => {
            let text = "";
            client.on("data", (c: Buffer) => {
              text += c.toString("latin1");
              if (text.length === sent.length) resolve(text);
            });
            client.write(sent);
          });
          expect(echoed).toBe(sent);
        }
        const closed = clients.map((c) => new Promise((resolve) => c.on("close", resolve)));
        for (const client of clients) client.end();
        await Promise.all(closed);
        expect(kept.map((chunks) => Buffer.concat(chunks).toString("latin1"))).toEqual(letters.map((l) => l.repeat(3000)));
        expect(ended.sort()).toEqual([0, 1, 2]);

        // Our client side reads the same way: chunks kept across a second connection's reads.
        const peer = net.createServer((socket) => socket.end(String(peerCount++).repeat(2000)));
        let peerCount = 1;
        await new Promise<void>((resolve) => peer.listen(0, "127.0.0.1", resolve));
        const port = (peer.address() as net.AddressInfo).port;
        const fetchAll = async () => {
          const socket = await p.connect("127.0.0.1", port);
          const chunks: Uint8Array[] = [];
          await new Promise<void>((resolve) => {
            socket.onData = (c) => chunks.push(c);
            socket.onEnd = () => socket.end();
            socket.onClose = () => resolve();
          });
          return chunks;
        };
        const first = await fetchAll();
        const second = await fetchAll();
        peer.close();
        expect(Buffer.concat(first).toString("latin1")).toBe("1".repeat(2000));
        expect(Buffer.concat(second).toString("latin1")).toBe("2".repeat(2000));
      } finally {
        await listener.close();
        if (previous === undefined) delete process.env.TORNADO_NODE_STREAM_READS;
        else process.env.TORNADO_NODE_STREAM_READS = previous;
      }
    });
  }

  // WebContainer's Node (process.versions.webcontainer) keeps Node's stream reads: whether its
  // own `net` honours onread and the accept internals cannot be tried here. Which path read a
  // chunk shows in its memory: Node's stream reads give each read an ArrayBuffer of its own
  // size, the shared-buffer path copies into a slice of Node's 8 KiB pool.
  it("reads through Node's streams inside a WebContainer, through the shared buffer elsewhere", async () => {
    const versions = process.versions as Record<string, string | undefined>;
    const readOwnArrayBuffer = async (): Promise<boolean> => {
      const p = createNodePlatform();
      let chunkOwnsItsMemory: boolean | undefined;
      const listener = await p.listen({
        port: 0,
        host: "127.0.0.1",
        onConnection: (s) => {
          s.onData = (c) => {
            chunkOwnsItsMemory ??= c.buffer.byteLength === c.byteLength;
            s.end();
          };
        },
      });
      const client = net.connect({ port: listener.port, host: "127.0.0.1" });
      await new Promise((resolve) => client.on("connect", resolve));
      client.end("x".repeat(1000));
      await new Promise((resolve) => client.on("close", resolve));
      await listener.close();
      return chunkOwnsItsMemory!;
    };
    expect(await readOwnArrayBuffer()).toBe(false);
    versions.webcontainer = "1.6.4";
    try {
      expect(await readOwnArrayBuffer()).toBe(true);
    } finally {
      delete versions.webcontainer;
    }
  });

  it("has clocks and randomness", () => {
    expect(defaultPlatform.randomBytes(32).length).toBe(32);
    expect(Math.abs(defaultPlatform.now() - Date.now())).toBeLessThan(1000);
    expect(defaultPlatform.monotonic()).toBeGreaterThan(0);
    expect(defaultPlatform.name).toBe("node");
  });
});

describe("node platform logging", () => {
  it("writes every line in order, as UTF-8, within moments of logging it and at exit", async () => {
    const { spawnSync } = await import("node:child_process");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(`${tmpdir()}/tornado-log-`);
    const script = `${dir}/log.mts`;
    const nodeTs = decodeURIComponent(new URL("./node.ts", import.meta.url).pathname);
    writeFileSync(
      script,
      `import { defaultPlatform } from ${JSON.stringify(nodeTs)};\n` +
        `import { writeSync } from "node:fs";\n` +
        // A line after a quiet spell is out by the end of the turn, before this marker.
        `defaultPlatform.log("info", "line quiet");\n` +
        `setImmediate(() => {\n` +
        `  writeSync(2, "MARK1\\n");\n` +
        // Lines in pieces (the access log) interleave with whole ones; a head or prefix that
        // changes, or is not ASCII, is encoded anew.
        `  for (let i = 0; i < 5000; i++) {\n` +
        `    if (i % 3 === 0) defaultPlatform.log("info", "line " + i);\n` +
        `    else defaultPlatform.logPieces("info", "line ", i % 5 === 0 ? "" : "h\u00e9" + (i % 7 === 0 ? "\u2603" : "") + " ", String(i));\n` +
        `  }\n` +
        `  defaultPlatform.log("info", "line caf\u00e9 \u2603 \ud83c\udf2a");\n` +
        `  defaultPlatform.log("info", "line long " + "x".repeat(100000));\n` +
        // A busy log is batched, but not for long: within 200 ms it is out, before this marker.
        `  setTimeout(() => { writeSync(2, "MARK2\\n"); defaultPlatform.log("info", "after a wait"); process.exit(0); }, 200);\n` +
        `});\n`,
    );
    const tsx = decodeURIComponent(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url).pathname);
    const result = spawnSync(process.execPath, [tsx, script], { encoding: "utf8", timeout: 30_000 });
    const lines = result.stderr.split("\n").filter((l) => l.startsWith("line ") || l.startsWith("MARK") || l === "after a wait");
    expect(lines.length).toBe(5006);
    expect(lines.slice(0, 3)).toEqual(["line quiet", "MARK1", "line 0"]);
    const expected = (i: number) => (i % 3 === 0 ? `line ${i}` : `line ${i % 5 === 0 ? "" : `h\u00e9${i % 7 === 0 ? "\u2603" : ""} `}${i}`);
    for (let i = 0; i < 5000; i++) if (lines[i + 2] !== expected(i)) expect([i, lines[i + 2]]).toEqual([i, expected(i)]);
    expect(lines[5001]).toBe("line h\u00e9 4999");
    expect(lines[5002]).toBe("line caf\u00e9 \u2603 \ud83c\udf2a");
    expect(lines[5003]).toBe("line long " + "x".repeat(100000));
    expect(lines[5004]).toBe("MARK2");
    expect(lines[5005]).toBe("after a wait");
  });
});
