/**
 * Our websocket server and client against real peers, with no code of ours on the other side:
 * Tornado 6.2's own `websocket_connect` (tools/difftest/websocket_client.py) and Tornado 6.2's
 * `WebSocketHandler` (tools/difftest/websocket_app.py), and the `ws` package as client and as
 * server. One conversation (text, binary, 0-byte and 1 MiB messages, JSON, a fragmented
 * message with a ping between its fragments, pings both ways, subprotocols, path arguments,
 * async handlers in order, permessage-deflate, a foreign Origin, close codes and reasons both
 * ways) is run by every client against every server, and every pairing must see exactly what
 * Tornado's client sees from Tornado's server.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { HTTPServer } from "./httpserver.js";
import { captureLogs } from "./platform/testkit.js";
import { websocketConnect, type WebSocketClientConnection, type WebSocketMessage } from "./websocket.js";
import { OPCODE_CONTINUATION, OPCODE_PING, OPCODE_TEXT } from "./websocket_protocol.js";
import { hasTornado, PYTHON, startPythonServer } from "../tools/real-tornado.js";
import { websocketApp } from "../tools/difftest/websocket_app.js";

const difftest = join(dirname(fileURLToPath(import.meta.url)), "../tools/difftest");
const enc = (s: string) => new TextEncoder().encode(s);

type Shown = string | null | { binary: string; length: number };
function show(message: WebSocketMessage | Buffer | null): Shown {
  if (message === null || typeof message === "string") return message;
  const bytes = new Uint8Array(message);
  const hex = Buffer.from(bytes).toString("hex");
  return { binary: bytes.length <= 300 ? hex : "sha1:" + createHash("sha1").update(bytes).digest("hex"), length: bytes.length };
}

/** What a conversation needs from a client. */
interface Peer {
  readonly subprotocol: string | null;
  readonly extensions: string | null;
  send(message: string | Uint8Array): Promise<void>;
  /** "frag", a ping "between", "ment", "ed é": one text message in three fragments. */
  sendFragmentedWithPing(): void;
  ping(data: string): void;
  read(): Promise<WebSocketMessage | null>;
  close(code?: number, reason?: string): void;
  readonly closeCode: number | null;
  readonly closeReason: string | null;
}
type Connect = (url: string, options: { subprotocols?: string[]; deflate?: boolean; headers?: Record<string, string> }) => Promise<Peer>;

/** Our client as a peer. */
const ourClient: Connect = async (url, options) => {
  const ws: WebSocketClientConnection = await websocketConnect(url, {
    subprotocols: options.subprotocols,
    compressionOptions: options.deflate ? {} : null,
    headers: options.headers,
  });
  return {
    subprotocol: ws.selectedSubprotocol,
    extensions: ws.headers.get("Sec-WebSocket-Extensions") ?? null,
    send: (m) => ws.writeMessage(m, typeof m !== "string"),
    sendFragmentedWithPing() {
      const protocol = ws.protocol!;
      void protocol.writeFrame(false, OPCODE_TEXT, enc("frag"));
      void protocol.writeFrame(true, OPCODE_PING, enc("between"));
      void protocol.writeFrame(false, OPCODE_CONTINUATION, enc("ment"));
      void protocol.writeFrame(true, OPCODE_CONTINUATION, enc("ed \u00e9"));
    },
    ping: (data) => ws.ping(data),
    read: () => ws.readMessage(),
    close: (code, reason) => ws.close(code, reason),
    get closeCode() {
      return ws.closeCode;
    },
    get closeReason() {
      return ws.closeReason;
    },
  };
};

/** The `ws` package's client as a peer. */
const wsClient: Connect = (url, options) =>
  new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    const ws = new WebSocket(url, options.subprotocols ?? [], { perMessageDeflate: options.deflate ?? false, headers });
    const queue: (WebSocketMessage | null)[] = [];
    const readers: ((m: WebSocketMessage | null) => void)[] = [];
    let closeCode: number | null = null;
    let closeReason: string | null = null;
    const push = (m: WebSocketMessage | null) => {
      const reader = readers.shift();
      if (reader) reader(m);
      else queue.push(m);
    };
    ws.on("message", (data: Buffer, isBinary: boolean) => push(isBinary ? new Uint8Array(data) : data.toString("utf8")));
    ws.on("close", (code: number, reason: Buffer) => {
      // ws reports 1005 for "no code" and 1006 for "dropped"; Tornado says None.
      closeCode = code === 1005 || code === 1006 ? null : code;
      closeReason = reason.length ? reason.toString("utf8") : null;
      push(null);
    });
    ws.on("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}: ${res.statusMessage}`)));
    ws.on("error", reject);
    ws.on("open", () =>
      resolve({
        subprotocol: ws.protocol || null,
        extensions: ws.extensions || null,
        send: (m) => new Promise((done, fail) => ws.send(m, { binary: typeof m !== "string" }, (err) => (err ? fail(err) : done()))),
        sendFragmentedWithPing() {
          ws.send("frag", { fin: false });
          ws.ping("between");
          ws.send("ment", { fin: false });
          ws.send("ed \u00e9", { fin: true });
        },
        ping: (data) => ws.ping(data),
        read: () => {
          if (queue.length) return Promise.resolve(queue[0] === null ? null : queue.shift()!);
          return new Promise((r) => readers.push(r));
        },
        close: (code, reason) => ws.close(code, reason),
        get closeCode() {
          return closeCode;
        },
        get closeReason() {
          return closeReason;
        },
      }),
    );
  });

/** The conversation of tools/difftest/websocket_client.py, through any client. */
async function conversation(base: string, connect: Connect): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let conn = await connect(base + "/echo?hello=there", { subprotocols: ["x", "chat"] });
  out.subprotocol = conn.subprotocol;
  out.hello = await conn.read();
  const received: Shown[] = [];
  const bytes = new Uint8Array(256).map((_, i) => i);
  for (const message of ["h\u00e9llo \u2603", bytes, "", new Uint8Array(0), "json"]) {
    await conn.send(message);
    received.push(show(await conn.read()));
  }
  const big = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
  await conn.send(big);
  received.push(show(await conn.read()));
  out.big_sha1 = createHash("sha1").update(big).digest("hex");
  conn.sendFragmentedWithPing();
  received.push(show(await conn.read()));
  received.push(show(await conn.read()));
  conn.ping("abc");
  received.push(show(await conn.read()));
  await conn.send("ping:xyz");
  received.push(show(await conn.read()));
  out.received = received;
  await conn.send("close:4001:bye now");
  out.after_close = show(await conn.read());
  out.close = [conn.closeCode, conn.closeReason];

  conn = await connect(base + "/echo", {});
  out.no_subprotocol = conn.subprotocol;
  conn.close(4002, "client bye");
  out.client_close_read = show(await conn.read());
  await new Promise((r) => setTimeout(r, 100));
  conn = await connect(base + "/echo", {});
  await conn.send("lastclose");
  out.lastclose = await conn.read();
  conn.close();

  conn = await connect(base + "/path/named", {});
  out.path = await conn.read();
  conn.close();

  conn = await connect(base + "/slow", {});
  for (const m of ["first", "second", "third"]) void conn.send(m);
  out.slow = [await conn.read(), await conn.read(), await conn.read()];
  conn.close();

  conn = await connect(base + "/deflate", { deflate: true });
  out.deflate_extensions = conn.extensions;
  const text = "compress me ".repeat(1000);
  await conn.send(text);
  out.deflate_echo_ok = (await conn.read()) === text;
  conn.close();

  try {
    await connect(base + "/origin", { headers: { Origin: "http://evil.example" } });
    out.foreign_origin = "accepted";
  } catch (err) {
    out.foreign_origin = (err as Error).message;
  }
  return out;
}

function runTornadoClient(base: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(difftest, "websocket_client.py"), base], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`websocket_client.py exited ${code}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

/** Tornado's `_wire_bytes_in` after the compressed echo: proves both compressed the same way. */
const withoutWireBytes = ({ deflate_wire_bytes_in: _, ...rest }: Record<string, unknown>) => rest;

describe.skipIf(!hasTornado)("websockets between real peers and ours", () => {
  let tornado: { port: number; stop(): void };
  let server: HTTPServer;
  let ourPort = 0;
  let logs: ReturnType<typeof captureLogs>;
  let reference: Record<string, unknown>;

  beforeAll(async () => {
    logs = captureLogs();
    tornado = await startPythonServer(join(difftest, "websocket_app.py"));
    server = new HTTPServer(websocketApp());
    ourPort = await server.listen(0, "127.0.0.1");
    reference = await runTornadoClient(`ws://127.0.0.1:${tornado.port}`);
  }, 60_000);

  afterAll(async () => {
    tornado?.stop();
    await server?.stop();
    logs?.restore();
  });

  it("the reference (Tornado's client with Tornado's server) saw what the conversation asks", () => {
    expect(reference.subprotocol).toBe("chat");
    expect(reference.close).toEqual([4001, "bye now"]);
    expect(reference.lastclose).toBe("4002 client bye");
    expect(reference.foreign_origin).toBe("HTTP 403: Forbidden");
    expect(reference.deflate_extensions).toBe("permessage-deflate");
    expect(reference.deflate_wire_bytes_in).toBeLessThan(200);
  });

  it("Tornado 6.2's websocket_connect against our server sees what it sees from Tornado", async () => {
    expect(await runTornadoClient(`ws://127.0.0.1:${ourPort}`)).toEqual(reference);
  }, 30_000);

  it("our client against Tornado 6.2's server", async () => {
    expect(await conversation(`ws://127.0.0.1:${tornado.port}`, ourClient)).toEqual(withoutWireBytes(reference));
  }, 30_000);

  it("our client against our server", async () => {
    expect(await conversation(`ws://127.0.0.1:${ourPort}`, ourClient)).toEqual(withoutWireBytes(reference));
  }, 30_000);

  it("the ws package's client against our server (and, for reference, against Tornado's)", async () => {
    const theirs = await conversation(`ws://127.0.0.1:${tornado.port}`, wsClient);
    expect(await conversation(`ws://127.0.0.1:${ourPort}`, wsClient)).toEqual(theirs);
    expect(withoutWireBytes(theirs)).toMatchObject({ subprotocol: "chat", close: [4001, "bye now"], deflate_echo_ok: true });
  }, 30_000);
});

describe("our client against the ws package's server", () => {
  let wss: WebSocketServer;
  let port = 0;

  beforeAll(async () => {
    // An echo server in ws, with the reference app's close/ping commands.
    wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: true, handleProtocols: (p) => (p.has("chat") ? "chat" : false) });
    wss.on("connection", (ws) => {
      ws.on("ping", (data: Buffer) => ws.send("ping " + data.toString("latin1")));
      ws.on("pong", (data: Buffer) => ws.send("pong " + data.toString("latin1")));
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        const text = isBinary ? null : data.toString("utf8");
        if (text?.startsWith("close:")) {
          const [, code, ...reason] = text.split(":");
          ws.close(Number(code), reason.join(":"));
        } else if (text?.startsWith("ping:")) ws.ping(text.slice(5));
        else ws.send(isBinary ? data : text!, { binary: isBinary });
      });
    });
    await new Promise<void>((resolve) => wss.on("listening", resolve));
    port = (wss.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });

  it("text, binary, 0 bytes, 1 MiB, fragments with a ping between, pings both ways, subprotocol, deflate, close code and reason", async () => {
    const base = `ws://127.0.0.1:${port}`;
    const conn = await ourClient(base, { subprotocols: ["x", "chat"], deflate: true });
    expect(conn.subprotocol).toBe("chat");
    expect(conn.extensions).toBe("permessage-deflate");
    const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) % 256);
    const got: Shown[] = [];
    for (const message of ["h\u00e9llo", new Uint8Array([0, 255, 1]), "", new Uint8Array(0), big, "compress me ".repeat(1000)]) {
      await conn.send(message);
      got.push(show(await conn.read()));
    }
    expect(got).toEqual([show("h\u00e9llo"), show(new Uint8Array([0, 255, 1])), "", show(new Uint8Array(0)), show(big), "compress me ".repeat(1000)]);
    conn.sendFragmentedWithPing();
    expect([await conn.read(), await conn.read()]).toEqual(["ping between", "fragmented \u00e9"]);
    conn.ping("abc");
    expect(await conn.read()).toBe("ping abc");
    await conn.send("ping:xyz");
    expect(await conn.read()).toBe("pong xyz");
    await conn.send("close:4003:from ws");
    expect(await conn.read()).toBeNull();
    expect([conn.closeCode, conn.closeReason]).toEqual([4003, "from ws"]);
    expect(await conn.read()).toBeNull();
  });

  it("a client-initiated close reaches ws with its code and reason", async () => {
    const closed = new Promise<[number, string]>((resolve) => wss.once("connection", (ws) => ws.once("close", (code: number, reason: Buffer) => resolve([code, reason.toString()]))));
    const conn = await ourClient(`ws://127.0.0.1:${port}`, {});
    conn.close(4004, "bye ws");
    expect(await closed).toEqual([4004, "bye ws"]);
    expect(await conn.read()).toBeNull();
    expect(conn.closeCode).toBe(4004);
  });
});
