/**
 * The WebContainer engine inside the built deck, in Chromium, with StackBlitz's boot replaced
 * by a bridge to the Node-backed container (real files, real `node` processes on the
 * container's own localhost, port 8888 as in the talk). Everything the deck does with a
 * WebContainer runs for real: choosing it once "booted", the badge and its switch, packaging
 * the runtime from the bundle (transpiled in the page), mounting, spawning, port events,
 * curl.mjs, the watchdog's kill. Only `WebContainer.boot()` is not exercised: it needs StackBlitz.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { bootNodeContainer, type NodeContainer } from "../playground/webcontainer/node-backed.js";
import type { ContainerProcess, FileSystemTree } from "../playground/webcontainer/container.js";
import { launchBrowser, openDeck, showLive } from "./support.js";
import { ECHO_PROGRAM, shown } from "../playground/contract.js";

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** In the page: a `Container` whose calls go to Node (`__nbCall`) and whose events come back (`__nbEvent`). */
const pageBridge = `
globalThis.__name = (f) => f;
(() => {
  const procs = new Map();
  const early = new Map();
  const portListeners = new Set();
  const deliver = (p, m) => {
    if (m.type === "output") p.controller.enqueue(m.chunk);
    else if (m.type === "exit") { p.controller.close(); p.resolveExit(m.code); procs.delete(m.id); }
  };
  globalThis.__nbEvent = (m) => {
    if (m.type === "port") { for (const l of portListeners) l(m.port, m.kind, m.url); return; }
    const p = procs.get(m.id);
    if (p) deliver(p, m);
    else { if (!early.has(m.id)) early.set(m.id, []); early.get(m.id).push(m); }
  };
  const call = (op, args) => globalThis.__nbCall(op, args);
  globalThis.__playgroundBootContainer = async () => ({
    workdir: "/home/tornado",
    mount: (tree, options) => call("mount", [tree, options || {}]),
    async spawn(command, args, options) {
      const id = await call("spawn", [command, args, options || {}]);
      let controller, resolveExit;
      const output = new ReadableStream({ start(c) { controller = c; } });
      const exit = new Promise((r) => (resolveExit = r));
      const p = { controller, resolveExit };
      procs.set(id, p);
      for (const m of early.get(id) || []) deliver(p, m);
      early.delete(id);
      const input = new WritableStream({ write: (chunk) => call("input", [id, chunk]), close: () => call("inputEnd", [id]) });
      return { output, exit, input, kill: () => void call("kill", [id]) };
    },
    on(event, listener) {
      if (event !== "port") return () => {};
      portListeners.add(listener);
      return () => portListeners.delete(listener);
    },
    fs: {
      mkdir: (path, o) => call("mkdir", [path, o || {}]),
      rm: (path, o) => call("rm", [path, o || {}]),
      writeFile: (path, data) => call("writeFile", [path, data]),
      readFile: (path, encoding) => call("readFile", [path, encoding]),
    },
  });
})();
`;

/**
 * A container that answers differently: its `node` runs a runtime patched to send another
 * Server header (the mounted node_modules/tornado/web.js is edited on its way to the disk).
 */
function patchRuntime(tree: FileSystemTree): FileSystemTree {
  const pkg = (tree.node_modules as any)?.directory?.tornado?.directory;
  const web = pkg?.["web.js"]?.file;
  if (!web) return tree;
  if (!String(web.contents).includes("TornadoTS/")) throw new Error("web.js no longer names TornadoTS/: update the patch");
  web.contents = String(web.contents).replace("`TornadoTS/", "`TornadoTS-patched/");
  return tree;
}

/** A page of the isolated deck whose WebContainer is the Node-backed one. */
async function openWithContainer(
  options: { query?: string; patch?: (tree: FileSystemTree) => FileSystemTree } = {},
): Promise<{ page: Page; context: BrowserContext; container: NodeContainer; close(): Promise<void> }> {
  const container = bootNodeContainer();
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const procs = new Map<number, ContainerProcess>();
  let nextId = 1;
  let events: Promise<unknown> = Promise.resolve();
  const send = (message: unknown) => {
    events = events.then(() => page.evaluate((m) => (globalThis as any).__nbEvent(m), message).catch(() => {}));
    return events;
  };
  container.on("port", (port, kind, url) => void send({ type: "port", port, kind, url }));
  await page.exposeFunction("__nbCall", async (op: string, args: any[]) => {
    switch (op) {
      case "mount":
        return container.mount(options.patch ? options.patch(args[0] as FileSystemTree) : (args[0] as FileSystemTree), args[1]);
      case "mkdir":
        return container.fs.mkdir(args[0], { recursive: true });
      case "rm":
        return container.fs.rm(args[0], args[1]);
      case "writeFile":
        return container.fs.writeFile(args[0], args[1]);
      case "readFile":
        return container.fs.readFile(args[0], "utf-8");
      case "kill":
        return procs.get(args[0])?.kill();
      case "input":
      case "inputEnd": {
        const writer = procs.get(args[0])?.input.getWriter();
        try {
          await (op === "input" ? writer?.write(args[1]) : writer?.close());
        } finally {
          writer?.releaseLock();
        }
        return;
      }
      case "spawn": {
        const id = nextId++;
        const proc = await container.spawn(args[0], args[1], args[2]);
        procs.set(id, proc);
        void proc.output
          .pipeTo(new WritableStream({ write: (chunk) => void send({ type: "output", id, chunk }) }))
          .then(() => proc.exit)
          .then((code) => send({ type: "exit", id, code }));
        return id;
      }
      default:
        throw new Error(`unknown container call ${op}`);
    }
  });
  await page.addInitScript(pageBridge);
  // The host sends COOP/COEP, so the page is isolated without the deck's service worker;
  // `no-coi` keeps that worker (and its precaching of the whole deck) out of these engine tests.
  await openDeck(page, inject("deckUrl") + "?transition=none&no-coi" + (options.query ?? ""));
  await page.waitForFunction(() => "__playground" in globalThis, undefined, { timeout: 20_000 });
  return {
    page,
    context,
    container,
    async close() {
      await context.close();
      await container.teardown();
    },
  };
}

const badge = (page: Page) => page.textContent(".playground-badge");

/** Wait for the badge to name `engine` (a WebContainer's boot takes its time on a loaded machine). */
const untilEngine = (page: Page, engine: "webcontainer" | "inpage", timeout = 45_000) =>
  page.waitForFunction((e) => document.querySelector<HTMLElement>(".playground-badge")?.dataset.engine === e, engine, { timeout });

/** The badge says the WebContainer was refused (its hello answered differently). */
const refused = (page: Page) =>
  page.waitForFunction(() => /WebContainer refused/.test(document.querySelector(".playground-badge")?.textContent ?? ""), undefined, { timeout: 30_000 });

describe("the deck with a WebContainer (Node-backed stand-in for StackBlitz)", () => {
  it("switches to the WebContainer once booted and serves the talk's programs from real node processes", async () => {
    const { page, close } = await openWithContainer();
    try {
      await untilEngine(page, "webcontainer");
      expect(await badge(page)).toBe("WebContainer · WebContainer: booted and proved, real Node in the page");
      const hello = await showLive(page, "hello");
      expect(hello.state, hello.transcript).toBe("done");
      expect(hello.transcript).toContain('Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"\r\n');
      expect(hello.transcript.endsWith("\r\n\r\nHello, world")).toBe(true);
      expect(hello.transcript).toMatch(/\r\nServer: TornadoTS\/\d+\.\d+\.\d+\r\n/);
      // The program's own output stream is the log: the access line Node's process printed.
      expect(hello.log).toMatch(/200 GET \/ \(127\.0\.0\.1\)/);
      const json = await showLive(page, "json");
      expect(json.transcript.endsWith('\r\n\r\n{"msg": "hello!"}')).toBe(true);
      const templates = await showLive(page, "templates");
      expect(templates.transcript).toContain('Etag: "3e7020fdb7b87ef428cbdd140c96217044748c27"');
    } finally {
      await close();
    }
  }, 120_000);

  it("kills a program stuck in while (true) {} within 5 s; the badge switches engines both ways", async () => {
    const { page, close } = await openWithContainer();
    try {
      await untilEngine(page, "webcontainer");
      await page.evaluate(() =>
        localStorage.setItem(
          "tornado-deck:playground:hello:hello.ts",
          (document.querySelector('.code-ts[data-example="hello"] pre')?.textContent ?? "").replace('this.write("Hello, world");', "while (true) {}"),
        ),
      );
      const stuck = await showLive(page, "hello");
      expect(stuck.state).toBe("timeout");
      // The terminal runs curl as a session: the watchdog stops the program once it has shown no
      // sign of life (heartbeat.cjs) for 4 s. The command's time also holds curl.mjs's own node
      // start, seconds on a loaded machine, so only the bounds are checked here; the window
      // itself (from the moment the program gets stuck) is held by the engine contract's
      // session case (playground/contract.ts).
      expect(stuck.commandMs).toBeGreaterThanOrEqual(4000);
      expect(stuck.commandMs).toBeLessThan(20_000);
      expect(stuck.transcript).toContain("stopped after 4 s: the server did not answer");
      await page.evaluate(() => localStorage.clear());
      const ok = await showLive(page, "hello");
      expect(ok.transcript.endsWith("Hello, world")).toBe(true);

      await page.click(".playground-badge");
      await untilEngine(page, "inpage", 30_000);
      expect(await badge(page)).toBe("in-page · in the page: chosen by the presenter");
      const inPage = await showLive(page, "hello");
      expect(inPage.transcript.endsWith("Hello, world")).toBe(true);
      await page.click(".playground-badge");
      await untilEngine(page, "webcontainer");
      const back = await showLive(page, "json");
      expect(back.transcript.endsWith('{"msg": "hello!"}')).toBe(true);
    } finally {
      await close();
    }
  }, 120_000);

  it("wscat in a slide's terminal: typed lines go to a node process and their echoes stream back; Ctrl+C ends it", async () => {
    const { page, close } = await openWithContainer();
    try {
      await untilEngine(page, "webcontainer");
      await page.evaluate((text) => localStorage.setItem("tornado-deck:playground:hello:hello.ts", text), ECHO_PROGRAM.files["echo.ts"]!);
      expect((await showLive(page, "hello")).transcript).toContain("HTTP/1.1 404 Not Found");
      const live = '.live-command[data-example="hello"]';
      const shownNow = () => page.evaluate((s) => document.querySelector(`${s} .playground-transcript`)?.textContent ?? "", live).then(shown);
      await page.click(`${live} .playground-command-input`);
      await page.keyboard.press("Control+A");
      await page.keyboard.type("wscat -c ws://localhost:8888/echo");
      await page.keyboard.press("Enter");
      await expect.poll(shownNow, { timeout: 20_000 }).toMatch(/Connected \(press CTRL\+C to quit\)\n< welcome\n> $/);
      // Longer than the watchdog's 4 s window: the program is healthy (its heartbeat moves).
      await page.waitForTimeout(5000);
      expect(await page.getAttribute(live, "data-state")).toBe("running");
      await page.keyboard.type("from the webcontainer");
      await page.keyboard.press("Enter");
      await expect.poll(shownNow, { timeout: 10_000 }).toMatch(/< echo: from the webcontainer\n> $/);
      await page.keyboard.press("Control+C");
      await page.waitForFunction((s) => document.querySelector<HTMLElement>(s)?.dataset.state === "stopped", live, { timeout: 10_000 });
      expect(await page.getAttribute(live, "data-exit-code")).toBe("0");
      await page.evaluate(() => localStorage.clear());
    } finally {
      await close();
    }
  }, 120_000);

  it("a container that answers differently is refused: the deck stays in the page and the badge says why", async () => {
    const { page, close } = await openWithContainer({ patch: patchRuntime });
    try {
      await refused(page);
      expect(await badge(page)).toMatch(
        /^in-page · in the page: WebContainer refused, hello answers differently, line 2: expected "Server: TornadoTS\/[\d.]+\\r\\n", got "Server: TornadoTS-patched\/[\d.]+\\r\\n"$/,
      );
      expect(await page.getAttribute(".playground-badge", "data-engine")).toBe("inpage");
      const hello = await showLive(page, "hello");
      expect(hello.transcript).toMatch(/\r\nServer: TornadoTS\/\d+\.\d+\.\d+\r\n/);
      // The presenter's click runs the same check, and is refused the same way.
      await page.evaluate(() => {
        const b = document.querySelector<HTMLElement>(".playground-badge")!;
        (globalThis as any).__badgeTexts = [];
        new MutationObserver(() => (globalThis as any).__badgeTexts.push(b.textContent)).observe(b, { childList: true, characterData: true, subtree: true });
      });
      await page.click(".playground-badge");
      await page.waitForFunction(() => ((globalThis as any).__badgeTexts as string[]).some((t) => /proves itself/.test(t)));
      await refused(page);
      expect(await page.getAttribute(".playground-badge", "data-engine")).toBe("inpage");
    } finally {
      await close();
    }
  }, 120_000);

  it("?engine=webcontainer is guarded by the same check", async () => {
    const { page, close } = await openWithContainer({ query: "&engine=webcontainer", patch: patchRuntime });
    try {
      await refused(page);
      expect(await page.getAttribute(".playground-badge", "data-engine")).toBe("inpage");
    } finally {
      await close();
    }
  }, 120_000);
});
