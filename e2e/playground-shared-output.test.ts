/**
 * A command's output taken from shared memory in the slide's first frame (playground/inpage/
 * shared-output.ts), on the cross-origin isolated static host with the in-page engine
 * (`?engine=inpage`: the WebContainer is not tried), in Chromium: entering the hello curl slide
 * shows its output once, in the frame of the slide change, with the same transcript as a page
 * that is not isolated (messages only), and with reveal's slide transition as well. A session
 * streaming over it: e2e/playground-wscat.test.ts.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { collectConsoleErrors, launchBrowser, liveSelector, liveTranscript, openDeck, showLive, until } from "./support.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const live = liveSelector("hello");
const transcript = (page: Page) => liveTranscript(page, "hello");
const count = (text: string, part: string) => text.split(part).length - 1;

interface Entered {
  /** Whether the run's message carried a shared buffer. */
  shared: boolean;
  /** What the slide showed in an animation frame callback registered right after `deck.slide()`. */
  frame: { transcript: string; rows: string };
  transcript: string;
  rows: string;
}

/**
 * From hello's code slide, with its program running and its curl slide mounted, enter the curl
 * slide. In the slide change's task, after `deck.slide()`, wait (bounded) until the worker has
 * published the first chunk of the run's output (the shared buffer the run's message carried,
 * seen by wrapping `Worker.prototype.postMessage`); then the frame after that task must show it.
 */
async function enterCurlSlide(page: Page): Promise<Entered> {
  await page.evaluate(() => (window as any).deck.slide(0));
  await until(page, "the playground", () => "__playground" in globalThis);
  const index = await page.evaluate((s) => [...document.querySelectorAll(".reveal .slides > section")].findIndex((x) => x.querySelector(s)), live);
  const go = (i: number) => page.evaluate((i) => (window as any).deck.slide(i), i);
  await go(index - 1);
  await until(page, "hello's editor", (i) => document.querySelectorAll(".reveal .slides > section")[i]?.querySelector<HTMLElement>(".code-ts")?.dataset.editor === "ready", index - 1);
  // The first visit mounts the curl slide and starts the program; the measured one comes back.
  expect((await showLive(page, "hello")).state).toBe("done");
  await go(index - 1);
  await page.waitForTimeout(300);
  const runs = Number(await page.getAttribute(live, "data-runs"));
  const entered = await page.evaluate(
    ([i, s]) =>
      new Promise<Omit<Entered, "transcript" | "rows">>((resolve, reject) => {
        const el = document.querySelector(s as string)!;
        const read = () => ({ transcript: el.querySelector(".playground-transcript")?.textContent ?? "", rows: el.querySelector(".xterm-rows")?.textContent ?? "" });
        let buffer: SharedArrayBuffer | null = null;
        const post = Worker.prototype.postMessage;
        Worker.prototype.postMessage = function (this: Worker, message: any, ...rest: any[]) {
          if (message?.type === "run" && message.output) buffer = message.output;
          return (post as any).call(this, message, ...rest);
        };
        setTimeout(() => {
          (window as any).deck.slide(i);
          Worker.prototype.postMessage = post;
          if (buffer) {
            // The first chunk published before this task ends (the worker runs in parallel).
            const published = new Int32Array(buffer, 0, 4);
            const until = performance.now() + 5000;
            while (Atomics.load(published, 0) < 1 && performance.now() < until);
            if (Atomics.load(published, 0) < 1) return reject(new Error("the worker published nothing within 5 s"));
          }
          requestAnimationFrame(() => resolve({ shared: buffer !== null, frame: read() }));
        }, 0);
      }),
    [index, live] as const,
  );
  await until(page, "the run to end", ([s, n]) => Number(document.querySelector<HTMLElement>(s as string)?.dataset.runs) > (n as number), [live, runs] as const);
  const ended = { state: await page.getAttribute(live, "data-state"), transcript: await transcript(page) };
  expect(ended).toMatchObject({ state: "done" });
  return { ...entered, transcript: await transcript(page), rows: await page.evaluate((s) => document.querySelector(`${s} .xterm-rows`)?.textContent ?? "", live) };
}

/** curl's Date header differs between runs. */
const sansDate = (text: string) => text.replace(/^Date: .*$/m, "Date: -");

/**
 * Open the isolated deck with `query`, enter hello's curl slide, and check what must hold on
 * either transition: the run shared its output, the slide's first frame drew it in xterm's rows,
 * and the run showed it once. Returns the entry for comparisons.
 */
async function enterIsolated(query: string): Promise<Entered> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);
  await openDeck(page, inject("deckUrl") + "?engine=inpage" + query);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const entered = await enterCurlSlide(page);
  expect(entered.shared).toBe(true);
  expect(entered.frame.rows).toContain("HTTP/1.1 200 OK");
  for (const text of [entered.transcript, entered.rows]) {
    expect(count(text, "HTTP/1.1 200 OK")).toBe(1);
    expect(count(text, "Hello, world")).toBe(1);
  }
  expect(errors.messages).toEqual([]);
  await context.close();
  return entered;
}

describe("output through shared memory (cross-origin isolated page, in-page engine)", () => {
  it("entering the curl slide shows its output in the slide's first frame, once, and the transcript is what messages alone give", async () => {
    const shared = await enterIsolated("&transition=none");
    // In the frame of the slide change, the transcript holds it too, from its first line.
    expect(shared.frame.transcript).toMatch(/^\$ curl -i http:\/\/localhost:8888\/?\nHTTP\/1\.1 200 OK/);

    const plain = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const other = await plain.newPage();
    await openDeck(other, inject("plainDeckUrl") + "?no-coi&transition=none");
    expect(await other.evaluate(() => crossOriginIsolated)).toBe(false);
    const messages = await enterCurlSlide(other);
    expect(messages.shared).toBe(false);
    expect(sansDate(shared.transcript)).toBe(sansDate(messages.transcript));
    await plain.close();
  }, 120_000);

  it("with reveal's slide transition (the slide enters from outside the viewport, where xterm pauses its renderer) the output is drawn in the same frame", async () => {
    await enterIsolated("");
  }, 120_000);
});
