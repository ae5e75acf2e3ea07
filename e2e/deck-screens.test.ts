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
    const s = document.querySelectorAll<HTMLElement>(".reveal .slides > section")[n]!;
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
    const count = await page.$$eval(".reveal .slides > section", (s) => s.length);
    const problems: string[] = [];
    const check = async (n: number, label: string, path: string) => {
      for (const p of await problemsOf(page, n)) problems.push(`${label}: ${p}`);
      await page.screenshot({ path });
    };
    for (let i = 0; i < count; i++) {
      await page.evaluate((n) => (window as unknown as { deck: { slide(h: number): void } }).deck.slide(n), i);
      await page.waitForFunction((n) => document.querySelectorAll(".reveal .slides > section")[n]?.classList.contains("present"), i);
      // Let transitions finish and lazy pictures/charts arrive before the picture is taken.
      await page.waitForFunction((n) => {
        const s = document.querySelectorAll(".reveal .slides > section")[n]!;
        const imgs = [...s.querySelectorAll("img")];
        const charts = [...s.querySelectorAll<HTMLElement>("figure.chart")];
        return imgs.every((img) => img.complete && img.naturalWidth > 0) && charts.every((c) => c.dataset.chartState === "ready");
      }, i);
      await page.waitForTimeout(900);
      const slide = page.locator(`section[data-slide="${i + 1}"]`);
      const file = String(i + 1).padStart(2, "0");
      await check(i, `slide ${i + 1}`, `${dir}/${file}.png`);
      // The other faces of a slide: the talk's Python on code slides, an opened code tour.
      if (await slide.locator(".code-py").count()) {
        await slide.locator("button.flip").click();
        await page.waitForTimeout(300);
        await check(i, `slide ${i + 1} (Python)`, `${dir}/${file}-python.png`);
        await slide.locator("button.flip").click();
      }
      if (await slide.locator("details.more-code").count()) {
        await slide.locator("details.more-code summary").click();
        await page.waitForTimeout(700);
        await check(i, `slide ${i + 1} (code tour open)`, `${dir}/${file}-open.png`);
        await slide.locator("details.more-code summary").click();
      }
    }
    expect(problems).toEqual([]);
    expect(errors.messages).toEqual([]);
    await context.close();
  });
});
