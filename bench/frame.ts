/**
 * Live output within one frame (issue 13, target 3): from the presenter's action to the first
 * frame PAINTED with the output, in the in-page engine, in the built deck in Debian's Chromium.
 *
 * What the clock measures (performance.now() in the page, so no DevTools round trip in it):
 *   - start: a task of its own that calls `deck.slide()` (entering a slide by navigation, as
 *     the presenter's arrow key does) or clicks Run (an edit's Ctrl/Cmd+Enter);
 *   - end: the main thread has painted a frame showing the output. A terminal's output is on
 *     screen in xterm's rows (its DOM renderer draws them in an animation frame): the mutation
 *     of `.xterm-rows` that first holds the output is seen inside that frame, and a message
 *     posted from there runs once the frame's paint (and commit to the compositor) is done. For
 *     Run, the output is a `<pre>`: once it holds text, the next animation frame paints it, and
 *     a message posted from that frame's callback marks the end. The compositor's raster and
 *     the display's scan-out come after and are not in the figure.
 *   - "first output" is the response's first bytes ("HTTP/1.1 ..."), "full" the body's last.
 * Rows: entering the hello curl slide from its code slide with the program running, and with
 * a text never run before (edited on the title slide); Run a typist's pause after an edit; a
 * deep link (a new page opened on the curl slide) from navigation start and from the slide's
 * show. Each: median, p90, min, max, runs, and the load averages around it.
 *
 * Because the machine is shared, the same entries are also measured in CPU time: a Chrome
 * trace of the measured runs gives the renderer main thread's CPU (thread time, not wall time)
 * spent from the start task to the painted frame, the start task's and the painting frame's own,
 * and how many frames it took. That figure does not grow with other people's load (it is an
 * upper bound: unrelated tasks in the span count too). The worker runs the command on another
 * thread in parallel and is not in it.
 *
 * `--coi`: the deck on a cross-origin isolated host (COOP/COEP headers, `?engine=inpage`: the
 * WebContainer is not tried), where a command's output also comes through shared memory and is
 * taken in the slide's first frame (playground/inpage/shared-output.ts); default: a host that is
 * not isolated (`?no-coi`), where it comes by message only.
 *
 * Usage: npx tsx bench/frame.ts [--runs N] [--dist DIR] [--coi] [--no-trace] [--trace-out FILE] [--strict]
 * (exit code 1 when a median misses its target; off by default on a shared machine); `BENCH_NICE=-10` runs the
 * browser at that nice level; `BENCH_FRAME_QUERY="&transition=none"` adds reveal settings to the
 * deck's URL (reveal reads its config from the query), for experiments. bench/deck.ts runs it
 * after bench/playground.ts. The trace also has `frame:dom:<id>` (the output in the DOM) and
 * `frame:drawn:<id>` (inside the frame that paints it: that task's end is the paint's).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { startStaticServer } from "../e2e/static-server.js";
import { launchBrowser, openDeck } from "../e2e/support.js";
import { builtDeck, deepLinks, loadAverages, median, niceBrowserBench, percentile } from "./lib.js";

const FRAME_MS = 16;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Painted {
  /** Start → the response's first bytes painted. */
  first: number;
  /** Start → the whole body painted. */
  full: number;
  /** Start → the output in the DOM (the terminal's transcript), not yet painted. */
  dom: number;
  /** Start → the first frame after the slide change painted, with or without the output. */
  slide?: number;
}

/**
 * In the page: enter slide `index` in a task of its own and resolve with the times to the
 * frames painted with the first and the full output. Marks `frame:start:<id>` and
 * `frame:painted:<id>` for the trace.
 */
function enterAndPaint(page: Page, index: number, id: string): Promise<Painted> {
  return page.evaluate(
    ([i, id]) =>
      new Promise<Painted>((resolve, reject) => {
        const slide = document.querySelectorAll(".reveal .slides > section")[i as number]!;
        const rows = () => slide.querySelector(".xterm-rows")?.textContent ?? "";
        const transcript = () => slide.querySelector(".playground-transcript")?.textContent ?? "";
        let t0 = 0;
        let dom = 0;
        let first = 0;
        let shown = 0;
        const afterPaint = (done: (t: number) => void) => {
          const channel = new MessageChannel();
          channel.port1.onmessage = () => done(performance.now() - t0);
          channel.port2.postMessage(null);
        };
        const observer = new MutationObserver((records) => {
          if (!t0) return;
          // The transcript is cleared in the slide change's task: what it holds after is this run's.
          if (!dom && /Hello, world$/.test(transcript())) {
            dom = performance.now() - t0;
            performance.mark(`frame:dom:${id}`);
          }
          const drawn = records.some((r) => (r.target as Element).closest?.(".xterm-rows") ?? r.target.parentElement?.closest(".xterm-rows"));
          if (!drawn || !/HTTP\/1\.1/.test(transcript())) return;
          // xterm drew its rows in this animation frame; what they hold is painted with it.
          if (!first && /HTTP\/1\.1/.test(rows())) {
            // Inside the frame that paints it: the trace's task around this mark is that frame.
            performance.mark(`frame:drawn:${id}`);
            afterPaint((t) => (first = t));
          }
          if (/Hello, world/.test(rows()) && dom) {
            observer.disconnect();
            afterPaint((full) => {
              performance.mark(`frame:painted:${id}`);
              resolve({ first: first || full, full, dom, slide: shown || full });
            });
          }
        });
        observer.observe(slide, { subtree: true, childList: true, characterData: true });
        setTimeout(() => reject(new Error("no output painted within 5 s")), 5000);
        // The navigation in a task of its own (as a key press is), so the trace can see it whole.
        setTimeout(() => {
          performance.mark(`frame:start:${id}`);
          t0 = performance.now();
          (window as any).deck.slide(i);
          requestAnimationFrame(() => afterPaint((t) => (shown = t)));
        }, 0);
      }),
    [index, id] as const,
  );
}

/** In the page: the hello handler writes `text` (as typing in the editor does). */
function editHello(page: Page, text: string): Promise<void> {
  return page.evaluate((t) => {
    const code = document.querySelector<HTMLElement>('.code-ts[data-example="hello"][data-file="hello.ts"]')!;
    const model = (globalThis as any).__playground.editorIn(code).getModel();
    model.setValue(model.getValue().replace(/this\.write\(".*?"\)/, `this.write(${JSON.stringify(t)})`));
  }, text);
}

/** In the page: click Run on the hello code slide; resolve with the times to the output painted. */
function runAndPaint(page: Page, text: string, id: string): Promise<Painted> {
  return page.evaluate(
    ([t, id]) =>
      new Promise<Painted>((resolve, reject) => {
        const code = document.querySelector<HTMLElement>('.code-ts[data-example="hello"][data-file="hello.ts"]')!;
        const out = code.querySelector<HTMLElement>(".playground-run-output")!;
        out.textContent = "";
        let t0 = 0;
        let first = 0;
        let dom = 0;
        let drawn = false;
        const painted = (done: (ms: number) => void) =>
          requestAnimationFrame(() => {
            // The first output's frame: the trace's task around this mark is the frame that paints it.
            if (!drawn) performance.mark(`frame:drawn:${id}`);
            drawn = true;
            const channel = new MessageChannel();
            channel.port1.onmessage = () => done(performance.now() - t0);
            channel.port2.postMessage(null);
          });
        const observer = new MutationObserver(() => {
          const text = out.textContent ?? "";
          if (!t0 || !text) return;
          if (!first) {
            first = -1;
            painted((ms) => (first = ms));
          }
          if (text.endsWith(t as string)) {
            observer.disconnect();
            dom = performance.now() - t0;
            painted((full) => {
              performance.mark(`frame:painted:${id}`);
              resolve({ first: first > 0 ? first : full, full, dom });
            });
          }
        });
        observer.observe(out, { subtree: true, childList: true, characterData: true });
        setTimeout(() => reject(new Error(`no output within 5 s: ${out.textContent}`)), 5000);
        setTimeout(() => {
          performance.mark(`frame:start:${id}`);
          t0 = performance.now();
          code.querySelector<HTMLButtonElement>(".playground-run")!.click();
        }, 0);
      }),
    [text, id] as const,
  );
}

/** CPU figures for one measured entry, from the trace (renderer main thread, thread time). */
interface Cpu {
  /** Every main-thread task from the start task to the painted frame, both included. */
  mainMs: number;
  /** The start task alone: reveal's slide change with the deck's handlers (or Run's click). */
  startMs: number;
  /** The frame that painted the output (animation frame callbacks, style, layout, paint). */
  frameMs: number;
  /** Frames painted in the span (the last one shows the output). */
  frames: number;
  /** Start mark → the end of the task of the frame that drew the first output (its paint done). */
  wallMs: number;
  /**
   * How long after that frame's task the page's own end mark (a message posted from the frame)
   * ran: the in-page clock's overstatement. Under load it was 0-520 ms (the message's delivery
   * waits for CPU), on a quiet machine it is near 0.
   */
  lagMs: number;
}

type TraceEvent = { name: string; ph: string; pid: number; tid: number; ts: number; dur?: number; tdur?: number; args?: any; cat?: string };

/**
 * From a Chrome trace: for each `frame:start:<id>` … `frame:painted:<id>` pair, the renderer
 * main thread's CPU (thread time: what other processes' load does not add to) in the top-level
 * tasks from the start task to the frame painted with the output, that frame's own, the start
 * task's own, and the frames painted in between. Tasks not on the output's path (a timer, a
 * prepared program's message) are in `mainMs` too: it is an upper bound.
 */
export function cpuFromTrace(json: string): Map<string, Cpu> {
  const parsed = JSON.parse(json);
  const events: TraceEvent[] = Array.isArray(parsed) ? parsed : parsed.traceEvents;
  const marks = new Map<string, number>();
  let markThread = "";
  for (const e of events) {
    if (typeof e.name === "string" && e.name.startsWith("frame:") && e.cat?.includes("user_timing")) {
      if (!marks.has(e.name)) marks.set(e.name, e.ts);
      markThread = `${e.pid}:${e.tid}`;
    }
  }
  const onMain = (e: TraceEvent) => `${e.pid}:${e.tid}` === markThread;
  const tasks = events.filter((e) => onMain(e) && e.ph === "X" && e.name === "ThreadControllerImpl::RunTask" && e.tdur !== undefined).sort((a, b) => a.ts - b.ts);
  const paints = events.filter((e) => onMain(e) && e.ph === "X" && e.name === "Paint").map((e) => e.ts);
  const taskAt = (ts: number) => tasks.find((t) => t.ts <= ts && ts <= t.ts + t.dur!);
  const out = new Map<string, Cpu>();
  for (const [name, start] of marks) {
    if (!name.startsWith("frame:start:")) continue;
    const id = name.slice("frame:start:".length);
    const end = marks.get(`frame:painted:${id}`);
    const startTask = taskAt(start);
    if (end === undefined || !startTask) continue;
    // The span ends with the frame marked as drawing the first output; without that mark, with
    // the last frame before the painted mark (set in a task after the frame). The painted mark
    // can come hundreds of ms after that frame on a loaded machine, with frames in between.
    const drawn = marks.get(`frame:drawn:${id}`);
    const framesIn = [...new Set(paints.filter((p) => p > start && p < end).map((p) => taskAt(p)).filter((t): t is TraceEvent => !!t))];
    const last = (drawn === undefined ? undefined : taskAt(drawn)) ?? framesIn.at(-1);
    if (!last) continue;
    const span = tasks.filter((t) => t.ts >= startTask.ts && t.ts <= last.ts);
    const lastEnd = last.ts + last.dur!;
    out.set(id, {
      mainMs: span.reduce((n, t) => n + t.tdur!, 0) / 1000,
      startMs: startTask.tdur! / 1000,
      frameMs: last.tdur! / 1000,
      frames: framesIn.filter((t) => t.ts <= last.ts).length,
      wallMs: (lastEnd - start) / 1000,
      lagMs: Math.max(0, end - lastEnd) / 1000,
    });
  }
  return out;
}

/**
 * The floor under the 16 ms target on this machine: a bare reveal.js deck (the same reveal, 26
 * slides of a heading and twelve lines of code, nothing else) in the same browser, with the
 * same query (`BENCH_FRAME_QUERY`), from a slide change's start task to its first frame painted.
 * It keeps no address in the URL (`hash: false`), so no `history.replaceState` is in its change.
 * What our deck adds to a slide change is the difference to our own "slide's first frame" row.
 */
async function bareRevealFloor(browser: Browser, runs: number): Promise<number[]> {
  const root = mkdtempSync(join(tmpdir(), "bench-frame-bare-"));
  cpSync(resolve(import.meta.dirname, "../node_modules/reveal.js/dist"), join(root, "reveal"), { recursive: true });
  const code = Array.from({ length: 12 }, (_, k) => `line ${k} of the slide's code()`).join("\n");
  const slides = Array.from({ length: 26 }, (_, i) => `<section><h2>Slide ${i}</h2><pre><code>${code}</code></pre></section>`).join("");
  writeFileSync(
    join(root, "index.html"),
    `<!doctype html><meta charset="utf-8"><link rel="stylesheet" href="reveal/reset.css"><link rel="stylesheet" href="reveal/reveal.css"><link rel="stylesheet" href="reveal/theme/white.css">` +
      `<div class="reveal"><div class="slides">${slides}</div></div>` +
      `<script type="module">import Reveal from "./reveal/reveal.mjs"; const deck = new Reveal({ hash: false, width: 1280, height: 720 }); deck.initialize().then(() => (window.deck = deck));</script>`,
  );
  const server = await startStaticServer({ root, isolation: false });
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const out: number[] = [];
  try {
    await page.addInitScript("globalThis.__name = (f) => f");
    await page.goto(server.url + "?" + (process.env.BENCH_FRAME_QUERY ?? "").replace(/^&/, ""));
    await page.waitForFunction(() => (window as any).deck?.isReady());
    for (let r = 0; r < runs; r++) {
      await page.evaluate(() => (window as any).deck.slide(1));
      await page.waitForTimeout(400);
      out.push(
        await page.evaluate(
          () =>
            new Promise<number>((done) =>
              setTimeout(() => {
                const t0 = performance.now();
                (window as any).deck.slide(2);
                requestAnimationFrame(() => {
                  const channel = new MessageChannel();
                  channel.port1.onmessage = () => done(performance.now() - t0);
                  channel.port2.postMessage(null);
                });
              }, 0),
            ),
        ),
      );
    }
  } finally {
    await page.close();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
  return out;
}

export interface FrameBench {
  rows: Array<{ name: string; ms: number[]; target?: number; cpu?: Cpu[] }>;
  load: { start: string; end: string };
  nice: number | null;
}

export async function benchFrame(options: { runs?: number; dist?: string; trace?: boolean; traceOut?: string; coi?: boolean } = {}): Promise<FrameBench> {
  const runs = options.runs ?? 15;
  const trace = options.trace ?? true;
  const { dist, cleanup } = builtDeck(options.dist, "bench-frame-");
  const nice = await niceBrowserBench();
  const server = await startStaticServer({ root: dist, mount: "/talks/tornado/", isolation: !!options.coi });
  const query = options.coi ? "?engine=inpage" : "?no-coi";
  const browser: Browser = await launchBrowser();
  const load = { start: loadAverages(), end: "" };
  const rows = {
    warmFirst: [] as number[],
    warmFull: [] as number[],
    warmDom: [] as number[],
    warmSlide: [] as number[],
    bareSlide: [] as number[],
    newFirst: [] as number[],
    newFull: [] as number[],
    editFirst: [] as number[],
    editFull: [] as number[],
    deepNav: [] as number[],
    deepShown: [] as number[],
  };
  const cpu = { warm: [] as Cpu[], fresh: [] as Cpu[], edit: [] as Cpu[] };
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  let live = -1;
  try {
    await page.addInitScript("globalThis.__name = (f) => f");
    await openDeck(page, server.url + query + (process.env.BENCH_FRAME_QUERY ?? ""));
    await page.waitForFunction(() => "__playgroundEngines" in globalThis, undefined, { timeout: 20_000 });
    if ((await page.evaluate(() => crossOriginIsolated)) !== !!options.coi) throw new Error(`the deck is ${options.coi ? "not " : ""}cross-origin isolated`);
    live = await page.evaluate(() =>
      [...document.querySelectorAll(".reveal .slides > section")].findIndex((s) => s.querySelector('.live-command[data-example="hello"]')),
    );
    const code = live - 1;
    const go = (i: number) => page.evaluate((i) => (window as any).deck.slide(i), i);
    // A presenter's dwell, shorter than any real one: the deck's work ahead must fit in it. Over
    // a second, as at a speaking pace: reveal writes the URL in the slide change only when its
    // last write is a second old (a shorter dwell measured a path the stage never takes).
    const dwell = () => page.waitForTimeout(1100);
    // Unmeasured: Monaco, xterm and the first program loaded, as a few slides into the talk.
    await go(code);
    await page.waitForFunction((i) => document.querySelectorAll(".reveal .slides > section")[i]?.querySelector<HTMLElement>(".code-ts")?.dataset.editor === "ready", code, { timeout: 20_000 });
    await go(live);
    await page.waitForFunction((i) => /Hello, world/.test(document.querySelectorAll(".reveal .slides > section")[i]?.querySelector(".playground-transcript")?.textContent ?? ""), live, { timeout: 20_000 });
    await dwell();
    if (trace) await browser.startTracing(page, { categories: ["toplevel", "devtools.timeline", "blink.user_timing"] });
    for (let r = 0; r < runs; r++) {
      await go(code);
      await dwell();
      const warm = await enterAndPaint(page, live, `warm${r}`);
      rows.warmFirst.push(warm.first);
      rows.warmFull.push(warm.full);
      rows.warmDom.push(warm.dom);
      rows.warmSlide.push(warm.slide ?? warm.full);
      await go(0);
      await dwell();
      // A text never run before (a comment line differs each time), then code slide, curl slide.
      await page.evaluate((t) => {
        const el = document.querySelector('.code-ts[data-example="hello"][data-file="hello.ts"]')!;
        const model = (globalThis as any).__playground.editorIn(el).getModel();
        model.setValue(model.getValue().replace(/\n*(\/\/ frame \d+\n*)?$/, `\n// frame ${t}\n`));
      }, r);
      await go(code);
      await dwell();
      const fresh = await enterAndPaint(page, live, `new${r}`);
      rows.newFirst.push(fresh.first);
      rows.newFull.push(fresh.full);
    }
    await go(code);
    await dwell();
    for (let r = 0; r < runs; r++) {
      const text = `Hello, frame ${r}`;
      await editHello(page, text);
      await page.waitForTimeout(300); // a typist's pause before Ctrl/Cmd+Enter (bench/playground.ts)
      const edit = await runAndPaint(page, text, `edit${r}`);
      rows.editFirst.push(edit.first);
      rows.editFull.push(edit.full);
      await dwell();
    }
    if (trace) {
      const json = (await browser.stopTracing()).toString("utf8");
      if (options.traceOut) writeFileSync(options.traceOut, json);
      const byId = cpuFromTrace(json);
      for (const [id, c] of byId) (id.startsWith("warm") ? cpu.warm : id.startsWith("new") ? cpu.fresh : cpu.edit).push(c);
    }
    // Put the talk's code back for the deep links (a new page reads the stored edits).
    await page.evaluate(() => localStorage.clear());
    await page.close();

    rows.bareSlide.push(...(await bareRevealFloor(browser, runs)));

    const deep = await deepLinks(
      browser,
      `${server.url}${query}#/${live}`,
      Math.min(runs, 7),
      "__paintedAt",
      () => {
        // The first frame painted with the curl slide's full output, in ms since navigation start.
        new MutationObserver((records, observer) => {
          const command = document.querySelector<HTMLElement>('.live-command[data-example="hello"]');
          if (!command || !/Hello, world$/.test(command.querySelector(".playground-transcript")?.textContent ?? "")) return;
          if (!records.some((r) => (r.target as Element).closest?.(".xterm-rows") ?? r.target.parentElement?.closest(".xterm-rows"))) return;
          if (!/Hello, world/.test(command.querySelector(".xterm-rows")?.textContent ?? "")) return;
          observer.disconnect();
          const channel = new MessageChannel();
          channel.port1.onmessage = () => ((globalThis as any).__paintedAt = performance.now());
          channel.port2.postMessage(null);
        }).observe(document.documentElement, { subtree: true, childList: true, characterData: true });
      },
      // enteredAt: when the playground showed the slide (its plugin starts after the first slide).
      (fresh) => fresh.evaluate(() => ({ painted: (globalThis as any).__paintedAt as number, shown: (globalThis as any).__playground.enteredAt as number })),
    );
    for (const t of deep) {
      rows.deepNav.push(t.painted);
      rows.deepShown.push(t.painted - t.shown);
    }
  } finally {
    load.end = loadAverages();
    await browser.close();
    await server.close();
    cleanup();
  }
  return {
    rows: [
      { name: "enter hello curl slide from its code slide (program running) → first output painted", ms: rows.warmFirst, target: FRAME_MS, cpu: cpu.warm },
      { name: "enter hello curl slide from its code slide (program running) → full output painted", ms: rows.warmFull },
      { name: "enter hello curl slide from its code slide (program running) → output in the DOM, not yet painted", ms: rows.warmDom },
      { name: "enter hello curl slide from its code slide (program running) → the slide's first frame painted, with or without output", ms: rows.warmSlide },
      { name: "floor: a bare reveal.js deck (26 slides of text, same browser and query) → the next slide's first frame painted", ms: rows.bareSlide },
      { name: "enter hello curl slide from its code slide (text never run) → first output painted", ms: rows.newFirst, target: FRAME_MS, cpu: cpu.fresh },
      { name: "enter hello curl slide from its code slide (text never run) → full output painted", ms: rows.newFull },
      { name: "Run, a typist's pause after the edit → first output painted", ms: rows.editFirst, target: FRAME_MS, cpu: cpu.edit },
      { name: "Run, a typist's pause after the edit → full output painted", ms: rows.editFull },
      { name: "deep link to the curl slide: navigation start → output painted", ms: rows.deepNav },
      { name: "deep link to the curl slide: slide shown (playground) → output painted", ms: rows.deepShown },
    ],
    load,
    nice,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const result = await benchFrame({
    runs: Number(arg("--runs") ?? 15),
    ...(arg("--dist") ? { dist: arg("--dist")! } : {}),
    trace: !process.argv.includes("--no-trace"),
    ...(arg("--trace-out") ? { traceOut: arg("--trace-out")! } : {}),
    coi: process.argv.includes("--coi"),
  });
  const f = (x: number) => x.toFixed(1);
  console.log(
    `live output within one frame: in-page engine, built deck in Chromium headless, ${process.argv.includes("--coi") ? "cross-origin isolated (output through shared memory too)" : "not isolated (output by message)"}; load average ${result.load.start} at the start, ${result.load.end} at the end` +
      (result.nice === null ? "" : `; browser at nice ${result.nice}`) +
      "\nwall clock: start task → the main thread has painted the frame with the output\n",
  );
  let missed = false;
  for (const row of result.rows) {
    const m = median(row.ms);
    const verdict = row.target === undefined ? "" : m <= row.target ? ` (target ≤ ${row.target} ms: ok)` : ` (target ≤ ${row.target} ms: MISSED)`;
    if (row.target !== undefined && !(m <= row.target)) missed = true;
    console.log(`${row.name}: median ${f(m)} ms, p90 ${f(percentile(row.ms, 90))}, min ${f(Math.min(...row.ms))}, max ${f(Math.max(...row.ms))}, ${row.ms.length} runs${verdict}\n    runs: ${row.ms.map(f).join(" ")}`);
    if (row.cpu?.length) {
      const med = (pick: (c: Cpu) => number) => f(median(row.cpu!.map(pick)));
      const main = row.cpu.map((c) => c.mainMs);
      console.log(
        `    CPU, main thread (trace, thread time), ${row.cpu.length} runs: start task → painted frame median ${f(median(main))} ms (p90 ${f(percentile(main, 90))})` +
          (median(main) <= FRAME_MS ? " (within one frame)" : " (over one frame)") +
          `; of it the start task ${med((c) => c.startMs)} ms, the painting frame ${med((c) => c.frameMs)} ms; frames painted in the span: median ${med((c) => c.frames)}` +
          `; traced wall to that frame's paint median ${med((c) => c.wallMs)} ms (the in-page end mark came ${med((c) => c.lagMs)} ms after it, median)`,
      );
    }
  }
  console.log(
    JSON.stringify({
      bench: "frame",
      coi: process.argv.includes("--coi"),
      load: result.load,
      nice: result.nice,
      rows: Object.fromEntries(
        result.rows.map((r) => [
          r.name,
          {
            median: Number(f(median(r.ms))),
            p90: Number(f(percentile(r.ms, 90))),
            runs: r.ms.length,
            ...(r.cpu?.length ? { cpuMainMedian: Number(f(median(r.cpu.map((c) => c.mainMs)))), cpuStartTaskMedian: Number(f(median(r.cpu.map((c) => c.startMs)))), cpuFrameMedian: Number(f(median(r.cpu.map((c) => c.frameMs)))) } : {}),
          },
        ]),
      ),
    }),
  );
  // Wall-clock targets on a shared machine are reported, not enforced by the exit code unless asked.
  process.exitCode = missed && process.argv.includes("--strict") ? 1 : 0;
}
