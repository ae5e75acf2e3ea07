/**
 * The built deck in Debian's Chromium, served from a sub-path by a plain static server.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseShowoff, slideTitle } from "../slides/showoff.js";
import { collectConsoleErrors, launchBrowser, openDeck, currentIndices } from "./support.js";

const talk = parseShowoff(readFileSync(resolve(import.meta.dirname, "../slides/talk.showoff.md"), "utf8"));

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  return context.newPage();
}

describe("the deck", () => {
  it("has every slide of the talk, in order, with its headings, and no console errors", async () => {
    const page = await newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, inject("deckUrl"));
    const sections = await page.$$eval(".reveal .slides > section", (all) =>
      all.map((s) => ({ headings: [...s.querySelectorAll("h1, h2")].map((h) => h.textContent?.trim() ?? ""), text: s.textContent ?? "" })),
    );
    expect(sections).toHaveLength(talk.length);
    talk.forEach((slide, i) => {
      const headings = slide.blocks.filter((b) => b.kind === "heading").map((b) => (b.kind === "heading" ? b.text.replace(/\*\*/g, "") : ""));
      expect(sections[i]!.headings, `slide ${i + 1} (${slideTitle(slide)})`).toEqual(headings);
    });
    expect(await currentIndices(page)).toEqual({ h: 0, v: 0 });
    await page.waitForTimeout(300);
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });
});
