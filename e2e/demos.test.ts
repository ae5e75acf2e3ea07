/**
 * The live demos (slides/demos/) in Chromium, in the built deck, on each deck host in a page
 * that is not cross-origin isolated: the plain static host (no COOP/COEP, no service worker),
 * and the deck `npm run serve` serves as an attendee's phone opens it (plain http by name;
 * editors load on "Edit"). The in-page engine runs each demo program. What the audience
 * sees is checked against what the programs really did: the trace list against a request made
 * on the slide, the timeline's bars against the times the program printed, /api against the
 * stand-in (and its 500 once stopped), the watchdog against a run that blocks on purpose and a
 * real endless loop.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstLane, runPreset, runTimeline, runsOf, setProgram, showDemo, terminalOf, terminalRun } from "./demo-steps.js";
import { holdThread } from "../playground/contract.js";
import { collectConsoleErrors, deckHosts, launchBrowser, staticHost, openDeck, timeLeft, until, type DeckHost } from "./support.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Open the deck on the host's plain URL at the demo `name`, with the playground loaded. */
async function openDemo(host: DeckHost, name: string): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await openDeck(page, host.plainUrl + "?no-coi&transition=none");
  await until(page, "the playground", () => "__playground" in globalThis);
  await showDemo(page, name);
  return { page, context };
}

describe.each(deckHosts())("live demos in the in-page engine, not isolated ($name host)", (host: DeckHost) => {
  it("async_http: /api answers the stand-in's results, and 500 once the stand-in is stopped; an edit re-runs", async () => {
    const { page, context } = await openDemo(host, "async_http");
    const errors = collectConsoleErrors(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    // Entering the slide ran its first command.
    const first = await terminalRun(page, "async_http", 0);
    expect(first.state).toBe("done");
    expect(first.transcript).toMatch(/^\$ curl -i http:\/\/localhost:8888\/api\nHTTP\/1\.1 200 OK\r\n/);
    expect(first.transcript).toContain('{"twits": ["tornado 2.1 is out", "async python at bcndevconf", "non-blocking I/O, one thread"]}');
    expect(first.log).toMatch(/200 GET \/search\.json\?q=tornado[^]*200 GET \/api/);
    const stop = await runPreset(page, "async_http", 2);
    expect(stop.transcript).toContain("search stand-in stopped");
    const failed = await runPreset(page, "async_http", 3);
    expect(failed.transcript).toContain("HTTP/1.1 500 Internal Server Error");
    expect(failed.log).toMatch(/500 GET \/api/);
    // An edit to the program restarts it (the stand-in is back) and shows the edit.
    await setProgram(page, "async_http", (t) => t.replace("tornado 2.1 is out", "edited on the slide"));
    const edited = await runPreset(page, "async_http", 1);
    expect(edited.transcript).toContain('{"twits": ["edited on the slide", ');
    await page.evaluate(() => localStorage.clear());
    expect(errors.messages).toEqual([]);
    await context.close();
  });

  it("blocking vs non-blocking: the bars are the program's times; blocking serves one request after another", async () => {
    const { page, context } = await openDemo(host, "blocking");
    const errors = collectConsoleErrors(page);
    // Entering ran the first mode with the defaults; the suite's runs are smaller.
    await firstLane(page);
    const n = 4;
    const wait = 0.3;
    const fast = await runTimeline(page, "non-blocking", { n, wait });
    const slow = await runTimeline(page, "blocking", { n, wait });
    for (const lane of [fast, slow]) {
      expect(lane.state).toBe("done");
      expect(lane.bars.map((b) => b.request).sort()).toEqual([1, 2, 3, 4]);
      for (const b of lane.bars) expect(b.end - b.start).toBeGreaterThanOrEqual(wait * 1000 - 5);
    }
    // Blocking: each request is served after the previous one ended (a staircase), so the run
    // takes at least n x wait. Non-blocking: all are being served at once.
    slow.bars.slice(1).forEach((b, i) => expect(b.start).toBeGreaterThanOrEqual(slow.bars[i]!.end - 2));
    expect(slow.totalMs).toBeGreaterThanOrEqual(n * wait * 1000);
    const lastStart = Math.max(...fast.bars.map((b) => b.start));
    const firstEnd = Math.min(...fast.bars.map((b) => b.end));
    expect(lastStart).toBeLessThan(firstEnd);
    // (No ratio of the two totals: on a loaded machine the timers of the non-blocking run come
    // late too; the staircase and the overlap above are what the drawing shows either way.)
    // The drawing follows the data: bar widths are proportional to the measured durations.
    const widths = await page.$$eval('.timeline-run[data-mode="blocking"] .timeline-bar', (bars) =>
      bars.map((b) => ({ w: b.getBoundingClientRect().width, d: Number((b as HTMLElement).dataset.end) - Number((b as HTMLElement).dataset.start) })),
    );
    const ratios = widths.map((x) => x.w / x.d);
    expect(Math.max(...ratios) / Math.min(...ratios)).toBeLessThan(1.1);
    expect(errors.messages).toEqual([]);
    await context.close();
  });

  // The watchdog is the engine's (the same worker, whoever served the files), and by design
  // this waits for a 5 s run and a 4.3 s budget: once, on the static host, keeps `npm test` short.
  it.skipIf(host.name !== "static")("the watchdog lets a blocking run longer than 4 s finish (its time budget), and stops a real endless loop", async () => {
    const { page, context } = await openDemo(host, "blocking");
    await firstLane(page);
    const long = await runTimeline(page, "blocking", { n: 5, wait: 1 });
    expect(long.state).toBe("done");
    expect(long.totalMs).toBeGreaterThanOrEqual(5000);
    // The same slide with a runaway handler: stopped once its budget (4 s + 1.5 x n x wait) is spent.
    await setProgram(page, "blocking", (t) => t.replace('if (mode === "blocking") blockingSleep(wait);', 'if (mode === "blocking") while (true) {}'));
    const t0 = Date.now();
    const stuck = await runTimeline(page, "blocking", { n: 2, wait: 0.1 });
    const took = Date.now() - t0;
    expect(stuck.state).toBe("timeout");
    // The watchdog used this run's budget (the title says which), not the demo's 30 s cap; the
    // wall time also holds the edited program's start in a fresh worker.
    expect(took).toBeGreaterThanOrEqual(4000);
    expect(took).toBeLessThan(20_000);
    expect(await page.textContent('.timeline-run[data-mode="blocking"] .timeline-title')).toMatch(/stopped by the watchdog after 4\.3 s/);
    // The deck kept working: it moves, and the reset program runs again.
    await page.click('section[data-demo="blocking"] .playground-reset');
    const again = await runTimeline(page, "non-blocking", { n: 2, wait: 0.1 });
    expect(again.state).toBe("done");
    // Out of the inputs (keys typed there are theirs), the arrow keys move the deck again.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press("ArrowUp");
    await expect.poll(() => page.evaluate(() => (window as any).deck.getIndices()), { timeout: timeLeft() }).toEqual({ h: 24, v: 1, f: undefined }); // up to the demo above (async_http)
    await page.evaluate(() => localStorage.clear());
    await context.close();
    // By design this waits for a 5 s blocking run and a 4.3 s budget, plus two program starts.
  }, 120_000);

  it("the event loop, seen: a request made on the slide lists the loop's real events and lights the pseudo-code", async () => {
    const { page, context } = await openDemo(host, "eventloop");
    const errors = collectConsoleErrors(page);
    const first = await terminalRun(page, "eventloop", 0);
    expect(first.transcript).toContain("Hello, world");
    const widget = 'section[data-demo="eventloop"] .demo-widget';
    // The lines light up as the events are shown (one every 450 ms).
    await until(page, "a lit line of the pseudo-code", () => document.querySelector('section[data-demo="eventloop"] .listing-line.lit') !== null);
    await until(page, "four events shown", (w) => Number(document.querySelector<HTMLElement>(w)!.dataset.events ?? 0) >= 4, widget);
    const before = await page.evaluate((w) => Number(document.querySelector<HTMLElement>(w)!.dataset.events), widget);
    // Another request, made on the slide: new events, and the log carries the program's trace lines.
    const runs = await runsOf(page, "eventloop");
    await page.click(`${terminalOf("eventloop")} .playground-commandline button`);
    const again = await terminalRun(page, "eventloop", runs);
    expect(again.log).toMatch(/trace [\d.]+ readable: \d+ bytes from port \d+/);
    await until(page, "four more events shown", ([w, n]) => Number(document.querySelector<HTMLElement>(w)!.dataset.events) >= n + 4, [widget, before] as const);
    const shown = await page.$$eval(`${widget} .trace-events li`, (lis) => lis.map((li) => `${(li as HTMLElement).dataset.kind} ${li.textContent}`));
    expect(shown.length).toBeGreaterThanOrEqual(4);
    // Each shown event is one the program logged; the request's events cover the loop's four kinds.
    const logged = await page.evaluate(() => (globalThis as any).__playground.log as string);
    for (const line of shown) expect(logged).toContain(line.split(": ").slice(1).join(": "));
    const kinds = new Set([...logged.matchAll(/^trace [\d.]+ (\w+): /gm)].map((m) => m[1]));
    for (const kind of ["readable", "callback", "timer", "write"]) expect(kinds).toContain(kind);
    expect(errors.messages).toEqual([]);
    await context.close();
  });

  it("secure cookies: refused without a cookie, greets ben from the jar, refuses the tampered cookie and logs why", async () => {
    const { page, context } = await openDemo(host, "secure_cookies");
    const errors = collectConsoleErrors(page);
    const first = await terminalRun(page, "secure_cookies", 0);
    expect(first.transcript).toContain("HTTP/1.1 403 Forbidden");
    expect(first.transcript).toContain("who are you?");
    // The altered cookie needs one set first: the slide says so instead of running.
    await page.click('section[data-demo="secure_cookies"] .demo-commands button:nth-child(4)');
    expect(await page.getAttribute('section[data-demo="secure_cookies"] .demo-commands', "data-error")).toMatch(/no "user" cookie set yet/);
    const login = await runPreset(page, "secure_cookies", 2);
    const cookie = /Set-Cookie: user=("?2\|1:0\|10:\d+\|4:user\|4:YmVu\|[0-9a-f]{64}"?);/.exec(login.transcript)?.[1];
    expect(cookie, login.transcript).toBeDefined();
    expect(login.transcript).toContain("logged in as ben");
    const hello = await runPreset(page, "secure_cookies", 3);
    expect(hello.transcript).toMatch(/HTTP\/1\.1 200 OK[^]*\r\n\r\nhello ben\n$/);
    const tampered = await runPreset(page, "secure_cookies", 4);
    // The command sent is shown, with one character of the signature changed.
    const sent = /-b 'user=([^']+)'/.exec(tampered.transcript)?.[1];
    expect(sent).toBeDefined();
    expect(sent).not.toBe(cookie);
    expect(sent!.length).toBe(cookie!.length);
    expect([...sent!].filter((c, i) => c !== cookie![i])).toHaveLength(1);
    expect(tampered.transcript).toContain("HTTP/1.1 403 Forbidden");
    await until(page, "the refusal in the server log", (s) => /cookie user refused: its signature does not match/.test(document.querySelector(`${s} .playground-server-log`)?.textContent ?? ""), terminalOf("secure_cookies"));
    expect(errors.messages).toEqual([]);
    await context.close();
  });

  it("the speaker view's receivers start no demo", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await openDeck(page, host.plainUrl + "?no-coi&receiver", "#/24/1");
    // A receiver decides when the deck is ready: "off", and the playground is never loaded.
    await until(page, "the deck to decide about the playground", () => (document.documentElement.dataset.playground ?? "") !== "");
    expect(await page.evaluate(() => document.documentElement.dataset.playground)).toBe("off");
    expect(await page.evaluate(() => "__playground" in globalThis)).toBe(false);
    expect(await page.$$eval("section[data-demo] .playground-terminal, section[data-demo] .timeline-run", (els) => els.length)).toBe(0);
    await context.close();
  });
});

/** The frames of a demo's browser panes, once every one is live. */
async function liveFrames(page: Page, name: string, count: number) {
  const sel = `section[data-demo="${name}"] .demo-pane`;
  await page.waitForFunction(([s, n]) => {
    const panes = [...document.querySelectorAll<HTMLElement>(s as string)];
    return panes.length === n && panes.every((p) => p.dataset.state === "live");
  }, [sel, count] as const, { timeout: 30_000 });
  return Array.from({ length: count }, (_, i) => page.frameLocator(`${sel}:nth-child(${i + 1}) iframe`));
}

/** What a pane's page shows, by selector. */
const paneText = (frame: ReturnType<Page["frameLocator"]>, selector: string) => frame.locator(selector).textContent({ timeout: 10_000 });

/**
 * In the page: snapshot what the demo slide `name` shows at the moment the deck stamps its first
 * live output (data-first-outputs changes), then enter the slide.
 */
function enterAndSnapshot(page: Page, name: string) {
  return page.evaluate(
    (n) =>
      new Promise<{ kind: string; ms: number; transcript: string; log: string; bars: number; openBars: number; events: number; livePanes: number }>((resolve, reject) => {
        const section = document.querySelector<HTMLElement>(`section[data-demo="${n}"]`)!;
        const before = section.dataset.firstOutputs ?? "0";
        const observer = new MutationObserver(() => {
          if ((section.dataset.firstOutputs ?? "0") === before) return;
          observer.disconnect();
          resolve({
            kind: section.dataset.firstOutput ?? "",
            ms: Number(section.dataset.firstOutputMs),
            transcript: section.querySelector(".playground-transcript")?.textContent ?? "",
            log: section.querySelector(".playground-server-log")?.textContent ?? "",
            bars: section.querySelectorAll(".timeline-bar").length,
            openBars: section.querySelectorAll('.timeline-wait[data-open="true"]').length,
            events: Number(section.querySelector<HTMLElement>(".demo-widget")?.dataset.events ?? 0),
            livePanes: section.querySelectorAll('.demo-pane[data-state="live"]').length,
          });
        });
        observer.observe(section, { attributes: true, attributeFilter: ["data-first-outputs"] });
        setTimeout(() => reject(new Error(`demo ${n}: no first live output stamped within 20 s`)), 20_000);
        const deck = (window as any).deck;
        const { h, v } = deck.getIndices(section);
        deck.slide(h, v);
      }),
    name,
  );
}

describe("each demo's first live output, as its manifest declares it (plain static host)", () => {
  it("is stamped on entering the slide, and is the program's own output, ahead of the rest", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, staticHost().plainUrl + "?no-coi&transition=none");
    await until(page, "the playground", () => "__playground" in globalThis);
    const kinds = Object.fromEntries(
      await page.$$eval("section[data-demo]", (all) => all.map((s) => [(s as HTMLElement).dataset.demo!, (s as HTMLElement).dataset.firstOutput ?? ""])),
    );
    expect(kinds).toEqual({ websocket: "pane", longpoll: "answer", eventloop: "trace", secure_cookies: "answer", async_http: "log", blocking: "bar" });
    for (const name of Object.keys(kinds)) {
      const seen = await enterAndSnapshot(page, name);
      expect(seen.ms, name).toBeGreaterThan(0);
      if (seen.kind === "answer") expect(seen.transcript, name).toMatch(/^\$ curl [^\n]+\n\S/);
      if (seen.kind === "trace") expect(seen.events, name).toBeGreaterThan(0);
      if (seen.kind === "pane") expect(seen.livePanes, name).toBeGreaterThan(0);
      if (name === "async_http") {
        // The log's line as the handler starts its fetch, while curl still waits for the answer.
        expect(seen.log).toMatch(/^GET \/api: fetching the search service; the loop serves others meanwhile\n/);
        expect(seen.transcript).not.toContain("HTTP/1.1");
      }
      if (name === "blocking") {
        // A request reported sent by the program: its bar is open, no request answered yet.
        expect(seen.openBars).toBeGreaterThan(0);
        expect(seen.bars).toBe(0);
        await firstLane(page);
        // Once answered, every request has its solid bar and no wait bar is left open.
        expect(await page.$$eval('section[data-demo="blocking"] .timeline-wait[data-open="true"]', (all) => all.length)).toBe(0);
        expect(await page.$$eval('.timeline-run[data-mode="non-blocking"] .timeline-bar', (all) => all.length)).toBe(10);
        expect(await page.$$eval('.timeline-run[data-mode="non-blocking"] .timeline-wait', (all) => all.length)).toBe(10);
      }
      if (name === "websocket") {
        // Each pane loads the page once on entering (a load after the slide's command would throw the first away).
        await until(page, "three live panes and the command's end", () =>
          document.querySelectorAll('section[data-demo="websocket"] .demo-pane[data-state="live"]').length === 3 &&
          document.querySelector<HTMLElement>('section[data-demo="websocket"] .live-command')?.dataset.state === "done",
        );
        const log = (await page.textContent('section[data-demo="websocket"] .playground-server-log')) ?? "";
        expect(log.match(/ 200 GET \/ \(/g)).toHaveLength(3);
      }
    }
    expect(errors.messages).toEqual([]);
    await context.close();
  }, 120_000);
});

describe("browser panes in the in-page engine, on a plain static host", () => {
  it("websocket: the panes load ahead from the program started ahead, and are live as the slide is entered", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, staticHost().plainUrl + "?no-coi&transition=none");
    await until(page, "the playground", () => "__playground" in globalThis);
    // On the slide above the demo: the deck starts its program ahead, and the panes load from it.
    await page.evaluate(() => {
      const deck = (window as any).deck;
      const { h, v } = deck.getIndices(document.querySelector('section[data-demo="websocket"]'));
      deck.slide(h, v - 1);
    });
    await until(page, "three panes loaded ahead", () =>
      [...document.querySelectorAll<HTMLElement>('section[data-demo="websocket"] .demo-pane')].every((p) => p.dataset.state === "ready"),
    );
    // Entering: the pages are on screen in the slide change itself, no load after it.
    const entered = await page.evaluate(() => {
      const deck = (window as any).deck;
      const section = document.querySelector<HTMLElement>('section[data-demo="websocket"]')!;
      const { h, v } = deck.getIndices(section);
      deck.slide(h, v);
      return [...section.querySelectorAll<HTMLElement>(".demo-pane")].map((p) => p.dataset.state);
    });
    expect(entered).toEqual(["live", "live", "live"]);
    await until(page, "the first live output stamped", () => document.querySelector<HTMLElement>('section[data-demo="websocket"]')!.dataset.firstOutputMs !== undefined);
    // They are the running program's pages: broadcasts reach them, and its log has their loads.
    const frames = await liveFrames(page, "websocket", 3);
    await expect.poll(async () => (await Promise.all(frames.map((f) => paneText(f, "#status")))).every((t) => /^broadcast \d+$/.test(t ?? "")), { timeout: 15_000 }).toBe(true);
    const log = await page.evaluate(() => (globalThis as any).__playground.log as string);
    expect(log.match(/ 200 GET \/ \(/g)).toHaveLength(3);
    expect(errors.messages).toEqual([]);
    await context.close();
  }, 60_000);

  it("websocket: every broadcast reaches every pane, together; the pages are the program's own HTML, scripts and styles", async () => {
    const { page, context } = await openDemo(staticHost(), "websocket");
    const frames = await liveFrames(page, "websocket", 3);
    // All three get the same broadcasts: wait for one that every pane shows, then the next.
    const shown = async () => Promise.all(frames.map((f) => paneText(f, "#status")));
    await expect.poll(async () => new Set(await shown()).size === 1 && /^broadcast \d+$/.test((await shown())[0]!), { timeout: 15_000 }).toBe(true);
    const n = Number((await shown())[0]!.split(" ")[1]);
    await expect.poll(async () => (await shown()).join("|"), { timeout: 10_000 }).toBe(Array(3).fill(`broadcast ${n + 1}`).join("|"));
    for (const frame of frames) {
      expect(await frame.locator("#twits li").count()).toBe(3);
      expect(await paneText(frame, "#time")).toMatch(/^\d\d:\d\d:\d\d UTC$/);
      // The page's own style sheet applies inside its frame.
      expect(await frame.locator("h1").evaluate((h) => getComputedStyle(h).fontSize)).toBe("17px");
    }
    const twits = await Promise.all(frames.map((f) => f.locator("#twits").textContent()));
    expect(new Set(twits).size).toBe(1);
    // The server log says the program broadcast to three pages.
    const log = await page.textContent('section[data-demo="websocket"] .playground-server-log');
    expect(log).toMatch(/broadcast \d+ to 3 page\(s\)/);
    await context.close();
  }, 120_000);

  it("long polling: a message typed in one pane shows in the other at once; closing or reloading a pane drops its waiter", async () => {
    // Each step's time goes to the log: in CI this test once took 36 s where it takes 6 s alone.
    const t0 = Date.now();
    const steps: string[] = [];
    const step = (what: string) => steps.push(`${what} ${Date.now() - t0} ms`);
    const { page, context } = await openDemo(staticHost(), "longpoll");
    const [one, two] = await liveFrames(page, "longpoll", 2);
    step("panes live");
    const waiting = async () => {
      const run = await runPreset(page, "longpoll", 1);
      return Number([...run.transcript.matchAll(/\{"waiting": (\d+)\}/g)].at(-1)?.[1] ?? NaN);
    };
    await expect.poll(waiting, { timeout: 10_000 }).toBe(2);
    step("two waiting");
    await one!.locator("#message").fill("hello from pane one");
    await one!.locator("#message").press("Enter");
    await expect.poll(() => two!.locator("#inbox .message").allTextContents(), { timeout: 5000 }).toEqual(["hello from pane one"]);
    await expect.poll(() => one!.locator("#inbox .message").allTextContents(), { timeout: 5000 }).toEqual(["hello from pane one"]);
    step("message in both");
    // Both polled again after the message: two waiters.
    await expect.poll(waiting, { timeout: 10_000 }).toBe(2);
    step("two waiting again");
    // Close pane two: its waiting request's connection closes, the handler drops its waiter.
    await page.click('section[data-demo="longpoll"] .demo-pane:nth-child(2) button[aria-label^="close"]');
    await expect.poll(waiting, { timeout: 10_000 }).toBe(1);
    expect(await page.textContent('section[data-demo="longpoll"] .playground-server-log')).toMatch(/a page left: 1 waiting/);
    step("one waiting after a close");
    // Reload pane one: the old page's waiter goes, the new page's comes: still one.
    await page.click('section[data-demo="longpoll"] .demo-pane:nth-child(1) button[aria-label^="reload"]');
    // (Pane two stays closed: wait for pane one alone, not for a count of live panes.)
    await until(page, "pane one live again", (s) => document.querySelector<HTMLElement>(s)?.dataset.state === "live", 'section[data-demo="longpoll"] .demo-pane:nth-child(1)');
    await expect.poll(() => page.textContent('section[data-demo="longpoll"] .playground-server-log'), { timeout: 10_000 }).toMatch(/a page left: 0 waiting/);
    await expect.poll(waiting, { timeout: 10_000 }).toBe(1);
    step("one waiting after a reload");
    // The reloaded page shows the message it missed (its first poll has no cursor).
    await expect.poll(() => page.frameLocator('section[data-demo="longpoll"] .demo-pane:nth-child(1) iframe').locator("#inbox .message").allTextContents(), { timeout: 5000 }).toEqual(["hello from pane one"]);
    step("missed message shown");
    console.log(`long-poll e2e steps: ${steps.join(", ")}`);
    await context.close();
  }, 120_000);

  it("a pane's script cannot reach the deck: no parent DOM, no storage, no top navigation, no reveal postMessage API", async () => {
    const { page, context } = await openDemo(staticHost(), "longpoll");
    await liveFrames(page, "longpoll", 2);
    // The deck writes the slide's address a moment after the change (slides/url.ts, and reveal's
    // once-a-second limit): wait for it, so that only the panes' attempts could change it.
    await until(page, "the URL to name the slide", () => location.hash === "#" + (window as any).deck.getSlidePath());
    const before = await page.evaluate(() => ({ indices: (window as any).deck.getIndices(), url: location.href, sections: document.querySelectorAll("section").length }));
    const frame = page.frames().find((f) => f.url() === "about:srcdoc")!;
    expect(frame).toBeTruthy();
    const tried = await frame.evaluate(async () => {
      const attempt = (fn: () => unknown) => {
        try {
          fn();
          return "reached";
        } catch (error) {
          return (error as Error).name;
        }
      };
      const out = {
        parentDocument: attempt(() => parent.document.body.remove()),
        topDocument: attempt(() => top!.document.title),
        storage: attempt(() => localStorage.getItem("x")),
        cookie: attempt(() => document.cookie),
        topNavigation: attempt(() => (top!.location.href = "about:blank")),
        origin: origin,
      };
      // reveal's postMessage API would move the deck for any window that asks, and its notes
      // plugin would take a window announcing a heartbeat for the speaker view.
      parent.postMessage(JSON.stringify({ method: "slide", args: [0, 0] }), "*");
      parent.postMessage(JSON.stringify({ namespace: "reveal-notes", type: "heartbeat" }), "*");
      await new Promise((r) => setTimeout(r, 300));
      return out;
    });
    expect(tried).toEqual({ parentDocument: "SecurityError", topDocument: "SecurityError", storage: "SecurityError", cookie: "SecurityError", topNavigation: "SecurityError", origin: "null" });
    await page.waitForTimeout(300);
    const after = await page.evaluate(() => ({ indices: (window as any).deck.getIndices(), url: location.href, sections: document.querySelectorAll("section").length }));
    expect(after).toEqual(before);
    // The deck's own postMessage API still works for the deck's window.
    await page.evaluate(() => window.postMessage(JSON.stringify({ method: "slide", args: [0, 0] }), "*"));
    await expect.poll(() => page.evaluate(() => (window as any).deck.getIndices().h)).toBe(0);
    await context.close();
  }, 120_000);

  it("a healthy program behind the panes is not stopped when the deck's own thread was away for longer than the watchdog's window", async () => {
    const { page, context } = await openDemo(staticHost(), "websocket");
    const frames = await liveFrames(page, "websocket", 3);
    const status = () => paneText(frames[0]!, "#status");
    await expect.poll(status, { timeout: 15_000 }).toMatch(/^broadcast \d+$/);
    // The page's thread is busy for 5 s (a long task; a background tab's timers, throttled to
    // once a minute, leave the same gap): the watchdog asked nothing meanwhile, so the program
    // owes it no answer.
    await page.evaluate(holdThread, 5000);
    const before = await status();
    // Two of the watchdog's rounds later, the panes are live and the broadcasts go on.
    await page.waitForTimeout(2500);
    expect(await page.$$eval('section[data-demo="websocket"] .demo-pane', (panes) => panes.map((p) => (p as HTMLElement).dataset.state))).toEqual(["live", "live", "live"]);
    expect(await page.$$eval('section[data-demo="websocket"] .demo-pane p.pane-notice', (notices) => notices.map((n) => n.textContent))).toEqual(["", "", ""]);
    expect(await page.textContent('section[data-demo="websocket"] .playground-server-log')).not.toMatch(/did not answer/);
    await expect.poll(status, { timeout: 10_000 }).not.toBe(before);
    await context.close();
  }, 60_000);

  it("a runaway loop in the program behind the panes is stopped (no command in flight), and the deck keeps working", async () => {
    const { page, context } = await openDemo(staticHost(), "websocket");
    await liveFrames(page, "websocket", 3);
    // The clock starts before the edit: the deck may start the edited program ahead, as it is typed.
    const t0 = Date.now();
    await setProgram(page, "websocket", (t) => t.replace("async function poll() {", "async function poll() {\n  while (true) {}"));
    await page.click('section[data-demo="websocket"] .playground-run');
    // The edited program starts, the panes load its page, its first poll (3 s) never returns.
    await until(page, "every pane to say the program was stopped", () =>
      [...document.querySelectorAll<HTMLElement>('section[data-demo="websocket"] .demo-pane')].every((p) => p.dataset.state === "ended" && /endless loop/.test(p.textContent ?? "")),
    );
    // Not before the first poll (3 s) plus the watchdog's window (4 s, counted from the first
    // ping the loop left unanswered; 0.5 s for that ping's trip); the notice below says it was
    // the watchdog (no upper bound on the wall clock: a loaded machine starts workers late).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000 + 4000 - 500);
    expect(await page.textContent('section[data-demo="websocket"] .demo-pane p.pane-notice')).toMatch(/did not answer for 4 s \(an endless loop\?\) and was stopped/);
    // The deck keeps working: another demo's slide runs its command.
    await page.click('section[data-demo="websocket"] .playground-reset');
    await page.evaluate(() => {
      const deck = (window as any).deck;
      const { h, v } = deck.getIndices(document.querySelector('section[data-demo="async_http"]'));
      deck.slide(h, v);
    });
    const run = await terminalRun(page, "async_http", 0);
    expect(run.transcript).toMatch(/\nHTTP\/1\.1 200 OK\r?\n/);
    await page.evaluate(() => localStorage.clear());
    await context.close();
  }, 90_000);
});
