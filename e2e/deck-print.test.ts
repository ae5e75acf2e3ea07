/**
 * `?print-pdf`: reveal lays out every slide as a page; Chromium prints one PDF page per slide,
 * on each deck host (the static build, and the deck `npm run serve` serves). The PDF is written
 * to e2e/screenshots/deck.pdf (deck-served.pdf) for people to look at.
 */
import { writeFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectConsoleErrors, deckHosts, ensureScreenshotsDir, launchBrowser, openDeck, until, type DeckHost } from "./support.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Page objects in a PDF (`/Type /Page`, not `/Pages`), and the page tree's /Count. */
export function countPdfPages(pdf: Buffer): { pages: number; count: number | null } {
  const text = pdf.toString("latin1");
  const pages = text.match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
  const counts = [...text.matchAll(/\/Type\s*\/Pages\b[^>]*?\/Count\s+(\d+)|\/Count\s+(\d+)[^>]*?\/Type\s*\/Pages\b/g)].map((m) => Number(m[1] ?? m[2]));
  return { pages, count: counts.length ? Math.max(...counts) : null };
}

// Both hosts side by side (see deck-a11y.test.ts).
describe.concurrent("print view (?print-pdf)", () => {
  it.for(deckHosts())("lays out every slide on its own page, pictures and chart drawn, and prints one PDF page per slide ($name host)", async (host: DeckHost, { expect }) => {
    const suffix = host.name === "static" ? "" : `-${host.name}`;
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, `${host.url}?print-pdf`);
    const demoCount = await page.$$eval("section[data-demo]", (s) => s.length);
    expect(demoCount).toBeGreaterThan(0);
    const total = 26 + demoCount;
    await until(page, `${total} pages`, (n) => document.querySelectorAll(".pdf-page").length >= n, total);
    const pages = await page.$$eval(".pdf-page", (all) =>
      all.map((p) => ({ sections: p.querySelectorAll(":scope > section").length, number: p.querySelector("section")?.getAttribute("data-slide"), demo: p.querySelector("section")?.getAttribute("data-demo") })),
    );
    // One page per talk slide, in order, and one per live demo right after the slide it sits under.
    expect(pages).toHaveLength(total);
    expect(pages.map((p) => p.sections)).toEqual(Array(total).fill(1));
    expect(pages.filter((p) => !p.demo).map((p) => Number(p.number))).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    expect(pages.map((p) => p.number ?? `demo:${p.demo}`).join(" ")).toMatch(/^1 2 3 4 5 6 7 8 9 demo:websocket demo:longpoll 10 11 demo:eventloop 12 .* 24 demo:secure_cookies 25 demo:async_http demo:blocking 26$/);
    // A demo prints a still: its whole program and a caption saying what the live demo shows;
    // no live output, nothing recorded passed off as live.
    const stills = await page.$$eval(".pdf-page section[data-demo]", (all) =>
      all.map((s) => ({
        code: s.querySelector<HTMLElement>(".code-ts pre")?.innerText ?? "",
        caption: s.querySelector<HTMLElement>(".demo-caption")?.innerText ?? "",
        live: [...s.querySelectorAll<HTMLElement>(".live-output, .demo-widget, .demo-panes")].filter((e) => e.getClientRects().length > 0).length,
        talkOutput: s.querySelectorAll(".talk-output-print").length,
      })),
    );
    for (const still of stills) {
      expect(still.code).toMatch(/^import [^]*IOLoop\.instance\(\)\.start\(\);$/);
      expect(still.caption).toMatch(/^live demo: Live, /);
      expect(still.live).toBe(0);
      expect(still.talkOutput).toBe(0);
    }
    // Everything static is ready for the printer: pictures loaded, the chart drawn.
    await until(page, "every picture loaded", () => [...document.querySelectorAll("img")].every((i) => i.complete && i.naturalWidth > 0));
    await until(page, "the chart drawn", () => document.querySelector<HTMLElement>("figure.chart")?.dataset.chartState === "ready");
    // Commandline pages carry the 2011 output, labelled as recorded; nothing live starts.
    const printed = await page.$$eval("pre.talk-output-print", (p) => p.map((e) => `${(e as HTMLElement).dataset.label}|${e.textContent}`));
    expect(printed).toHaveLength(3);
    for (const p of printed) expect(p).toMatch(/^output on the 2011 slide \(recorded, not live\)\|HTTP\/1\.1 200 OK/);
    expect(await page.evaluate(() => document.documentElement.dataset.playground)).toBe("off");
    // No slide content spills out of its page.
    const spills = await page.$$eval(".pdf-page", (all) =>
      all.flatMap((p, i) => {
        const box = p.getBoundingClientRect();
        return [...p.querySelectorAll<HTMLElement>("section h1, section h2, section li, section pre, section figure, section p")]
          .filter((e) => e.getClientRects().length > 0)
          .map((e) => e.getBoundingClientRect())
          .filter((r) => r.bottom > box.bottom + 1 || r.right > box.right + 1 || r.top < box.top - 1)
          .map(() => `page ${i + 1}`);
      }),
    );
    expect(spills).toEqual([]);
    const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
    writeFileSync(`${ensureScreenshotsDir()}/deck${suffix}.pdf`, pdf);
    // The chart is printed as an image (the pictures are vector SVG).
    const images = [...pdf.toString("latin1").matchAll(/\/Subtype\s*\/Image\s*\/Width\s+(\d+)\s*\/Height\s+(\d+)/g)].map((m) => Number(m[1]) / Number(m[2]));
    expect(images.some((ratio) => Math.abs(ratio - 1100 / 360) < 0.02), `image ratios ${images.join(", ")}`).toBe(true);
    const { pages: pdfPages, count } = countPdfPages(pdf);
    expect(pdfPages).toBe(total);
    if (count !== null) expect(count).toBe(total);
    const print = ensureScreenshotsDir(`print${suffix}`);
    for (const n of [1, 5, 16, 18, 19]) {
      await page.locator(`.pdf-page:has(> section[data-slide="${n}"])`).screenshot({ path: `${print}/${String(n).padStart(2, "0")}.png` });
    }
    for (const name of await page.$$eval("section[data-demo]", (s) => s.map((e) => (e as HTMLElement).dataset.demo!))) {
      await page.locator(`.pdf-page:has(> section[data-demo="${name}"])`).screenshot({ path: `${print}/demo-${name}.png` });
    }
    expect(errors.messages).toEqual([]);
    await context.close();
  });
});
