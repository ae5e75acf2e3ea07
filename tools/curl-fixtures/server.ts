/**
 * A canned HTTP/1.1 server for recording and replaying real curl's output.
 *
 * Its responses are fixed bytes (no clock, fixed Date values), so a transcript of
 * `/usr/bin/curl` against it is the same on every run except for the port, which the
 * recorder masks as `{PORT}`. `/echo` answers with the exact request bytes curl sent, so a
 * transcript also proves what curl puts on the wire for -X/-H/-d.
 */
import * as net from "node:net";

const CRLF = "\r\n";

function head(status: string, headers: Array<[string, string]>): string {
  return status + CRLF + headers.map(([k, v]) => `${k}: ${v}`).join(CRLF) + CRLF + CRLF;
}

/** Canned answers by path. `close` ends the connection after the response. */
function respond(method: string, path: string, request: Buffer, port: number): { bytes: Buffer; close: boolean } {
  const isHead = method === "HEAD";
  const fixed = (status: string, headers: Array<[string, string]>, body: Buffer | string, close = false) => {
    const b = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    const h = head(status, headers.concat([["Content-Length", String(b.length)]]));
    return { bytes: Buffer.concat([Buffer.from(h, "latin1"), isHead ? Buffer.alloc(0) : b]), close };
  };
  const tornado: Array<[string, string]> = [
    ["Server", "TornadoServer/6.2"],
    ["Content-Type", "text/html; charset=UTF-8"],
    ["Date", "Wed, 25 Nov 2026 00:00:00 GMT"],
  ];
  switch (path) {
    case "/":
      return fixed("HTTP/1.1 200 OK", tornado.concat([["Etag", '"e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"']]), "Hello, world");
    case "/json":
      return fixed(
        "HTTP/1.1 200 OK",
        [tornado[0], ["Content-Type", "application/json; charset=UTF-8"], tornado[2], ["Etag", '"4d34dd0d61eba5957a5ca36846f974697c730a22"']],
        '{"msg": "hello!"}',
      );
    case "/echo":
    case "/sub/echo":
      return fixed("HTTP/1.1 200 OK", [["Content-Type", "text/plain"]], request);
    case "/casing":
      return fixed("HTTP/1.1 201 Created", [["x-lower", "a"], ["X-UPPER", "B"], ["Set-Cookie", "a=1; Path=/"], ["Set-Cookie", "b=2"]], "made\n");
    case "/unicode":
      return fixed("HTTP/1.1 200 OK", [["Content-Type", "text/plain; charset=UTF-8"]], "caf\u00e9 \u2603\n");
    case "/close": {
      const h = head("HTTP/1.1 200 OK", [["Content-Type", "text/plain"], ["Connection", "close"]]);
      return { bytes: Buffer.concat([Buffer.from(h), isHead ? Buffer.alloc(0) : Buffer.from("until close\n")]), close: true };
    }
    case "/chunked": {
      const h = head("HTTP/1.1 200 OK", [["Content-Type", "text/plain"], ["Transfer-Encoding", "chunked"]]);
      const body = isHead ? "" : "5\r\nHello\r\n7\r\n, world\r\n0\r\n\r\n";
      return { bytes: Buffer.from(h + body), close: false };
    }
    case "/http10":
      return fixed("HTTP/1.0 200 OK", [["Content-Type", "text/plain"]], "old\n", true);
    case "/redirect":
      return fixed("HTTP/1.1 302 Found", tornado.concat([["Location", "/"]]), "");
    // Redirects for -L: each status to /echo (which shows the method and body that followed).
    case "/r301":
    case "/r302":
    case "/r303":
    case "/r307":
    case "/r308": {
      const code = Number(path.slice(2));
      const reason = { 301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect" }[code];
      return fixed(`HTTP/1.1 ${code} ${reason}`, tornado.concat([["Location", "/echo"]]), "redirect body\n");
    }
    case "/loop":
      return fixed("HTTP/1.1 302 Found", tornado.concat([["Location", "loop?again"]]), "");
    case "/elsewhere":
      return fixed("HTTP/1.1 301 Moved Permanently", [["Location", "http://127.0.0.1:" + port + "/echo?from=elsewhere"]], "");
    // Cookies for -c/-b: fixed expiry dates (Max-Age would depend on the clock), every attribute curl keeps.
    case "/login":
      return fixed(
        "HTTP/1.1 302 Found",
        tornado.concat([
          ["Set-Cookie", 'user="2|1:0|10:1795000000|4:user|4:YmVu|0123abcd"; expires=Fri, 01 Jan 2100 00:00:00 GMT; Path=/'],
          ["Set-Cookie", "session=s1; HttpOnly; Path=/"],
          ["Set-Cookie", "pref=dark; Domain=localhost; Path=/"],
          ["Set-Cookie", "sub=1; Path=/sub"],
          ["Set-Cookie", "here=1"],
          ["Set-Cookie", "safe=1; Secure"],
          ["Set-Cookie", "old=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
          ["Set-Cookie", "noequals"],
          ["Set-Cookie", "other=1; Domain=example.com"],
          ["Location", "/echo"],
        ]),
        "",
      );
    case "/logout":
      return fixed(
        "HTTP/1.1 200 OK",
        [["Set-Cookie", 'user=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/'], ["Set-Cookie", "session=s2; HttpOnly; Path=/"]],
        "bye\n",
      );
    default:
      return fixed(
        "HTTP/1.1 404 Not Found",
        tornado,
        "<html><title>404: Not Found</title><body>404: Not Found</body></html>",
      );
  }
}

export interface CannedServer {
  port: number;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1 and ::1 (whichever exist) on one ephemeral port, as a dual-stack server would. */
export async function startCannedServer(): Promise<CannedServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const headText = buffer.subarray(0, end).toString("latin1");
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headText)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const request = buffer.subarray(0, end + 4 + length);
        buffer = buffer.subarray(end + 4 + length);
        const [method, target] = headText.split(" ");
        const { bytes, close } = respond(method!, target!.split("?")[0]!, request, socket.localPort!);
        socket.write(bytes);
        if (close) {
          socket.end();
          return;
        }
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "::", ipv6Only: false }, resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
