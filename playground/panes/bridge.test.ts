/**
 * The pane network bridge end to end on Node, minus the browser: the shim (as the pane runs it,
 * on a stand-in window) talks through a real MessageChannel to a relay that checks each message
 * (as the deck does) and hands it to the PaneServer, which makes it on the in-memory network of
 * a program running in the in-page sandbox. (The frames themselves, the sandbox boundary and the
 * demos are covered in Chromium by e2e/panes.test.ts.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { Sandbox } from "../inpage/sandbox.js";
import { runtimeModules } from "../inpage/modules.js";
import { validatePaneRequest, type PaneEvent } from "./protocol.js";
import { PaneServer } from "./server.js";
import { installPaneShim, shimScript, type ShimWindow } from "./shim.js";

const program = `import { Application, RequestHandler } from "tornado/web";
import { WebSocketHandler } from "tornado/websocket";
import { Condition } from "tornado/locks";
const cond = new Condition();
let waiting = 0;
class Page extends RequestHandler {
  get() { this.setHeader("X-Page", "yes"); this.write("<p>page " + this.request.uri + "</p>"); }
  post() { this.write({ got: this.getArgument("body"), type: this.request.headers.get("Content-Type") }); }
}
class Wait extends RequestHandler {
  private readonly cancel = new AbortController();
  async get() {
    waiting++;
    try { await cond.wait(null, { signal: this.cancel.signal }); } catch { return; } finally { waiting--; }
    this.write("woken");
  }
  override onConnectionClose() { this.cancel.abort(); }
}
class Count extends RequestHandler { get() { this.write({ waiting }); } }
class Wake extends RequestHandler { post() { cond.notifyAll(); this.write("ok"); } }
class Echo extends WebSocketHandler {
  override open() { console.log("open"); }
  override onMessage(m: string | Uint8Array) { void this.writeMessage(typeof m === "string" ? "echo " + m : m, typeof m !== "string"); }
  override onClose() { console.log("closed " + this.closeCode); }
}
new Application([["/", Page], ["/form", Page], ["/wait", Wait], ["/waiting", Count], ["/wake", Wake], ["/ws", Echo]]).listen(8888);
`;

let sandbox: Sandbox | null = null;
afterEach(() => {
  sandbox?.reset();
  sandbox = null;
});

/** A program, a PaneServer beside it, and a pane window whose shim is wired to them. */
async function setup() {
  let log = "";
  sandbox = new Sandbox({ modules: runtimeModules, output: (source, _s, text) => source === "server" && (log += text) });
  const started = await sandbox.start({ name: "p", main: "p.ts", files: { "p.ts": program } }, 4000);
  expect(started).toMatchObject({ ok: true });
  const { port1, port2 } = new MessageChannel();
  const server = new PaneServer((_session, event) => port1.postMessage(event));
  const dropped: unknown[] = [];
  port1.onmessage = (event) => {
    const request = validatePaneRequest(event.data);
    if (request) server.handle(1, request);
    else dropped.push(event.data);
  };
  const listeners: Array<(event: MessageEvent) => void> = [];
  const parent = {};
  const win = { parent, addEventListener: (_type: string, l: (event: MessageEvent) => void) => listeners.push(l) } as unknown as ShimWindow & {
    fetch: typeof fetch;
    WebSocket: any;
    XMLHttpRequest: any;
  };
  installPaneShim(win, "http://localhost:8888/some/page");
  const handOver = () => {
    for (const l of listeners) l({ source: parent, data: { type: "tornado-pane-port" }, ports: [port2] } as unknown as MessageEvent);
  };
  const count = async () => JSON.parse(await (await win.fetch("/waiting")).text()).waiting as number;
  const until = async (check: () => Promise<boolean> | boolean) => {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await check()).toBe(true);
  };
  return { win, server, handOver, log: () => log, count, until, dropped, close: () => (port1.close(), port2.close()) };
}

describe("pane network bridge (shim ⇄ MessagePort ⇄ PaneServer ⇄ the program)", () => {
  it("fetch: relative URLs resolve against the page, requests made before the port arrives wait for it, bodies and headers go both ways", async () => {
    const { win, handOver, close } = await setup();
    const early = win.fetch("/?x=1");
    handOver();
    const page = (await early) as Response;
    expect(page.status).toBe(200);
    expect(page.headers.get("X-Page")).toBe("yes");
    expect(page.url).toBe("http://localhost:8888/?x=1");
    expect(await page.text()).toBe("<p>page /?x=1</p>");
    const posted = await win.fetch("../form", { method: "POST", body: new URLSearchParams({ body: "hé llo" }) });
    expect(await posted.json()).toEqual({ got: "hé llo", type: "application/x-www-form-urlencoded;charset=UTF-8" });
    const missing = await win.fetch("/nope");
    expect(missing.status).toBe(404);
    close();
  });

  it("fetch: nothing listening is a network error (TypeError), as a browser's", async () => {
    const { win, handOver, close } = await setup();
    handOver();
    await expect(win.fetch("http://localhost:9999/")).rejects.toThrow(TypeError);
    close();
  });

  it("an aborted fetch closes its connection: the program's onConnectionClose drops the waiter", async () => {
    const { win, handOver, count, until, close } = await setup();
    handOver();
    const controller = new AbortController();
    const waited = win.fetch("/wait", { signal: controller.signal });
    await until(async () => (await count()) === 1);
    controller.abort();
    await expect(waited).rejects.toMatchObject({ name: "AbortError" });
    await until(async () => (await count()) === 0);
    close();
  });

  it("closing the pane's session drops everything it had open (long polls, websockets)", async () => {
    const { win, server, handOver, count, until, log, close } = await setup();
    handOver();
    void win.fetch("/wait").catch(() => {});
    const ws = new win.WebSocket("/ws");
    await new Promise((r) => (ws.onopen = r));
    await until(async () => (await count()) === 1);
    server.close(1);
    expect(server.openSessions).toBe(0);
    // The program saw both clients leave (the count is asked in a new session).
    await until(() => /closed 1001/.test(log()));
    await until(async () => (await count()) === 0);
    close();
  });

  it("XMLHttpRequest: open/send/readyState/status/response and events", async () => {
    const { win, handOver, close } = await setup();
    handOver();
    const xhr = new win.XMLHttpRequest();
    const states: number[] = [];
    xhr.onreadystatechange = () => states.push(xhr.readyState);
    const loaded = new Promise((r) => xhr.addEventListener("loadend", r));
    xhr.open("POST", "/form");
    xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
    xhr.responseType = "json";
    xhr.send("body=x");
    await loaded;
    expect(states).toEqual([1, 2, 3, 4]);
    expect(xhr.status).toBe(200);
    expect(xhr.response).toEqual({ got: "x", type: "application/x-www-form-urlencoded" });
    expect(xhr.getResponseHeader("content-type")).toMatch(/^application\/json/);
    close();
  });

  it("WebSocket: ws URL from a relative one, text and binary both ways, a clean close seen by the program", async () => {
    const { win, handOver, log, until, close } = await setup();
    const ws = new win.WebSocket("/ws");
    expect(ws.url).toBe("ws://localhost:8888/ws");
    expect(() => ws.send("too early")).toThrow(/CONNECTING/);
    handOver();
    await new Promise((r) => ws.addEventListener("open", r));
    expect(ws.readyState).toBe(1);
    const got: unknown[] = [];
    ws.binaryType = "arraybuffer";
    ws.onmessage = (event: MessageEvent) => got.push(event.data);
    ws.send("hi");
    ws.send(new Uint8Array([1, 2, 3]));
    await until(() => got.length === 2);
    expect(got[0]).toBe("echo hi");
    expect([...new Uint8Array(got[1] as ArrayBuffer)]).toEqual([1, 2, 3]);
    const closed = new Promise<any>((r) => (ws.onclose = r));
    ws.close(1000, "bye");
    const event = await closed;
    expect([event.code, event.wasClean, ws.readyState]).toEqual([1000, true, 3]);
    await until(() => /closed 1000/.test(log()));
    expect(() => new win.WebSocket("ftp://x/")).toThrow(/scheme/);
    close();
  });

  it("only the parent hands over the port, and malformed messages never reach the server", async () => {
    const { win, dropped, close } = await setup();
    expect(validatePaneRequest({ t: "http", id: 1, method: "GET", url: "/", headers: [["a"]], body: null })).toBeNull();
    expect(validatePaneRequest({ t: "eval", id: 1 })).toBeNull();
    expect(validatePaneRequest({ t: "ws-send", id: -1, data: "x" })).toBeNull();
    expect(validatePaneRequest({ t: "http", id: 1, method: "GET /x", url: "/", headers: [], body: null })).toBeNull();
    expect(dropped).toEqual([]);
    // A message from anyone but the parent is ignored: the fetch keeps waiting for the real port.
    const { port2 } = new MessageChannel();
    let settled = false;
    void win.fetch("/").then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    port2.close();
    close();
  });

  it("the injected script is the shim itself, bound to the page's URL, safe inside <script>", () => {
    const script = shimScript("http://localhost:8888/</script><b>");
    expect(script).toContain("installPaneShim");
    expect(script).not.toContain("</script>");
    expect(script).toMatch(/\(window, "http:\/\/localhost:8888\/\\u003c\/script>\\u003cb>"\);$/);
  });
});
