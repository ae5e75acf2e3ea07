/**
 * A screenshot of every slide, at 1280x720 and on a phone (390x844), written to
 * e2e/screenshots/<desktop|phone>/NN.png (plus NN-python.png for the flipped code slides and
 * NN-open.png for an opened code tour) for people to look at. The checks catch what can be
 * measured: nothing spills out of the slide, code is not shrunk below a readable size.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { collectConsoleErrors, ensureScreenshotsDir, launchBrowser, openDeck, until, viewports } from "./support.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Elements of slide `n` outside the slide area, and code smaller than 10 px on screen. */
function problemsOf(page: Page, n: number): Promise<string[]> {
  return page.evaluate((n) => {
    const s = (window as unknown as { deck: { getSlides(): HTMLElement[] } }).deck.getSlides()[n]!;
    // The slide area is .slides (reveal's width x height, scaled); a section may grow past it.
    const box = document.querySelector(".reveal .slides")!.getBoundingClientRect();
    const out: string[] = [];
    for (const el of s.querySelectorAll<HTMLElement>("h1, h2, p, li, pre, figure, .live-command, button")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      // Contents of a closed <details> still have boxes in Chromium, but are not shown.
      if (el.closest("details:not([open])") && !el.closest("summary")) continue;
      const slack = 2;
      if (r.left < box.left - slack || r.right > box.right + slack || r.top < box.top - slack || r.bottom > box.bottom + slack) {
        out.push(`${el.tagName.toLowerCase()}.${el.className} (${Math.round(r.left)},${Math.round(r.top)})-(${Math.round(r.right)},${Math.round(r.bottom)}) outside (${Math.round(box.left)},${Math.round(box.top)})-(${Math.round(box.right)},${Math.round(box.bottom)})`);
      }
    }
    // Code must stay readable: rendered font size of code, in CSS pixels on screen.
    const scale = Number(getComputedStyle(document.querySelector(".reveal")!).getPropertyValue("--slide-scale")) || 1;
    for (const code of s.querySelectorAll<HTMLElement>("pre")) {
      if (code.getBoundingClientRect().height === 0 || code.closest("details:not([open])")) continue;
      const px = parseFloat(getComputedStyle(code).fontSize) * scale;
      if (px < 10) out.push(`${code.className || "pre"}: code at ${px.toFixed(1)}px on screen`);
    }
    return out;
  }, n);
}

/**
 * Slide `n` is ready for its picture: its commands have finished, its panes have loaded, its
 * editors have mounted (or fallen back to text), and the page has painted twice since, so
 * reveal's relayout and xterm's rendering (each one animation frame) are on screen.
 */
async function settled(page: Page, n: number): Promise<void> {
  await until(page, `slide ${n}'s live content to settle`, (n) => {
    const s = (window as unknown as { deck: { getSlides(): HTMLElement[] } }).deck.getSlides()[n]!;
    const live = s.hasAttribute("data-live-command") || s.hasAttribute("data-demo");
    const commands = live ? [...s.querySelectorAll<HTMLElement>(".live-command")] : [];
    const panes = [...s.querySelectorAll<HTMLElement>("figure.demo-pane")];
    const editors = document.documentElement.dataset.playground === "loaded" ? [...s.querySelectorAll<HTMLElement>(".code-ts[data-example]")] : [];
    // A timeline runs its first lane on entering: the picture is of that run finished.
    const timelines = live ? [...s.querySelectorAll<HTMLElement>('.demo-widget[data-widget="timeline"]')] : [];
    return (
      commands.every((c) => c.dataset.state && c.dataset.state !== "running") &&
      timelines.every((w) => Number(w.dataset.runs ?? 0) > 0 && w.dataset.state !== "running") &&
      panes.every((p) => !["idle", "loading"].includes(p.dataset.state ?? "idle")) &&
      editors.every((e) => ["ready", "failed", "on-demand"].includes(e.dataset.editor ?? ""))
    );
  }, n);
  await page.evaluate(async () => {
    for (let i = 0; i < 2; i++) await new Promise(requestAnimationFrame);
  });
}

// Desktop and phone side by side: each page waits on its own slides' states, nothing here
// times the deck, and the e2e files run one at a time, so the two cores are theirs.
describe.concurrent("every slide at each size", () => {
  it.for(Object.entries(viewports))("fits its slide and is written to e2e/screenshots (%s)", { timeout: 240_000 }, async ([name, viewport], { expect }) => {
    const dir = ensureScreenshotsDir(name);
    // Reduced motion: no slide transition and charts drawn at once, so a picture can be taken
    // as soon as the slide's own state says it is ready, with no guess at how long motion takes.
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: "reduce" });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, inject("deckUrl"));
    await until(page, "the playground to load (or fail)", () => ["absent", "loaded", "failed"].includes(document.documentElement.dataset.playground ?? ""));
    // Every slide reveal shows: the talk's, and the live demos below some of them.
    const slides = await page.evaluate(() =>
      (window as unknown as { deck: { getSlides(): HTMLElement[] } }).deck.getSlides().map((s) => ({ slide: s.dataset.slide ?? null, demo: s.dataset.demo ?? null })),
    );
    const problems: string[] = [];
    const check = async (n: number, label: string, path: string) => {
      for (const p of await problemsOf(page, n)) problems.push(`${label}: ${p}`);
      await page.screenshot({ path });
    };
    let talkNumber = 0;
    for (let i = 0; i < slides.length; i++) {
      const { slide: number, demo } = slides[i]!;
      if (number) talkNumber = Number(number);
      await page.evaluate((n) => {
        const deck = (window as unknown as { deck: { getSlides(): HTMLElement[]; getIndices(s: HTMLElement): { h: number; v?: number }; slide(h: number, v?: number): void } }).deck;
        const { h, v } = deck.getIndices(deck.getSlides()[n]!);
        deck.slide(h, v ?? 0);
      }, i);
      await page.waitForFunction((n) => (window as unknown as { deck: { getSlides(): HTMLElement[] } }).deck.getSlides()[n]?.classList.contains("present"), i);
      // Let transitions finish and lazy pictures/charts arrive before the picture is taken.
      await page.waitForFunction((n) => {
        const s = (window as unknown as { deck: { getSlides(): HTMLElement[] } }).deck.getSlides()[n]!;
        const imgs = [...s.querySelectorAll("img")];
        const charts = [...s.querySelectorAll<HTMLElement>("figure.chart")];
        return imgs.every((img) => img.complete && img.naturalWidth > 0) && charts.every((c) => c.dataset.chartState === "ready");
      }, i);
      // Live slides: their commands have run (curl slides and demos run theirs when entered),
      // their panes have loaded and their editors have mounted.
      await settled(page, i);
      const slide = page.locator(demo ? `section[data-demo="${demo}"]` : `section[data-slide="${number}"]`);
      const file = String(talkNumber).padStart(2, "0") + (demo ? `-demo-${demo}` : "");
      const label = demo ? `demo ${demo} (below slide ${talkNumber})` : `slide ${number}`;
      await check(i, label, `${dir}/${file}.png`);
      // The other faces of a slide: the talk's Python on code slides, an opened code tour.
      if (await slide.locator(".code-py").count()) {
        await slide.locator("button.flip").click();
        await settled(page, i);
        await check(i, `${label} (Python)`, `${dir}/${file}-python.png`);
        await slide.locator("button.flip").click();
      }
      if (await slide.locator("details.more-code").count()) {
        await slide.locator("details.more-code summary").click();
        await settled(page, i);
        await check(i, `${label} (code tour open)`, `${dir}/${file}-open.png`);
        await slide.locator("details.more-code summary").click();
      }
    }
    expect(problems).toEqual([]);
    expect(errors.messages).toEqual([]);
    await context.close();
    // 26 slides, their flipped and opened faces, and each demo given time for its first output.
  });
});
