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
 * Slide `n` is ready for its picture: no transition or animation running, and its live parts
 * have shown what entering them shows (a terminal's first run, the timeline's first lane,
 * Monaco where it mounts). Signals, not a pause: a loaded machine takes longer, never too short.
 */
function settled(page: Page, n: number, what: string): Promise<void> {
  return until(
    page,
    `${what} settled`,
    (i) => {
      const s = (window as any).deck.getSlides()[i] as HTMLElement;
      if (!s.classList.contains("present") || document.querySelector(".reveal")!.classList.contains("sliding")) return false;
      if (document.getAnimations().some((a) => a.playState === "running" && a.effect?.getComputedTiming().iterations !== Infinity)) return false;
      const shown = (e: Element) => !e.closest("details:not([open])");
      const terminals = [...s.querySelectorAll<HTMLElement>(".live-command")].filter(shown);
      const editors = [...s.querySelectorAll<HTMLElement>(".code-ts[data-example]")].filter(shown);
      // The timeline (a widget with mode buttons) counts its finished runs.
      const timelines = [...s.querySelectorAll<HTMLElement>(".demo-widget")].filter((w) => w.querySelector("button[data-mode]"));
      return (
        terminals.every((t) => Number(t.dataset.runs ?? 0) >= 1 && t.dataset.state !== "running") &&
        editors.every((e) => ["ready", "on-demand", "failed"].includes(e.dataset.editor ?? "")) &&
        timelines.every((w) => Number(w.dataset.runs ?? 0) >= 1 && w.dataset.state !== "running")
      );
    },
    n,
  );
}

describe.each(Object.entries(viewports))("every slide at %s size", (name, viewport) => {
  it("fits its slide and is written to e2e/screenshots", { timeout: 240_000 }, async () => {
    const dir = ensureScreenshotsDir(name);
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, inject("deckUrl"));
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
      // A demo shows its first live output once entered (the engine runs it).
      await settled(page, i, demo ? `demo ${demo}` : `slide ${number}`);
      const slide = page.locator(demo ? `section[data-demo="${demo}"]` : `section[data-slide="${number}"]`);
      const file = String(talkNumber).padStart(2, "0") + (demo ? `-demo-${demo}` : "");
      const label = demo ? `demo ${demo} (below slide ${talkNumber})` : `slide ${number}`;
      await check(i, label, `${dir}/${file}.png`);
      // The other faces of a slide: the talk's Python on code slides, an opened code tour.
      if (await slide.locator(".code-py").count()) {
        await slide.locator("button.flip").click();
        await until(page, "the Python face", (n) => (window as any).deck.getSlides()[n].classList.contains("show-python"), i);
        await settled(page, i, "the Python face");
        await check(i, `${label} (Python)`, `${dir}/${file}-python.png`);
        await slide.locator("button.flip").click();
      }
      if (await slide.locator("details.more-code").count()) {
        await slide.locator("details.more-code summary").click();
        await until(page, "the code tour open", (n) => (window as any).deck.getSlides()[n].querySelector("details.more-code[open]") !== null, i);
        await settled(page, i, "the open code tour");
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
