/**
 * Byte-level differential test of websockets against the real Tornado 6.2: the same app
 * (tools/difftest/websocket_app.py on Tornado, tools/difftest/websocket_app.ts on ours) gets
 * the same raw handshakes and raw frames from a test client; the handshake responses must be
 * the same bytes (but for Date and Server), and every conversation must go the same way: the
 * same frames back, in the same order, ending the same way (closed, or still open).
 *
 * Both servers run with websocket_max_message_size = 70000, so 65535 and 65536-byte messages
 * pass and the limit can be crossed in one frame or in fragments.
 */
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTPServer } from "./httpserver.js";
import { RawClient, captureLogs } from "./platform/testkit.js";
import { closePayload, frame, handshakeRequest, readUntilClosed } from "./websocket_testkit.js";
import { hasTornado, startPythonServer } from "../tools/real-tornado.js";
import { websocketApp } from "../tools/difftest/websocket_app.js";

const difftest = join(dirname(fileURLToPath(import.meta.url)), "../tools/difftest");
const MAX = 70000;
const bytes = (...b: number[]) => new Uint8Array(b);
const filled = (n: number, byte = 0x61) => new Uint8Array(n).fill(byte);
const CLOSE = frame(8, closePayload(1000));

/** A handshake, as [path, headers, method]; the Host header is filled in per server. */
type Handshake = [string, Record<string, string | null>, string?];

const HANDSHAKES: Record<string, Handshake> = {
  accepted: ["/echo", {}],
  "version 7": ["/echo", { "Sec-WebSocket-Version": "7" }],
  "version 8": ["/echo", { "Sec-WebSocket-Version": "8" }],
  "version 12 (426)": ["/echo", { "Sec-WebSocket-Version": "12" }],
  "no version (426)": ["/echo", { "Sec-WebSocket-Version": null }],
  "no Upgrade (400)": ["/echo", { Upgrade: null }],
  "Upgrade: h2c (400)": ["/echo", { Upgrade: "h2c" }],
  "Upgrade in other case": ["/echo", { Upgrade: "WebSocket" }],
  "Connection: keep-alive (400)": ["/echo", { Connection: "keep-alive" }],
  "Connection: keep-alive, Upgrade": ["/echo", { Connection: "keep-alive, Upgrade" }],
  "no key (400)": ["/echo", { "Sec-WebSocket-Key": null }],
  "foreign Origin (403)": ["/echo", { Origin: "http://evil.example" }],
  "Sec-WebSocket-Origin of version 8, foreign (403)": ["/echo", { "Sec-WebSocket-Version": "8", "Sec-WebSocket-Origin": "http://evil.example" }],
  "check_origin overridden, allowed": ["/origin", { Origin: "http://allowed.example" }],
  "check_origin overridden, refused (403)": ["/origin", { Origin: "http://127.0.0.1" }],
  "POST (405)": ["/echo", { "Content-Length": "0" }, "POST"],
  "HEAD (405)": ["/echo", {}, "HEAD"],
  "subprotocol chosen": ["/echo", { "Sec-WebSocket-Protocol": "x, chat" }],
  "subprotocol not chosen": ["/echo", { "Sec-WebSocket-Protocol": "x" }],
  "deflate offered, not enabled": ["/echo", { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" }],
  "deflate with client_max_window_bits": ["/deflate", { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" }],
  "deflate with parameters": ["/deflate", { "Sec-WebSocket-Extensions": "permessage-deflate; server_no_context_takeover; client_max_window_bits=10" }],
  "deflate after an unknown extension": ["/deflate", { "Sec-WebSocket-Extensions": "x-webkit-foo, permessage-deflate" }],
  "unknown route (404)": ["/nowhere", {}],
  "path argument": ["/path/abc", {}],
  "query argument": ["/echo?hello=you", {}],
};

/** Frames sent after an accepted handshake to /echo (or the given path). */
const CONVERSATIONS: Record<string, Uint8Array[] | [string, Uint8Array[]]> = {
  "text 0/125/126/65535/65536 bytes": [0, 125, 126, 65535, 65536].map((n) => frame(1, filled(n))).concat(CLOSE),
  "binary 0/125/126/65535/65536 bytes": [0, 125, 126, 65535, 65536].map((n) => frame(2, filled(n, 0xfe))).concat(CLOSE),
  "long length forms for short payloads": [frame(1, "sixteen", { lengthBits: 16 }), frame(1, "sixty-four", { lengthBits: 64 }), CLOSE],
  "exactly the max size": [frame(2, filled(MAX)), CLOSE],
  "one byte over the max size (1009)": [frame(2, filled(MAX + 1))],
  "over the max size in fragments (1009)": [frame(1, filled(40000), { fin: false }), frame(0, filled(30001))],
  "a 2^62-byte length (1009)": [bytes(0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4)],
  "fragmented text with pings and a pong between": [
    frame(1, "one ", { fin: false }),
    frame(9, "p1"),
    frame(0, "two ", { fin: false }),
    frame(10, "unsolicited"),
    frame(9, ""),
    frame(0, "three"),
    CLOSE,
  ],
  "fragmented binary": [frame(2, bytes(1, 2), { fin: false }), frame(0, bytes(3), { fin: false }), frame(0, bytes()), CLOSE],
  "a UTF-8 character split across fragments": [frame(1, bytes(0x63, 0x61, 0x66, 0xc3), { fin: false }), frame(0, bytes(0xa9)), CLOSE],
  "a BOM is kept": [frame(1, bytes(0xef, 0xbb, 0xbf, 0x68, 0x69)), CLOSE],
  "noncharacter U+FFFF is valid UTF-8": [frame(1, bytes(0xef, 0xbf, 0xbf)), CLOSE],
  "unmasked client frames (Tornado accepts them)": [frame(1, "bare", { mask: null }), frame(8, closePayload(1000), { mask: null })],
  "ping with a 125-byte payload": [frame(9, filled(125, 0x70)), CLOSE],
  "JSON": [frame(1, "json"), CLOSE],
  "server pings, client pongs": [frame(1, "ping:hi"), frame(10, "hi"), CLOSE],
  "server closes with code and reason, client answers": [frame(1, "close:4001:bye now"), frame(8, closePayload(4001))],
  "server closes with a reason only (1000)": [frame(1, "close::why"), frame(8, closePayload(1000))],
  "server closes without code": [frame(1, "close::"), frame(8)],
  "path argument in open": ["/path/abc", [CLOSE]],
  "query argument in open": ["/echo?hello=you", [CLOSE]],
  "async on_message keeps order": ["/slow", [frame(1, "first"), frame(1, "second"), frame(1, "third"), CLOSE]],
  // Close variants: Tornado echoes the code it got (not validated), without the reason.
  "close without payload": [frame(8)],
  "close with code only": [frame(8, closePayload(1001))],
  "close with code and reason": [frame(8, closePayload(4999, "good bye \u00e9"))],
  "close with a 1-byte payload": [frame(8, bytes(3))],
  "close with code 1005": [frame(8, closePayload(1005))],
  "close with code 999": [frame(8, closePayload(999))],
  "close with a 125-byte payload": [frame(8, closePayload(1000, "r".repeat(123)))],
  "data after close is not read": [frame(8, closePayload(1000)), frame(1, "after")],
  "ping after close is not answered": [frame(8, closePayload(1000)), frame(9, "late")],
  // Protocol errors: Tornado drops the connection without a close frame; so do we.
  "RSV1 without deflate": [frame(1, "x", { rsv: 0x40 })],
  "RSV2": [frame(1, "x", { rsv: 0x20 })],
  "RSV3": [frame(1, "x", { rsv: 0x10 })],
  "reserved data opcode 3": [frame(3, "x")],
  "reserved control opcode 0xB": [frame(0xb, "x")],
  "control frame with a 126-byte length": [frame(9, filled(126), { lengthBits: 16 })],
  "fragmented ping": [frame(9, "x", { fin: false })],
  "continuation with nothing to continue": [frame(0, "x")],
  "new message inside a fragmented one": [frame(1, "a", { fin: false }), frame(1, "b")],
  "invalid UTF-8 text": [frame(1, bytes(0xff, 0xfe))],
  "UTF-16 surrogate in text": [frame(1, bytes(0xed, 0xa0, 0x80))],
  "overlong encoding in text": [frame(1, bytes(0xc0, 0xaf))],
  "close reason that is not UTF-8": [frame(8, bytes(0x03, 0xe8, 0xff))],
  "truncated UTF-8 at the end of fragments": [frame(1, bytes(0x63, 0xc3), { fin: false }), frame(0, bytes())],
  "valid message, then a protocol error": [frame(1, "fine"), frame(0, "x")],
  "deflate: a compressed message": ["/deflate", [frame(1, bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00), { rsv: 0x40 }), CLOSE]],
  "deflate: an uncompressed message": ["/deflate", [frame(1, "plain"), CLOSE]],
  "deflate: corrupt compressed data": ["/deflate", [frame(1, bytes(0xff, 0xff, 0xff), { rsv: 0x40 })]],
};

async function handshake(port: number, [path, headers, method]: Handshake): Promise<{ client: RawClient; head: string; code: number }> {
  const client = await RawClient.connect(port);
  client.send(handshakeRequest(path, `127.0.0.1:${port}`, headers, method ?? "GET"));
  const response = await client.readResponse({ head: method === "HEAD" });
  const head = [response.statusLine, ...response.headers.map(([k, v]) => `${k}: ${k === "Date" || k === "Server" ? "*" : v}`), "", new TextDecoder().decode(response.body)].join("\n");
  return { client, head, code: response.code };
}

async function converse(port: number, path: string, frames: Uint8Array[]): Promise<string[]> {
  const { client, code, head } = await handshake(port, [path, path === "/deflate" ? { "Sec-WebSocket-Extensions": "permessage-deflate" } : {}]);
  if (code !== 101) return [head];
  for (const f of frames) client.send(f);
  const out = await readUntilClosed(client, 1500);
  client.close();
  return out;
}

describe.skipIf(!hasTornado)("websocket conversations, byte for byte, on Tornado 6.2 and ours", () => {
  let tornado: { port: number; stop(): void };
  let server: HTTPServer;
  let ourPort = 0;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    logs = captureLogs();
    tornado = await startPythonServer(join(difftest, "websocket_app.py"), [String(MAX)]);
    server = new HTTPServer(websocketApp({ websocketMaxMessageSize: MAX }));
    ourPort = await server.listen(0, "127.0.0.1");
  }, 30_000);

  afterAll(async () => {
    tornado?.stop();
    await server?.stop();
    await server?.closeAllConnections();
    logs?.restore();
  });

  for (const [name, request] of Object.entries(HANDSHAKES)) {
    it(`handshake: ${name}`, async () => {
      const [theirs, ours] = await Promise.all([handshake(tornado.port, request), handshake(ourPort, request)]);
      // The Host differs (each server's own port): the same-origin check sees its own.
      expect(ours.head).toBe(theirs.head.replaceAll(String(tornado.port), String(ourPort)));
      const [theirEnd, ourEnd] = await Promise.all([
        theirs.code === 101 ? (theirs.client.send(CLOSE), readUntilClosed(theirs.client)) : theirs.client.waitClosed(300).then(() => ["<closed>"], () => ["<open>"]),
        ours.code === 101 ? (ours.client.send(CLOSE), readUntilClosed(ours.client)) : ours.client.waitClosed(300).then(() => ["<closed>"], () => ["<open>"]),
      ]);
      expect(ourEnd).toEqual(theirEnd);
      theirs.client.close();
      ours.client.close();
    });
  }

  for (const [name, spec] of Object.entries(CONVERSATIONS)) {
    it(`conversation: ${name}`, async () => {
      const [path, frames] = Array.isArray(spec[0]) || spec[0] instanceof Uint8Array ? ["/echo", spec as Uint8Array[]] : (spec as [string, Uint8Array[]]);
      const [theirs, ours] = await Promise.all([converse(tornado.port, path, frames), converse(ourPort, path, frames)]);
      expect(theirs.at(-1)).toMatch(/^<(closed|open)>$/);
      expect(ours).toEqual(theirs);
    });
  }
});
