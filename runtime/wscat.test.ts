/**
 * Our wscat against npm's wscat 6.1 (node_modules/wscat/bin/wscat):
 *  1. side by side as commands (`tools/wscat.ts`, stdout a pipe) against the same `ws` server and
 *     a runtime WebSocketHandler server: same stdout, stderr and exit code;
 *  2. in-process over the in-memory network (the browser deck's platform), driven through the
 *     io interface the deck's terminal uses (lines in, a stop signal), terminal output included.
 */
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket as WsSocket } from "ws";
import { HTTPServer } from "./httpserver.js";
import { setLogSink } from "./log.js";
import { createMemoryPlatform } from "./platform/memory.js";
import { setPlatform } from "./platform/index.js";
import { Application } from "./web.js";
import { WebSocketHandler } from "./websocket.js";
import { parseWscatArgs, wscat, WSCAT_HELP } from "./wscat.js";
import { bundleForTest, type Bundle } from "./testdata/bundle.js";

const REAL = ["node_modules/wscat/bin/wscat"];
/** tools/wscat.ts, bundled once (testdata/bundle.ts): each case starts it as a fresh process. */
let ours: Bundle;
beforeAll(async () => {
  ours = await bundleForTest("tools/wscat.ts");
});
afterAll(() => ours.dispose());

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Run a wscat as a process with stdin an open pipe (wscat exits at the end of its input);
 * `onConnected` gets a writer for its stdin once the server saw the connection.
 */
function runWscat(script: string[], argv: string[], connected?: Promise<void>, lines: string[] = [], greeting?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...script, ...argv], { stdio: ["pipe", "pipe", "pipe"] });
    const so: Buffer[] = [];
    const se: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => so.push(c));
    child.stderr.on("data", (c: Buffer) => se.push(c));
    child.on("error", reject);
    // Input goes in step with what comes out, so the transcript does not depend on timing: the
    // first line once the client has the server's greeting (wscat drops lines typed before it
    // is connected), each next one once the echo of the previous one is printed.
    let closed = false;
    const printed = async (text: string) => {
      while (!closed && !Buffer.concat(so).toString("utf8").includes(text)) await new Promise((r) => setTimeout(r, 10));
    };
    void connected?.then(async () => {
      let awaited = greeting;
      for (const line of lines) {
        if (awaited) await printed(awaited);
        if (closed) return;
        child.stdin.write(`${line}\n`);
        awaited = `echo: ${line}\n`;
      }
    });
    const killer = setTimeout(() => child.kill(), 30_000);
    child.on("close", (code) => {
      closed = true;
      clearTimeout(killer);
      child.stdin.destroy();
      resolve({ stdout: Buffer.concat(so).toString("utf8"), stderr: Buffer.concat(se).toString("utf8"), code: code ?? -1 });
    });
  });
}

/** The `ws` server both wscats talk to; each path a different conversation. */
class Peer {
  server!: WebSocketServer;
  port = 0;
  /** Resolvers waiting for the next connection per path. */
  private waiting = new Map<string, Array<() => void>>();

  async start(): Promise<void> {
    this.server = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      handleProtocols: (protocols) => (protocols.has("chat") ? "chat" : false),
      verifyClient: (info, done) => (info.req.url === "/forbidden" ? done(false, 403) : done(true)),
    });
    await new Promise<void>((r) => this.server.once("listening", () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    this.server.on("connection", (ws: WsSocket, req) => {
      const url = req.url ?? "/";
      for (const resolve of this.waiting.get(url)?.splice(0) ?? []) resolve();
      if (url === "/hello") {
        ws.send(`hello ${String(req.headers["x-name"] ?? "")}`);
        ws.send(Buffer.from([0x68, 0xff, 0x69, 0xe2, 0x98, 0x83]), { binary: true });
        ws.send("");
      }
      if (url === "/bye") return ws.close(4001, "bye now");
      if (url === "/chat") ws.send("welcome");
      ws.on("message", (m) => {
        ws.send(`echo: ${String(m)}`);
        if (String(m) === "close") ws.close(1000, "asked");
      });
    });
  }

  /** Resolves when the next client connects on `path`. */
  next(path: string): Promise<void> {
    return new Promise((resolve) => {
      const list = this.waiting.get(path) ?? [];
      list.push(resolve);
      this.waiting.set(path, list);
    });
  }

  close(): Promise<void> {
    for (const c of this.server.clients) c.terminate();
    return new Promise((r) => this.server.close(() => r()));
  }
}

class Echo extends WebSocketHandler {
  override open() {
    void this.writeMessage(`welcome ${this.getArgument("name", "stranger")}`);
  }
  override onMessage(message: string | Uint8Array) {
    if (message === "bye") return this.close(1000, "see you");
    void this.writeMessage({ echo: message });
  }
}

describe("side by side with npm's wscat 6.1", () => {
  const peer = new Peer();
  let tornado: HTTPServer;
  let tornadoPort: number;
  let previousSink: ReturnType<typeof setLogSink>;
  beforeAll(async () => {
    previousSink = setLogSink(() => {});
    await peer.start();
    tornado = new HTTPServer(new Application([["/echo", Echo]]));
    tornadoPort = await tornado.listen(0, "127.0.0.1");
  });
  afterAll(async () => {
    await peer.close();
    await tornado.stop();
    await tornado.closeAllConnections();
    setLogSink(previousSink);
  });

  const cases: Array<{ name: string; argv: () => string[]; path?: string; lines?: string[]; greeting?: string }> = [
    { name: "-x twice, -w 1, a header; text and binary messages arrive", argv: () => ["-c", `ws://127.0.0.1:${peer.port}/hello`, "-H", "X-Name: ben", "-x", "hi", "-x", "there", "-w", "1"] },
    { name: "the server closes while -w waits", argv: () => ["-c", `ws://localhost:${peer.port}/echo`, "-x", "close", "-w", "5"] },
    { name: "a close frame with code and reason right away", argv: () => ["-c", `ws://127.0.0.1:${peer.port}/bye`, "-x", "a"] },
    { name: "-s picked by the server", argv: () => ["-c", `ws://127.0.0.1:${peer.port}/echo`, "-s", "chat", "-s", "other", "-x", "a", "-w", "0.3"] },
    { name: "-s the server does not pick", argv: () => ["-c", `ws://127.0.0.1:${peer.port}/echo`, "-s", "nope", "-x", "a"] },
    { name: "403 on the handshake", argv: () => ["-c", `ws://127.0.0.1:${peer.port}/forbidden`, "-x", "a"] },
    { name: "connection refused", argv: () => ["-c", "ws://127.0.0.1:1/", "-x", "a"] },
    { name: "interactive: lines typed are sent, each followed by the prompt", argv: () => ["-c", `ws://127.0.0.1:${peer.port}/chat`], path: "/chat", lines: ["one", "two words", "close"], greeting: "welcome\n" },
    { name: "against a runtime WebSocketHandler: JSON echo and a close with reason", argv: () => ["-c", `ws://127.0.0.1:${tornadoPort}/echo?name=ann`, "-x", "hi", "-x", "bye", "-w", "5"] },
    { name: "unknown option", argv: () => ["--bogus"] },
    { name: "-c without its URL", argv: () => ["-c"] },
  ];

  for (const c of cases) {
    it(c.name, { timeout: 90_000 }, async () => {
      const argv = c.argv();
      // One after the other: each conversation starts from the same server state.
      const theirs = await runWscat(REAL, argv, c.path ? peer.next(c.path) : undefined, c.lines, c.greeting);
      const mine = await runWscat([ours.file], argv, c.path ? peer.next(c.path) : undefined, c.lines, c.greeting);
      expect(mine.stdout, argv.join(" ")).toBe(theirs.stdout);
      expect(mine.stderr, argv.join(" ")).toBe(theirs.stderr);
      expect(mine.code, argv.join(" ")).toBe(theirs.code);
      if (c.lines) expect(theirs.stdout).toContain("echo: two words\n");
    });
  }
});

describe("in-process over the in-memory network (the deck's in-page engine)", () => {
  it("streams what arrives, sends typed lines, stops on the signal; terminal output as wscat's", async () => {
    const previousSink = setLogSink(() => {});
    const memory = createMemoryPlatform({ log: () => {} });
    const previous = setPlatform(memory);
    let server: HTTPServer;
    try {
      server = new HTTPServer(new Application([["/echo", Echo]]));
      await server.listen(8888);
    } finally {
      setPlatform(previous);
    }
    try {
      // Not a terminal, -x: the messages only.
      let out = "";
      let code = await wscat(["-c", "ws://localhost:8888/echo?name=ben", "-x", "hi", "-w", "0.2"], {
        stdout: (t) => (out += t),
        stderr: (t) => (out += `[err]${t}`),
        isTTY: false,
        platform: memory,
      });
      expect([code, out]).toEqual([0, 'welcome ben\n{"echo": "hi"}\n']);

      // A terminal, interactive: notices, colours, the prompt; lines after "Connected"; Ctrl+C stops it.
      out = "";
      const stop = new AbortController();
      const typed: string[] = [];
      const wake: { push: (() => void) | null } = { push: null };
      const stdin = (async function* () {
        for (;;) {
          while (typed.length === 0) await new Promise<void>((r) => (wake.push = r));
          yield typed.shift()!;
        }
      })();
      const running = wscat(["-c", "ws://localhost:8888/echo"], { stdout: (t) => (out += t), stderr: (t) => (out += t), isTTY: true, platform: memory, stdin, signal: stop.signal });
      const until = async (text: string) => {
        for (let k = 0; k < 200 && !out.includes(text); k++) await new Promise((r) => setTimeout(r, 10));
        expect(out).toContain(text);
      };
      await until("Connected");
      typed.push("ping?");
      wake.push?.();
      await until('{"echo": "ping?"}');
      stop.abort();
      code = await running;
      const CLEAR = "\r\u001b[2K\u001b[3D";
      expect(code).toBe(0);
      expect(out).toBe(
        `${CLEAR}\u001b[32mConnected (press CTRL+C to quit)\u001b[39m\n> ` +
          `${CLEAR}\u001b[34m< welcome stranger\u001b[39m\n> ` +
          "> " +
          `${CLEAR}\u001b[34m< {"echo": "ping?"}\u001b[39m\n> `,
      );

      // The server closes: the terminal shows wscat's Disconnected notice with code and reason.
      out = "";
      code = await wscat(["-c", "ws://localhost:8888/echo", "--no-color", "-x", "bye", "-w", "-1"], { stdout: (t) => (out += t), stderr: (t) => (out += t), isTTY: false, platform: memory });
      expect([code, out]).toEqual([0, "welcome stranger\n"]);
      out = "";
      const refused = await wscat(["-c", "ws://localhost:8889/"], { stdout: (t) => (out += t), stderr: (t) => (out += `[err]${t}`), isTTY: false, platform: memory });
      expect([refused, out]).toEqual([255, "[err]error: connect ECONNREFUSED 127.0.0.1:8889\n"]);
    } finally {
      const restore = setPlatform(memory);
      await server!.stop();
      await server!.closeAllConnections();
      setPlatform(restore);
      setLogSink(previousSink);
    }
  });

  it("parses wscat's command line as commander does", () => {
    expect(parseWscatArgs(["-cws://h:1/", "--execute=a", "-x", "b", "-s", "p", "-H", "A: b", "-P"])).toMatchObject({
      connect: "ws://h:1/",
      execute: ["a", "b"],
      subprotocols: ["p"],
      headers: ["A: b"],
      showPingPong: true,
    });
    expect(() => parseWscatArgs(["-x"])).toThrow("error: option '-x, --execute <command>' argument missing");
    expect(() => parseWscatArgs(["--listen", "8888"])).toThrow(/not supported by this wscat/);
    expect(WSCAT_HELP).toMatch(/^Usage: wscat/);
  });
});
