/**
 * StaticFileHandler and staticUrl over the memory platform's files. The expected headers and
 * the SHA-512 version were taken from Tornado 6.2 serving the same file (`body{}\n`).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { request } from "./testing.js";
import { setLogSink, type LogRecord } from "./log.js";
import { createMemoryPlatform } from "./platform/memory.js";
import { setPlatform } from "./platform/index.js";
import { Application, RequestHandler, StaticFileHandler } from "./web.js";

const SITE_CSS_SHA512 =
  "4ae334473cd098bdfc3fbd6202fd2b6b3e0d6f843ae16d9a3495b335d6fa00a32d5830275c2b052ffbf574d0d52185913961fb11c20eb816086add86c67e75fc";

const fetch = (app: Application, uri: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
  request(app, init.method ?? "GET", uri, { headers: { Host: "localhost:8888", ...init.headers } });

class Urls extends RequestHandler {
  get() {
    this.write(`${this.staticUrl("site.css")} ${this.staticUrl("missing.css")} ${this.staticUrl("site.css", { includeHost: true, includeVersion: false })}`);
  }
}

let records: LogRecord[];
let restoreSink: ReturnType<typeof setLogSink>;
let restorePlatform: ReturnType<typeof setPlatform>;
const mtime = Date.UTC(2011, 9, 4, 12, 0, 0, 500);
beforeEach(() => {
  records = [];
  restoreSink = setLogSink((r) => records.push(r));
  const memory = createMemoryPlatform({
    cwd: "/srv",
    files: { "/srv/static/site.css": "body{}\n", "/srv/static/sub/a.txt": "hi\n", "/srv/static/favicon.ico": "ICO", "/srv/secret.txt": "no" },
    log: () => {},
  });
  restorePlatform = setPlatform(Object.assign(Object.create(memory), { fs: Object.assign(Object.create(memory.fs), { mtime: (p: string) => (memory.fs.mtime(p) === null ? null : mtime) }) }));
  StaticFileHandler.reset();
});
afterEach(() => {
  setPlatform(restorePlatform);
  setLogSink(restoreSink);
});

const app = () => new Application([["/u", Urls]], { staticPath: "static" });

describe("StaticFileHandler", () => {
  it("serves a file with Tornado's headers, in Tornado's order", async () => {
    const r = await fetch(app(), "/static/site.css");
    expect(r.code).toBe(200);
    expect(r.body).toBe("body{}\n");
    expect([...r.headers.getAll()].filter(([k]) => k !== "Date")).toEqual([
      ["Server", "TornadoTS/0.1.0"],
      ["Content-Type", "text/css"],
      ["Accept-Ranges", "bytes"],
      ["Etag", `"${SITE_CSS_SHA512}"`],
      ["Last-Modified", "Tue, 04 Oct 2011 12:00:00 GMT"],
      ["Content-Length", "7"],
    ]);
  });

  it("?v= adds ten years of caching; HEAD sends the headers only", async () => {
    const v = await fetch(app(), "/static/site.css?v=abc");
    expect(v.headers.get("Cache-Control")).toBe("max-age=315360000");
    expect(Date.parse(v.headers.get("Expires")!) - Date.now()).toBeGreaterThan(315360000 * 1000 - 60_000);
    const head = await fetch(app(), "/static/site.css", { method: "HEAD" });
    expect([head.code, head.headers.get("Content-Length"), head.body]).toEqual([200, "7", ""]);
  });

  it("304 for a matching If-None-Match (weak compare) or a recent If-Modified-Since", async () => {
    const inm = await fetch(app(), "/static/site.css", { headers: { "If-None-Match": `W/"${SITE_CSS_SHA512}"` } });
    expect([inm.code, inm.body, inm.headers.has("Content-Type"), inm.headers.has("Content-Length")]).toEqual([304, "", false, false]);
    const ims = await fetch(app(), "/static/site.css", { headers: { "If-Modified-Since": "Tue, 04 Oct 2011 12:00:00 GMT" } });
    expect(ims.code).toBe(304);
    const older = await fetch(app(), "/static/site.css", { headers: { "If-Modified-Since": "Tue, 04 Oct 2011 11:59:59 GMT" } });
    expect(older.code).toBe(200);
    // If-None-Match wins: a mismatching one means 200 even with a recent If-Modified-Since.
    const both = await fetch(app(), "/static/site.css", { headers: { "If-None-Match": '"other"', "If-Modified-Since": "Tue, 04 Oct 2011 12:00:00 GMT" } });
    expect(both.code).toBe(200);
  });

  it("refuses traversal (403), directories (403) and missing files (404); serves subdirectories and favicon.ico", async () => {
    const traversal = await fetch(app(), "/static/../secret.txt");
    expect(traversal.code).toBe(403);
    expect(records.map((r) => r.message)).toContain("403 GET /static/../secret.txt (127.0.0.1): ../secret.txt is not in root static directory");
    expect((await fetch(app(), "/static/sub/../../secret.txt")).code).toBe(403);
    expect((await fetch(app(), "/static/sub")).code).toBe(403);
    expect((await fetch(app(), "/static/nope.css")).code).toBe(404);
    expect((await fetch(app(), "/static/sub/a.txt")).body).toBe("hi\n");
    const favicon = await fetch(app(), "/favicon.ico");
    expect([favicon.code, favicon.body, favicon.headers.get("Content-Type")]).toEqual([200, "ICO", "image/vnd.microsoft.icon"]);
  });

  it("defaultFilename redirects a directory to its slash form, then serves the file", async () => {
    const a = new Application([["/docs/(.*)", StaticFileHandler, { path: "static", defaultFilename: "a.txt" }]]);
    const redirect = await fetch(a, "/docs/sub");
    expect([redirect.code, redirect.headers.get("Location")]).toEqual([301, "/docs/sub/"]);
    expect((await fetch(a, "/docs/sub/")).body).toBe("hi\n");
  });
});

describe("staticUrl", () => {
  it("appends the SHA-512 version; a missing file is logged and left unversioned", async () => {
    const r = await fetch(app(), "/u");
    expect(r.body).toBe(`/static/site.css?v=${SITE_CSS_SHA512} /static/missing.css http://localhost:8888/static/site.css`);
    expect(records.map((x) => x.message)).toContain("Could not open static file 'static/missing.css'");
  });

  it("needs the staticPath setting", async () => {
    const r = await fetch(new Application([["/u", Urls]]), "/u");
    expect(r.code).toBe(500);
    expect(records.find((x) => x.logger === "tornado.application")!.message).toContain("You must define the 'staticPath' setting in your application to use static_url");
  });
});
