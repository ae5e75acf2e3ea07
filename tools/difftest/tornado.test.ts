/**
 * Differential test: the same app (tools/difftest/app.py on Debian's real Tornado 6.2, and
 * tools/difftest/app.ts on our runtime) gets the same raw request bytes; the raw responses must
 * agree on the status line, the header names in order with their casing, every header value
 * but Date's and Server's, and the body bytes.
 *
 * Needs /usr/bin/python3 with tornado (.ci/run installs python3-tornado); without it the
 * tests are skipped, with the reason in their names.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTPServer } from "tornado/httpserver";
import { setLogSink } from "tornado/log";
import { difftestApp } from "./app.js";
import { PYTHON, tornadoVersion } from "../real-tornado.js";

const here = dirname(fileURLToPath(import.meta.url));
const SKIP_REASON = tornadoVersion ? "" : ` (SKIPPED: ${PYTHON} cannot import tornado; apt-get install python3-tornado)`;

interface RawResponse {
  statusLine: string;
  headers: Array<[string, string]>;
  body: Buffer;
  /** The server closed the connection after this response. */
  closed: boolean;
}

/**
 * Send `request` on a fresh connection and read one response, framed as HTTP/1.1 says:
 * Content-Length, chunked (kept raw, so framing is compared too), or until close.
 */
function exchange(port: number, request: Buffer, headRequest: boolean): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    let done = false;
    let closed = false;
    const timer = setTimeout(() => finish(new Error(`no complete response within 5 s; got ${JSON.stringify(data.toString("latin1"))}`)), 5000);
    const parse = (): RawResponse | null => {
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) return null;
      const lines = data.subarray(0, end).toString("latin1").split("\r\n");
      const headers = lines.slice(1).map((l) => {
        const colon = l.indexOf(":");
        return [l.slice(0, colon), l.slice(colon + 1).trim()] as [string, string];
      });
      const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
      const code = Number(lines[0]!.split(" ")[1]);
      const rest = data.subarray(end + 4);
      const response = (body: Buffer): RawResponse => ({ statusLine: lines[0]!, headers, body, closed });
      if (headRequest || code === 304 || code === 204 || (code >= 100 && code < 200)) return response(Buffer.alloc(0));
      const length = get("content-length");
      if (length !== undefined) return rest.length >= Number(length) ? response(rest.subarray(0, Number(length))) : null;
      if (get("transfer-encoding")?.toLowerCase() === "chunked") return rest.includes("0\r\n\r\n") ? response(rest) : null;
      return closed ? response(rest) : null;
    };
    const finish = (err: Error | null) => {
      if (done) return;
      const parsed = err ? null : parse();
      if (!err && !parsed) return;
      done = true;
      clearTimeout(timer);
      // Give the server a moment to close, so `closed` tells whether it meant to.
      setTimeout(() => {
        socket.destroy();
        if (err) reject(err);
        else resolve({ ...parsed!, closed });
      }, 50);
    };
    socket.on("data", (c) => {
      data = Buffer.concat([data, c]);
      finish(null);
    });
    socket.on("end", () => {
      closed = true;
      finish(null);
    });
    socket.on("close", () => {
      closed = true;
      if (!done) finish(parse() ? null : new Error(`connection closed mid-response: ${JSON.stringify(data.toString("latin1"))}`));
    });
    socket.on("error", (e) => finish(e));
    socket.write(request);
  });
}

const CRLF = "\r\n";
const get = (path: string, extra: string[] = []) => [`GET ${path} HTTP/1.1`, "Host: localhost", ...extra, "", ""].join(CRLF);
const HELLO_ETAG = '"e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"';

function multipart(): string {
  const b = "----difftestBoundary1234";
  const body = [
    `--${b}`,
    'Content-Disposition: form-data; name="title"',
    "",
    "caf\u00e9 & more",
    `--${b}`,
    'Content-Disposition: form-data; name="upload"; filename="notes.txt"',
    "Content-Type: text/plain",
    "",
    "line one\r\nline two\r\n",
    `--${b}`,
    'Content-Disposition: form-data; name="title"',
    "",
    "second",
    `--${b}--`,
    "",
  ].join(CRLF);
  const bytes = Buffer.from(body, "utf8");
  return [`POST /args?q=1 HTTP/1.1`, "Host: localhost", `Content-Type: multipart/form-data; boundary=${b}`, `Content-Length: ${bytes.length}`, "", ""].join(CRLF) + bytes.toString("latin1");
}

function form(path: string, body: string, method = "POST"): string {
  const bytes = Buffer.from(body, "utf8");
  return [`${method} ${path} HTTP/1.1`, "Host: localhost", "Content-Type: application/x-www-form-urlencoded", `Content-Length: ${bytes.length}`, "", ""].join(CRLF) + bytes.toString("latin1");
}

/** name → raw request (latin-1 string of the exact bytes). */
const CASES: Array<[string, string]> = [
  ["hello world", get("/")],
  ["JSON body with </script> and non-ASCII", get("/json")],
  ["unicode body", get("/unicode")],
  ["404: no route", get("/nope")],
  ["405: POST to a GET-only handler", ["POST / HTTP/1.1", "Host: localhost", "Content-Length: 0", "", ""].join(CRLF)],
  ["405: PATCH", ["PATCH / HTTP/1.1", "Host: localhost", "Content-Length: 0", "", ""].join(CRLF)],
  ["405: a method Tornado does not know", get("/").replace("GET", "FROB")],
  ["HEAD on a GET-only handler: 405", get("/").replace("GET", "HEAD")],
  ["HEAD on a handler with head()", get("/head").replace("GET", "HEAD")],
  ["304: strong If-None-Match", get("/", [`If-None-Match: ${HELLO_ETAG}`])],
  ["304: weak If-None-Match", get("/", [`If-None-Match: W/${HELLO_ETAG}`])],
  ["304: If-None-Match *", get("/", ["If-None-Match: *"])],
  ["304: If-None-Match list", get("/", [`If-None-Match: "abc", W/${HELLO_ETAG}`])],
  ["200: If-None-Match that does not match", get("/", ['If-None-Match: "abc"'])],
  ["query arguments (repeated, blank, percent-encoded UTF-8)", get("/args?a=1&a=2&b=&c=caf%C3%A9&d=x+y")],
  ["urlencoded form arguments, with query", form("/args?q=1", "a=1&b=x+y&b=z&e=%E2%98%83")],
  ["multipart form: fields and a file", multipart()],
  ["400: missing argument", get("/required")],
  ["the argument present", get("/required?x=5")],
  ["argument default", get("/default")],
  ["302 redirect", get("/redirect")],
  ["301 permanent redirect", get("/permanent")],
  ["500: uncaught exception", get("/boom")],
  ["403: HTTPError", get("/forbidden")],
  ["set_header and set_status", get("/header")],
  ["HTTP/1.0 request", ["GET / HTTP/1.0", "", ""].join(CRLF)],
  ["HTTP/1.0 keep-alive", ["GET / HTTP/1.0", "Connection: keep-alive", "", ""].join(CRLF)],
  ["HTTP/1.0 keep-alive POST without a length: Connection: Keep-Alive, then closed", ["POST /args HTTP/1.0", "Connection: keep-alive", "", ""].join(CRLF)],
  ["HTTP/1.1 Connection: close", get("/", ["Connection: close"])],
  ["Accept-Encoding: gzip without the gzip setting", get("/json", ["Accept-Encoding: gzip"])],
  ["malformed request line", "GARBAGE\r\n\r\n"],
  ["set_cookie, with and without a path", get("/cookie")],
  ["add_header twice, clear_header", get("/multi")],
  ["flush before finish: chunked", get("/flush")],
  ["write(list): 500", get("/list")],
];

function compare(name: string, theirs: RawResponse, ours: RawResponse): void {
  const where = `${name}\n  tornado: ${theirs.statusLine} ${JSON.stringify(theirs.headers)}\n  ours:    ${ours.statusLine} ${JSON.stringify(ours.headers)}`;
  expect(ours.statusLine, where).toBe(theirs.statusLine);
  expect(ours.headers.map(([k]) => k), where).toEqual(theirs.headers.map(([k]) => k));
  const values = (r: RawResponse) => r.headers.filter(([k]) => k !== "Date" && k !== "Server");
  expect(values(ours), where).toEqual(values(theirs));
  expect(ours.body.toString("latin1"), where).toBe(theirs.body.toString("latin1"));
  expect(ours.closed, `${where}\n  connection closed after the response`).toBe(theirs.closed);
}

describe(`the same app on real Tornado ${tornadoVersion ?? "(missing)"} and on our runtime${SKIP_REASON}`, () => {
  let python: ChildProcess | null = null;
  let pythonPort = 0;
  let server: HTTPServer;
  let ourPort = 0;
  let previousSink: ReturnType<typeof setLogSink>;

  beforeAll(async () => {
    if (!tornadoVersion) return;
    previousSink = setLogSink(() => {});
    server = new HTTPServer(difftestApp());
    ourPort = await server.listen(0, "127.0.0.1");
    const child = spawn(PYTHON, [join(here, "app.py")], { stdio: ["pipe", "pipe", "pipe"] });
    python = child;
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    pythonPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`app.py printed no port within 15 s\n${stderr}`)), 15_000);
      child.stdout!.on("data", (c: Buffer) => {
        const m = /^(\d+)$/m.exec(c.toString());
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`app.py exited with ${code}\n${stderr}`));
      });
    });
  });

  afterAll(async () => {
    if (python) {
      python.stdin!.end();
      python.kill("SIGTERM");
    }
    if (tornadoVersion) {
      await server.stop();
      await server.closeAllConnections();
      setLogSink(previousSink);
    }
  });

  for (const [name, request] of CASES) {
    it.skipIf(!tornadoVersion)(name, async () => {
      const bytes = Buffer.from(request, "latin1");
      const head = request.startsWith("HEAD ");
      const theirs = await exchange(pythonPort, bytes, head);
      const ours = await exchange(ourPort, bytes, head);
      compare(name, theirs, ours);
    });
  }

  it.skipIf(!tornadoVersion)("both answer a keep-alive connection's requests in order (pipelined)", async () => {
    const pipelined = Buffer.from(get("/json") + get("/nope") + get("/", ["Connection: close"]), "latin1");
    const read = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect(port, "127.0.0.1");
        let d = "";
        s.setTimeout(5000, () => s.destroy(new Error("timeout")));
        s.on("data", (c) => (d += c.toString("latin1")));
        s.on("close", () => resolve(d));
        s.on("error", reject);
        s.write(pipelined);
      });
    const strip = (s: string) => s.replace(/^(Date|Server): .*\r\n/gm, "");
    expect(strip(await read(ourPort))).toBe(strip(await read(pythonPort)));
  });
});
