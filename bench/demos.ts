/**
 * The live demos in the built deck (issue 10), measured in Chromium on the in-page engine:
 *
 *   - enter demo → first live output, for every demo slide (`section[data-demo]`): what counts as
 *     its first live output is the demo's own data (its manifest's `firstOutput`, rendered as
 *     `data-first-output`; playground/demos/first-output.ts stamps the slide when it appears).
 *     Each run is a first entry, as in the talk: another program runs (hello's curl slide), then
 *     the presenter walks to the demo through the two slides before it, stopping DWELL_MS on each
 *     (the deck starts the programs of the slides around ahead meanwhile), and goes into it. Timed inside the page, from
 *     `deck.slide()` to the stamp. Target 150 ms.
 *   - a broadcast's time to every pane (the websocket demo): for each broadcast the server's
 *     PeriodicCallback writes, from the `sent` time the program puts in the message (Date.now()
 *     in the engine's worker) to the moment the last of the slide's panes has shown it (Date.now()
 *     in that pane's page, in a listener that runs after the page's own onmessage has updated its
 *     list). Both are the same machine's wall clock, to the millisecond.
 *
 * `npx tsx bench/demos.ts [--runs N] [--broadcasts N] [--dist DIR]` runs just these rows;
 * bench/playground.ts (npm run bench:deck) runs them with its own.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Frame, Page } from "playwright-core";
import { startStaticServer } from "../e2e/static-server.js";
import { launchBrowser, openDeck } from "../e2e/support.js";
import { loadAverages, median, niceBrowserBench, percentile } from "./lib.js";

/** Issue 10: entering a demo slide to its first live output, in-page engine. */
export const DEMO_TARGET_MS = 150;
/** How long the bench stays on the slide above a demo before going down (a presenter's shortest stop). */
export const DWELL_MS = 600;

export interface DemoEntry {
  /** The manifest's `firstOutput`: kind and words. */
  kind: string;
  what: string;
  /** Bench clock: deck.slide() → the slide's first-output stamp. */
  ms: number[];
  /** The deck's own stamp (data-first-output-ms, from the slide change), for comparison. */
  stampMs: number[];
}

export interface DemoBench {
  entries: Record<string, DemoEntry>;
  /** websocket demo: per broadcast, server write → shown in the last pane, ms. */
  broadcastMs: number[];
  /** How many panes each broadcast was timed in. */
  panes: number;
}

/** In the page: the slide `back` slides before demo `name` in the deck's order (1: the one above it). */
function goBefore(page: Page, name: string, back: number): Promise<void> {
  return page.evaluate(
    ([n, k]) => {
      const deck = (window as any).deck;
      const slides: HTMLElement[] = deck.getSlides();
      const before = slides[slides.indexOf(document.querySelector<HTMLElement>(`section[data-demo="${n}"]`)!) - (k as number)]!;
      const { h, v } = deck.getIndices(before);
      deck.slide(h, v);
    },
    [name, back] as const,
  );
}

/** As a presenter comes to demo `name`: the two slides before it, a short stop on each. */
async function walkUpTo(page: Page, name: string): Promise<void> {
  for (const back of [2, 1]) {
    await goBefore(page, name, back);
    await page.waitForTimeout(DWELL_MS);
  }
}

/** Another program runs: hello's curl slide, to the end of its output. */
async function runAnotherProgram(page: Page): Promise<void> {
  const runs = await page.evaluate(() => {
    const el = document.querySelector<HTMLElement>('.live-command[data-example="hello"]')!;
    const before = el.dataset.runs ?? "0";
    const { h, v } = (window as any).deck.getIndices(el.closest("section"));
    (window as any).deck.slide(h, v);
    return before;
  });
  await page.waitForFunction(
    (before) => {
      const el = document.querySelector<HTMLElement>('.live-command[data-example="hello"]')!;
      return el.dataset.runs !== before && el.dataset.state !== "running";
    },
    runs,
    { timeout: 20_000 },
  );
}

/** Go down into demo `name`; resolve with the bench's and the deck's times to its first live output. */
function enterDemo(page: Page, name: string): Promise<{ ms: number; stamp: number }> {
  return page.evaluate(
    (n) =>
      new Promise<{ ms: number; stamp: number }>((resolve, reject) => {
        const deck = (window as any).deck;
        const section = document.querySelector<HTMLElement>(`section[data-demo="${n}"]`)!;
        const before = section.dataset.firstOutputs ?? "0";
        const t0 = performance.now();
        const observer = new MutationObserver(() => {
          if ((section.dataset.firstOutputs ?? "0") === before) return;
          observer.disconnect();
          resolve({ ms: performance.now() - t0, stamp: Number(section.dataset.firstOutputMs) });
        });
        observer.observe(section, { attributes: true, attributeFilter: ["data-first-outputs"] });
        setTimeout(() => reject(new Error(`demo ${n}: no first live output (${section.dataset.firstOutput}) within 10 s`)), 10_000);
        const { h, v } = deck.getIndices(section);
        deck.slide(h, v);
      }),
    name,
  );
}

/** Until the demo's own work is over (its timeline run, its command), so the next run starts clean. */
function settled(page: Page, name: string): Promise<unknown> {
  return page.waitForFunction(
    (n) => {
      const section = document.querySelector<HTMLElement>(`section[data-demo="${n}"]`)!;
      const busy = section.querySelector('.demo-widget[data-state="running"], .live-command[data-state="running"], .demo-pane[data-state="loading"]');
      return busy === null;
    },
    name,
    { timeout: 40_000 },
  );
}

export async function benchDemoEntries(page: Page, runs: number): Promise<Record<string, DemoEntry>> {
  const demos = await page.$$eval("section[data-demo]", (all) =>
    all.map((s) => ({ name: (s as HTMLElement).dataset.demo!, kind: (s as HTMLElement).dataset.firstOutput ?? "", what: (s as HTMLElement).dataset.firstOutputWhat ?? "" })),
  );
  const out: Record<string, DemoEntry> = {};
  for (const { name, kind, what } of demos) {
    if (!kind) throw new Error(`demo ${name}: its slide declares no first live output (manifest firstOutput)`);
    const entry: DemoEntry = { kind, what, ms: [], stampMs: [] };
    out[name] = entry;
    // One unmeasured pass: the slide's editor, terminal and panes mounted, as on a rehearsed deck.
    for (let r = -1; r < runs; r++) {
      await runAnotherProgram(page);
      await walkUpTo(page, name);
      const t = await enterDemo(page, name);
      await settled(page, name);
      if (r < 0) continue;
      entry.ms.push(t.ms);
      entry.stampMs.push(t.stamp);
    }
  }
  return out;
}

/** The websocket demo's pane frames (the slide must be shown and its panes live). */
async function paneFrames(page: Page, name: string): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (const frame of page.frames()) {
    const element = await frame.frameElement().catch(() => null);
    if (!element) continue;
    const inDemo = await element.evaluate((el, n) => !!(el as Element).closest(`section[data-demo="${n}"] .demo-pane`), name);
    if (inDemo) frames.push(frame);
  }
  return frames;
}

/**
 * Broadcasts of the websocket demo, `count` of them: per broadcast, the program's `sent` time to
 * the moment the last pane showed it.
 */
export async function benchBroadcast(page: Page, count: number, name = "websocket"): Promise<{ ms: number[]; panes: number }> {
  await runAnotherProgram(page);
  await walkUpTo(page, name);
  await enterDemo(page, name);
  const expected = await page.$$eval(`section[data-demo="${name}"] .demo-pane`, (all) => all.length);
  await page.waitForFunction(
    ([n, k]) => document.querySelectorAll(`section[data-demo="${n}"] .demo-pane[data-state="live"]`).length === k,
    [name, expected] as const,
    { timeout: 20_000 },
  );
  const frames = await paneFrames(page, name);
  if (frames.length !== expected) throw new Error(`websocket demo: ${frames.length} pane frames, expected ${expected}`);
  // In each page: after its own onmessage has listed a broadcast, note when (the pages' `ws`).
  for (const frame of frames) {
    await frame.waitForFunction(() => (window as any).ws?.readyState === 1, undefined, { timeout: 20_000 });
    await frame.evaluate(() => {
      const seen: Record<number, { sent: number; shown: number }> = {};
      (window as any).__broadcasts = seen;
      (window as any).ws.addEventListener("message", (event: MessageEvent) => {
        const data = JSON.parse(event.data as string);
        if (typeof data.broadcast === "number" && typeof data.sent === "number" && document.getElementById("status")?.textContent === `broadcast ${data.broadcast}`) {
          seen[data.broadcast] ??= { sent: data.sent, shown: Date.now() };
        }
      });
    });
  }
  const read = () => Promise.all(frames.map((f) => f.evaluate(() => (window as any).__broadcasts as Record<number, { sent: number; shown: number }>)));
  // Timed from the first broadcast every pane's listener saw (a pane may have had one before its
  // listener was there); from then on each must reach every pane.
  const ms: number[] = [];
  const deadline = Date.now() + count * 3000 + 15_000;
  let n = 0;
  while (ms.length < count && Date.now() < deadline) {
    const all = await read();
    if (n === 0) n = Math.min(Infinity, ...all.flatMap((seen) => Object.keys(seen).map(Number)));
    if (!Number.isFinite(n)) n = 0;
    else if (all.every((seen) => seen[n] !== undefined)) {
      const sent = all[0]![n]!.sent;
      ms.push(Math.max(...all.map((seen) => seen[n]!.shown)) - sent);
      n++;
      continue;
    } else if (all.some((seen) => Object.keys(seen).some((k) => Number(k) > n))) {
      if (ms.length > 0) throw new Error(`broadcast ${n} did not reach every pane`);
      n++; // before a listener was in place
      continue;
    }
    await page.waitForTimeout(200);
  }
  if (ms.length < count) throw new Error(`only ${ms.length} of ${count} broadcasts reached every pane in time`);
  return { ms, panes: frames.length };
}

export async function benchDemos(page: Page, runs: number, broadcasts: number): Promise<DemoBench> {
  const entries = await benchDemoEntries(page, runs);
  const broadcast = await benchBroadcast(page, broadcasts);
  return { entries, broadcastMs: broadcast.ms, panes: broadcast.panes };
}

/** Rows for bench/playground.ts's table: [name, values, target, note]. */
export function demoRows(result: DemoBench): Array<[string, number[], number | undefined, string?]> {
  const rows: Array<[string, number[], number | undefined, string?]> = [];
  for (const [name, entry] of Object.entries(result.entries)) {
    rows.push([`enter demo ${name} → first live output (${entry.kind}: ${entry.what})`, entry.ms, DEMO_TARGET_MS]);
  }
  rows.push([`websocket demo: a broadcast from the server's write to the last of ${result.panes} panes showing it`, result.broadcastMs, undefined]);
  return rows;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const runs = Number(arg("--runs") ?? 9);
  const repo = resolve(import.meta.dirname, "..");
  let dist = arg("--dist");
  let temp: string | undefined;
  if (!dist) {
    temp = mkdtempSync(join(tmpdir(), "bench-demos-"));
    dist = join(temp, "dist");
    const built = spawnSync(process.execPath, [join(repo, "node_modules/vite/bin/vite.js"), "build", "--outDir", dist, "--emptyOutDir", "--logLevel", "error"], { cwd: repo, stdio: "inherit" });
    if (built.status !== 0) throw new Error("vite build failed");
  }
  const nice = await niceBrowserBench();
  const server = await startStaticServer({ root: dist, mount: "/talks/tornado/", isolation: false });
  const browser = await launchBrowser();
  const load = { start: loadAverages(), end: "" };
  let result: DemoBench;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.addInitScript("globalThis.__name = (f) => f");
    await openDeck(page, server.url + "?no-coi");
    await page.waitForFunction(() => "__playground" in globalThis, undefined, { timeout: 20_000 });
    result = await benchDemos(page, runs, Number(arg("--broadcasts") ?? 5));
  } finally {
    load.end = loadAverages();
    await browser.close();
    await server.close();
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
  console.log(`in-page engine, built deck in Chromium headless; load average ${load.start} at the start, ${load.end} at the end${nice === null ? "" : `; browser at nice ${nice}`}\n`);
  let failed = false;
  for (const [name, xs, target] of demoRows(result)) {
    const m = median(xs);
    if (target !== undefined && !(m <= target)) failed = true;
    const verdict = target === undefined ? "" : ` (target ≤ ${target} ms: ${m <= target ? "ok" : "MISSED"})`;
    console.log(`${name}: median ${m.toFixed(1)} ms, p90 ${percentile(xs, 90).toFixed(1)}, min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, ${xs.length} runs${verdict}\n    runs: ${xs.map((x) => x.toFixed(1)).join(" ")}`);
  }
  for (const [name, entry] of Object.entries(result.entries)) console.log(`  ${name}: the deck's own stamps (from the slide change): ${entry.stampMs.map((x) => x.toFixed(1)).join(" ")}`);
  process.exitCode = failed ? 1 : 0;
}
