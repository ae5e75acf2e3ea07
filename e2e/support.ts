/**
 * Helpers for browser tests against the built deck (see e2e/global-setup.ts for the servers).
 *
 * Every test drives Debian's Chromium through playwright-core, headless, with the flags that
 * keep it off the network; playwright's launch gives each browser a fresh temporary profile.
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type ConsoleMessage, type Page } from "playwright-core";

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
 * Navigate to the deck (optionally at a hash such as "#/7") and wait until reveal.js is ready
 * and the current slide is laid out. `url` is `inject("deckUrl")` or any page of it; query
 * strings (e.g. "?print-pdf") are kept.
 */
export async function openDeck(page: Page, url: string, hash = ""): Promise<void> {
  const target = hash ? url.replace(/#.*$/, "") + (hash.startsWith("#") ? hash : `#${hash}`) : url;
  await page.goto(target, { waitUntil: "load" });
  await waitForDeck(page);
}

/** Wait for reveal.js's `ready` (the `.reveal.ready` class) and a visible current slide. */
export async function waitForDeck(page: Page, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const reveal = document.querySelector(".reveal.ready");
      if (!reveal) return false;
      if (reveal.classList.contains("print-pdf") || document.documentElement.classList.contains("reveal-print")) {
        return document.querySelectorAll(".pdf-page").length > 0;
      }
      const present = document.querySelector(".slides section.present");
      return !!present && present.getBoundingClientRect().height > 0;
    },
    undefined,
    { timeout },
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
export async function showLive(page: Page, example: string, timeout = 30_000): Promise<LiveRun> {
  const sel = `.live-command[data-example="${example}"]`;
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
  await page.waitForFunction(([s, n]) => Number(document.querySelector<HTMLElement>(s as string)?.dataset.runs ?? 0) > (n as number), [sel, before] as const, {
    timeout,
  });
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
