/**
 * httputil against Tornado 6.2's behaviour (expected values checked with /usr/bin/python3 and
 * tornado.httputil).
 */
import { describe, expect, it } from "vitest";
import {
  HTTPHeaders,
  HTTPInputError,
  HTTPServerRequest,
  emptyArgs,
  formatTimestamp,
  normalizeHeaderName,
  parseBodyArguments,
  parseCookie,
  parseHeaderParams,
  parseMultipartFormData,
  parseQsBytes,
  parseRequestStartLine,
  parseResponseStartLine,
  splitHostAndPort,
  type Files,
} from "./httputil.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const decodeArgs = (args: Record<string, Uint8Array[]>) => Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v.map(dec)]));

describe("HTTPHeaders", () => {
  it("normalises names to Word-Word and is case-insensitive", () => {
    expect(normalizeHeaderName("content-type")).toBe("Content-Type");
    expect(normalizeHeaderName("ETAG")).toBe("Etag");
    expect(normalizeHeaderName("x-FORWARDED-for")).toBe("X-Forwarded-For");
    const h = new HTTPHeaders({ "content-TYPE": "text/html" });
    expect(h.get("Content-Type")).toBe("text/html");
    expect(h.has("CONTENT-TYPE")).toBe(true);
    expect([...h.keys()]).toEqual(["Content-Type"]);
  });

  it("keeps multiple values: get joins with a comma, getList and iteration keep them apart", () => {
    const h = HTTPHeaders.parse("Content-Type: text/html\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Fold: a\r\n  b\r\n");
    expect([...h.getAll()]).toEqual([
      ["Content-Type", "text/html"],
      ["Set-Cookie", "a=1"],
      ["Set-Cookie", "b=2"],
      ["X-Fold", "a b"],
    ]);
    expect(h.get("Set-Cookie")).toBe("a=1,b=2");
    expect(h.getList("set-cookie")).toEqual(["a=1", "b=2"]);
    h.set("Set-Cookie", "c=3");
    expect(h.getList("Set-Cookie")).toEqual(["c=3"]);
    expect(h.delete("set-cookie")).toBe(true);
    expect(h.get("Set-Cookie")).toBeUndefined();
    expect(h.get("Missing", "dflt")).toBe("dflt");
    expect(h.copy().get("X-Fold")).toBe("a b");
  });

  it("parses bare-LF blocks and trims values", () => {
    const h = HTTPHeaders.parse("A:   spaced   \nB:\t tabbed\n");
    expect(h.get("A")).toBe("spaced");
    expect(h.get("B")).toBe("tabbed");
  });

  it("rejects malformed lines with HTTPInputError", () => {
    for (const bad of ["no colon", " leading: space", "Bad Name: x", "X: a\x00b", "(x): y"]) {
      expect(() => HTTPHeaders.parse(bad), JSON.stringify(bad)).toThrow(HTTPInputError);
    }
  });
});

describe("start lines", () => {
  it("parses request lines and rejects malformed ones", () => {
    expect(parseRequestStartLine("GET /x HTTP/1.1")).toEqual({ kind: "request", method: "GET", path: "/x", version: "HTTP/1.1" });
    for (const bad of ["GET /x", "GET /x HTTP/1.1 x", "GET /x HTTP/2", "GET /x http/1.1", "", "GET  /x HTTP/1.1"]) {
      expect(() => parseRequestStartLine(bad), JSON.stringify(bad)).toThrow(HTTPInputError);
    }
  });

  it("parses response lines, reason optional", () => {
    expect(parseResponseStartLine("HTTP/1.1 200 OK")).toEqual({ kind: "response", version: "HTTP/1.1", code: 200, reason: "OK" });
    expect(parseResponseStartLine("HTTP/1.0 404 Not Found")).toMatchObject({ code: 404, reason: "Not Found" });
    expect(parseResponseStartLine("HTTP/1.1 204")).toMatchObject({ code: 204, reason: "" });
    expect(() => parseResponseStartLine("HTTP/1.1 2000 OK")).toThrow(HTTPInputError);
    expect(() => parseResponseStartLine("ICY 200 OK")).toThrow(HTTPInputError);
  });
});

describe("query strings and bodies", () => {
  it("parses query strings to byte values, keeping blanks when asked (parse_qs_bytes)", () => {
    expect(decodeArgs(parseQsBytes("a=1&a=2&b=&c", true))).toEqual({ a: ["1", "2"], b: [""], c: [""] });
    expect(decodeArgs(parseQsBytes("a=1&b=&c"))).toEqual({ a: ["1"] });
    expect(decodeArgs(parseQsBytes("q=hello+world&e=%C3%A9"))).toEqual({ q: ["hello world"], e: ["é"] });
    // Bytes that are not UTF-8 stay as bytes.
    expect([...parseQsBytes("x=%FF")["x"]![0]!]).toEqual([255]);
    // "__proto__" is an ordinary name.
    const proto = parseQsBytes("__proto__=1");
    expect(Object.keys(proto)).toEqual(["__proto__"]);
    expect(dec(proto["__proto__"]![0]!)).toBe("1");
  });

  it("parses multipart/form-data into arguments and files", () => {
    const body = enc(
      '--1234\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n' +
        '--1234\r\nContent-Disposition: form-data; name="x"\r\n\r\nyy\r\n--1234--\r\n',
    );
    const args = emptyArgs<Uint8Array>();
    const files: Files = emptyArgs();
    parseMultipartFormData("1234", body, args, files);
    expect(decodeArgs(args)).toEqual({ x: ["yy"] });
    expect(files["f"]!.map((f) => ({ ...f, body: dec(f.body) }))).toEqual([{ filename: "a.txt", body: "hello", contentType: "text/plain" }]);
    expect(() => parseMultipartFormData("1234", enc("--1234\r\nno end"), args, files)).toThrow(/no final boundary/);
  });

  it("dispatches on Content-Type and refuses compressed bodies it cannot read", () => {
    const args = emptyArgs<Uint8Array>();
    parseBodyArguments("application/x-www-form-urlencoded; charset=UTF-8", enc("a=1&b=%20"), args, emptyArgs());
    expect(decodeArgs(args)).toEqual({ a: ["1"], b: [" "] });
    const untouched = emptyArgs<Uint8Array>();
    parseBodyArguments("application/json", enc('{"a":1}'), untouched, emptyArgs());
    expect(untouched).toEqual({});
    expect(() => parseBodyArguments("application/x-www-form-urlencoded", enc(""), args, emptyArgs(), new HTTPHeaders({ "Content-Encoding": "gzip" }))).toThrow(
      HTTPInputError,
    );
  });

  it("splits header parameters, honouring quotes", () => {
    expect(parseHeaderParams('form-data; name="a;b"; filename="c\\"d.txt"')).toEqual(["form-data", { name: "a;b", filename: 'c"d.txt' }]);
  });
});

describe("cookies, dates, hosts", () => {
  it("parses cookies like Tornado's parse_cookie", () => {
    // Python: {'a': '1', 'b': 'x"y', '': 'e', 'd': ''}
    expect({ ...parseCookie('a=1; b="x\\"y"; c; d=; =e') }).toEqual({ a: "1", b: 'x"y', "": "e", d: "" });
  });

  it("formats timestamps as RFC 1123 (format_timestamp)", () => {
    expect(formatTimestamp(1700000000 * 1000)).toBe("Tue, 14 Nov 2023 22:13:20 GMT");
  });

  it("splits host and port, keeping IPv6 brackets as Tornado does", () => {
    expect(splitHostAndPort("localhost:8888")).toEqual(["localhost", 8888]);
    expect(splitHostAndPort("[::1]:80")).toEqual(["[::1]", 80]);
    expect(splitHostAndPort("a.com")).toEqual(["a.com", null]);
  });
});

describe("HTTPServerRequest", () => {
  it("splits the URI, merges query and body arguments, and reads cookies", () => {
    const request = new HTTPServerRequest({
      method: "POST",
      uri: "/path/x?a=1&b=2",
      version: "HTTP/1.1",
      headers: new HTTPHeaders({ Host: "Example.com:8888", Cookie: "s=abc; t=1", "Content-Type": "application/x-www-form-urlencoded" }),
      body: enc("a=3&c=4"),
      startTime: 0,
    });
    expect(request.path).toBe("/path/x");
    expect(request.query).toBe("a=1&b=2");
    expect(request.host).toBe("Example.com:8888");
    expect(request.hostName).toBe("example.com");
    expect(request.fullUrl()).toBe("http://Example.com:8888/path/x?a=1&b=2");
    expect(request.cookies).toEqual({ s: "abc", t: "1" });
    request.parseBody();
    expect(decodeArgs(request.arguments)).toEqual({ a: ["1", "3"], b: ["2"], c: ["4"] });
    expect(decodeArgs(request.bodyArguments)).toEqual({ a: ["3"], c: ["4"] });
    expect(decodeArgs(request.queryArguments)).toEqual({ a: ["1"], b: ["2"] });
    request.finishTime = 1500;
    expect(request.requestTime(99999)).toBe(1.5);
  });

  it("defaults host to 127.0.0.1 and survives a garbled Cookie header", () => {
    const request = new HTTPServerRequest({ method: "GET", uri: "/", headers: new HTTPHeaders({ Cookie: '"""' }), startTime: 0 });
    expect(request.host).toBe("127.0.0.1");
    expect(request.version).toBe("HTTP/1.0");
    expect(typeof request.cookies).toBe("object");
  });

  it("ownStrings (a websocket's request, kept for the connection's life) keeps every value, in order", () => {
    const head = "GET /a/long/path/name?query=string HTTP/1.1\r\nHost: Example.com:8888\r\nX-Twice: first value here\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Twice: second value here\r\n\r\n";
    const headers = HTTPHeaders.parse(head.slice(head.indexOf("\r\n") + 2));
    const request = new HTTPServerRequest({ method: "GET", uri: "/a/long/path/name?query=string", version: "HTTP/1.1", headers, startTime: 0 });
    request.ownStrings();
    expect([...request.headers.getAll()]).toEqual([
      ["Host", "Example.com:8888"],
      ["X-Twice", "first value here"],
      ["X-Twice", "second value here"],
      ["Sec-Websocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
    ]);
    expect(request.headers.get("X-Twice")).toBe("first value here,second value here");
    expect([request.host, request.hostName, request.uri, request.path, request.query]).toEqual(["Example.com:8888", "example.com", "/a/long/path/name?query=string", "/a/long/path/name", "query=string"]);
    expect(decodeArgs(request.queryArguments)).toEqual({ query: ["string"] });
  });
});
