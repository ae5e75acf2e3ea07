import { describe, expect, it } from "vitest";
import { compareWithTalk, describeComparison, REASONS } from "./compare.js";

const talk = `
HTTP/1.1 200 OK
Content-Length: 12
Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"
Content-Type: text/html; charset=UTF-8
Server: TornadoServer/2.1.1

Hello, world
`;

describe("compareWithTalk", () => {
  it("matches the 2011 bytes exactly, CRLF and all", () => {
    const live =
      'HTTP/1.1 200 OK\r\nContent-Length: 12\r\nEtag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"\r\n' +
      "Content-Type: text/html; charset=UTF-8\r\nServer: TornadoServer/2.1.1\r\n\r\nHello, world";
    const c = compareWithTalk(live, talk);
    expect(c).toEqual({ matches: true, differences: [] });
    expect(describeComparison(c)).toEqual(["matches the 2011 slide"]);
  });

  it("explains Tornado 3+ output: Date, server name, order", () => {
    const live =
      "HTTP/1.1 200 OK\r\nServer: TornadoServer/6.5.7\r\nContent-Type: text/html; charset=UTF-8\r\n" +
      'Date: Wed, 25 Nov 2026 00:00:00 GMT\r\nEtag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"\r\nContent-Length: 12\r\n\r\nHello, world';
    const c = compareWithTalk(live, talk);
    expect(c.matches).toBe(false);
    expect(c.differences.map((d) => [d.kind, d.reason])).toEqual([
      ["changed", REASONS.server],
      ["added", REASONS.date],
      ["order", REASONS.order],
    ]);
  });

  it("lists body, Etag and length changes after an edit", () => {
    const live =
      'HTTP/1.1 200 OK\r\nContent-Length: 16\r\nEtag: "x"\r\nContent-Type: text/html; charset=UTF-8\r\n' +
      "Server: TornadoServer/2.1.1\r\n\r\nHello, Barcelona";
    const lines = describeComparison(compareWithTalk(live, talk));
    expect(lines).toEqual([
      `~ Content-Length: 16  [2011: Content-Length: 12] (${REASONS.length})`,
      `~ Etag: "x"  [2011: Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"] (${REASONS.etag})`,
      `~ Hello, Barcelona  [2011: Hello, world] (${REASONS.body})`,
    ]);
  });

  it("reports a different status and missing headers without a made-up reason", () => {
    const live = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\nerr";
    const c = compareWithTalk(live, talk);
    expect(c.differences[0]).toEqual({ kind: "status", live: "HTTP/1.1 500 Internal Server Error", talk: "HTTP/1.1 200 OK" });
    expect(c.differences.filter((d) => d.kind === "missing").map((d) => d.talk)).toEqual([
      'Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"',
      "Content-Type: text/html; charset=UTF-8",
      "Server: TornadoServer/2.1.1",
    ]);
  });
});
