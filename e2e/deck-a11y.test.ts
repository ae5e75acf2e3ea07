/**
 * Accessibility of the built deck in Chromium: axe-core on every slide (no serious or critical
 * violation), a text alternative for every picture, and the whole deck driven by the keyboard
 * alone, including running a demo and leaving an editor with Escape.
 */
import { resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { goToSlide, launchBrowser, openDeck, slideCount, viewports } from "./support.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const axePath = resolve(import.meta.dirname, "../node_modules/axe-core/axe.min.js");

async function open(viewport: { width: number; height: number } = viewports.desktop): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await openDeck(page, inject("plainDeckUrl") + "?no-coi&transition=none");
  await page.waitForFunction(() => "__playground" in globalThis, undefined, { timeout: 20_000 });
  return page;
}

const currentSlide = (page: Page) => page.evaluate(() => (window as any).deck.getIndices().h as number);

/** Wait until the slide's editors and commands have settled, and its pictures are in. */
async function settle(page: Page, i: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const s = (window as any).deck.getSlides()[n] as HTMLElement;
      if (!s.classList.contains("present")) return false;
      const editors = [...s.querySelectorAll<HTMLElement>(".code-ts[data-example]")].filter((e) => !e.closest("details:not([open])"));
      const commands = [...s.querySelectorAll<HTMLElement>(".live-command")];
      const imgs = [...s.querySelectorAll("img")];
      const charts = [...s.querySelectorAll<HTMLElement>("figure.chart")];
      return (
        editors.every((e) => e.dataset.editor === "ready") &&
        commands.every((c) => c.dataset.state && c.dataset.state !== "running") &&
        imgs.every((img) => img.complete && img.naturalWidth > 0) &&
        charts.every((c) => c.dataset.chartState === "ready")
      );
    },
    i,
    { timeout: 30_000 },
  );
}

// Desktop and phone side by side: each is one page's own work (axe in its renderer), nothing
// here times the deck, and the e2e files run one at a time, so the two cores are theirs.
describe.concurrent("accessibility at each size", () => {
  it.for(Object.entries(viewports))("axe-core finds no serious or critical violation on any slide (%s)", { timeout: 240_000 }, async ([name, viewport], { expect }) => {
    const page = await open(viewport);
    await page.addScriptTag({ path: axePath });
    const count = await slideCount(page);
    const found: string[] = [];
    for (let i = 0; i < count; i++) {
      await goToSlide(page, i);
      await settle(page, i);
      const violations = await page.evaluate(async () => {
        const axe = (window as any).axe;
        // The whole page as it stands on this slide: the slide, reveal's controls, the badge.
        const result = await axe.run(document, { resultTypes: ["violations"] });
        return (result.violations as any[])
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n: any) => n.target.join(" ")).join(" | ")}`);
      });
      for (const v of violations) found.push(`${name} slide ${i + 1}: ${v}`);
    }
    expect(found).toEqual([]);
    await page.context().close();
  });
});

describe("text alternatives and the keyboard", () => {
  it("every picture has a text alternative", async () => {
    const page = await open();
    const count = await slideCount(page);
    for (let i = 0; i < count; i++) await goToSlide(page, i); // lazy pictures load near their slide
    const pictures = await page.$$eval("img, svg, canvas, picture, [role=img]", (els) =>
      els
        .filter((el) => !el.closest(".monaco-editor, .xterm, [aria-hidden=true] svg") || el.matches("img, canvas"))
        .map((el) => ({
          what: `${el.tagName.toLowerCase()}.${el.getAttribute("class") ?? ""}`,
          decorative: el.getAttribute("aria-hidden") === "true" || el.getAttribute("role") === "presentation" || el.tagName === "PICTURE",
          alt: (el.getAttribute("alt") ?? el.getAttribute("aria-label") ?? el.querySelector("title")?.textContent ?? "").trim(),
        })),
    );
    expect(pictures.filter((p) => p.what.startsWith("img") || p.what.startsWith("canvas")).length).toBeGreaterThanOrEqual(5);
    expect(pictures.filter((p) => !p.decorative && p.alt === "").map((p) => p.what)).toEqual([]);
    await page.context().close();
  });

  it("drives the deck by keyboard alone: to a code slide, into the editor, run, Escape out, on to the curl slide, edit its command, run", async () => {
    const page = await open();
    const target = await page.evaluate(() => [...document.querySelectorAll(".reveal .slides > section")].findIndex((s) => s.querySelector('.code-ts[data-example="hello"]')));
    // Arrow keys to the hello code slide.
    while ((await currentSlide(page)) < target) await page.keyboard.press("ArrowRight");
    expect(await currentSlide(page)).toBe(target);
    const code = '.code-ts[data-example="hello"]';
    await page.waitForFunction((s) => document.querySelector<HTMLElement>(s)?.dataset.editor === "ready", code, { timeout: 20_000 });
    // Tab until the editor of this slide has the focus.
    const inEditor = () => page.evaluate((s) => !!document.activeElement?.closest(`${s} .monaco-editor`), code);
    for (let i = 0; i < 40 && !(await inEditor()); i++) await page.keyboard.press("Tab");
    expect(await inEditor()).toBe(true);
    expect(await currentSlide(page)).toBe(target);
    // Run it with Ctrl+Enter.
    const runs = Number((await page.getAttribute(code, "data-runs")) ?? 0);
    await page.keyboard.press("Control+Enter");
    await page.waitForFunction(([s, n]) => Number(document.querySelector<HTMLElement>(s as string)?.dataset.runs ?? 0) > (n as number), [code, runs] as const, { timeout: 20_000 });
    expect(await page.getAttribute(code, "data-run")).toBe("done");
    // With a suggestion list open, Escape is Monaco's: it closes the list, the focus stays.
    await page.keyboard.press("Control+Space");
    await page.waitForSelector(".suggest-widget.visible", { timeout: 30_000 });
    await page.keyboard.press("Escape");
    await page.waitForSelector(".suggest-widget.visible", { state: "detached", timeout: 5000 }).catch(() => page.waitForSelector(".suggest-widget:not(.visible)", { timeout: 5000 }));
    expect(await inEditor()).toBe(true);
    // Then Escape leaves the editor (Monaco would keep the focus) and the arrows drive the deck again.
    await page.keyboard.press("Escape");
    expect(await inEditor()).toBe(false);
    expect(await page.evaluate(() => document.body.classList.contains("overview") || (window as any).deck.isOverview())).toBe(false);
    await page.keyboard.press("ArrowRight");
    expect(await currentSlide(page)).toBe(target + 1);
    const live = '.live-command[data-example="hello"]';
    await page.waitForFunction((s) => document.querySelector<HTMLElement>(s)?.dataset.state === "done", live, { timeout: 20_000 });
    // Tab to the command line, change it, Enter runs it, Escape leaves it.
    const inInput = () => page.evaluate((s) => document.activeElement?.matches(`${s} .playground-command-input`) ?? false, live);
    for (let i = 0; i < 40 && !(await inInput()); i++) await page.keyboard.press("Tab");
    expect(await inInput()).toBe(true);
    await page.keyboard.press("End");
    await page.keyboard.type("/nowhere");
    const before = Number(await page.getAttribute(live, "data-runs"));
    await page.keyboard.press("Enter");
    await page.waitForFunction(([s, n]) => Number(document.querySelector<HTMLElement>(s as string)?.dataset.runs) > (n as number), [live, before] as const, { timeout: 20_000 });
    expect(await page.textContent(`${live} .playground-transcript`)).toContain("HTTP/1.1 404 Not Found");
    await page.keyboard.press("Escape");
    expect(await inInput()).toBe(false);
    await page.keyboard.press("ArrowLeft");
    expect(await currentSlide(page)).toBe(target);
    await page.context().close();
  });
});
