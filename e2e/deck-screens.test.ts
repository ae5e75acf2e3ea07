/**
 * A screenshot of every slide, at 1280x720 and on a phone (390x844), written to
 * e2e/screenshots/<size>/NN.png for people to look at; the checks here catch what can be
 * measured: nothing spills out of its slide, code is not shrunk below a readable size.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { collectConsoleErrors, ensureScreenshotsDir, launchBrowser, openDeck, viewports } from "./support.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(Object.entries(viewports))("every slide at %s size", (name, viewport) => {
  it("fits its slide and is written to e2e/screenshots", async () => {
    const dir = ensureScreenshotsDir(name);
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, inject("deckUrl"));
    const count = await page.$$eval(".reveal .slides > section", (s) => s.length);
    const problems: string[] = [];
    for (let i = 0; i < count; i++) {
      await page.evaluate((n) => (window as unknown as { deck: { slide(h: number): void } }).deck.slide(n), i);
      await page.waitForFunction((n) => document.querySelectorAll(".reveal .slides > section")[n]?.classList.contains("present"), i);
      // Let transitions finish and lazy pictures/charts arrive before the picture is taken.
      await page.waitForFunction(
        (n) => {
          const s = document.querySelectorAll(".reveal .slides > section")[n]!;
          const imgs = [...s.querySelectorAll("img")];
          const charts = [...s.querySelectorAll("figure.chart")];
          return imgs.every((img) => img.complete && img.naturalWidth > 0) && charts.every((c) => (c as HTMLElement).dataset.chartState === "ready");
        },
        i,
      );
      await page.waitForTimeout(900);
      const overflow = await page.evaluate((n) => {
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
          if (px < 10) out.push(`code at ${px.toFixed(1)}px on screen`);
        }
        return out;
      }, i);
      for (const o of overflow) problems.push(`slide ${i + 1}: ${o}`);
      await page.screenshot({ path: `${dir}/${String(i + 1).padStart(2, "0")}.png` });
    }
    expect(problems).toEqual([]);
    expect(errors.messages).toEqual([]);
    await context.close();
  });
});
