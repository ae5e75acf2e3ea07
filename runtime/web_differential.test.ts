/**
 * web.ts against Debian's real Tornado 6.2: the same small app in Python and in TypeScript gets
 * the same raw requests (each on its own `Connection: close` connection); the raw responses
 * must be byte-identical once `Date`, `Expires` and the `Server` name are masked.
 *
 * This complements tools/difftest (the talk's basics) with the web layer's corners: 304 rules,
 * 204, reasons, Finish, errors after a flush, path arguments, header value types, HTTP/1.0,
 * static files and their Range requests, render() with UI modules' resources spliced in. Needs /usr/bin/python3 with tornado; otherwise the test is skipped, saying so.
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTPServer } from "./httpserver.js";
import { setLogSink } from "./log.js";
import { xhtmlEscape } from "./escape.js";
import { Application, Finish, HTTPError, RedirectHandler, RequestHandler, UIModule } from "./web.js";
import { rawExchange, startTornadoProgram, tornadoVersion } from "../tools/real-tornado.js";


const PY_APP = String.raw`
import sys, datetime, tornado.escape, tornado.web, tornado.ioloop, tornado.netutil, tornado.httpserver, logging
logging.getLogger("tornado").setLevel(logging.CRITICAL)
class Hello(tornado.web.RequestHandler):
    def get(self): self.write("Hello, world")
class Head(tornado.web.RequestHandler):
    def head(self): self.write("abc")
class Path(tornado.web.RequestHandler):
    def get(self, a, b=None): self.write(repr([a, b]))
class Named(tornado.web.RequestHandler):
    def get(self, year, slug): self.write(year + "|" + slug)
class More(tornado.web.RequestHandler):
    def get(self, what):
        if what == "unknown": self.set_status(599); self.write("x")
        elif what == "reason": raise tornado.web.HTTPError(418, reason="Short and stout")
        elif what == "nocontent": self.set_status(204)
        elif what == "finish": self.set_status(401); raise tornado.web.Finish("denied")
        elif what == "late": self.write("a"); self.flush(); raise ValueError("late")
        elif what == "headers": self.set_header("X-Date", datetime.datetime(2011, 10, 4, 1, 2, 3)); self.set_header("X-Int", 5); self.add_header("X-Multi", "1"); self.add_header("X-Multi", "2"); self.write("h")
        elif what == "cookies": self.set_cookie("k", 'v;x,y"z'); self.set_cookie("plain", "1", max_age=60, httponly=True, samesite="Lax"); self.write("c")
        elif what == "redirect303": self.redirect("/elsewhere", status=303)
        elif what == "created": self.set_status(201); self.set_header("Location", "/new"); self.write({"id": 1})
        elif what == "bytes": self.write(b"\x00\xff\x80")
        elif what == "missing": self.write(self.get_argument("nope"))
        elif what == "body": self.write(repr(self.get_body_arguments("a")) + repr(self.get_query_arguments("a")))
        elif what == "unicode": self.write("h\u00e9llo \u2603 \U0001F600")
        elif what == "longtext": self.write("\u00e9t\u00e9 " * 40 + "x" * 70)
        elif what == "texts": self.write("one "); self.write("tw\u00f6 "); self.write({"k": "\u00e9</"})
        elif what == "textbytes": self.write("a\u00e9"); self.write(b"\x00\xff"); self.write("z\u2603")
        elif what == "bytestext": self.write(b"\x01"); self.write("\u00e9")
        elif what == "flushtext": self.write("\u00e9t\u00e9"); self.flush(); self.write("fin \u2603")
    def post(self, what): self.get(what)
    def head(self, what): self.get(what)
class Entry(tornado.web.UIModule):
    def render(self, title): return '<div class="entry">' + tornado.escape.xhtml_escape(title) + '</div>'
    def javascript_files(self): return ["entry.js", "/abs.js", "entry.js"]
    def embedded_javascript(self): return "js_embed()"
    def css_files(self): return "https://cdn.example/b.css"
    def embedded_css(self): return ".e{}"
    def html_head(self): return "<meta name=x>"
    def html_body(self): return "<footer/>"
class SecureSet(tornado.web.RequestHandler):
    def get(self): self.set_secure_cookie("user", "ann \u00e9")
class SecureGet(tornado.web.RequestHandler):
    def get(self):
        v = self.get_secure_cookie("user")
        self.write("none" if v is None else v)
class Xsrf(tornado.web.RequestHandler):
    def get(self): self.write(self.xsrf_token)
    def post(self): self.write("accepted")
class Page(tornado.web.RequestHandler):
    def get(self): self.render("page.html", title="<T>")
app = tornado.web.Application([
    (r"/", Hello), (r"/head", Head), (r"/p/([^/]+)(?:/(\d+))?", Path),
    (r"/n/(?P<year>\d+)/(?P<slug>[^/]+)", Named), (r"/m/(\w+)", More), (r"/page", Page),
    (r"/old/(\w+)/(\w+)", tornado.web.RedirectHandler, {"url": "/new/{1}/{0}?x=1#frag"}),
    (r"/gone/(?P<id>\d+)", tornado.web.RedirectHandler, {"url": "/items/{id}/{{literal}}", "permanent": False}),
], static_path=sys.argv[1], template_path=sys.argv[2], ui_modules={"Entry": Entry})
secure_app = tornado.web.Application([(r"/set", SecureSet), (r"/get", SecureGet), (r"/xsrf", Xsrf)], cookie_secret="s3cret", xsrf_cookies=True)
secure_sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
secure_server = tornado.httpserver.HTTPServer(secure_app)
secure_server.add_sockets(secure_sockets)
sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
server = tornado.httpserver.HTTPServer(app)
server.add_sockets(sockets)
print(sockets[0].getsockname()[1], secure_sockets[0].getsockname()[1], flush=True)
tornado.ioloop.IOLoop.current().start()
`;

class Hello extends RequestHandler {
  get() {
    this.write("Hello, world");
  }
}
class Head extends RequestHandler {
  head() {
    this.write("abc");
  }
}
const pyStr = (s: string | undefined) => (s === undefined ? "None" : `'${s}'`);
class PathArgs extends RequestHandler {
  get(a: string, b?: string) {
    this.write(`[${pyStr(a)}, ${pyStr(b)}]`);
  }
}
class Named extends RequestHandler {
  get({ year, slug }: { year: string; slug: string }) {
    this.write(`${year}|${slug}`);
  }
}
class More extends RequestHandler {
  get(what: string) {
    switch (what) {
      case "unknown":
        this.setStatus(599);
        this.write("x");
        break;
      case "reason":
        throw new HTTPError(418, null, { reason: "Short and stout" });
      case "nocontent":
        this.setStatus(204);
        break;
      case "finish":
        this.setStatus(401);
        throw new Finish("denied");
      case "late":
        this.write("a");
        void this.flush();
        throw new Error("late");
      case "headers":
        this.setHeader("X-Date", new Date(Date.UTC(2011, 9, 4, 1, 2, 3)));
        this.setHeader("X-Int", 5);
        this.addHeader("X-Multi", "1");
        this.addHeader("X-Multi", "2");
        this.write("h");
        break;
      case "cookies":
        this.setCookie("k", 'v;x,y"z');
        this.setCookie("plain", "1", { maxAge: 60, httponly: true, samesite: "Lax" });
        this.write("c");
        break;
      case "redirect303":
        this.redirect("/elsewhere", false, 303);
        break;
      case "created":
        this.setStatus(201);
        this.setHeader("Location", "/new");
        this.write({ id: 1 });
        break;
      case "bytes":
        this.write(new Uint8Array([0, 255, 128]));
        break;
      case "missing":
        this.write(this.getArgument("nope"));
        break;
      case "body":
        this.write(`[${this.getBodyArguments("a").map(pyStr).join(", ")}][${this.getQueryArguments("a").map(pyStr).join(", ")}]`);
        break;
      // Text bodies (kept as text until they are sent): non-ASCII, long, several writes, text
      // and bytes mixed either way, a flush in the middle (chunked, sizes in bytes).
      case "unicode":
        this.write("h\u00e9llo \u2603 \u{1F600}");
        break;
      case "longtext":
        this.write("\u00e9t\u00e9 ".repeat(40) + "x".repeat(70));
        break;
      case "texts":
        this.write("one ");
        this.write("tw\u00f6 ");
        this.write({ k: "\u00e9</" });
        break;
      case "textbytes":
        this.write("a\u00e9");
        this.write(new Uint8Array([0, 255]));
        this.write("z\u2603");
        break;
      case "bytestext":
        this.write(new Uint8Array([1]));
        this.write("\u00e9");
        break;
      case "flushtext":
        this.write("\u00e9t\u00e9");
        void this.flush();
        this.write("fin \u2603");
        break;
    }
  }
  post(what: string) {
    this.get(what);
  }
  head(what: string) {
    this.get(what);
  }
}

class Entry extends UIModule {
  override render(title: string) {
    return `<div class="entry">${xhtmlEscape(title)}</div>`;
  }
  override javascriptFiles() {
    return ["entry.js", "/abs.js", "entry.js"];
  }
  override embeddedJavascript() {
    return "js_embed()";
  }
  override cssFiles() {
    return "https://cdn.example/b.css";
  }
  override embeddedCss() {
    return ".e{}";
  }
  override htmlHead() {
    return "<meta name=x>";
  }
  override htmlBody() {
    return "<footer/>";
  }
}
class Page extends RequestHandler {
  get() {
    return this.render("page.html", { title: "<T>" });
  }
}
class SecureSet extends RequestHandler {
  get() {
    this.setSecureCookie("user", "ann \u00e9");
  }
}
class SecureGet extends RequestHandler {
  get() {
    const v = this.getSecureCookie("user");
    this.write(v === null ? "none" : v);
  }
}
class Xsrf extends RequestHandler {
  get() {
    this.write(this.xsrfToken);
  }
  post() {
    this.write("accepted");
  }
}

/** Same syntax in Tornado's template language and ours (no Python- or JS-only expressions). */
const PAGE =
  "<html><head><title>{{ title }}</title></head>\n<body>\n  {% module Entry(title) %}\n  {% module Entry('two') %}\n  {% module linkify('see http://example.com/x?a=1&b=2 now') %}\n</body></html>\n";

const close = "Connection: close\r\n";
const REQUESTS: string[] = [
  `GET / HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `HEAD / HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `DELETE / HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `PATCH / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n${close}\r\n`,
  `BREW / HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `HEAD /head HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /nowhere HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"\r\n${close}\r\n`,
  `GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: W/"e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"\r\n${close}\r\n`,
  `GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: "a", "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8", "b"\r\n${close}\r\n`,
  `GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\n${close}\r\n`,
  `HEAD /m/unicode HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /m/unicode HTTP/1.1\r\nHost: x\r\nIf-None-Match: "a36431196ce8ed709939b7cf3a288727182e1f39"\r\n${close}\r\n`,
  `GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: "e02aa1"\r\n${close}\r\n`,
  `GET / HTTP/1.0\r\n\r\n`,
  `GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`,
  // HTTP/1.0 keep-alive that cannot be kept (no body length): Connection: Keep-Alive, then a close.
  `POST /m/created HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`,
  `DELETE / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`,
  `GET /p/a%20b HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /p/x/12 HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /p/%FF HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /n/2011/tornado HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  ...[
    "unknown",
    "reason",
    "nocontent",
    "finish",
    "late",
    "headers",
    "cookies",
    "redirect303",
    "created",
    "bytes",
    "missing",
    "unicode",
    "longtext",
    "texts",
    "textbytes",
    "bytestext",
    "flushtext",
  ].map(
    (w) => `GET /m/${w} HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  ),
  `GET /m/missing?nope=%FF HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `POST /m/body?a=q HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n${close}\r\na=1&a=+two+`,
  `GET /static/site.css HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `HEAD /static/site.css HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /static/site.css?v=1 HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /static/../secret.txt HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /static/sub HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /static/none.css HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /robots.txt HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  ...["bytes=1-3", "bytes=-3", "bytes=3-", "bytes=0-", "bytes=0-100", "bytes=-100", "bytes=7-", "bytes=-0", "bytes=5-2", "bytes=1-2,4-5", "bytes=", "foo=1-2", "bytes=x-1"].map(
    (range) => `GET /static/site.css HTTP/1.1\r\nHost: x\r\nRange: ${range}\r\n${close}\r\n`,
  ),
  `HEAD /static/site.css HTTP/1.1\r\nHost: x\r\nRange: bytes=2-4\r\n${close}\r\n`,
  `GET /page HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /old/a/b HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /old/a/b?q=%20x+y&q=2&e= HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `GET /gone/7?z=%C3%A9 HTTP/1.1\r\nHost: x\r\n${close}\r\n`,
  `POST /gone/7 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n${close}\r\n`,
];

/** Everything the server sends on one connection, as latin-1 text. */
const exchange = async (port: number, request: string) => (await rawExchange(port, request)).toString("latin1");

const mask = (text: string) =>
  text
    .replace(/^(Date|Expires): .*$/gm, "$1: <masked>")
    .replace(/^Server: .*$/gm, "Server: <masked>")
    .replace(/(expires=)[^;\r]+/g, "$1<masked>");

describe.skipIf(!tornadoVersion)(`web.ts vs Tornado ${tornadoVersion ?? "(not installed: SKIPPED)"}`, () => {
  let python: ChildProcess;
  let pyPort = 0;
  let pySecurePort = 0;
  let oursSecure: HTTPServer;
  let ourSecurePort = 0;
  let ours: HTTPServer;
  let ourPort = 0;
  let dir = "";
  let restoreSink: ReturnType<typeof setLogSink>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "web-diff-"));
    fs.mkdirSync(path.join(dir, "static", "sub"), { recursive: true });
    fs.writeFileSync(path.join(dir, "static", "site.css"), "body{}\n");
    fs.writeFileSync(path.join(dir, "static", "robots.txt"), "User-agent: *\n");
    fs.writeFileSync(path.join(dir, "secret.txt"), "no");
    const mtime = new Date(Date.UTC(2011, 9, 4, 12, 0, 0));
    for (const f of ["site.css", "robots.txt"]) fs.utimesSync(path.join(dir, "static", f), mtime, mtime);
    fs.mkdirSync(path.join(dir, "templates"));
    fs.writeFileSync(path.join(dir, "templates", "page.html"), PAGE);
    fs.writeFileSync(path.join(dir, "app.py"), PY_APP);
    const started = await startTornadoProgram(path.join(dir, "app.py"), [path.join(dir, "static"), path.join(dir, "templates")]);
    python = started.child;
    [pyPort, pySecurePort] = started.ports as [number, number];
    restoreSink = setLogSink(() => {});
    ours = new HTTPServer(
      new Application(
        [
          ["/", Hello],
          ["/head", Head],
          ["/p/([^/]+)(?:/(\\d+))?", PathArgs],
          ["/n/(?P<year>\\d+)/(?P<slug>[^/]+)", Named],
          ["/m/(\\w+)", More],
          ["/page", Page],
          ["/old/(\\w+)/(\\w+)", RedirectHandler, { url: "/new/{1}/{0}?x=1#frag" }],
          ["/gone/(?P<id>\\d+)", RedirectHandler, { url: "/items/{id}/{{literal}}", permanent: false }],
        ],
        { staticPath: path.join(dir, "static"), templatePath: path.join(dir, "templates"), uiModules: { Entry } },
      ),
    );
    ourPort = await ours.listen(0, "127.0.0.1");
    oursSecure = new HTTPServer(
      new Application(
        [
          ["/set", SecureSet],
          ["/get", SecureGet],
          ["/xsrf", Xsrf],
        ],
        { cookieSecret: "s3cret", xsrfCookies: true },
      ),
    );
    ourSecurePort = await oursSecure.listen(0, "127.0.0.1");
  }, 30_000);

  afterAll(async () => {
    python?.kill();
    for (const server of [ours, oursSecure]) {
      if (!server) continue;
      await server.stop();
      await server.closeAllConnections();
    }
    if (restoreSink) setLogSink(restoreSink);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("every response is byte-identical (Date, Expires and Server masked)", async () => {
    const differences: string[] = [];
    for (const request of REQUESTS) {
      const [theirs, mine] = await Promise.all([exchange(pyPort, request), exchange(ourPort, request)]);
      expect(theirs.length).toBeGreaterThan(0);
      // The cases below are meant to succeed: a 500 on both sides would compare equal and prove nothing.
      if (/^GET \/(page|static\/site\.css|m\/(headers|cookies|bytes|created)) /.test(request) && !request.includes("Range:")) {
        expect(theirs).toMatch(/^HTTP\/1\.1 20[01] /);
      }
      if (/^GET \/(old|gone)\//.test(request)) expect(theirs).toMatch(/^HTTP\/1\.1 30[12] [^]*\r\nLocation: \/(new|items)\//);
      if (mask(theirs) !== mask(mine)) {
        differences.push(`${JSON.stringify(request.split("\r\n")[0])}\n  tornado: ${JSON.stringify(mask(theirs))}\n  ours:    ${JSON.stringify(mask(mine))}`);
      }
    }
    expect(differences).toEqual([]);
    const page = await exchange(ourPort, `GET /page HTTP/1.1\r\nHost: x\r\n${close}\r\n`);
    expect(page).toContain('<link href="https://cdn.example/b.css" type="text/css" rel="stylesheet"/>');
    expect(page).toContain('<div class="entry">&lt;T&gt;</div>');
  });

  it("secure cookies and XSRF tokens made by one are accepted by the other", async () => {
    const setCookie = (response: string) => /^Set-Cookie: ([^;\r]+)/m.exec(response)![1]!;
    const body = (response: string) => response.slice(response.indexOf("\r\n\r\n") + 4);
    const get = (port: number, path: string, headers = "") => exchange(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}${close}\r\n`);
    for (const [maker, reader] of [
      [pySecurePort, ourSecurePort],
      [ourSecurePort, pySecurePort],
    ] as const) {
      const cookie = setCookie(await get(maker, "/set"));
      expect(body(await get(reader, "/get", `Cookie: ${cookie}\r\n`))).toBe("ann \u00c3\u00a9"); // UTF-8 bytes, read as latin-1
      expect(body(await get(reader, "/get", `Cookie: ${cookie.replace("YW5u", "Ym9i")}\r\n`))).toBe("none");
      const page = await get(maker, "/xsrf");
      const xsrfCookie = setCookie(page);
      const token = body(page);
      const post = (headers: string) => exchange(reader, `POST /xsrf HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n${headers}${close}\r\n`);
      expect(body(await post(`Cookie: ${xsrfCookie}\r\nX-Xsrftoken: ${token}\r\n`))).toBe("accepted");
      expect(await post(`Cookie: ${xsrfCookie}\r\n`)).toMatch(/^HTTP\/1\.1 403 /);
    }
  });
});
