/**
 * web.ts behind the real transport: `Application.listen` / `HTTPServer` on an ephemeral port
 * with the Node platform (raw TCP, so every byte the client receives is checked), and the same
 * application over the in-memory network (the browser's platform).
 */
import * as net from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AsyncHTTPClient } from "./httpclient.js";
import { HTTPServer } from "./httpserver.js";
import { setLogSink, type LogRecord } from "./log.js";
import { createMemoryPlatform } from "./platform/memory.js";
import { platform, setPlatform } from "./platform/index.js";
import { DictLoader } from "./template.js";
import { Application, HTTPError, RequestHandler, version } from "./web.js";

class MainHandler extends RequestHandler {
  get() {
    this.write("Hello, world");
  }
}
class JSONHandler extends RequestHandler {
  get() {
    this.write({ msg: "hello!" });
  }
}
class Boom extends RequestHandler {
  get() {
    throw new Error("boom");
  }
}
class Streamer extends RequestHandler {
  async get() {
    for (const part of ["alpha ", "beta ", "gamma"]) {
      this.write(part);
      await this.flush();
    }
  }
}
class Echo extends RequestHandler {
  post() {
    this.write({ got: this.getArgument("x"), len: this.request.body.length });
  }
}
class Slow extends RequestHandler {
  async get() {
    await new Promise((r) => setTimeout(r, 20));
    throw new HTTPError(503, "later");
  }
}

const routes = [
  ["/", MainHandler],
  ["/json", JSONHandler],
  ["/boom", Boom],
  ["/stream", Streamer],
  ["/echo", Echo],
  ["/slow", Slow],
] as const;

const DATE = /^Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/;

/** Sends raw bytes, returns everything the server sent until it closed the connection. */
function rawExchange(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error("timed out"));
    });
    socket.write(data);
  });
}

let records: LogRecord[];
let previousSink: ReturnType<typeof setLogSink>;
beforeEach(() => {
  records = [];
  previousSink = setLogSink((r) => records.push(r));
});
afterEach(() => {
  setLogSink(previousSink);
});

describe("over real TCP (node platform)", () => {
  let server: HTTPServer;
  let port: number;
  beforeEach(async () => {
    server = new HTTPServer(new Application([...routes]));
    port = await server.listen(0, "127.0.0.1");
  });
  afterEach(async () => {
    await server.stop();
    await server.closeAllConnections();
  });

  it("hello world: the exact response bytes", async () => {
    const text = await rawExchange(port, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    const [head, body] = text.split("\r\n\r\n");
    const lines = head!.split("\r\n");
    expect(lines[0]).toBe("HTTP/1.1 200 OK");
    expect(lines[1]).toBe(`Server: TornadoTS/${version}`);
    expect(lines[2]).toBe("Content-Type: text/html; charset=UTF-8");
    expect(lines[3]).toMatch(DATE);
    expect(lines.slice(4)).toEqual(['Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"', "Content-Length: 12", "Connection: close"]);
    expect(body).toBe("Hello, world");
    const access = records.find((r) => r.logger === "tornado.access")!;
    expect(access.message).toMatch(/^200 GET \/ \(127\.0\.0\.1\) \d+\.\d\dms$/);
  });

  it("json, 404, 405 and HEAD on one keep-alive connection", async () => {
    const text = await rawExchange(
      port,
      "GET /json HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" +
        "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: W/\"e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8\"\r\nConnection: close\r\n\r\n",
    );
    const responses = text.split(/(?=HTTP\/1\.1 )/);
    expect(responses.map((r) => r.split("\r\n")[0])).toEqual([
      "HTTP/1.1 200 OK",
      "HTTP/1.1 404 Not Found",
      "HTTP/1.1 405 Method Not Allowed",
      "HTTP/1.1 304 Not Modified",
    ]);
    expect(responses[0]).toContain('Etag: "4d34dd0d61eba5957a5ca36846f974697c730a22"\r\nContent-Length: 17\r\n\r\n{"msg": "hello!"}');
    expect(responses[0]).toContain("Content-Type: application/json; charset=UTF-8");
    expect(responses[1]!.endsWith("\r\n\r\n<html><title>404: Not Found</title><body>404: Not Found</body></html>")).toBe(true);
    expect(responses[1]).toContain("Content-Length: 69\r\n");
    // HEAD: the 405 page's length is announced but no body follows.
    expect(responses[2]).toContain("Content-Length: 87\r\n");
    expect(responses[2]!.endsWith("\r\n\r\n")).toBe(true);
    expect(responses[3]).not.toContain("Content-Type");
    expect(responses[3]).not.toContain("Content-Length");
    expect(responses[3]).toContain('Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"');
    expect(records.filter((r) => r.logger === "tornado.access").map((r) => [r.level, r.message.split(" (")[0]])).toEqual([
      ["info", "200 GET /json"],
      ["warning", "404 GET /nope"],
      ["warning", "405 HEAD /"],
      ["info", "304 GET /"],
    ]);
  });

  it("an exception is a 500 with the stack logged; the server keeps serving", async () => {
    const boom = await rawExchange(port, "GET /boom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(boom.startsWith("HTTP/1.1 500 Internal Server Error\r\n")).toBe(true);
    expect(boom).toContain("Content-Length: 93\r\n");
    expect(boom.endsWith("<html><title>500: Internal Server Error</title><body>500: Internal Server Error</body></html>")).toBe(true);
    const error = records.find((r) => r.logger === "tornado.application")!;
    expect(error.message).toMatch(/^Uncaught exception GET \/boom \(127\.0\.0\.1\)\nHTTPServerRequest\(protocol='http', host='x', method='GET', uri='\/boom', version='HTTP\/1\.1', remote_ip='127\.0\.0\.1'\)\nError: boom\n\s+at Boom\.get/);
    const again = await rawExchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(again.endsWith("Hello, world")).toBe(true);
  });

  it("flush() before finish() streams a chunked response", async () => {
    const text = await rawExchange(port, "GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const end = text.indexOf("\r\n\r\n");
    const head = text.slice(0, end);
    const body = text.slice(end + 4);
    expect(head).toContain("Transfer-Encoding: chunked");
    expect(head).not.toContain("Content-Length");
    expect(head).not.toContain("Etag");
    expect(body).toBe("6\r\nalpha \r\n5\r\nbeta \r\n5\r\ngamma\r\n0\r\n\r\n");
  });

  it("HTTP/1.0 gets a Content-Length response and the connection closes", async () => {
    const text = await rawExchange(port, "GET /stream HTTP/1.0\r\n\r\n");
    expect(text.startsWith("HTTP/1.1 200 OK\r\n")).toBe(true);
    expect(text).not.toContain("Transfer-Encoding");
    expect(text.endsWith("\r\n\r\nalpha beta gamma")).toBe(true);
  });

  it("a POST body reaches getArgument; an async HTTPError is logged as a warning", async () => {
    const body = "x=caf%C3%A9&y=2";
    const text = await rawExchange(
      port,
      `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(text.endsWith('{"got": "caf\\u00e9", "len": 15}')).toBe(true);
    const slow = await rawExchange(port, "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(slow.startsWith("HTTP/1.1 503 Service Unavailable\r\n")).toBe(true);
    expect(records.map((r) => `${r.level} ${r.message}`)).toContain("warning 503 GET /slow (127.0.0.1): later");
  });

  it("Application.listen returns the server at once and binds in the background", async () => {
    const app = new Application([["/", MainHandler]]);
    const other = app.listen(0, "127.0.0.1");
    expect(other).toBeInstanceOf(HTTPServer);
    for (let i = 0; i < 100 && other.port === null; i++) await new Promise((r) => setTimeout(r, 5));
    expect(other.port).toBeGreaterThan(0);
    const text = await rawExchange(other.port!, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(text.endsWith("Hello, world")).toBe(true);
    // A second listen on the same port fails to bind: logged, not thrown.
    const clash = app.listen(other.port!, "127.0.0.1");
    for (let i = 0; i < 100 && !records.some((r) => r.message.startsWith("Could not listen")); i++) await new Promise((r) => setTimeout(r, 5));
    expect(records.find((r) => r.message.startsWith("Could not listen"))!.message).toMatch(/EADDRINUSE/);
    await clash.stop();
    await other.stop();
    await other.closeAllConnections();
  });
});

describe("a broken template in a handler (over real TCP)", () => {
  it("is a 500 whose logged error names the file and line; the server keeps serving", async () => {
    class Page extends RequestHandler {
      get() {
        return this.render("broken.html", { items: [1, 2] });
      }
    }
    const templates = new DictLoader({ "broken.html": "<ul>\n{% for x of items %}\n  <li>{{ x }}</li>\n" });
    const server = new HTTPServer(new Application([["/", MainHandler], ["/page", Page]], { templateLoader: templates }));
    const port = await server.listen(0, "127.0.0.1");
    try {
      const broken = await rawExchange(port, "GET /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      expect(broken.split("\r\n")[0]).toBe("HTTP/1.1 500 Internal Server Error");
      const logged = records.find((r) => r.logger === "tornado.application")!.message;
      expect(logged).toContain("Missing {% end %} block for for at broken.html:");
      expect(logged).toMatch(/at broken\.html:\d+/);
      // The same server answers the next request as if nothing happened.
      const hello = await rawExchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      expect(hello.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
      expect(hello.endsWith("\r\n\r\nHello, world")).toBe(true);
    } finally {
      await server.stop();
      await server.closeAllConnections();
    }
  });
});

describe("non-blocking requests (the talk's last topic)", () => {
  it("an async handler fetches two other URLs in parallel; a long poll waits without blocking others", async () => {
    const waiters = new Set<(messages: string[]) => void>();
    class Aggregate extends RequestHandler {
      async get() {
        const client = AsyncHTTPClient.instance();
        const base = `http://127.0.0.1:${this.request.host.split(":")[1]}`;
        const [a, b] = await Promise.all([client.fetch(`${base}/json`), client.fetch(`${base}/nope`, { raiseError: false })]);
        this.write({ a: a.code, b: b.code, body: a.text });
      }
    }
    class Updates extends RequestHandler {
      get() {
        this._autoFinish = false;
        const callback = (messages: string[]) => {
          if (!this.request.connection) return;
          this.finish({ messages });
        };
        waiters.add(callback);
      }
    }
    class NewMessage extends RequestHandler {
      post() {
        const body = this.getArgument("body");
        for (const w of waiters) w([body]);
        waiters.clear();
        this.write("sent");
      }
    }
    const server = new HTTPServer(
      new Application([
        ["/json", JSONHandler],
        ["/aggregate", Aggregate],
        ["/updates", Updates],
        ["/new", NewMessage],
      ]),
    );
    const port = await server.listen(0, "127.0.0.1");
    try {
      const client = AsyncHTTPClient.instance();
      const aggregate = await client.fetch(`http://127.0.0.1:${port}/aggregate`);
      expect(JSON.parse(aggregate.text)).toEqual({ a: 200, b: 404, body: '{"msg": "hello!"}' });
      const poll = client.fetch(`http://127.0.0.1:${port}/updates`);
      poll.catch(() => {}); // awaited below; a failure above must not leave it unhandled
      for (let i = 0; i < 100 && waiters.size === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(waiters.size).toBe(1);
      // The parked request does not block the server: another request is served meanwhile.
      const other = await client.fetch(`http://127.0.0.1:${port}/json`);
      expect(other.code).toBe(200);
      const sent = await client.fetch(`http://127.0.0.1:${port}/new`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "body=hi+there",
      });
      expect(sent.text).toBe("sent");
      expect(JSON.parse((await poll).text)).toEqual({ messages: ["hi there"] });
    } finally {
      await server.stop();
      await server.closeAllConnections();
    }
  });
});

describe("over the in-memory network (the browser's platform)", () => {
  let restore: ReturnType<typeof setPlatform> | null = null;
  afterEach(() => {
    if (restore) setPlatform(restore);
    restore = null;
  });

  it("serves hello world, json and errors", async () => {
    restore = setPlatform(createMemoryPlatform({ log: () => {} }));
    const server = new HTTPServer(new Application([...routes]));
    const port = await server.listen(8888);
    const exchange = async (data: string): Promise<string> => {
      const socket = await platform().connect("127.0.0.1", port);
      const chunks: Uint8Array[] = [];
      const done = new Promise<void>((resolve) => {
        socket.onClose = () => resolve();
      });
      socket.onData = (c) => chunks.push(c);
      socket.write(new TextEncoder().encode(data));
      await done;
      return new TextDecoder().decode(Buffer.concat(chunks));
    };
    const hello = await exchange("GET / HTTP/1.1\r\nHost: localhost:8888\r\nConnection: close\r\n\r\n");
    expect(hello.startsWith("HTTP/1.1 200 OK\r\nServer: TornadoTS/")).toBe(true);
    expect(hello).toContain('Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"\r\nContent-Length: 12\r\n');
    expect(hello.endsWith("\r\n\r\nHello, world")).toBe(true);
    const json = await exchange("GET /json HTTP/1.1\r\nHost: localhost:8888\r\nConnection: close\r\n\r\n");
    expect(json).toContain('Etag: "4d34dd0d61eba5957a5ca36846f974697c730a22"');
    expect(json.endsWith('{"msg": "hello!"}')).toBe(true);
    const boom = await exchange("GET /boom HTTP/1.1\r\nHost: localhost:8888\r\nConnection: close\r\n\r\n");
    expect(boom.startsWith("HTTP/1.1 500 ")).toBe(true);
    const access = records.filter((r) => r.logger === "tornado.access").map((r) => r.message.split(" ").slice(0, 3).join(" "));
    expect(access).toEqual(["200 GET /", "200 GET /json", "500 GET /boom"]);
    await server.stop();
    await server.closeAllConnections();
  });
});

/**
 * A body written as text stays text until it is sent (hashed as its UTF-8, encoded straight into
 * the response): the response must be byte for byte the one for the same body written as bytes,
 * on both platforms (Node's native length, hash and encoder; the memory platform's JavaScript
 * ones), for non-ASCII, long, lone-surrogate and mixed text/bytes bodies, HEAD and 304 too.
 */
describe("a body written as text is the response of its UTF-8 bytes", () => {
  const TEXTS = [
    "h\u00e9llo \u2603 \u{1F600}",
    "x".repeat(100) + "\u00e9\u{1F600}",
    "\u00e9t\u00e9 ".repeat(30),
    "lone \ud800 and \udc00 end",
    "",
    "plain ASCII",
  ];
  class AsText extends RequestHandler {
    get(i: string) {
      this.write(TEXTS[Number(i)]!);
    }
    head(i: string) {
      this.get(i);
    }
  }
  class AsBytes extends RequestHandler {
    get(i: string) {
      this.write(new TextEncoder().encode(TEXTS[Number(i)]!));
    }
    head(i: string) {
      this.get(i);
    }
  }
  /** Text, then bytes, then text; and the same as one run of bytes. */
  class Mixed extends RequestHandler {
    get(how: string) {
      if (how === "mixed") {
        this.write("a\u00e9");
        this.write(new Uint8Array([0, 255]));
        this.write("z\u2603");
      } else this.write(new Uint8Array([...new TextEncoder().encode("a\u00e9"), 0, 255, ...new TextEncoder().encode("z\u2603")]));
    }
  }
  const app = () =>
    new Application([
      ["/text/(\\d+)", AsText],
      ["/bytes/(\\d+)", AsBytes],
      ["/mix/(\\w+)", Mixed],
    ]);
  const masked = (raw: Uint8Array) => Buffer.from(raw).toString("latin1").replace(/^Date: .*$/m, "Date: -");

  async function check(exchange: (request: string) => Promise<Uint8Array>): Promise<void> {
    for (let i = 0; i < TEXTS.length; i++) {
      for (const method of ["GET", "HEAD"]) {
        const text = await exchange(`${method} /text/${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        const bytes = await exchange(`${method} /bytes/${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        expect(masked(text)).toBe(masked(bytes));
        expect(masked(text)).toContain(`Content-Length: ${new TextEncoder().encode(TEXTS[i]!).length}\r\n`);
      }
      const etag = /Etag: (".*")/.exec(masked(await exchange(`GET /text/${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)))![1]!;
      const notModified = await exchange(`GET /text/${i} HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${etag}\r\nConnection: close\r\n\r\n`);
      expect(masked(notModified)).toMatch(/^HTTP\/1\.1 304 Not Modified\r\n/);
    }
    const mixed = await exchange("GET /mix/mixed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const joined = await exchange("GET /mix/joined HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(masked(mixed)).toBe(masked(joined));
    expect(masked(mixed)).toContain("Content-Length: 9\r\n");
  }

  it("over real sockets (the Node platform)", async () => {
    const server = new HTTPServer(app());
    const port = await server.listen(0, "127.0.0.1");
    try {
      await check(
        (request) =>
          new Promise((resolve, reject) => {
            const chunks: Buffer[] = [];
            const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
            socket.on("data", (c) => chunks.push(c));
            socket.on("error", reject);
            socket.on("close", () => resolve(Buffer.concat(chunks)));
          }),
      );
    } finally {
      await server.stop();
      await server.closeAllConnections();
    }
  });

  it("over the in-memory network (the browser's platform)", async () => {
    const restore = setPlatform(createMemoryPlatform({ log: () => {} }));
    try {
      const server = new HTTPServer(app());
      const port = await server.listen(8888);
      await check(async (request) => {
        const socket = await platform().connect("127.0.0.1", port);
        const chunks: Uint8Array[] = [];
        const done = new Promise<void>((resolve) => (socket.onClose = () => resolve()));
        socket.onData = (c) => chunks.push(c);
        socket.write(new TextEncoder().encode(request));
        await done;
        return Buffer.concat(chunks);
      });
      await server.stop();
      await server.closeAllConnections();
    } finally {
      setPlatform(restore);
    }
  });
});
