/**
 * `compressResponse` (GZipContentEncoding) against Debian's real Tornado 6.2 with
 * `compress_response=True`: the same app in Python and TypeScript, the same raw requests.
 * Heads must be identical (Date, Expires, Server masked; Content-Length too where the body is
 * gzipped, since Node's zlib and Python's deflate differently); gzipped bodies must carry the same
 * gzip header (mtime masked) and decode to the same bytes. One deliberate difference: Tornado
 * gzips a 206 (its Content-Range then counts uncompressed bytes of a compressed body); we do not.
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTPServer } from "./httpserver.js";
import { setLogSink } from "./log.js";
import { createMemoryPlatform } from "./platform/memory.js";
import { setPlatform } from "./platform/index.js";
import { Application, RequestHandler } from "./web.js";
import { rawExchange, startTornadoProgram, tornadoVersion } from "../tools/real-tornado.js";

const TEXT = Array.from({ length: 120 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`).join("");

const PY_APP = String.raw`
import sys, json, tornado.web, tornado.ioloop, tornado.netutil, tornado.httpserver, logging
logging.getLogger("tornado").setLevel(logging.CRITICAL)
TEXT = "".join("line %d: the quick brown fox jumps over the lazy dog\n" % i for i in range(120))
class H(tornado.web.RequestHandler):
    def get(self, what):
        if what == "short": self.write("Hello, world")
        elif what == "big": self.write(TEXT)
        elif what == "json": self.write({"lines": TEXT.split("\n")})
        elif what == "binary": self.set_header("Content-Type", "application/octet-stream"); self.write(TEXT)
        elif what == "vary": self.set_header("Vary", "Cookie"); self.write(TEXT)
        elif what == "encoded": self.set_header("Content-Encoding", "identity"); self.write(TEXT)
        elif what == "error": raise tornado.web.HTTPError(404)
        elif what == "stream":
            self.write(TEXT[:100]); self.flush(); self.write(TEXT[100:300]); self.flush(); self.write(TEXT[300:])
app = tornado.web.Application([(r"/h/(\w+)", H)], static_path=sys.argv[1], compress_response=True)
sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
server = tornado.httpserver.HTTPServer(app)
server.add_sockets(sockets)
print(sockets[0].getsockname()[1], flush=True)
tornado.ioloop.IOLoop.current().start()
`;

class H extends RequestHandler {
  async get(what: string) {
    switch (what) {
      case "short":
        return this.write("Hello, world");
      case "big":
        return this.write(TEXT);
      case "json":
        return this.write({ lines: TEXT.split("\n") });
      case "binary":
        this.setHeader("Content-Type", "application/octet-stream");
        return this.write(TEXT);
      case "vary":
        this.setHeader("Vary", "Cookie");
        return this.write(TEXT);
      case "encoded":
        this.setHeader("Content-Encoding", "identity");
        return this.write(TEXT);
      case "error":
        this.sendError(404);
        return;
      case "stream":
        this.write(TEXT.slice(0, 100));
        await this.flush();
        this.write(TEXT.slice(100, 300));
        await this.flush();
        this.write(TEXT.slice(300));
        return;
    }
  }
}

const close = "Connection: close\r\n";
const gz = "Accept-Encoding: gzip, deflate\r\n";
const get = (p: string, extra = "") => `GET ${p} HTTP/1.1\r\nHost: x\r\n${extra}${close}\r\n`;
const REQUESTS = [
  ...["short", "big", "json", "binary", "vary", "encoded", "error", "stream"].flatMap((w) => [get(`/h/${w}`, gz), get(`/h/${w}`)]),
  get("/h/big", "Accept-Encoding: br\r\n"),
  `HEAD /h/big HTTP/1.1\r\nHost: x\r\n${gz}${close}\r\n`,
  get("/h/big", `${gz}If-None-Match: "${"0".repeat(40)}"\r\n`),
  get("/static/big.css", gz),
  get("/static/big.css"),
  get("/static/small.css", gz),
  get("/static/pic.png", gz),
  `HEAD /static/big.css HTTP/1.1\r\nHost: x\r\n${gz}${close}\r\n`,
  get("/static/big.css", `${gz}Range: bytes=0-\r\n`),
  get("/static/big.css", `${gz}Range: bytes=5-1\r\n`),
];
const RANGE = get("/static/big.css", `${gz}Range: bytes=10-2000\r\n`);

interface Parsed {
  head: string;
  /** The body with any chunked framing removed, still encoded. */
  body: Buffer;
  header(name: string): string | undefined;
}

function parse(raw: Buffer): Parsed {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, split).toString("latin1");
  let body = raw.subarray(split + 4);
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, "mi").exec(head)?.[1]?.trim();
  if (header("Transfer-Encoding") === "chunked") {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = body.indexOf("\r\n", at);
      const size = parseInt(body.subarray(at, eol).toString("latin1"), 16);
      if (!size) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { head, body, header };
}

const mask = (head: string, gzipped: boolean) =>
  head
    .replace(/^(Date|Expires|Server): .*$/gm, "$1: <masked>")
    .replace(/^Content-Length: .*$/gm, (line) => (gzipped ? "Content-Length: <gzipped>" : line));

describe.skipIf(!tornadoVersion)(`compressResponse vs Tornado ${tornadoVersion ?? "(not installed: SKIPPED)"} compress_response=True`, () => {
  let python: ChildProcess;
  let pyPort = 0;
  let ours: HTTPServer;
  let ourPort = 0;
  let dir = "";
  let restoreSink: ReturnType<typeof setLogSink>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "web-gzip-"));
    fs.mkdirSync(path.join(dir, "static"));
    fs.writeFileSync(path.join(dir, "static", "big.css"), TEXT.replace(/line/g, "p"));
    fs.writeFileSync(path.join(dir, "static", "small.css"), "body{}\n");
    fs.writeFileSync(path.join(dir, "static", "pic.png"), Buffer.from(TEXT));
    const mtime = new Date(Date.UTC(2011, 9, 4, 12, 0, 0));
    for (const f of ["big.css", "small.css", "pic.png"]) fs.utimesSync(path.join(dir, "static", f), mtime, mtime);
    fs.writeFileSync(path.join(dir, "app.py"), PY_APP);
    const started = await startTornadoProgram(path.join(dir, "app.py"), [path.join(dir, "static")]);
    python = started.child;
    pyPort = started.ports[0]!;
    restoreSink = setLogSink(() => {});
    ours = new HTTPServer(new Application([["/h/(\\w+)", H]], { staticPath: path.join(dir, "static"), compressResponse: true }));
    ourPort = await ours.listen(0, "127.0.0.1");
  }, 30_000);

  afterAll(async () => {
    python?.kill();
    if (ours) {
      await ours.stop();
      await ours.closeAllConnections();
    }
    if (restoreSink) setLogSink(restoreSink);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the same heads, the same gzip framing, the same bytes once decoded", async () => {
    const differences: string[] = [];
    let gzippedCount = 0;
    for (const request of REQUESTS) {
      const [theirs, mine] = (await Promise.all([rawExchange(pyPort, request), rawExchange(ourPort, request)])).map(parse) as [Parsed, Parsed];
      const line = JSON.stringify(request.split("\r\n").slice(0, 3).join(" | "));
      const gzipped = theirs.header("Content-Encoding") === "gzip";
      if (mask(theirs.head, gzipped) !== mask(mine.head, gzipped)) {
        differences.push(`${line}\n  tornado: ${JSON.stringify(mask(theirs.head, gzipped))}\n  ours:    ${JSON.stringify(mask(mine.head, gzipped))}`);
        continue;
      }
      if (gzipped) {
        gzippedCount++;
        // Magic, method, flags; then XFL and OS (bytes 4-7 are the mtime).
        expect(mine.body.subarray(0, 4), line).toEqual(theirs.body.subarray(0, 4));
        expect(mine.body.subarray(8, 10), line).toEqual(theirs.body.subarray(8, 10));
        expect(gunzipSync(mine.body).equals(gunzipSync(theirs.body)), line).toBe(true);
        const length = mine.header("Content-Length");
        if (length !== undefined) expect(Number(length), line).toBe(mine.body.length);
      } else if (!mine.body.equals(theirs.body)) {
        differences.push(`${line}: bodies differ`);
      }
    }
    expect(differences).toEqual([]);
    // big, json, vary, stream (chunked), HEAD big, static big.css and small.css (static files
    // are streamed, so their size does not matter), bytes=0- (a 200).
    expect(gzippedCount).toBe(8);
  });

  it("a 206 is sent as is: Tornado 6.2 gzips it, we do not", async () => {
    const [theirs, mine] = (await Promise.all([rawExchange(pyPort, RANGE), rawExchange(ourPort, RANGE)])).map(parse) as [Parsed, Parsed];
    expect(theirs.head).toMatch(/^HTTP\/1\.1 206 /);
    expect(mine.head).toMatch(/^HTTP\/1\.1 206 /);
    expect(theirs.header("Content-Encoding")).toBe("gzip");
    expect(mine.header("Content-Encoding")).toBeUndefined();
    expect(mine.header("Vary")).toBe("Accept-Encoding");
    expect(mine.header("Content-Range")).toBe(theirs.header("Content-Range"));
    expect(mine.body.equals(gunzipSync(theirs.body))).toBe(true);
  });
});

describe("compressResponse on a platform without gzip", () => {
  it("the memory platform declines when the application is built", () => {
    const previous = setPlatform(createMemoryPlatform());
    try {
      expect(() => new Application([], { compressResponse: true })).toThrow(/compressResponse needs a platform with gzip \(Node\); the memory platform has none/);
      expect(() => new Application([], {})).not.toThrow();
    } finally {
      setPlatform(previous);
    }
  });
});
