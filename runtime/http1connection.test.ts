/**
 * The HTTP/1.x parser under random and mutated input (fast-check), plus the client side of
 * HTTP1Connection against a scripted raw server.
 *
 * Property: whatever bytes a client sends and then half-closes, the server answers with a
 * sequence of well-formed HTTP responses (parsed by the test kit's own strict parser) and
 * closes, never hangs, and the next client still gets a 200.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTP1Connection } from "./http1connection.js";
import { HTTPServer } from "./httpserver.js";
import { HTTPHeaders, type HTTPMessageDelegate, type ResponseStartLine } from "./httputil.js";
import { IOStream } from "./iostream.js";
import { platform } from "./platform/index.js";
import { PLATFORMS, RawClient, captureLogs, dec, enc, latin1, latin1Encode, parseResponse, usePlatform } from "./platform/testkit.js";
import type { PlatformSocket } from "./platform/types.js";

const VALID = [
  "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
  "GET /a?b=c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
  "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nxyz",
  "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
];

const TOKENS = ["\r\n", "\n", "\r", " ", ":", "\t", "0", "-1", "ffffffffffffffff", "chunked", "Content-Length: ", "Transfer-Encoding: ", "HTTP/1.1", "\x00", "\xff", ";", ","];

/** A valid request with random edits: byte flips, inserted tokens, deletions, truncation. */
const mutatedRequest = fc
  .tuple(
    fc.constantFrom(...VALID),
    fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.constantFrom(...TOKENS) }),
        fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
        fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([base, edits]) => {
    let s = base;
    for (const e of edits) {
      const at = s.length === 0 ? 0 : e.at % (s.length + 1);
      if (e.kind === "flip") s = s.slice(0, at) + String.fromCharCode(e.byte) + s.slice(at + 1);
      else if (e.kind === "insert") s = s.slice(0, at) + e.text + s.slice(at);
      else if (e.kind === "delete") s = s.slice(0, at) + s.slice(at + e.length);
      else s = s.slice(0, Math.max(at, 1));
    }
    return latin1Encode(s);
  });

/** A request assembled from random parts: methods, targets, versions, header names and values, framing. */
const structuredRequest = fc
  .record({
    method: fc.constantFrom("GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "G\x00T", "", "get"),
    target: fc.oneof(fc.constantFrom("/", "/echo", "*", "/%zz", "http://a/b"), fc.string({ maxLength: 12 })),
    version: fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2", "http/1.1", ""),
    headers: fc.array(fc.tuple(fc.oneof(fc.constantFrom("Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect"), fc.string({ maxLength: 8 })), fc.string({ maxLength: 12 })), {
      maxLength: 5,
    }),
    body: fc.string({ maxLength: 20 }),
    eol: fc.constantFrom("\r\n", "\n"),
  })
  .map(({ method, target, version, headers, body, eol }) =>
    latin1Encode(`${method} ${target} ${version}${eol}${headers.map(([k, v]) => `${k}: ${v}${eol}`).join("")}${eol}${body}`),
  );

const anyRequest = fc.oneof(mutatedRequest, structuredRequest, fc.uint8Array({ maxLength: 200 }));

function echoApp(request: import("./httputil.js").HTTPServerRequest): void {
  const h = new HTTPHeaders({ "Content-Length": String(request.body.length) });
  request.connection!.writeHeaders({ kind: "response", version: "HTTP/1.1", code: 200, reason: "OK" }, h, request.method === "HEAD" ? undefined : request.body);
  request.connection!.finish();
}

/**
 * Sends `bytes` (split at `cuts`, a turn of the event loop between pieces), half-closes, and
 * collects everything until the server closes.
 */
async function exchange(port: number, bytes: Uint8Array, cuts: number[] = []): Promise<Uint8Array> {
  const socket = await platform().connect("127.0.0.1", port);
  const pieces: Uint8Array[] = [];
  let last = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    pieces.push(bytes.subarray(last, cut));
    last = cut;
  }
  pieces.push(bytes.subarray(last));
  const chunks: Uint8Array[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server neither answered nor closed; sent ${JSON.stringify(latin1(bytes))}, got ${JSON.stringify(chunks.map(latin1).join(""))}`));
    }, 3000);
    const done = () => {
      clearTimeout(timer);
      const total = chunks.reduce((n, c) => n + c.length, 0);
      const out = new Uint8Array(total);
      let off = 0;
      for (const c of chunks) {
        out.set(c, off);
        off += c.length;
      }
      resolve(out);
    };
    socket.onData = (c) => chunks.push(c.slice());
    socket.onEnd = () => socket.end();
    socket.onClose = done;
    void (async () => {
      for (const piece of pieces) {
        if (piece.length > 0) socket.write(piece);
        if (pieces.length > 1) await new Promise((r) => setTimeout(r, 0));
      }
      socket.end();
    })();
  });
}

/** Every byte received must belong to a well-formed response. */
function assertWellFormed(received: Uint8Array, sent: Uint8Array): number[] {
  const codes: number[] = [];
  let rest = received;
  while (rest.length > 0) {
    let parsed;
    try {
      parsed = parseResponse(rest, true);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nsent ${JSON.stringify(latin1(sent))}\ngot ${JSON.stringify(latin1(received))}`);
    }
    if (!parsed) throw new Error(`incomplete response ${JSON.stringify(latin1(rest))}`);
    codes.push(parsed.response.code);
    rest = rest.subarray(parsed.length);
  }
  return codes;
}

for (const { name, make } of PLATFORMS) {
  describe(`HTTP/1.1 parser under random input (${name})`, () => {
    let restore: () => void;
    let logs: ReturnType<typeof captureLogs>;
    let server: HTTPServer;
    let port: number;

    beforeAll(async () => {
      restore = usePlatform(make());
      logs = captureLogs();
      server = new HTTPServer(echoApp, { maxHeaderSize: 256, maxBodySize: 64 });
      port = await server.listen(0, "127.0.0.1");
    });
    afterAll(async () => {
      await server.stop();
      await server.closeAllConnections();
      logs.restore();
      restore();
    });

    it("answers well-formed or closes, and keeps serving", { timeout: 120_000 }, async () => {
      let runs = 0;
      const numRuns = name === "memory" ? 400 : 150;
      await fc.assert(
        fc.asyncProperty(anyRequest, fc.array(fc.nat(), { maxLength: 3 }), async (bytes, cuts) => {
          runs++;
          const received = await exchange(port, bytes, cuts);
          const codes = assertWellFormed(received, bytes);
          for (const code of codes) expect([100, 200, 400, 413, 431]).toContain(code);
          const ok = await exchange(port, enc("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok"));
          expect(latin1(ok)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }),
        { numRuns },
      );
      expect(runs).toBeGreaterThanOrEqual(numRuns);
      // The malformed inputs really were rejected by the parser, not just echoed.
      expect(logs.records.some((r) => r.message.startsWith("Malformed HTTP message"))).toBe(true);
    });

    it("answers the same however the bytes are split across packets", { timeout: 120_000 }, async () => {
      const pipeline = enc(VALID.filter((r) => !r.startsWith("GET /a?b=c HTTP/1.0")).join(""));
      const expected = latin1(await exchange(port, pipeline));
      expect(expected.split("HTTP/1.1 200 OK").length - 1).toBe(7);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), async (cuts) => {
          expect(latin1(await exchange(port, pipeline, cuts))).toBe(expected);
        }),
        { numRuns: name === "memory" ? 150 : 40 },
      );
    });

    it("answers every unmutated request with 200s", async () => {
      for (const request of VALID) {
        const codes = assertWellFormed(await exchange(port, enc(request)), enc(request));
        expect(codes.filter((c) => c !== 100).every((c) => c === 200), request).toBe(true);
        expect(codes.filter((c) => c === 200).length).toBe(request.split(" HTTP/1.").length - 1);
      }
    });
  });
}

/** A server that replies with a scripted byte string to whatever it receives first. */
async function scriptedServer(reply: string | ((request: string) => string), closeAfter = false): Promise<{ port: number; close: () => Promise<void>; requests: string[] }> {
  const requests: string[] = [];
  const sockets: PlatformSocket[] = [];
  const listener = await platform().listen({
    port: 0,
    host: "127.0.0.1",
    onConnection(socket) {
      sockets.push(socket);
      let got = "";
      let replied = false;
      const index = requests.push("") - 1;
      socket.onData = (chunk) => {
        got += latin1(chunk);
        requests[index] = got;
        if (!replied && got.includes("\r\n\r\n")) {
          replied = true;
          socket.write(latin1Encode(typeof reply === "string" ? reply : reply(got)));
          if (closeAfter) socket.end();
        }
      };
      socket.onEnd = () => socket.end();
    },
  });
  return {
    port: listener.port,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await listener.close();
    },
  };
}

class Collect implements HTTPMessageDelegate {
  heads: ResponseStartLine[] = [];
  headers: HTTPHeaders[] = [];
  body = "";
  finished = false;
  headersReceived(startLine: ResponseStartLine, headers: HTTPHeaders): void {
    this.heads.push(startLine);
    this.headers.push(headers);
  }
  dataReceived(chunk: Uint8Array): void {
    this.body += dec(chunk);
  }
  finish(): void {
    this.finished = true;
  }
  onConnectionClose(): void {}
}

for (const { name, make } of PLATFORMS) {
  describe(`HTTP1Connection client side (${name})`, () => {
    let restore: () => void;
    let logs: ReturnType<typeof captureLogs>;
    beforeAll(() => {
      restore = usePlatform(make());
      logs = captureLogs();
    });
    afterAll(() => {
      logs.restore();
      restore();
    });

    async function roundTrip(reply: string, options: { closeAfter?: boolean; method?: string; body?: string; headers?: [string, string][] } = {}) {
      const server = await scriptedServer(reply, options.closeAfter);
      const stream = new IOStream(await platform().connect("127.0.0.1", server.port));
      const conn = new HTTP1Connection(stream, true);
      const method = options.method ?? "GET";
      await conn.writeHeaders({ kind: "request", method, path: "/p?q=1", version: "HTTP/1.1" }, options.headers ?? [["Host", "x"]]);
      if (options.body) await conn.write(enc(options.body));
      conn.finish();
      const collect = new Collect();
      const open = await conn.readResponse(collect);
      stream.close();
      await server.close();
      return { collect, open, request: server.requests[0]!, conn };
    }

    it("writes caller headers in order and casing, and reads a Content-Length body", async () => {
      const { collect, request, conn } = await roundTrip("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello", {
        headers: [
          ["Host", "localhost:8888"],
          ["User-Agent", "curl/7.88.1"],
          ["Accept", "*/*"],
        ],
      });
      expect(request).toBe("GET /p?q=1 HTTP/1.1\r\nHost: localhost:8888\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
      expect(latin1(conn.requestHead!)).toBe(request);
      expect(collect.heads[0]).toMatchObject({ code: 200, reason: "OK", version: "HTTP/1.1" });
      expect(collect.body).toBe("hello");
      expect(conn.rawHeadLines).toEqual(["HTTP/1.1 200 OK", "Content-Length: 5", "X-A: 1"]);
    });

    it("reads chunked bodies", async () => {
      const { collect } = await roundTrip("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
      expect(collect.body).toBe("abcde");
      expect(collect.finished).toBe(true);
    });

    it("reads a body delimited by the connection closing", async () => {
      const { collect } = await roundTrip("HTTP/1.0 200 OK\r\n\r\nuntil close", { closeAfter: true });
      expect(collect.heads[0]!.version).toBe("HTTP/1.0");
      expect(collect.body).toBe("until close");
    });

    it("skips the body of 304 and HEAD responses, and reads past a 100 Continue", async () => {
      expect((await roundTrip("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")).collect.body).toBe("");
      expect((await roundTrip("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", { method: "HEAD" })).collect.body).toBe("");
      const { collect } = await roundTrip("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", {
        method: "POST",
        body: "xy",
        headers: [["Content-Length", "2"]],
      });
      expect(collect.heads.map((h) => h.code)).toEqual([100, 201]);
      expect(collect.body).toBe("ok");
    });

    it("frames a POST without Content-Length as chunked, as Tornado's client does", async () => {
      const { request } = await roundTrip("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", { method: "POST", body: "abc", headers: [["Host", "h"]] });
      expect(request).toBe("POST /p?q=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    });

    it("rejects a malformed response", async () => {
      const { open, conn } = await roundTrip("HTTP/1.1 2xx Broken\r\n\r\n");
      expect(open).toBe(false);
      expect(conn.inputError?.message).toMatch(/response start line/);
    });

    it("writes header text as latin-1, and refuses characters beyond it", async () => {
      const { request } = await roundTrip("HTTP/1.1 200 OK\r\nX-Back: caf\xe9\r\nContent-Length: 0\r\n\r\n", { headers: [["X-Name", "caf\u00e9 \u00ff"]] });
      expect(request).toBe("GET /p?q=1 HTTP/1.1\r\nX-Name: caf\xe9 \xff\r\n\r\n");
      const server = await scriptedServer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      const stream = new IOStream(await platform().connect("127.0.0.1", server.port));
      const conn = new HTTP1Connection(stream, true);
      expect(() => conn.writeHeaders({ kind: "request", method: "GET", path: "/", version: "HTTP/1.1" }, [["X", "\u20ac"]])).toThrow(/latin-1/);
      stream.close();
      await server.close();
    });

    it("reads latin-1 response header values byte for byte", async () => {
      const { collect, conn } = await roundTrip("HTTP/1.1 200 OK\r\nX-Back: caf\xe9 \x80\x9f\r\nContent-Length: 0\r\n\r\n");
      expect(collect.headers[0]!.get("X-Back")).toBe("caf\u00e9 \u0080\u009f");
      expect(conn.rawHeadLines![1]).toBe("X-Back: caf\u00e9 \u0080\u009f");
    });

    it("refuses headers containing newlines (response splitting)", async () => {
      const server = await scriptedServer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      const stream = new IOStream(await platform().connect("127.0.0.1", server.port));
      const conn = new HTTP1Connection(stream, true);
      expect(() => conn.writeHeaders({ kind: "request", method: "GET", path: "/", version: "HTTP/1.1" }, [["X", "a\r\nInjected: yes"]])).toThrow(/Newline in header/);
      stream.close();
      await server.close();
    });
  });
}

describe("response heads from cached header lines", () => {
  let restore: () => void;
  let server: HTTPServer;
  let port: number;
  let logs: ReturnType<typeof captureLogs>;
  /** The headers the next response carries; the app writes them as given. */
  let next: [string, string][] = [];
  beforeAll(async () => {
    restore = usePlatform(PLATFORMS.find((p) => p.name === "memory")!.make());
    logs = captureLogs();
    server = new HTTPServer((request) => {
      const h = new HTTPHeaders();
      for (const [name, value] of next) h.add(name, value);
      h.set("Content-Length", "0");
      request.connection!.writeHeaders({ kind: "response", version: "HTTP/1.1", code: 200, reason: "OK" }, h);
      request.connection!.finish();
    });
    port = await server.listen(0, "127.0.0.1");
  });
  afterAll(async () => {
    await server.stop();
    await server.closeAllConnections();
    logs.restore();
    restore();
  });

  it("always carries the values of this response, whatever earlier responses sent under the same names", async () => {
    const name = fc.constantFrom("X-A", "x-a", "X-B", "Etag", "Set-Cookie");
    const value = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c === 0x7f ? 0x20 : c)), maxLength: 12 }).map((v) => v.trim());
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.tuple(name, value), { maxLength: 5 }), { minLength: 1, maxLength: 6 }), async (responses) => {
        const client = await RawClient.connect(port);
        try {
          for (const headers of responses) {
            next = headers;
            client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            const response = await client.readResponse();
            // HTTPHeaders groups a name's values where it first appeared, normalising its case.
            const expected = new HTTPHeaders();
            for (const [n, v] of headers) expected.add(n, v);
            expect(response.headers.filter(([n]) => n !== "Content-Length")).toEqual([...expected]);
          }
        } finally {
          client.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
