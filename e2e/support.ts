/**
 * Helpers for browser tests against the built deck (see e2e/global-setup.ts for the servers).
 *
 * Every test drives Debian's Chromium through playwright-core, headless, with the flags that
 * keep it off the network; playwright's launch gives each browser a fresh temporary profile.
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type ConsoleMessage, type Page } from "playwright-core";
import { inject } from "vitest";
import { getCurrentTest } from "vitest/suite";

export const chromiumPath = "/usr/bin/chromium";

export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Names for attendees of a served deck: plain http on a name that is not localhost (not a
  // secure context, as a phone on the venue's wifi), mapped to loopback, never to a network.
  "--host-resolver-rules=MAP deck.test 127.0.0.1, MAP room.test 127.0.0.1",
];

/** Where browser tests write screenshots (gitignored): e2e/screenshots/. */
export const screenshotsDir = resolve(import.meta.dirname, "screenshots");

export function ensureScreenshotsDir(sub?: string): string {
  const dir = sub ? resolve(screenshotsDir, sub) : screenshotsDir;
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const viewports = {
  desktop: { width: 1280, height: 720 },
  phone: { width: 390, height: 844 },
} as const;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}

/**
 * Where a deck test finds the deck. The suites that say what the deck does (slides, live demos,
 * print) run once per host, so the deck `npm run serve` serves passes the same tests as the
 * static build:
 * - "static": the build on a plain static host, under /talks/tornado/ (e2e/static-server.ts).
 * - "served": the build served by tools/serve.ts (the runtime's StaticFileHandler and the room).
 *   Its pages are attendees of a room whose presenter never moves (e2e/room.test.ts covers the
 *   presenter), so each page stays where its test puts it; editors load on "Edit".
 * E2E_HOSTS=static (or served) runs one of them, e.g. while working on a test.
 */
export interface DeckHost {
  name: "static" | "served";
  /** The deck cross-origin isolated by its host's headers (the presenter's laptop). */
  url: string;
  /**
   * The deck in a page that is not cross-origin isolated: on the static host, the one that
   * sends no COOP/COEP (add `?no-coi` to keep the deck's worker from isolating it); served, the
   * attendee's URL on plain http by name, as on a phone.
   */
  plainUrl: string;
}

/** The static build's host (what a suite that runs on one host uses). */
export function staticHost(): DeckHost {
  return { name: "static", url: inject("deckUrl"), plainUrl: inject("plainDeckUrl") };
}

export function deckHosts(): DeckHost[] {
  const hosts: DeckHost[] = [
    staticHost(),
    { name: "served", url: inject("servedDeckUrl"), plainUrl: inject("servedAttendeeUrl") },
  ];
  const only = process.env.E2E_HOSTS?.split(",").filter(Boolean);
  return only?.length ? hosts.filter((h) => only.includes(h.name)) : hosts;
}

/**
 * Waits until the editor of the code view `selector` is ready; where editors load on demand (a
 * room's attendees), clicks its "Edit" button first, as the person would.
 */
export async function editorReady(page: Page, selector: string): Promise<void> {
  await until(page, `an editor (or its Edit button) in ${selector}`, (s) => ["ready", "on-demand"].includes(document.querySelector<HTMLElement>(s)?.dataset.editor ?? ""), selector);
  if ((await page.getAttribute(selector, "data-editor")) === "on-demand") await page.click(`${selector} .playground-edit`);
  await until(page, `the editor in ${selector}`, (s) => document.querySelector<HTMLElement>(s)?.dataset.editor === "ready", selector);
}

/**
 * What is left of the running test's time (its vitest timeout), less a margin, so a wait that
 * never ends fails with its own message just before the test would time out. Waits on a signal
 * (an attribute the deck sets, a run's counter) use it instead of a fixed deadline, which a
 * loaded machine can miss. Outside a test (a hook), 0: no deadline but the hook's own timeout.
 */
export function timeLeft(margin = 3000): number {
  const test = getCurrentTest();
  const start = test?.result?.startTime;
  if (!test || !start) return 0;
  return Math.max(1000, test.timeout - (Date.now() - start) - margin);
}

/**
 * Waits until `predicate(arg)` is true in the page, bounded only by the test's timeout; if it
 * never is, fails saying what it waited for.
 */
export async function until<A>(page: Page, what: string, predicate: (arg: A) => unknown, arg?: A): Promise<void> {
  try {
    await page.waitForFunction(predicate as (arg: unknown) => unknown, arg, { timeout: timeLeft() });
  } catch (error) {
    throw new Error(`gave up waiting for ${what}: ${(error as Error).message.split("\n")[0]}`);
  }
}

/**
 * Navigate to the deck (optionally at a hash such as "#/7") and wait until reveal.js is ready
 * and the current slide is laid out. `url` is `inject("deckUrl")` or any page of it; query
 * strings (e.g. "?print-pdf") are kept.
 */
export async function openDeck(page: Page, url: string, hash = ""): Promise<void> {
  const target = hash ? url.replace(/#.*$/, "") + (hash.startsWith("#") ? hash : `#${hash}`) : url;
  await page.goto(target, { waitUntil: "load" });
  await waitForDeck(page);
}

/**
 * Wait for reveal.js's `ready` (the `.reveal.ready` class) and a visible current slide; no
 * deadline of its own (a cold page on a loaded machine takes what it takes): the test's bounds it.
 */
export async function waitForDeck(page: Page): Promise<void> {
  await until(
    page,
    "the deck (reveal.js ready, the current slide laid out)",
    () => {
      const reveal = document.querySelector(".reveal.ready");
      if (!reveal) return false;
      if (reveal.classList.contains("print-pdf") || document.documentElement.classList.contains("reveal-print")) {
        return document.querySelectorAll(".pdf-page").length > 0;
      }
      const present = document.querySelector(".slides section.present");
      return !!present && present.getBoundingClientRect().height > 0;
    },
  );
}

/** The deck's current position as reveal reports it (h index, v index). */
export function currentIndices(page: Page): Promise<{ h: number; v: number }> {
  return page.evaluate(() => {
    const deck = (window as unknown as { deck?: { getIndices(): { h: number; v: number } } }).deck;
    if (!deck) throw new Error("window.deck is not set: is this the deck page?");
    const { h, v } = deck.getIndices();
    return { h, v: v ?? 0 };
  });
}

export interface ConsoleErrors {
  /** console.error messages and uncaught page errors, in order. */
  readonly messages: string[];
  /** Detach the listeners. */
  stop(): void;
}

/**
 * Collect console errors and uncaught exceptions from a page. Pass `ignore` patterns only for
 * errors that are expected and explained in the test that ignores them.
 */
export function collectConsoleErrors(page: Page, ignore: RegExp[] = []): ConsoleErrors {
  const messages: string[] = [];
  const keep = (text: string) => {
    if (!ignore.some((re) => re.test(text))) messages.push(text);
  };
  const onConsole = (msg: ConsoleMessage) => {
    if (msg.type() === "error") {
      const where = msg.location();
      keep(`${msg.text()}${where.url ? ` (${where.url}:${where.lineNumber})` : ""}`);
    }
  };
  const onPageError = (error: Error) => keep(`pageerror: ${error.stack ?? error.message}`);
  page.on("console", onConsole);
  page.on("pageerror", onPageError);
  return {
    messages,
    stop() {
      page.off("console", onConsole);
      page.off("pageerror", onPageError);
    },
  };
}

/** The live command slide of `example`: its command line, terminal and transcript. */
export function liveSelector(example: string): string {
  return `.live-command[data-example="${example}"]`;
}

/** The text `example`'s live command slide has shown so far (its terminal's transcript). */
export function liveTranscript(page: Page, example: string): Promise<string> {
  return page.evaluate((s) => document.querySelector(`${s} .playground-transcript`)?.textContent ?? "", liveSelector(example));
}

/** What a live command slide shows after a run. */
export interface LiveRun {
  state: string;
  transcript: string;
  log: string;
  /** The comparison with the 2011 slide's output. */
  comparison: string;
  commandMs: number;
}

/**
 * Go to the commandline slide of `example` and wait for its next completed run: entering the
 * slide runs its command; on the slide already, its Run button does.
 */
export async function showLive(page: Page, example: string): Promise<LiveRun> {
  const sel = liveSelector(example);
  const before = await page.evaluate((s) => Number(document.querySelector<HTMLElement>(s)?.dataset.runs ?? 0), sel);
  await page.evaluate((s) => {
    // The slide itself, which may be a demo in a vertical stack under its talk slide.
    const slide = document.querySelector(s)?.closest("section");
    if (!slide) throw new Error(`no slide with ${s}`);
    type Indices = { h: number; v?: number };
    const deck = (window as unknown as { deck: { getIndices(slide?: Element): Indices; slide(h: number, v?: number): void } }).deck;
    const at = deck.getIndices(slide);
    const now = deck.getIndices();
    if (now.h === at.h && (now.v ?? 0) === (at.v ?? 0)) document.querySelector<HTMLButtonElement>(`${s} .playground-commandline button`)!.click();
    else deck.slide(at.h, at.v ?? 0);
  }, sel);
  await until(page, `a run of ${example}'s command`, ([s, n]) => Number(document.querySelector<HTMLElement>(s)?.dataset.runs ?? 0) > n, [sel, before] as const);
  return page.evaluate((s) => {
    const el = document.querySelector<HTMLElement>(s)!;
    return {
      state: el.dataset.state ?? "",
      transcript: el.querySelector(".playground-transcript")?.textContent ?? "",
      log: el.querySelector(".playground-server-log")?.textContent ?? "",
      comparison: el.querySelector(".playground-comparison")?.textContent ?? "",
      commandMs: Number(el.dataset.commandMs),
    };
  }, sel);
}

/** How many slides the deck has, the demos in vertical stacks included (reveal's `getSlides()`). */
export function slideCount(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { deck: { getSlides(): unknown[] } }).deck.getSlides().length);
}

/** Shows slide `n` of `getSlides()` (0-based): a talk slide, or a demo in its stack. */
export function goToSlide(page: Page, n: number): Promise<void> {
  return page.evaluate((i) => {
    const deck = (window as unknown as { deck: { getSlides(): HTMLElement[]; getIndices(s: HTMLElement): { h: number; v?: number }; slide(h: number, v?: number): void } }).deck;
    const { h, v } = deck.getIndices(deck.getSlides()[i]!);
    deck.slide(h, v ?? 0);
  }, n);
}
