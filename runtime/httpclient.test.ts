/**
 * AsyncHTTPClient against our own HTTPServer, over real sockets and the in-memory network.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPTimeoutError } from "./httpclient.js";
import { HTTPServer } from "./httpserver.js";
import { HTTPHeaders, type HTTPServerRequest } from "./httputil.js";
import { platform } from "./platform/index.js";
import { PLATFORMS, captureLogs, dec, enc, latin1, usePlatform } from "./platform/testkit.js";

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([enc(text)]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function send(request: HTTPServerRequest, code: number, reason: string, headers: Record<string, string> | [string, string][], body: Uint8Array | string = ""): void {
  const bytes = typeof body === "string" ? enc(body) : body;
  const h = new HTTPHeaders(headers);
  if (!h.has("Content-Length")) h.set("Content-Length", String(bytes.length));
  request.connection!.writeHeaders({ kind: "response", version: "HTTP/1.1", code, reason }, h, bytes);
  request.connection!.finish();
}

let gzipped: Uint8Array;
/** Requests to /held, parked until a test answers them; `arrived` wakes whoever waits for one more. */
const held: HTTPServerRequest[] = [];
let arrived: (() => void) | null = null;
/** Resolves once `n` requests are parked at /held. */
async function heldCount(n: number): Promise<void> {
  while (held.length < n) await new Promise<void>((resolve) => (arrived = resolve));
}

function app(request: HTTPServerRequest): void {
  const conn = request.connection!;
  switch (request.path) {
    case "/hello":
      return send(request, 200, "OK", { "Content-Type": "text/plain" }, "Hello, world");
    case "/echo":
      return send(request, 200, "OK", { "X-Method": request.method, "X-Content-Type": request.headers.get("Content-Type") ?? "" }, request.body);
    case "/headers":
      return send(request, 200, "OK", {}, JSON.stringify([...request.headers.getAll()]));
    case "/chunked":
      void conn.writeHeaders({ kind: "response", version: "HTTP/1.1", code: 200, reason: "OK" }, new HTTPHeaders(), enc("one,"));
      setTimeout(() => {
        void conn.write(enc("two"));
        conn.finish();
      }, 5);
      return;
    case "/redirect":
      return send(request, 302, "Found", { Location: "/hello" });
    case "/redirect-post":
      return send(request, 303, "See Other", { Location: "/echo?after=303" });
    case "/loop":
      return send(request, 302, "Found", { Location: "/loop" });
    case "/missing":
      return send(request, 404, "Not Found", {}, "nope");
    case "/gzip":
      return send(request, 200, "OK", { "Content-Encoding": "gzip" }, gzipped);
    case "/never":
      return; // never answers
    case "/held":
      held.push(request);
      arrived?.();
      return;
    case "/casing":
      return send(request, 200, "OK", [["X-MiXeD-Case", "v"], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]], "");
    default:
      return send(request, 404, "Not Found", {}, "");
  }
}

for (const { name, make } of PLATFORMS) {
  describe(`AsyncHTTPClient on the ${name} platform`, () => {
    let restore: () => void;
    let logs: ReturnType<typeof captureLogs>;
    let server: HTTPServer;
    let base: string;
    let client: AsyncHTTPClient;

    beforeAll(async () => {
      restore = usePlatform(make());
      logs = captureLogs();
      gzipped = await gzip("compressed hello ".repeat(20));
      server = new HTTPServer(app);
      const port = await server.listen(0, "127.0.0.1");
      base = `http://127.0.0.1:${port}`;
      client = new AsyncHTTPClient();
    });
    afterAll(async () => {
      client.close();
      await server.stop();
      await server.closeAllConnections();
      logs.restore();
      restore();
    });

    it("GETs a body, with Tornado's default request headers", async () => {
      const r = await client.fetch(`${base}/hello`);
      expect(r.code).toBe(200);
      expect(r.reason).toBe("OK");
      expect(r.text).toBe("Hello, world");
      expect(r.headers.get("Content-Type")).toBe("text/plain");
      expect(r.error).toBeNull();
      expect(r.effectiveUrl).toBe(`${base}/hello`);
      expect(r.requestTime).toBeGreaterThanOrEqual(0);
      const sent = await client.fetch(`${base}/headers`);
      expect(JSON.parse(sent.text)).toEqual([
        ["Connection", "close"],
        ["Host", base.slice(7)],
        ["User-Agent", "Tornado/6.2"],
        ["Accept-Encoding", "gzip"],
      ]);
    });

    it("POSTs a body with Content-Length", async () => {
      const r = await client.fetch(`${base}/echo`, { method: "POST", body: "a=1&b=2", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
      expect(r.text).toBe("a=1&b=2");
      expect(r.headers.get("X-Method")).toBe("POST");
      expect(r.headers.get("X-Content-Type")).toBe("application/x-www-form-urlencoded");
    });

    it("reads a chunked response", async () => {
      const r = await client.fetch(`${base}/chunked`);
      expect(r.headers.get("Transfer-Encoding")).toBe("chunked");
      expect(r.text).toBe("one,two");
    });

    it("streams the body to streamingCallback", async () => {
      const parts: string[] = [];
      const r = await client.fetch(`${base}/chunked`, { streamingCallback: (c) => parts.push(dec(c)) });
      expect(parts.join("")).toBe("one,two");
      expect(r.body.length).toBe(0);
    });

    it("sends caller headers exactly, in order and casing, and exposes the raw head both ways", async () => {
      const lines: string[] = [];
      let sentHead = "";
      const request = new HTTPRequest(`${base}/casing`, {
        headers: [
          ["Host", "localhost:8888"],
          ["User-Agent", "curl/7.88.1"],
          ["Accept", "*/*"],
        ],
        defaultHeaders: false,
        decompressResponse: false,
        headerCallback: (line) => lines.push(line),
        onRequestSent: (head) => (sentHead = latin1(head)),
      });
      const r = await client.fetch(request);
      expect(sentHead).toBe("GET /casing HTTP/1.1\r\nHost: localhost:8888\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
      expect(latin1(r.requestHead)).toBe(sentHead);
      expect(r.rawStatusLine).toBe("HTTP/1.1 200 OK");
      expect(r.rawHeaderLines).toEqual(["X-Mixed-Case: v", "Set-Cookie: a=1", "Set-Cookie: b=2", "Content-Length: 0"]);
      expect(lines).toEqual(["HTTP/1.1 200 OK\r\n", ...r.rawHeaderLines.map((l) => l + "\r\n"), "\r\n"]);
      expect(r.headers.getList("Set-Cookie")).toEqual(["a=1", "b=2"]);
      expect(r.version).toBe("HTTP/1.1");
    });

    it("follows redirects, turning a 303 after POST into a GET", async () => {
      const r = await client.fetch(`${base}/redirect`);
      expect(r.code).toBe(200);
      expect(r.text).toBe("Hello, world");
      expect(r.effectiveUrl).toBe(`${base}/hello`);
      const p = await client.fetch(`${base}/redirect-post`, { method: "POST", body: "x" });
      expect(p.headers.get("X-Method")).toBe("GET");
      expect(p.effectiveUrl).toBe(`${base}/echo?after=303`);
      expect(p.text).toBe("");
    });

    it("stops after maxRedirects, or at the first redirect when not following", async () => {
      await expect(client.fetch(`${base}/loop`, { maxRedirects: 3 })).rejects.toMatchObject({ code: 302 });
      const r = await client.fetch(`${base}/redirect`, { followRedirects: false, raiseError: false });
      expect(r.code).toBe(302);
      expect(r.headers.get("Location")).toBe("/hello");
    });

    it("rejects non-2xx with HTTPClientError carrying the response, unless raiseError is false", async () => {
      const err = await client.fetch(`${base}/missing`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HTTPClientError);
      expect((err as HTTPClientError).code).toBe(404);
      expect((err as HTTPClientError).message).toBe("HTTP 404: Not Found");
      expect((err as HTTPClientError).response?.text).toBe("nope");
      const r = await client.fetch(`${base}/missing`, { raiseError: false });
      expect(r.code).toBe(404);
      expect(r.error?.code).toBe(404);
      expect(() => r.rethrow()).toThrow(HTTPClientError);
    });

    it("decodes gzip responses", async () => {
      const r = await client.fetch(`${base}/gzip`);
      expect(r.text).toBe("compressed hello ".repeat(20));
      expect(r.headers.get("Content-Encoding")).toBeUndefined();
      expect(r.headers.get("X-Consumed-Content-Encoding")).toBe("gzip");
      const raw = await client.fetch(`${base}/gzip`, { decompressResponse: false });
      expect([...raw.body]).toEqual([...gzipped]);
    });

    it("reports a refused connection as 599", async () => {
      const probe = await platform().listen({ port: 0, host: "127.0.0.1", onConnection: (s) => s.destroy() });
      const port = probe.port;
      await probe.close();
      const err = await client.fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HTTPClientError);
      expect((err as HTTPClientError).code).toBe(599);
      expect((err as HTTPClientError).message).toMatch(/ECONNREFUSED/);
      const r = await client.fetch(`http://127.0.0.1:${port}/`, { raiseError: false });
      expect(r.code).toBe(599);
      expect(r.body.length).toBe(0);
    });

    it("times out a request that gets no answer with 599", async () => {
      const t0 = Date.now();
      const r = await client.fetch(`${base}/never`, { requestTimeout: 0.2, raiseError: false });
      expect(r.code).toBe(599);
      // Tornado's HTTPTimeoutError: code 599, the message alone.
      expect(r.error).toBeInstanceOf(HTTPTimeoutError);
      expect(r.error?.message).toBe("Timeout during request");
      expect(Date.now() - t0).toBeLessThan(3000);
    });

    it("times out a connection that never completes with 599 'Timeout while connecting'", async () => {
      const base = platform();
      let connected: ((s: import("./platform/types.js").PlatformSocket) => void) | null = null;
      const stalled = { ...base, connect: (host: string, port: number) => new Promise<import("./platform/types.js").PlatformSocket>((resolve) => {
        // Completes only after the client gave up; the late socket must then be closed.
        connected = resolve;
        void host;
        void port;
      }) };
      const t0 = Date.now();
      const r = await client.fetch(new HTTPRequest("http://127.0.0.1:9/", { connectTimeout: 0.1, platform: stalled }), { raiseError: false });
      expect(r.code).toBe(599);
      expect(r.error).toBeInstanceOf(HTTPTimeoutError);
      expect(r.error?.message).toBe("Timeout while connecting");
      expect(Date.now() - t0).toBeLessThan(3000);
      let destroyed = false;
      connected!({ remoteAddress: "127.0.0.1", remotePort: 9, write: () => true, end() {}, destroy: () => (destroyed = true), pause() {}, resume() {}, onData: null, onEnd: null, onClose: null, onDrain: null, eventHandler: null });
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(destroyed).toBe(true);
    });

    it("reports a server that closes without answering as 599", async () => {
      const listener = await platform().listen({
        port: 0,
        host: "127.0.0.1",
        onConnection: (socket) => {
          socket.onData = () => socket.destroy();
        },
      });
      const r = await client.fetch(`http://127.0.0.1:${listener.port}/`, { raiseError: false });
      await listener.close();
      expect(r.code).toBe(599);
      expect(r.error?.message).toMatch(/Stream closed|Stream is closed/);
    });

    it("validates methods and bodies as Tornado does", async () => {
      const r = await client.fetch(`${base}/echo`, { method: "POST", raiseError: false });
      expect(r.code).toBe(599);
      expect(r.error?.message).toMatch(/Body must not be None for method POST/);
      const ok = await client.fetch(`${base}/echo`, { method: "POST", allowNonstandardMethods: true });
      expect(ok.code).toBe(200);
      const bad = await client.fetch("ftp://example.com/", { raiseError: false });
      expect(bad.code).toBe(599);
    });

    it("runs at most maxClients (10) fetches at once: the 11th connects only when one of the first ten finished", async () => {
      const connects: string[] = [];
      const counting = { ...platform(), connect: (host: string, port: number) => (connects.push(`${host}:${port}`), platform().connect(host, port)) };
      const limited = new AsyncHTTPClient({ platform: counting });
      expect(limited.maxClients).toBe(10);
      held.length = 0;
      const fetches = Array.from({ length: 11 }, (_, i) => limited.fetch(`${base}/held?n=${i}`));
      await heldCount(10);
      expect([connects.length, limited.active, limited.queued]).toEqual([10, 10, 1]);
      expect(held.map((r) => r.query)).toEqual(Array.from({ length: 10 }, (_, i) => `n=${i}`));
      const first = held.shift()!;
      send(first, 200, "OK", {}, first.query);
      expect((await fetches[0]!).text).toBe("n=0");
      await heldCount(10);
      expect(held.at(-1)!.query).toBe("n=10");
      expect([connects.length, limited.active, limited.queued]).toEqual([11, 10, 0]);
      for (const r of held.splice(0)) send(r, 200, "OK", {}, r.query);
      expect((await Promise.all(fetches)).map((r) => r.text)).toEqual(Array.from({ length: 11 }, (_, i) => `n=${i}`));
      expect([limited.active, limited.queued]).toEqual([0, 0]);
      limited.close();
    });

    it("a fetch that waits in the queue past its timeout gets 599 'Timeout in request queue'", async () => {
      const single = new AsyncHTTPClient({}, { maxClients: 1 });
      held.length = 0;
      const busy = single.fetch(`${base}/held`);
      await heldCount(1);
      // min(connect, request) bounds the wait in the queue, as in Tornado.
      const queued = await single.fetch(`${base}/hello`, { connectTimeout: 0.05, requestTimeout: 30, raiseError: false });
      expect([queued.code, queued.error?.message]).toEqual([599, "Timeout in request queue"]);
      expect(queued.error).toBeInstanceOf(HTTPTimeoutError);
      expect(single.queued).toBe(0);
      send(held.shift()!, 200, "OK", {}, "done");
      expect((await busy).text).toBe("done");
      // The place is free again: the next fetch runs at once.
      expect((await single.fetch(`${base}/hello`)).text).toBe("Hello, world");
      single.close();
    });

    it("a timeout of 0 means none, as in Tornado", async () => {
      held.length = 0;
      const fetching = client.fetch(`${base}/held`, { connectTimeout: 0, requestTimeout: 0 });
      await heldCount(1);
      send(held.shift()!, 200, "OK", {}, "late but fine");
      expect((await fetching).text).toBe("late but fine");
    });

    it("runs concurrent fetches independently", async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.fetch(`${base}/echo`, { method: "PUT", body: `n${i}` })));
      expect(results.map((r) => r.text)).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`));
    });
  });
}
