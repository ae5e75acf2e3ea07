/**
 * Offline after one visit, in Chromium, against a plain static host that really goes away:
 * the presenter opens the deck once, the host stops (the server is closed, so the service
 * worker's own fetches fail too, which `context.setOffline` would not cover), a reload still
 * shows every slide and runs every live demo in the in-page engine (worker, Monaco, fonts),
 * every demo slide's widgets included (timeline, trace, the cookie sequence, the stand-in).
 * Then the host comes back with a new build (the first slide's subtitle changed) and the
 * open deck picks it up: the presenter is told, the next load shows it, old caches go.
 *
 * Builds are the e2e build (global-setup's `deckDir`) copied and edited; `writeServiceWorker`
 * (what the Vite build runs last) then writes that build's manifest into its sw.js.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { writeServiceWorker } from "../playground/serviceworker/build.js";
import { mountPath } from "./global-setup.js";
import { startStaticServer, type StaticServer } from "./static-server.js";
import { runPreset, runTimeline, showDemo } from "./demo-steps.js";
import { collectConsoleErrors, launchBrowser, openDeck, showLive, timeLeft, until, viewports, waitForDeck } from "./support.js";

let browser: Browser;
let temp: string;
const servers = new Set<StaticServer>();
beforeAll(async () => {
  browser = await launchBrowser();
  temp = mkdtempSync(join(tmpdir(), "deck-offline-"));
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([...servers].map((s) => s.close()));
  rmSync(temp, { recursive: true, force: true });
});

const SUBTITLE = "##python async web framework##";

/** A copy of the e2e build, its first slide's subtitle edited to `subtitle`, with its own sw.js. */
function publish(name: string, subtitle?: string): { dir: string; build: string; files: string[] } {
  const dir = join(temp, name);
  cpSync(inject("deckDir"), dir, { recursive: true });
  if (subtitle) {
    const main = readdirSync(join(dir, "assets")).filter((f) => /^index-.*\.js$/.test(f) && readFileSync(join(dir, "assets", f), "utf8").includes(SUBTITLE));
    expect(main).toHaveLength(1);
    const file = join(dir, "assets", main[0]!);
    writeFileSync(file, readFileSync(file, "utf8").replace(SUBTITLE, `##${subtitle}##`));
  }
  const { build, manifest } = writeServiceWorker(dir);
  return { dir, build, files: manifest.map((e) => e.url) };
}

async function serve(root: string, isolation: boolean, port?: number): Promise<StaticServer> {
  const server = await startStaticServer({ root, mount: mountPath, isolation, ...(port ? { port } : {}) });
  servers.add(server);
  return server;
}

async function stop(server: StaticServer): Promise<void> {
  await server.close();
  servers.delete(server);
}

/** The deck's caches and, per cache, the paths it holds (relative to the deck's folder). */
function deckCaches(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    for (const name of await caches.keys()) {
      if (!name.startsWith("tornado-deck-")) continue;
      const keys = await (await caches.open(name)).keys();
      out[name] = keys.map((r) => new URL(r.url).pathname.replace(/^\/talks\/tornado\//, "")).sort();
    }
    return out;
  });
}

/** Reload and wait for the deck (the reload is served by the service worker when the host is gone). */
async function reload(page: Page): Promise<void> {
  await page.reload({ waitUntil: "load" });
  await waitForDeck(page);
}

/** Show every slide; for each, whether it has a size, some content, and pictures that loaded. */
function renderEverySlide(page: Page) {
  return page.evaluate(async () => {
    const deck = (window as any).deck;
    const out: Array<{ at: string; height: number; content: number; brokenPictures: string[] }> = [];
    for (const slide of deck.getSlides() as HTMLElement[]) {
      const { h, v } = deck.getIndices(slide);
      deck.slide(h, v);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const pictures = [...slide.querySelectorAll("img")];
      await Promise.all(pictures.map((img) => img.decode().catch(() => {})));
      out.push({
        at: `${h}/${v ?? 0}`,
        height: slide.getBoundingClientRect().height,
        content: (slide.textContent ?? "").trim().length + slide.querySelectorAll("img, canvas, svg").length,
        brokenPictures: pictures.filter((img) => !img.complete || img.naturalWidth === 0).map((img) => img.src),
      });
    }
    deck.slide(0, 0);
    return out;
  });
}

const firstSlide = (page: Page) => page.evaluate(() => (window as any).deck.getSlides()[0].textContent as string);

/** Errors a deck without a network may log: the WebContainer boot (StackBlitz) fails anyway. */
const expectedOffline = [/webcontainer|stackblitz|staticblitz/i, /Failed to load resource: net::ERR_/];

/**
 * Every demo slide (slides/demos/), its widgets included: the stand-in stopped and the 500, the
 * timeline's blocking run, the event loop's trace, the secure cookies' whole sequence. Each step
 * waits for the run it starts (showLive: entering the slide, or its Run button when the deck is
 * on it already).
 */
async function everyDemoRuns(page: Page): Promise<void> {
  const demos = await page.$$eval("section[data-demo]", (all) => all.map((s) => (s as HTMLElement).dataset.demo ?? ""));
  expect(demos.sort()).toEqual(["async_http", "blocking", "eventloop", "longpoll", "secure_cookies", "websocket"]);

  expect((await showLive(page, "async_http")).transcript).toContain('{"twits": ["tornado 2.1 is out", ');
  expect((await runPreset(page, "async_http", 2)).transcript).toContain("search stand-in stopped");
  expect((await runPreset(page, "async_http", 3)).transcript).toContain("HTTP/1.1 500 Internal Server Error");

  // Entering the timeline runs its first lane afresh: wait for that run before starting another.
  const timeline = 'section[data-demo="blocking"] .demo-widget';
  const runs = () => page.evaluate((w) => Number(document.querySelector<HTMLElement>(w)!.dataset.runs ?? 0), timeline);
  const before = await runs();
  await showDemo(page, "blocking");
  await until(page, "the timeline's run on entering", ([w, n]) => Number(document.querySelector<HTMLElement>(w)!.dataset.runs ?? 0) > n, [timeline, before] as const);
  const lane = await runTimeline(page, "blocking", { n: 2, wait: 0.1 });
  expect(lane.state).toBe("done");
  expect(lane.bars.map((b) => b.request).sort()).toEqual([1, 2]);

  const trace = 'section[data-demo="eventloop"] .demo-widget';
  const events = () => page.evaluate((w) => Number(document.querySelector<HTMLElement>(w)!.dataset.events ?? 0), trace);
  const shown = await events();
  expect((await showLive(page, "eventloop")).transcript).toContain("Hello, world");
  await until(page, "the request's events in the trace", ([w, n]) => Number(document.querySelector<HTMLElement>(w)!.dataset.events ?? 0) >= n + 4, [trace, shown] as const);
  expect(await page.$$eval(`${trace} .trace-events li`, (lis) => lis.length)).toBeGreaterThanOrEqual(4);

  expect((await showLive(page, "secure_cookies")).transcript).toContain("HTTP/1.1 403 Forbidden");
  expect((await runPreset(page, "secure_cookies", 2)).transcript).toContain("logged in as ben");
  expect((await runPreset(page, "secure_cookies", 3)).transcript).toMatch(/\r\n\r\nhello ben\n$/);
  expect((await runPreset(page, "secure_cookies", 4)).transcript).toContain("HTTP/1.1 403 Forbidden");

  // The browser panes load the programs' own pages from the engine, and a broadcast reaches them.
  for (const [name, count] of [["websocket", 3], ["longpoll", 2]] as const) {
    await showDemo(page, name);
    const panes = `section[data-demo="${name}"] .demo-pane`;
    await until(page, `${name}'s ${count} panes live`, ([s, n]) => {
      const all = [...document.querySelectorAll<HTMLElement>(s)];
      return all.length === n && all.every((p) => p.dataset.state === "live");
    }, [panes, count] as const);
    if (name === "websocket") {
      const first = page.frameLocator(`${panes}:nth-child(1) iframe`);
      await expect.poll(() => first.locator("#status").textContent(), { timeout: timeLeft() }).toMatch(/^broadcast \d+$/);
    }
  }
  await page.evaluate(() => (window as any).deck.slide(0, 0));
}

describe("offline after one visit", () => {
  it("a plain host: every slide and live demo after the host is gone; a new build is picked up when it is back", async () => {
    const v1 = publish("v1");
    let server = await serve(v1.dir, false);
    const port = server.port;
    const context = await browser.newContext({ viewport: viewports.desktop });
    const page = await context.newPage();
    let documents = 0; // document requests (reveal's hash changes are navigations without one)
    page.on("request", (r) => void (r.isNavigationRequest() && r.frame() === page.mainFrame() && documents++));
    await openDeck(page, server.url + "?transition=none");
    // The first visit: the worker takes the page, reloads it once to isolate it, and caches the deck.
    await until(page, "the worker's reload and the deck cached", () => crossOriginIsolated && document.documentElement.dataset.deckOffline === "ready");
    await waitForDeck(page);
    expect(documents).toBe(2);
    const cachesV1 = await deckCaches(page);
    expect(Object.keys(cachesV1)).toEqual([`tornado-deck-${v1.build}`]);
    expect(Object.values(cachesV1)[0]!.map((p) => p.replace(/\?__rev=.*$/, ""))).toEqual(v1.files);

    // `?no-coi` still means a page that is not isolated, though the worker serves it.
    await openDeck(page, server.url + "?no-coi&transition=none");
    expect(await page.evaluate(() => [crossOriginIsolated, navigator.serviceWorker.controller !== null])).toEqual([false, true]);
    await openDeck(page, server.url + "?transition=none");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

    await stop(server);
    const outside = await page.evaluate(() => fetch("/talks/tornado/not-in-the-build.txt").then((r) => `HTTP ${r.status}`, () => "failed"));
    expect(outside).toBe("failed"); // the host is really gone, for the worker too
    const errors = collectConsoleErrors(page, expectedOffline);
    await reload(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const slides = await renderEverySlide(page);
    expect(slides.length).toBeGreaterThan(20);
    expect(slides.filter((s) => s.height === 0 || s.content === 0 || s.brokenPictures.length > 0)).toEqual([]);

    const commands = await page.$$eval(".live-command", (all) => all.map((el) => ({ example: (el as HTMLElement).dataset.example ?? "", command: (el as HTMLElement).dataset.command ?? "" })));
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const { example, command } of commands) {
      const live = await showLive(page, example);
      expect(live.state, `${example}: ${live.transcript}`).toBe("done");
      // `curl -i` shows the response head; a demo's `curl -s` only the body.
      if (/\s-i\b/.test(command)) expect(live.transcript).toMatch(/^HTTP\/1\.1 \d{3} /m);
      else expect(live.transcript.split("\n").slice(1).join("").trim(), `${example}: ${live.transcript}`).not.toBe("");
    }
    await everyDemoRuns(page);
    const hello = await showLive(page, "hello");
    expect(hello.transcript).toContain('Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"');
    expect(hello.transcript.endsWith("\r\n\r\nHello, world")).toBe(true);
    // Monaco (its workers and codicon font) on the hello code slide.
    await page.evaluate(() => {
      const deck = (window as any).deck;
      deck.slide(deck.getIndices(document.querySelector('.code-ts[data-example="hello"]')!.closest(".slides > section")).h);
    });
    await until(page, "Monaco on the hello code slide", () => document.querySelector<HTMLElement>('.code-ts[data-example="hello"]')?.dataset.editor === "ready");
    expect(await page.evaluate(() => [...document.fonts].filter((f) => f.status === "error").map((f) => f.family))).toEqual([]);
    expect(errors.messages).toEqual([]);
    errors.stop();

    // The host is back with a new build: this load is still the cached one, the presenter is told.
    const v2 = publish("v2", "python async web framework, build 2");
    server = await serve(v2.dir, false, port);
    await reload(page);
    await until(page, "the new build's notice", () => document.documentElement.dataset.deckUpdate === "ready");
    expect(await firstSlide(page)).not.toContain("build 2");
    await Promise.all([page.waitForEvent("load"), page.click(".deck-update")]);
    await waitForDeck(page);
    expect(await firstSlide(page)).toContain("python async web framework, build 2");
    // The previous build's cache stays for pages still open on it; nothing older.
    expect(Object.keys(await deckCaches(page))).toEqual([`tornado-deck-${v1.build}`, `tornado-deck-${v2.build}`]);

    await stop(server);
    const v3 = publish("v3", "python async web framework, build 3");
    server = await serve(v3.dir, false, port);
    await reload(page);
    await until(page, "the new build's notice", () => document.documentElement.dataset.deckUpdate === "ready");
    await stop(server);
    await reload(page); // offline again: the new build
    expect(await firstSlide(page)).toContain("python async web framework, build 3");
    expect(Object.keys(await deckCaches(page))).toEqual([`tornado-deck-${v2.build}`, `tornado-deck-${v3.build}`]);
    await context.close();
  }, 300_000); // a visit, an offline tour of every slide, live demo and demo widget, and two updates, one after the other

  it("a host with real COOP/COEP: no reload, its headers kept as they are, and offline too", async () => {
    const v1 = publish("isolated");
    const server = await serve(v1.dir, true);
    const context = await browser.newContext({ viewport: viewports.desktop });
    // Each page's own update checks (register.ts asks on every load of a controlled page).
    await context.addInitScript(() => {
      const update = ServiceWorkerRegistration.prototype.update;
      (window as any).__updateChecks = 0;
      ServiceWorkerRegistration.prototype.update = function (this: ServiceWorkerRegistration) {
        (window as any).__updateChecks++;
        return update.call(this);
      };
    });
    const page = await context.newPage();
    let documents = 0; // document requests (reveal's hash changes are navigations without one)
    page.on("request", (r) => void (r.isNavigationRequest() && r.frame() === page.mainFrame() && documents++));
    await openDeck(page, server.url + "?transition=none");
    await until(page, "the deck cached", () => document.documentElement.dataset.deckOffline === "ready");
    expect(documents).toBe(1);
    // The first visit has no worker yet: nothing to update.
    expect(await page.evaluate(() => (window as any).__updateChecks)).toBe(0);
    const headers = await page.evaluate(async () => {
      const r = await fetch("index.html");
      return ["cross-origin-embedder-policy", "cross-origin-opener-policy", "cross-origin-resource-policy"].map((h) => r.headers.get(h));
    });
    expect(headers).toEqual(["require-corp", "same-origin", "same-origin"]);
    await stop(server);
    await reload(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    // A controlled load asks the host for a new build at once, offline too (the check just fails).
    await until(page, "the page's own update check", () => (window as any).__updateChecks === 1);
    const hello = await showLive(page, "hello");
    expect(hello.transcript.endsWith("\r\n\r\nHello, world")).toBe(true);
    await context.close();
  }, 120_000);
});
