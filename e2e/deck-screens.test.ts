/**
 * A screenshot of every slide, at 1280x720 and on a phone (390x844), written to
 * e2e/screenshots/<desktop|phone>/NN.png (plus NN-python.png for the flipped code slides and
 * NN-open.png for an opened code tour) for people to look at. The checks catch what can be
 * measured: nothing spills out of the slide, code is not shrunk below a readable size.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { collectConsoleErrors, ensureScreenshotsDir, launchBrowser, openDeck, viewports } from "./support.js";

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
      // A demo shows its first live output once entered (the engine runs it): wait for its
      // commands to finish and its panes to load, then for the transition to end.
      if (demo) {
        await page.waitForFunction((n) => {
          const s = (window as unknown as { deck: { getSlides(): HTMLElement[] } }).deck.getSlides()[n]!;
          const commands = [...s.querySelectorAll<HTMLElement>(".live-command")];
          const panes = [...s.querySelectorAll<HTMLElement>("figure.demo-pane")];
          return commands.every((c) => c.dataset.state && c.dataset.state !== "running") && panes.every((p) => !["idle", "loading"].includes(p.dataset.state ?? "idle"));
        }, i);
      }
      await page.waitForTimeout(900);
      const slide = page.locator(demo ? `section[data-demo="${demo}"]` : `section[data-slide="${number}"]`);
      const file = String(talkNumber).padStart(2, "0") + (demo ? `-demo-${demo}` : "");
      const label = demo ? `demo ${demo} (below slide ${talkNumber})` : `slide ${number}`;
      await check(i, label, `${dir}/${file}.png`);
      // The other faces of a slide: the talk's Python on code slides, an opened code tour.
      if (await slide.locator(".code-py").count()) {
        await slide.locator("button.flip").click();
        await page.waitForTimeout(300);
        await check(i, `${label} (Python)`, `${dir}/${file}-python.png`);
        await slide.locator("button.flip").click();
      }
      if (await slide.locator("details.more-code").count()) {
        await slide.locator("details.more-code summary").click();
        await page.waitForTimeout(700);
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
