import { describe, expect, it } from "vitest";
import { createMemoryPlatform } from "./memory.js";
import { defaultPlatform as nodePlatform } from "./node.js";
import type { PlatformSocket } from "./types.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const tick = () => new Promise((r) => setTimeout(r, 0));

async function pair(p = createMemoryPlatform({ log: () => {} })) {
  let server!: PlatformSocket;
  const listener = await p.listen({ port: 0, onConnection: (s) => (server = s) });
  const client = await p.connect("localhost", listener.port);
  return { p, listener, server, client };
}

function record(socket: PlatformSocket) {
  const events: string[] = [];
  socket.onData = (c) => events.push(`data:${dec(c)}`);
  socket.onEnd = () => events.push("end");
  socket.onClose = () => events.push("close");
  return events;
}

describe("memory platform network", () => {
  it("connects to a listening port and delivers bytes both ways, asynchronously and in order", async () => {
    const { server, client } = await pair();
    const got = record(server);
    client.write(enc("a"));
    client.write(enc("b"));
    expect(got).toEqual([]); // never synchronous
    await tick();
    expect(got).toEqual(["data:a", "data:b"]);
    const back = record(client);
    server.write(enc("c"));
    await tick();
    expect(back).toEqual(["data:c"]);
    expect(server.remoteAddress).toBe("127.0.0.1");
    expect(client.remotePort).toBeGreaterThan(0);
  });

  it("copies written bytes, so the writer may reuse its buffer", async () => {
    const { server, client } = await pair();
    const got = record(server);
    const buf = enc("xyz");
    client.write(buf);
    buf[0] = 65;
    await tick();
    expect(got).toEqual(["data:xyz"]);
  });

  it("refuses connections to a closed or unused port, and unknown hosts", async () => {
    const p = createMemoryPlatform();
    const listener = await p.listen({ port: 8888, onConnection: () => {} });
    expect(listener.port).toBe(8888);
    await listener.close();
    await expect(p.connect("127.0.0.1", 8888)).rejects.toMatchObject({ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:8888" });
    await expect(p.connect("example.com", 80)).rejects.toMatchObject({ code: "ENOTFOUND" });
  });

  it("refuses a port that is taken, and hands out distinct ephemeral ports", async () => {
    const p = createMemoryPlatform();
    await p.listen({ port: 8888, onConnection: () => {} });
    await expect(p.listen({ port: 8888, onConnection: () => {} })).rejects.toMatchObject({ code: "EADDRINUSE" });
    const a = await p.listen({ port: 0, onConnection: () => {} });
    const b = await p.listen({ port: 0, onConnection: () => {} });
    expect(a.port).not.toBe(b.port);
    await expect(p.listen({ port: 70000, onConnection: () => {} })).rejects.toThrow(RangeError);
    // Separate platforms are separate networks.
    const other = createMemoryPlatform();
    await expect(other.listen({ port: 8888, onConnection: () => {} })).resolves.toBeDefined();
  });

  it("holds data while paused and delivers it, then end-of-stream, on resume", async () => {
    const { server, client } = await pair();
    const got = record(server);
    server.pause();
    client.write(enc("held"));
    client.end();
    await tick();
    expect(got).toEqual([]);
    server.resume();
    await tick();
    expect(got).toEqual(["data:held", "end"]);
  });

  it("half-closes like Node with allowHalfOpen: the other side can still write, then both close", async () => {
    const { server, client } = await pair();
    const s = record(server);
    const c = record(client);
    client.end();
    await tick();
    expect(s).toEqual(["end"]);
    server.write(enc("reply"));
    let flushed = false;
    server.end(() => (flushed = true));
    await tick();
    await tick();
    expect(c).toEqual(["data:reply", "end", "close"]);
    expect(s).toEqual(["end", "close"]);
    expect(flushed).toBe(true);
    expect(server.write(enc("late"))).toBe(false);
  });

  it("destroy drops queued bytes and the peer sees end and close", async () => {
    const { server, client } = await pair();
    const s = record(server);
    const c = record(client);
    client.write(enc("dropped"));
    client.destroy();
    await tick();
    await tick();
    expect(s).toEqual(["end", "close"]);
    expect(c).toEqual(["close"]);
    client.destroy(); // idempotent
  });

  it("signals back-pressure above the high-water mark and drains", async () => {
    const { server, client } = await pair();
    let drained = 0;
    client.onDrain = () => drained++;
    server.pause();
    let received = 0;
    server.onData = (c) => (received += c.length);
    expect(client.write(new Uint8Array(1000))).toBe(true);
    expect(client.write(new Uint8Array(100_000))).toBe(false);
    await tick();
    expect(received).toBe(0);
    server.resume();
    await tick();
    expect(received).toBe(101_000);
    expect(drained).toBe(1);
  });

  it("reset() closes every listener", async () => {
    const p = createMemoryPlatform();
    await p.listen({ port: 8888, onConnection: () => {} });
    p.reset();
    await expect(p.connect("localhost", 8888)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await expect(p.listen({ port: 8888, onConnection: () => {} })).resolves.toBeDefined();
  });
});

describe("memory platform files", () => {
  it("resolves relative paths against cwd and normalises . and ..", () => {
    const p = createMemoryPlatform({ cwd: "/app", files: { "templates/index.html": "<h1>hi</h1>", "/etc/motd": new Uint8Array([1, 2]) } });
    expect(dec(p.fs.readFile("/app/templates/index.html")!)).toBe("<h1>hi</h1>");
    expect(dec(p.fs.readFile("templates/../templates/./index.html")!)).toBe("<h1>hi</h1>");
    expect([...p.fs.readFile("/etc/motd")!]).toEqual([1, 2]);
    expect(p.fs.readFile("missing")).toBeNull();
    expect(p.fs.isDirectory("templates")).toBe(true);
    expect(p.fs.isDirectory("/")).toBe(true);
    expect(p.fs.isDirectory("templates/index.html")).toBe(false);
    expect(p.fs.mtime("templates/index.html")).toBeGreaterThan(0);
    expect(p.fs.mtime("nope")).toBeNull();
  });

  it("writes, deletes and resets files", () => {
    const p = createMemoryPlatform({ files: { "a.txt": "one" } });
    p.writeFile("a.txt", "two");
    p.writeFile("/b/c.txt", "three");
    expect(dec(p.fs.readFile("/a.txt")!)).toBe("two");
    expect(p.deleteFile("/b/c.txt")).toBe(true);
    expect(p.fs.readFile("/b/c.txt")).toBeNull();
    p.reset();
    expect(dec(p.fs.readFile("a.txt")!)).toBe("one");
  });
});

describe("memory platform hashing, randomness and clocks", () => {
  const p = createMemoryPlatform();
  it("hashes like Node's OpenSSL", () => {
    expect(p.sha1Hex(enc("Hello, world"))).toBe("e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8");
    for (const text of ["", "a", "x".repeat(1000), "héllo"]) {
      expect(p.sha1Hex(enc(text))).toBe(nodePlatform.sha1Hex(enc(text)));
      expect(p.hmacHex("sha1", enc("key"), enc(text))).toBe(nodePlatform.hmacHex("sha1", enc("key"), enc(text)));
      expect(p.hmacHex("sha256", enc("secret"), enc(text))).toBe(nodePlatform.hmacHex("sha256", enc("secret"), enc(text)));
    }
  });

  it("gives random bytes of any length", () => {
    const a = p.randomBytes(100_000);
    expect(a.length).toBe(100_000);
    expect(new Set(a).size).toBeGreaterThan(200);
    expect(p.randomBytes(16)).not.toEqual(p.randomBytes(16));
  });

  it("has a wall clock and a monotonic clock", () => {
    expect(Math.abs(p.now() - Date.now())).toBeLessThan(1000);
    const a = p.monotonic();
    expect(p.monotonic()).toBeGreaterThanOrEqual(a);
  });

  it("logs through the given sink", () => {
    const lines: string[] = [];
    const q = createMemoryPlatform({ log: (level, m) => lines.push(`${level}:${m}`) });
    q.log("warning", "hi");
    expect(lines).toEqual(["warning:hi"]);
  });
});
