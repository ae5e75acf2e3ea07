/**
 * Chromium's own WebSocket against our server on Node: a page served by our runtime opens
 * websockets to the reference app (tools/difftest/websocket_app.ts) and runs a conversation:
 * subprotocol, text, binary, empty and 1 MiB messages, JSON, pings (the app reports its pongs),
 * close codes and reasons both ways, permessage-deflate as Chromium offers it, and the
 * same-origin check refusing a page from another origin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { HTTPServer } from "tornado/httpserver";
import { setLogSink } from "tornado/log";
import { Application, RequestHandler } from "tornado/web";
import { websocketApp } from "../tools/difftest/websocket_app.js";
import { launchBrowser } from "./support.js";

class Page extends RequestHandler {
  get(): void {
    this.write("<!doctype html><title>websocket test</title><p>ws</p>");
  }
}

describe("Chromium's WebSocket against our server", () => {
  let browser: Browser;
  let server: HTTPServer;
  let otherServer: HTTPServer;
  let port = 0;
  let otherPort = 0;
  let previousSink: ReturnType<typeof setLogSink>;

  beforeAll(async () => {
    previousSink = setLogSink(() => {});
    const app = websocketApp();
    app.addHandlers(".*$", [["/", Page]]);
    server = new HTTPServer(app);
    port = await server.listen(0, "127.0.0.1");
    // Another origin (another port) serving a page, for the cross-origin check.
    otherServer = new HTTPServer(new Application([["/", Page]]));
    otherPort = await otherServer.listen(0, "127.0.0.1");
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await server?.closeAllConnections();
    await otherServer?.stop();
    setLogSink(previousSink);
  });

  it("talks to our server: messages of every kind, subprotocol, close codes, deflate", async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const result = await page.evaluate(async (base) => {
      type Got = { data: string | ArrayBuffer };
      function open(path: string, protocols: string[] = []) {
        const ws = new WebSocket(base + path, protocols);
        ws.binaryType = "arraybuffer";
        const queue: (Got | null)[] = [];
        const waiters: ((m: Got | null) => void)[] = [];
        const push = (m: Got | null) => (waiters.length ? waiters.shift()!(m) : queue.push(m));
        ws.onmessage = (e) => push({ data: e.data as string | ArrayBuffer });
        let closeEvent: { code: number; reason: string; wasClean: boolean } | null = null;
        ws.onclose = (e) => {
          closeEvent = { code: e.code, reason: e.reason, wasClean: e.wasClean };
          push(null);
        };
        const opened = new Promise<void>((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error("websocket error"));
        });
        const read = () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise<Got | null>((r) => waiters.push(r)));
        const show = (m: Got | null) => (m === null ? null : typeof m.data === "string" ? m.data : `binary ${m.data.byteLength} ${Array.from(new Uint8Array(m.data).slice(0, 4)).join(",")}`);
        return { ws, opened, read: async () => show(await read()), closed: () => closeEvent };
      }
      const out: Record<string, unknown> = {};
      const a = open("/echo?hello=there", ["x", "chat"]);
      await a.opened;
      out.protocol = a.ws.protocol;
      out.hello = await a.read();
      const big = new Uint8Array(1 << 20).map((_, i) => i % 251);
      const got: unknown[] = [];
      for (const m of ["h\u00e9llo \u2603", new Uint8Array([7, 8, 9]), "", new Uint8Array(0), big, "json", "ping:xyz"]) {
        a.ws.send(m);
        got.push(await a.read());
      }
      out.got = got;
      a.ws.send("close:4001:bye now");
      out.afterClose = await a.read();
      out.close = a.closed();

      const b = open("/echo");
      await b.opened;
      out.noProtocol = b.ws.protocol;
      b.ws.close(4002, "client bye");
      await b.read();
      out.clientClose = b.closed();
      const c = open("/echo");
      await c.opened;
      c.ws.send("lastclose");
      out.lastclose = await c.read();
      c.ws.close();

      const d = open("/deflate");
      await d.opened;
      out.extensions = d.ws.extensions;
      const text = "compress me ".repeat(2000);
      d.ws.send(text);
      out.deflateEcho = (await d.read()) === text;
      d.ws.send("small");
      out.deflateSmall = await d.read();
      d.ws.close(1000);
      await d.read();
      return out;
    }, `ws://127.0.0.1:${port}`);
    expect(result).toEqual({
      protocol: "chat",
      hello: "hello there",
      got: ["h\u00e9llo \u2603", "binary 3 7,8,9", "", "binary 0 ", "binary 1048576 0,1,2,3", '{"a": [1, "caf\\u00e9", null, true], "b": "<\\/script>", "c": 1.5}', "pong xyz"],
      afterClose: null,
      close: { code: 4001, reason: "bye now", wasClean: true },
      noProtocol: "",
      // The server echoes the code without the reason, as Tornado does; it got the reason (lastclose).
      clientClose: { code: 4002, reason: "", wasClean: true },
      lastclose: "4002 client bye",
      extensions: "permessage-deflate",
      deflateEcho: true,
      deflateSmall: "small",
    });
    await page.close();
  });

  it("a page from another origin is refused (403 on the handshake)", async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${otherPort}/`);
    const outcome = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => resolve("opened");
          ws.onclose = (e) => resolve(`closed ${e.code}`);
        }),
      `ws://127.0.0.1:${port}/echo`,
    );
    expect(outcome).toBe("closed 1006");
    // The same page can talk to its own origin's server.
    await page.goto(`http://127.0.0.1:${port}/`);
    const own = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => {
            ws.send("same origin");
          };
          ws.onmessage = (e) => resolve(String(e.data));
          ws.onclose = (e) => resolve(`closed ${e.code}`);
        }),
      `ws://127.0.0.1:${port}/echo`,
    );
    expect(own).toBe("same origin");
    await page.close();
  });
});
