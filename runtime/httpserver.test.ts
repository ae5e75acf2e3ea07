/**
 * HTTPServer over real sockets and over the in-memory network, with the same code: raw bytes
 * in, raw bytes out. Every bad client is followed by a good one that must still get a 200.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HTTPServer, type HTTPServerOptions } from "./httpserver.js";
import { HTTPHeaders, type HTTPServerRequest } from "./httputil.js";
import { createMemoryPlatform } from "./platform/memory.js";
import { PLATFORMS, RawClient, captureLogs, dec, enc, sleep, usePlatform, type RawResponse } from "./platform/testkit.js";

function respond(request: HTTPServerRequest, code: number, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  const bytes = typeof body === "string" ? enc(body) : body;
  const h = new HTTPHeaders(headers);
  if (!h.has("Content-Length")) h.set("Content-Length", String(bytes.length));
  const reasons: Record<number, string> = { 200: "OK", 201: "Created", 404: "Not Found" };
  // A HEAD response announces the length but carries no body (web.RequestHandler does the same).
  const chunk = request.method === "HEAD" ? undefined : bytes;
  request.connection!.writeHeaders({ kind: "response", version: "HTTP/1.1", code, reason: reasons[code] ?? "Unknown" }, h, chunk);
  request.connection!.finish();
}

const closeNotices: string[] = [];
const misuseErrors: string[] = [];
let bigServed = 0;

/** The test application: a plain request callback, as `HTTPServer(callback)` takes. */
function app(request: HTTPServerRequest): void {
  const path = request.path;
  if (path === "/") return respond(request, 200, "Hello, world", { "Content-Type": "text/plain" });
  if (path === "/echo") {
    return respond(request, 200, request.body, { "X-Method": request.method, "X-Body-Length": String(request.body.length) });
  }
  if (path === "/info") {
    return respond(
      request,
      200,
      JSON.stringify({
        remoteIp: request.remoteIp,
        protocol: request.protocol,
        host: request.host,
        version: request.version,
        uri: request.uri,
        headers: [...request.headers.getAll()],
      }),
    );
  }
  if (path === "/flush") {
    const conn = request.connection!;
    void conn.writeHeaders({ kind: "response", version: "HTTP/1.1", code: 200, reason: "OK" }, new HTTPHeaders({ "Content-Type": "text/plain" }), enc("part1,"));
    setTimeout(() => {
      void conn.write(enc("part2,"));
      setTimeout(() => {
        void conn.write(enc("part3"));
        conn.finish();
      }, 10);
    }, 10);
    return;
  }
  if (path === "/slow") {
    setTimeout(() => respond(request, 200, "slow done"), 150);
    return;
  }
  if (path === "/big") {
    bigServed++;
    const size = Number(request.query || "0");
    const body = new Uint8Array(size).map((_, i) => i % 253);
    return respond(request, 200, body);
  }
  if (path === "/hang") {
    // Never answers; records when the client goes away.
    request.connection!.setCloseCallback(() => closeNotices.push(request.uri));
    return;
  }
  if (path === "/misuse") {
    const conn = request.connection!;
    void conn.writeHeaders({ kind: "response", version: "HTTP/1.1", code: 200, reason: "OK" }, new HTTPHeaders(), enc("body"));
    const errors: string[] = [];
    try {
      void conn.writeHeaders({ kind: "response", version: "HTTP/1.1", code: 500, reason: "Oops" }, new HTTPHeaders());
    } catch (e) {
      errors.push((e as Error).message);
    }
    conn.finish();
    conn.finish(); // ignored: a second end-of-body would corrupt the next response
    try {
      void conn.write(enc("late"));
    } catch (e) {
      errors.push((e as Error).message);
    }
    misuseErrors.push(...errors);
    return;
  }
  if (path === "/args") {
    return respond(request, 200, JSON.stringify(Object.fromEntries(Object.entries(request.arguments).map(([k, v]) => [k, v.map(dec)]))));
  }
  respond(request, 404, "not found");
}

for (const { name, make } of PLATFORMS) {
  describe(`HTTPServer on the ${name} platform`, () => {
    let restorePlatform: () => void;
    let logs: ReturnType<typeof captureLogs>;
    const servers: HTTPServer[] = [];

    beforeAll(() => {
      restorePlatform = usePlatform(make());
    });
    afterAll(() => restorePlatform());
    beforeEach(() => {
      logs = captureLogs();
    });
    afterEach(async () => {
      for (const s of servers.splice(0)) {
        await s.stop();
        await s.closeAllConnections();
      }
      logs.restore();
    });

    async function start(options: HTTPServerOptions = {}): Promise<number> {
      const server = new HTTPServer(app, options);
      servers.push(server);
      return server.listen(0, "127.0.0.1");
    }

    /** A good client after a bad one: the server must still serve. */
    async function expectStillServing(port: number): Promise<void> {
      const c = await RawClient.connect(port);
      c.send("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
      const r = await c.readResponse();
      expect(r.code).toBe(200);
      expect(dec(r.body)).toBe("Hello, world");
      c.close();
    }

    it("serves hello world with the exact bytes Tornado's connection layer writes", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("GET / HTTP/1.1\r\nHost: localhost:8888\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n");
      const r = await c.readResponse();
      expect(r.raw).toBe("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nHello, world");
      c.close();
    });

    it("keeps an HTTP/1.1 connection alive across requests", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      for (let i = 0; i < 3; i++) {
        c.send(`GET /info?i=${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
        const r = await c.readResponse();
        expect(r.code).toBe(200);
        expect(r.header("Connection")).toBeUndefined();
        expect(JSON.parse(dec(r.body)).uri).toBe(`/info?i=${i}`);
      }
      expect(c.closed || c.ended).toBe(false);
      c.send("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
      const last = await c.readResponse();
      expect(last.header("Connection")).toBe("close");
      await c.waitClosed();
    });

    it("answers pipelined requests in order", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send(
        "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n" +
          "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
          "GET /info?third HTTP/1.1\r\nHost: a\r\n\r\n",
      );
      const r1 = await c.readResponse();
      const r2 = await c.readResponse();
      const r3 = await c.readResponse();
      expect(dec(r1.body)).toBe("slow done");
      expect(dec(r2.body)).toBe("hello");
      expect(r2.header("X-Method")).toBe("POST");
      expect(JSON.parse(dec(r3.body)).uri).toBe("/info?third");
      c.close();
    });

    it("closes an HTTP/1.0 connection without keep-alive, answering with an HTTP/1.1 status line", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("GET / HTTP/1.0\r\n\r\n");
      const r = await c.readResponse();
      expect(r.statusLine).toBe("HTTP/1.1 200 OK");
      expect(r.header("Connection")).toBeUndefined();
      expect(dec(r.body)).toBe("Hello, world");
      expect(await c.waitClosed()).toBe("");
    });

    it("keeps an HTTP/1.0 connection alive when asked, with Connection: Keep-Alive", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      const r1 = await c.readResponse();
      expect(r1.header("Connection")).toBe("Keep-Alive");
      c.send("GET /info HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      const r2 = await c.readResponse();
      expect(JSON.parse(dec(r2.body)).version).toBe("HTTP/1.0");
      expect(c.closed || c.ended).toBe(false);
      c.send("GET / HTTP/1.0\r\n\r\n");
      await c.readResponse();
      await c.waitClosed();
    });

    it("closes an HTTP/1.0 keep-alive connection whose response has no length", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("GET /flush HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      await c.waitClosed();
      const r = await c.readResponse();
      expect(r.header("Transfer-Encoding")).toBeUndefined();
      // Tornado 6's bytes: the header answers the request, the close ends the body.
      expect(r.header("Connection")).toBe("Keep-Alive");
      expect(dec(r.body)).toBe("part1,part2,part3");
    });

    it("reads chunked request bodies", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      await sleep(20);
      c.send("7;ext=1\r\n, world\r\n0\r\n\r\n");
      const r = await c.readResponse();
      expect(dec(r.body)).toBe("hello, world");
      expect(r.header("X-Body-Length")).toBe("12");
      c.close();
    });

    it("answers Expect: 100-continue before the body is sent", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
      expect(await c.waitBytes(27)).toBe("HTTP/1.1 100 (Continue)\r\n\r\n");
      c.consumeThrough("\r\n\r\n");
      c.send("data");
      const r = await c.readResponse();
      expect(r.code).toBe(200);
      expect(dec(r.body)).toBe("data");
      c.close();
    });

    it("sends a chunked response when the application flushes before finishing", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("GET /flush HTTP/1.1\r\nHost: a\r\n\r\n");
      const r = await c.readResponse();
      expect(r.header("Transfer-Encoding")).toBe("chunked");
      expect(r.header("Content-Length")).toBeUndefined();
      expect(r.raw.endsWith("6\r\npart1,\r\n6\r\npart2,\r\n5\r\npart3\r\n0\r\n\r\n")).toBe(true);
      expect(dec(r.body)).toBe("part1,part2,part3");
      // The connection stays usable after a chunked response.
      c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      expect((await c.readResponse()).code).toBe(200);
      c.close();
    });

    it("answers HEAD with the length but no body, and keeps the connection", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
      const head = await c.readResponse({ head: true });
      expect(head.raw).toBe("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n");
      const get = await c.readResponse();
      expect(dec(get.body)).toBe("Hello, world");
      c.close();
    });

    it("refuses a body written to a HEAD response rather than corrupting the framing", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("HEAD /flush HTTP/1.1\r\nHost: a\r\n\r\n");
      await c.waitClosed();
      expect(logs.text()).toMatch(/Content-Length|Uncaught|more data/);
      await expectStillServing(port);
    });

    it("applies xheaders per request, skipping trusted proxies, without leaking to the next request", async () => {
      const port = await start({ xheaders: true, trustedDownstream: ["10.0.0.2"] });
      const c = await RawClient.connect(port);
      const info = async (headers: string) => {
        c.send(`GET /info HTTP/1.1\r\nHost: example.com\r\n${headers}\r\n`);
        return JSON.parse(dec((await c.readResponse()).body)) as { remoteIp: string; protocol: string; host: string };
      };
      expect(await info("X-Real-Ip: 4.4.4.4\r\n")).toMatchObject({ remoteIp: "4.4.4.4", protocol: "http" });
      expect(await info("X-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.0.0.2\r\nX-Forwarded-Proto: https\r\n")).toMatchObject({
        remoteIp: "2.2.2.2",
        protocol: "https",
      });
      expect(await info("X-Scheme: https\r\nX-Forwarded-Proto: http\r\n")).toMatchObject({ protocol: "https" });
      expect(await info("X-Real-Ip: not-an-ip\r\nX-Scheme: gopher\r\n")).toMatchObject({ remoteIp: "127.0.0.1", protocol: "http" });
      expect(await info("X-Real-Ip: 2001:db8::1\r\n")).toMatchObject({ remoteIp: "2001:db8::1" });
      expect(await info("")).toMatchObject({ remoteIp: "127.0.0.1", protocol: "http", host: "example.com" });
      c.close();
    });

    it("ignores xheaders unless enabled", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("GET /info HTTP/1.1\r\nHost: a\r\nX-Real-Ip: 4.4.4.4\r\nX-Scheme: https\r\n\r\n");
      expect(JSON.parse(dec((await c.readResponse()).body))).toMatchObject({ remoteIp: "127.0.0.1", protocol: "http" });
      c.close();
    });

    it("closes idle keep-alive connections after idleConnectionTimeout", async () => {
      const port = await start({ idleConnectionTimeout: 0.2 });
      const c = await RawClient.connect(port);
      // Our clock starts before the request, the server's idle one after its response: ours can
      // only run longer, however late this process is scheduled to read the response.
      const t0 = Date.now();
      c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      expect((await c.readResponse()).code).toBe(200);
      expect(await c.waitClosed(3000)).toBe("");
      expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
      await expectStillServing(port);
    });

    it("closes a connection whose body does not arrive within bodyTimeout", async () => {
      const port = await start({ bodyTimeout: 0.2 });
      const c = await RawClient.connect(port);
      c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
      expect(await c.waitClosed(3000)).toBe("");
      expect(logs.text()).toContain("Timeout reading body from 127.0.0.1");
      await expectStillServing(port);
    });

    it("cuts off a client trickling its head one byte at a time past the header timeout", async () => {
      const port = await start({ idleConnectionTimeout: 0.3 });
      const slow = await RawClient.connect(port);
      const trickling = slow.trickle("GET / HTTP/1.1\r\nHost: localhost\r\nX-Padding: aaaaaaaaaaaaaaaa\r\n\r\n", 25);
      // Others are served while the slow client trickles.
      await expectStillServing(port);
      expect(await slow.waitClosed(3000)).toBe("");
      await trickling;
      await expectStillServing(port);
    });

    it("serves a slow client that finishes within the timeout", async () => {
      const port = await start({ idleConnectionTimeout: 5 });
      const slow = await RawClient.connect(port);
      await slow.trickle("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 2);
      expect((await slow.readResponse()).code).toBe(200);
      slow.close();
    });

    it("answers 431 to a head larger than maxHeaderSize", async () => {
      const port = await start({ maxHeaderSize: 1024 });
      const c = await RawClient.connect(port);
      c.send(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(2000)}\r\n\r\n`);
      expect(await c.waitClosed()).toBe("HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n");
      // A head just under the limit is fine.
      const ok = await RawClient.connect(port);
      ok.send(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(900)}\r\n\r\n`);
      expect((await ok.readResponse()).code).toBe(200);
      ok.close();
      await expectStillServing(port);
    });

    it("answers 413 to a Content-Length over maxBodySize, and to a chunked body that grows over it", async () => {
      const port = await start({ maxBodySize: 100 });
      const c = await RawClient.connect(port);
      c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n");
      expect(await c.waitClosed()).toBe("HTTP/1.1 413 Request Entity Too Large\r\n\r\n");
      const d = await RawClient.connect(port);
      d.send(`POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n${"a".repeat(64)}\r\n40\r\n${"b".repeat(64)}\r\n0\r\n\r\n`);
      expect(await d.waitClosed()).toBe("HTTP/1.1 413 Request Entity Too Large\r\n\r\n");
      const ok = await RawClient.connect(port);
      ok.send(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n${"z".repeat(100)}`);
      expect((await ok.readResponse()).header("X-Body-Length")).toBe("100");
      ok.close();
      await expectStillServing(port);
    });

    it("rejects Content-Length together with Transfer-Encoding with 400", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
      expect(await c.waitClosed()).toBe("HTTP/1.1 400 Bad Request\r\n\r\n");
      await expectStillServing(port);
    });

    it("rejects a bad chunk size with 400", async () => {
      const port = await start();
      for (const bad of ["zz\r\nhello\r\n0\r\n\r\n", "-5\r\nhello\r\n", "5\r\nhelloXX0\r\n\r\n", `${"1".repeat(80)}\r\n`]) {
        const c = await RawClient.connect(port);
        c.send(`POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${bad}`);
        expect(await c.waitClosed()).toBe("HTTP/1.1 400 Bad Request\r\n\r\n");
      }
      await expectStillServing(port);
    });

    it("rejects malformed request lines and headers with a bare 400 and a close", async () => {
      const port = await start();
      const bad = [
        "GARBAGE\r\n\r\n",
        "GET /\r\n\r\n",
        "GET / HTTP/1.1 extra\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / FOO/1.1\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "GET / HTTP/1.1\r\n continuation first\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "\r\n\r\n",
      ];
      for (const request of bad) {
        const c = await RawClient.connect(port);
        c.send(request);
        expect(await c.waitClosed(), JSON.stringify(request)).toBe("HTTP/1.1 400 Bad Request\r\n\r\n");
      }
      expect(logs.text()).toContain("Malformed HTTP message from 127.0.0.1");
      await expectStillServing(port);
    });

    it("accepts bare-LF heads, leading blank lines, folded headers and duplicate equal Content-Lengths", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      c.send("\r\nGET /info HTTP/1.1\nHost: lf.example\n\n");
      expect(JSON.parse(dec((await c.readResponse()).body)).host).toBe("lf.example");
      c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\nX-Folded: a\r\n  b\r\n\r\nabc");
      expect(dec((await c.readResponse()).body)).toBe("abc");
      c.close();
    });

    it("normalises header names as Tornado does, whether or not they are spelt the usual way", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      // "Content-Typo" has the length of "Content-Type" (one of the names taken as literals).
      c.send("GET /info HTTP/1.1\r\nHost: a\r\nuser-agent: x\r\nUser-Agent: y\r\nContent-Typo: z\r\nACCEPT: */*\r\nAccept-Language: en\r\nx-forwarded-FOR: 1.2.3.4\r\n\r\n");
      expect(JSON.parse(dec((await c.readResponse()).body)).headers).toEqual([
        ["Host", "a"],
        ["User-Agent", "x"],
        ["User-Agent", "y"],
        ["Content-Typo", "z"],
        ["Accept", "*/*"],
        ["Accept-Language", "en"],
        ["X-Forwarded-For", "1.2.3.4"],
      ]);
      c.close();
    });

    it("parses query and form arguments for a callback", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      const form = "b=2&c=%C3%A9";
      c.send(`POST /args?a=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`);
      expect(JSON.parse(dec((await c.readResponse()).body))).toEqual({ a: ["1"], b: ["2"], c: ["é"] });
      c.close();
    });

    it("keeps serving when the application throws, closing only that connection", async () => {
      const server = new HTTPServer((request) => {
        if (request.path === "/boom") throw new Error("kaboom");
        app(request);
      });
      servers.push(server);
      const port = await server.listen(0, "127.0.0.1");
      const c = await RawClient.connect(port);
      c.send("GET /boom HTTP/1.1\r\nHost: a\r\n\r\n");
      expect(await c.waitClosed()).toBe("");
      expect(logs.text()).toContain("kaboom");
      await expectStillServing(port);
    });

    it("survives clients that vanish mid-request or mid-response", async () => {
      const port = await start();
      const a = await RawClient.connect(port);
      a.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial");
      await sleep(10);
      a.close();
      const b = await RawClient.connect(port);
      b.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
      await sleep(10);
      b.close();
      await sleep(200);
      await expectStillServing(port);
    });

    it("moves large bodies intact both ways (body read in chunks, response under back-pressure)", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      const size = 3 * 1024 * 1024 + 17;
      const upload = new Uint8Array(size).map((_, i) => (i * 31) % 256);
      c.send(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
      c.send(upload);
      const echoed = await c.readResponse({ timeoutMs: 15000 });
      expect(echoed.body.length).toBe(size);
      expect(echoed.body.every((b, i) => b === (i * 31) % 256)).toBe(true);
      c.send("GET /big?5000000 HTTP/1.1\r\nHost: a\r\n\r\n");
      const big = await c.readResponse({ timeoutMs: 15000 });
      expect(big.body.length).toBe(5_000_000);
      expect(big.body.every((b, i) => b === i % 253)).toBe(true);
      c.close();
    });

    it("stops reading pipelined requests while the client does not read the responses", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      const count = 1500;
      c.socket.pause(); // the client reads nothing for now
      bigServed = 0;
      c.send("GET /big?20000 HTTP/1.1\r\nHost: a\r\n\r\n".repeat(count));
      await sleep(300);
      // Kernel buffers may absorb some megabytes, but not 30 MB of responses.
      expect(bigServed).toBeGreaterThan(0);
      expect(bigServed).toBeLessThan(count);
      c.socket.resume();
      for (let i = 0; i < count; i++) {
        const r = await c.readResponse({ timeoutMs: 15000 });
        expect(r.body.length).toBe(20000);
      }
      expect(bigServed).toBe(count);
      c.close();
    });

    it("tells the application when the client goes away before the response", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      const uri = `/hang?${name}`;
      c.send(`GET ${uri} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await sleep(30);
      expect(closeNotices).not.toContain(uri);
      c.close();
      for (let i = 0; i < 100 && !closeNotices.includes(uri); i++) await sleep(10);
      expect(closeNotices).toContain(uri);
      await expectStillServing(port);
    });

    it("refuses a second head or writes after finish, and ignores a second finish, keeping the framing intact", async () => {
      const port = await start();
      const c = await RawClient.connect(port);
      misuseErrors.length = 0;
      c.send("GET /misuse HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
      const first = await c.readResponse();
      expect(first.header("Transfer-Encoding")).toBe("chunked");
      expect(dec(first.body)).toBe("body");
      const second = await c.readResponse();
      expect(dec(second.body)).toBe("Hello, world");
      expect(misuseErrors).toEqual(["writeHeaders() called twice", "Cannot write() after finish()"]);
      c.close();
    });

    it("decompresses gzip request bodies when asked (decompress)", async () => {
      const port = await start({ decompress: true });
      const plain = "x=1&y=" + "z".repeat(500);
      const stream = new Blob([enc(plain)]).stream().pipeThrough(new CompressionStream("gzip"));
      const gz = new Uint8Array(await new Response(stream).arrayBuffer());
      const c = await RawClient.connect(port);
      c.send(`POST /args HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`);
      c.send(gz);
      const r = await c.readResponse();
      expect(JSON.parse(dec(r.body))).toEqual({ x: ["1"], y: ["z".repeat(500)] });
      // Corrupt gzip is a bad request, and the server keeps serving.
      const d = await RawClient.connect(port);
      d.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\nnot gzip!!");
      expect(await d.waitClosed()).toBe("HTTP/1.1 400 Bad Request\r\n\r\n");
      await expectStillServing(port);
    });

    it("stops gracefully: no new connections, idle ones closed, in-flight requests finish", async () => {
      const server = new HTTPServer(app);
      servers.push(server);
      const port = await server.listen(0, "127.0.0.1");
      const idle = await RawClient.connect(port);
      idle.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      await idle.readResponse();
      const busy = await RawClient.connect(port);
      busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
      await sleep(30);
      await server.stop();
      expect(await idle.waitClosed()).toBe("");
      const r = await busy.readResponse();
      expect(dec(r.body)).toBe("slow done");
      expect(r.header("Connection")).toBe("close");
      await busy.waitClosed();
      await expect(RawClient.connect(port)).rejects.toThrow(/ECONNREFUSED/);
      expect(server.connectionCount).toBe(0);
    });

    it("reports the bound port and refuses a port in use", async () => {
      const server = new HTTPServer(app);
      servers.push(server);
      const port = await server.listen(0, "127.0.0.1");
      expect(server.port).toBe(port);
      expect(port).toBeGreaterThan(0);
      const other = new HTTPServer(app);
      await expect(other.listen(port, "127.0.0.1")).rejects.toThrow(/EADDRINUSE/);
    });

    it("closeAllConnections closes keep-alive connections", async () => {
      const server = new HTTPServer(app);
      servers.push(server);
      const port = await server.listen(0, "127.0.0.1");
      const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(port)));
      for (const c of clients) c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      for (const c of clients) await c.readResponse();
      expect(server.connectionCount).toBe(3);
      await server.closeAllConnections();
      for (const c of clients) await c.waitClosed();
      expect(server.connectionCount).toBe(0);
    });
  });
}



describe("the talk's hello example over the in-memory network", () => {
  it("is served by the same code on the memory platform as on Node", async () => {
    const restore = usePlatform(createMemoryPlatform({ log: () => {} }));
    const logs = captureLogs();
    const { IOLoop } = await import("./ioloop.js");
    try {
      // slides/examples/hello.ts listens on 8888 and starts the IOLoop: on the memory network
      // port 8888 is a table entry, not an OS port.
      await import("../slides/examples/hello.js");
      let r: RawResponse | null = null;
      for (let i = 0; i < 50 && r === null; i++) {
        try {
          const c = await RawClient.connect(8888, "localhost");
          c.send("GET / HTTP/1.1\r\nHost: localhost:8888\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
          r = await c.readResponse();
          c.close();
        } catch {
          await sleep(10);
        }
      }
      expect(r).not.toBeNull();
      expect(r!.statusLine).toBe("HTTP/1.1 200 OK");
      expect(dec(r!.body)).toBe("Hello, world");
      expect(r!.header("Etag")).toBe('"e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"');
      expect(r!.header("Content-Length")).toBe("12");
    } finally {
      IOLoop.instance().stop();
      logs.restore();
      restore();
    }
  });
});
