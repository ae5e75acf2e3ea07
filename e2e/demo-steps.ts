/**
 * Steps through the live demos (slides/demos/) as a person does on their slides: go to a demo,
 * click its commands, edit its program, run the timeline. Shared by the demos' own suite and
 * the offline tour; each step waits on the deck's signals (a run counter, a state), bounded by
 * the test's timeout.
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { editorReady, until } from "./support.js";

/** Shows the demo `name`'s slide (in its vertical stack); entering it runs its first command. */
export async function showDemo(page: Page, name: string): Promise<void> {
  await page.evaluate((n) => {
    const deck = (window as any).deck;
    const { h, v } = deck.getIndices(document.querySelector(`section[data-demo="${n}"]`));
    deck.slide(h, v);
  }, name);
  await until(page, `the ${name} demo's slide`, (n) => document.querySelector(`section[data-demo="${n}"]`)?.classList.contains("present"), name);
}

export const terminalOf = (name: string) => `section[data-demo="${name}"] .live-command`;

/** Waits for the demo terminal's next finished run after `before`; returns its transcript and log. */
export async function terminalRun(page: Page, name: string, before: number): Promise<{ state: string; transcript: string; log: string }> {
  const sel = terminalOf(name);
  await until(page, `a run of the ${name} demo's terminal`, ([s, n]) => Number(document.querySelector<HTMLElement>(s)?.dataset.runs ?? 0) > n, [sel, before] as const);
  return page.evaluate((s) => {
    const el = document.querySelector<HTMLElement>(s)!;
    return { state: el.dataset.state ?? "", transcript: el.querySelector(".playground-transcript")?.textContent ?? "", log: el.querySelector(".playground-server-log")?.textContent ?? "" };
  }, sel);
}

export const runsOf = (page: Page, name: string) => page.evaluate((s) => Number(document.querySelector<HTMLElement>(s)?.dataset.runs ?? 0), terminalOf(name));

/** Click the demo's n-th command button (1-based) and wait for its run. */
export async function runPreset(page: Page, name: string, n: number) {
  const before = await runsOf(page, name);
  await page.click(`section[data-demo="${name}"] .demo-commands button:nth-child(${n})`);
  return terminalRun(page, name, before);
}

/** Replace the demo program's text in its editor (as typing would: the edit is kept and runs). */
export async function setProgram(page: Page, name: string, edit: (text: string) => string): Promise<void> {
  const sel = `section[data-demo="${name}"] .code-ts[data-example="${name}"]`;
  await editorReady(page, sel);
  const text = await page.evaluate((s) => (globalThis as any).__playground.editorIn(document.querySelector(s)).getValue() as string, sel);
  const next = edit(text);
  expect(next).not.toBe(text);
  await page.evaluate(([s, t]) => (globalThis as any).__playground.editorIn(document.querySelector(s as string)).setValue(t), [sel, next] as const);
}

export interface Lane {
  state: string;
  totalMs: number;
  bars: { request: number; start: number; end: number }[];
}

/** Run the timeline in `mode` with the given parameters; resolves once the run has ended. */
export async function runTimeline(page: Page, mode: string, params: Record<string, number>): Promise<Lane> {
  const widget = 'section[data-demo="blocking"] .demo-widget';
  for (const [name, value] of Object.entries(params)) await page.fill(`${widget} input[name="${name}"]`, String(value));
  const before = await page.evaluate((w) => Number(document.querySelector<HTMLElement>(w)!.dataset.runs ?? 0), widget);
  await page.click(`${widget} button[data-mode="${mode}"]`);
  await until(page, `the timeline's ${mode} run`, ([w, n]) => Number(document.querySelector<HTMLElement>(w)!.dataset.runs ?? 0) > n, [widget, before] as const);
  return page.evaluate(([w, m]) => {
    const lane = document.querySelector<HTMLElement>(`${w} .timeline-run[data-mode="${m}"]`)!;
    return {
      state: lane.dataset.state ?? "",
      totalMs: Number(lane.dataset.totalMs),
      bars: [...lane.querySelectorAll<HTMLElement>(".timeline-bar")]
        .map((b) => ({ request: Number(b.dataset.request), start: Number(b.dataset.start), end: Number(b.dataset.end) }))
        .sort((a, b) => a.start - b.start),
    };
  }, [widget, mode] as const);
}

/** Entering the blocking demo runs its first (non-blocking) lane with the defaults. */
export const firstLane = (page: Page) =>
  until(page, "the timeline's first run", () => document.querySelector<HTMLElement>('.timeline-run[data-mode="non-blocking"]')?.dataset.state === "done");

