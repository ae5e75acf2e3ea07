/**
 * Readable from the back row: the type size of every piece of text on every live slide (code
 * slides with their editors, commandline slides with their terminals, any demo pane), read
 * from the computed style in the slide's own CSS pixels, that is before reveal scales the slide
 * to the screen. Generic on purpose: a live slide is any slide the playground mounts something
 * on, so new demo slides are covered without touching this file.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { goToSlide, launchBrowser, openDeck, timeLeft, viewports } from "./support.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Minimums in slide pixels (playground/sizes.ts): code, terminal and log text, anything else. */
const minimums = {
  desktop: { code: 20, terminal: 18, text: 14 },
  phone: { code: 16, terminal: 14, text: 14 },
} as const;

/** Indices of the live slides: anything with a runnable example, a live command or a mounted pane. */
function liveSlides(page: Page): Promise<number[]> {
  return page.evaluate(() =>
    ((window as any).deck.getSlides() as HTMLElement[]).flatMap((s, i) => (s.matches("[data-live-command], [data-example]") || s.querySelector("[data-example], .live-command, .playground-mounted") ? [i] : [])),
  );
}

/** Show slide `i` and wait until what the playground mounts there has settled. */
async function showSettled(page: Page, i: number): Promise<void> {
  await goToSlide(page, i);
  await page.waitForFunction(
    (n) => {
      const s = (window as any).deck.getSlides()[n] as HTMLElement;
      if (!s.classList.contains("present")) return false;
      // Closed tours (<details>) open so the editor inside is measured too.
      for (const d of s.querySelectorAll<HTMLDetailsElement>("details.more-code:not([open])")) d.open = true;
      const editors = [...s.querySelectorAll<HTMLElement>(".code-ts[data-example]")];
      const commands = [...s.querySelectorAll<HTMLElement>(".live-command")];
      return editors.every((e) => e.dataset.editor === "ready") && commands.every((c) => c.dataset.state && c.dataset.state !== "running");
    },
    i,
    { timeout: timeLeft() },
  );
  // Monaco and xterm lay out on the next frames.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

interface Reading {
  what: string;
  kind: "code" | "terminal" | "text";
  px: number;
}

/** Every visible element of slide `i` that shows text, its kind and its computed font size. */
function readSizes(page: Page, i: number): Promise<Reading[]> {
  return page.evaluate((n) => {
    const s = (window as any).deck.getSlides()[n] as HTMLElement;
    const out: Reading[] = [];
    const shown = (el: Element) => {
      if (el.closest("aside.notes, template, details:not([open]) > :not(summary)")) return false;
      if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
      const r = el.getBoundingClientRect();
      return r.width > 2 && r.height > 2; // visually-hidden text (screen-reader copies) is 1 px
    };
    for (const el of s.querySelectorAll<HTMLElement>("*")) {
      const ownText = [...el.childNodes].some((c) => c.nodeType === Node.TEXT_NODE && c.textContent!.trim() !== "");
      const value = el instanceof HTMLInputElement && el.value.trim() !== "";
      if ((!ownText && !value) || !shown(el)) continue;
      const kind = el.closest(".monaco-editor .view-lines, .code-pair pre, .more-code pre")
        ? "code"
        : el.closest(".xterm-rows, .playground-server-log, .playground-command-input")
          ? "terminal"
          : "text";
      const text = (value ? (el as HTMLInputElement).value : el.textContent!).trim().slice(0, 30);
      out.push({ what: `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} "${text}"`, kind, px: parseFloat(getComputedStyle(el).fontSize) });
    }
    return out;
  }, i) as Promise<Reading[]>;
}

// Desktop and phone side by side (see deck-a11y.test.ts).
describe.concurrent("type sizes on every live slide at each size", () => {
  it.for(Object.entries(viewports))("code, terminals and every other text meet the minimums, in slide pixels (%s)", { timeout: 180_000 }, async ([name, viewport], { expect }) => {
    const min = minimums[name as keyof typeof minimums];
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await openDeck(page, inject("plainDeckUrl") + "?no-coi&transition=none");
    await page.waitForFunction(() => "__playground" in globalThis, undefined, { timeout: 20_000 });
    expect(await page.evaluate(() => document.documentElement.classList.contains("portrait"))).toBe(name === "phone");
    const live = await liveSlides(page);
    expect(live.length).toBeGreaterThanOrEqual(6); // hello, json, templates (code and curl), the tour
    const problems: string[] = [];
    const seen = { code: 0, terminal: 0, text: 0 };
    for (const i of live) {
      await showSettled(page, i);
      for (const r of await readSizes(page, i)) {
        seen[r.kind]++;
        if (r.px < min[r.kind]) problems.push(`slide ${i + 1}: ${r.kind} at ${r.px}px < ${min[r.kind]}px: ${r.what}`);
      }
    }
    // The readings cover what matters: editor lines, terminal rows and logs, labels.
    expect(seen.code).toBeGreaterThan(20);
    expect(seen.terminal).toBeGreaterThan(10);
    expect(seen.text).toBeGreaterThan(5);
    expect(problems).toEqual([]);
    await context.close();
  }); // every live slide, each waiting for its editor or its command
});

describe("the engine badge", () => {
  it("is a small quiet label while the in-page engine works, with the reason on hover", async () => {
    const context = await browser.newContext({ viewport: viewports.desktop });
    const page = await context.newPage();
    await openDeck(page, inject("plainDeckUrl") + "?no-coi&transition=none");
    await page.waitForFunction(() => "__playground" in globalThis, undefined, { timeout: 20_000 });
    const badge = page.locator(".playground-badge");
    expect(await badge.getAttribute("data-state")).toBe("ok");
    expect(await badge.textContent()).toMatch(/^in-page · in the page: /);
    expect(await page.isVisible(".playground-badge-reason")).toBe(false);
    const quiet = (await badge.boundingBox())!;
    expect(quiet.width).toBeLessThan(120);
    await badge.hover();
    expect(await page.isVisible(".playground-badge-reason")).toBe(true);
    await context.close();
  });

  it("says in full that the demos cannot run when no engine can (the in-page worker does not load)", async () => {
    const context = await browser.newContext({ viewport: viewports.desktop });
    const page = await context.newPage();
    // The in-page engine's worker script (assets/worker-<hash>.js) is missing from the host.
    await page.route(/\/assets\/worker-[^/]*\.js$/, (route) => route.fulfill({ status: 404, body: "" }));
    await openDeck(page, inject("plainDeckUrl") + "?no-coi&transition=none");
    await page.waitForFunction(() => document.querySelector<HTMLElement>(".playground-badge")?.dataset.state === "down", undefined, { timeout: 20_000 });
    expect(await page.isVisible(".playground-badge-reason")).toBe(true);
    expect(await page.textContent(".playground-badge")).toMatch(/live demos cannot run: the engine's worker failed to load/);
    const loud = (await page.locator(".playground-badge").boundingBox())!;
    expect(loud.width).toBeGreaterThan(300);
    await context.close();
  });
});
