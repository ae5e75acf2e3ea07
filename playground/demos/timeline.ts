/**
 * The timeline view: runs a demo's command for one mode and draws one bar per request from the
 * times the program itself printed ("request 3: 0 ms -> 3004 ms"), as the lines arrive. While a
 * run is going, only the page's clock moves: a cursor, and the open end of a request the program
 * has reported sent (a line with `request` and `sent` only) but not yet answered; every other
 * edge of a bar is a time the program measured.
 *
 * The command may block the program on purpose (a blocking handler), so each run passes the
 * watchdog a time budget: the run's expected length (the manifest's `budget`, a product of the
 * editable parameters) plus the usual command time, capped by the demo's `budgetMs`. Past that
 * the program is a runaway and the engine stops it.
 */
import { COMMAND_TIMEOUT_MS } from "../engine.js";
import type { Playground } from "../deck.js";
import type { DemoView } from "./index.js";
import type { DemoWidget } from "../../slides/demos/catalog.js";

export type TimelineOptions = Extract<DemoWidget, { kind: "timeline" }>;

interface Bar {
  request: number;
  start: number;
  end: number;
  sent?: number;
  answered?: number;
}

const barEnd = (bar: Bar) => Math.max(bar.end, bar.answered ?? 0);

/** Fill `{name}` placeholders; unknown names stay as written. */
export function fillCommand(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
}

/** The watchdog budget for a run, in ms: expected seconds (a product of params) × 1.5 + the usual command time, capped. */
export function runBudgetMs(expression: string | undefined, params: Record<string, number>, capMs: number | undefined): number | undefined {
  if (!expression) return capMs;
  const seconds = expression.split("*").reduce((product, term) => {
    const name = term.trim();
    const value = /^\d+(\.\d+)?$/.test(name) ? Number(name) : params[name];
    return product * (Number.isFinite(value) ? Number(value) : 1);
  }, 1);
  const wanted = COMMAND_TIMEOUT_MS + seconds * 1500;
  return capMs === undefined ? wanted : Math.min(capMs, wanted);
}

export class TimelineView implements DemoView {
  private readonly inputs = new Map<string, HTMLInputElement>();
  private readonly chart: HTMLElement;
  private readonly status: HTMLElement;
  private readonly lanes = new Map<string, HTMLElement>();
  private readonly lineRegex: RegExp;
  private running = false;
  private lastMode: string;

  constructor(
    private readonly playground: Playground,
    private readonly name: string,
    private readonly el: HTMLElement,
    private readonly options: TimelineOptions,
    private readonly capMs: number | undefined,
  ) {
    this.lineRegex = new RegExp(options.line);
    this.lastMode = options.modes[0]!;
    const form = document.createElement("div");
    form.className = "timeline-controls";
    for (const [param, value] of Object.entries(options.params)) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "number";
      input.min = "0";
      input.step = "any";
      input.value = String(value);
      input.name = param;
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") void this.run(this.lastMode);
      });
      label.append(`${param} `, input);
      this.inputs.set(param, input);
      form.append(label);
    }
    for (const mode of options.modes) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "timeline-run-button";
      button.dataset.mode = mode;
      button.textContent = `run ${mode} ▶`;
      button.addEventListener("click", (e) => {
        e.stopPropagation();
        void this.run(mode);
      });
      form.append(button);
    }
    this.chart = document.createElement("div");
    this.chart.className = "timeline-chart";
    this.status = document.createElement("div");
    this.status.className = "timeline-status";
    this.status.setAttribute("aria-live", "polite");
    this.el.append(form, this.chart, this.status);
    // Ctrl/Cmd+Enter in the program's editor re-runs the last mode with the edited program.
    playground.runners.set(name, () => this.run(this.lastMode, true));
  }

  /** Entering the slide runs the first mode afresh (a blocking run is only ever started by hand). */
  enter(): void {
    void this.run(this.options.modes[0]!);
  }

  private params(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [param, input] of this.inputs) out[param] = Number(input.value);
    return out;
  }

  private lane(mode: string): HTMLElement {
    let lane = this.lanes.get(mode);
    if (!lane) {
      lane = document.createElement("div");
      lane.className = "timeline-run";
      lane.dataset.mode = mode;
      this.lanes.set(mode, lane);
      // Lanes in the order of the modes, whatever ran first.
      const order = this.options.modes;
      const after = [...this.lanes.entries()].filter(([m]) => order.indexOf(m) > order.indexOf(mode)).map(([, l]) => l).find((l) => l.isConnected);
      this.chart.insertBefore(lane, after ?? null);
    }
    return lane;
  }

  /** Redraw every lane on one time scale, so the two runs compare at a glance. */
  private rescale(): void {
    const longest = Math.max(1, ...[...this.lanes.values()].map((l) => Number(l.dataset.scaleMs) || 0));
    for (const lane of this.lanes.values()) {
      for (const bar of lane.querySelectorAll<HTMLElement>(".timeline-bar, .timeline-wait, .timeline-cursor")) {
        const start = Number(bar.dataset.start);
        const end = Number(bar.dataset.end);
        bar.style.left = `${(start / longest) * 100}%`;
        bar.style.width = `${Math.max(0.4, ((end - start) / longest) * 100)}%`;
      }
      const axis = lane.querySelector<HTMLElement>(".timeline-axis");
      if (axis) axis.textContent = `0 … ${(longest / 1000).toFixed(1)} s`;
    }
  }

  async run(mode: string, force = false): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.lastMode = mode;
    const params = this.params();
    const command = fillCommand(this.options.command, { mode, ...params });
    const budget = runBudgetMs(this.options.budget, params, this.capMs);
    const lane = this.lane(mode);
    lane.dataset.state = "running";
    delete lane.dataset.totalMs;
    lane.dataset.scaleMs = "1";
    const title = document.createElement("div");
    title.className = "timeline-title";
    title.textContent = `${mode}: running…`;
    const track = document.createElement("div");
    track.className = "timeline-track";
    const axis = document.createElement("div");
    axis.className = "timeline-axis";
    lane.replaceChildren(title, track, axis);
    const cursor = document.createElement("div");
    cursor.className = "timeline-cursor";
    cursor.dataset.start = "0";
    cursor.dataset.end = "0";
    track.append(cursor);
    this.el.dataset.state = "running";
    this.status.textContent = `$ ${command}`;
    const bars: Bar[] = [];
    const t0 = performance.now();
    let pending = "";
    let frame = 0;
    /** Requests reported sent and not yet answered: their wait bar ends at the cursor. */
    const open = new Map<number, HTMLElement>();
    const tick = () => {
      // The cursor is the page's clock: how long the run has been going, not a measurement.
      const elapsed = performance.now() - t0;
      cursor.dataset.end = String(elapsed);
      for (const wait of open.values()) wait.dataset.end = String(Math.max(Number(wait.dataset.start), elapsed));
      lane.dataset.scaleMs = String(Math.max(elapsed, ...bars.map(barEnd)));
      this.rescale();
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    const rows = Math.max(1, params.n ?? 1);
    const place = (div: HTMLElement, request: number, from: number, to: number, height: number) => {
      div.dataset.request = String(request);
      div.dataset.start = String(from);
      div.dataset.end = String(to);
      div.style.top = `${((request - 1) * 100) / rows + ((1 - height) * 50) / rows}%`;
      div.style.height = `${(height * 100) / rows}%`;
      track.append(div);
    };
    const onLine = (line: string) => {
      const m = this.lineRegex.exec(line.trim());
      const g = m?.groups;
      if (g && g.request !== undefined && g.sent !== undefined && g.start === undefined && !open.has(Number(g.request))) {
        // Sent, not answered yet: a wait bar from the program's time, open until its answer.
        const request = Number(g.request);
        const wait = document.createElement("div");
        wait.className = "timeline-wait";
        wait.dataset.open = "true";
        wait.title = `request ${request}: sent at ${g.sent} ms, waiting`;
        place(wait, request, Number(g.sent), Math.max(Number(g.sent), performance.now() - t0), 0.16);
        open.set(request, wait);
      } else if (g && g.request !== undefined && g.start !== undefined && g.end !== undefined) {
        const bar: Bar = { request: Number(g.request), start: Number(g.start), end: Number(g.end) };
        if (g.sent !== undefined && g.answered !== undefined) {
          bar.sent = Number(g.sent);
          bar.answered = Number(g.answered);
          open.get(bar.request)?.remove();
          open.delete(bar.request);
          const wait = document.createElement("div");
          wait.className = "timeline-wait";
          wait.title = `request ${bar.request}: sent at ${bar.sent} ms, answered at ${bar.answered} ms`;
          place(wait, bar.request, bar.sent, bar.answered, 0.16);
        }
        bars.push(bar);
        const div = document.createElement("div");
        div.className = "timeline-bar";
        div.title = `request ${bar.request}: served ${bar.start} → ${bar.end} ms`;
        place(div, bar.request, bar.start, bar.end, 0.7);
      } else {
        const total = /: (\d+) ms$/.exec(line.trim());
        if (total) lane.dataset.totalMs = total[1]!;
      }
    };
    try {
      const { start, result } = await this.playground.run(this.name, command, (chunk) => {
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop()!;
        for (const line of lines) onLine(line);
      }, force, budget);
      if (pending) onLine(pending);
      cancelAnimationFrame(frame);
      cursor.remove();
      if (!start.ok) {
        lane.dataset.state = "error";
        title.textContent = `${mode}: the program did not start (${start.kind})`;
        this.status.textContent = start.message;
      } else if (result?.timedOut) {
        lane.dataset.state = "timeout";
        title.textContent = `${mode}: stopped by the watchdog after ${((budget ?? COMMAND_TIMEOUT_MS) / 1000).toFixed(1)} s (over this run's time budget: a runaway?)`;
        this.status.textContent = result.stderr.trim();
      } else if (result && result.exitCode !== 0) {
        lane.dataset.state = "error";
        title.textContent = `${mode}: curl exited with ${result.exitCode}`;
        this.status.textContent = result.stderr.trim();
      } else {
        lane.dataset.state = "done";
        const total = lane.dataset.totalMs ?? String(Math.max(0, ...bars.map(barEnd)));
        lane.dataset.totalMs = total;
        title.textContent = `${mode}: ${bars.length} requests in ${(Number(total) / 1000).toFixed(2)} s (measured by the program)`;
      }
      lane.dataset.scaleMs = String(Math.max(1, ...bars.map(barEnd)));
      this.rescale();
    } catch (error) {
      cancelAnimationFrame(frame);
      lane.dataset.state = "error";
      title.textContent = `${mode}: ${(error as Error).message}`;
    } finally {
      this.running = false;
      this.el.dataset.state = "idle";
      this.el.dataset.runs = String(Number(this.el.dataset.runs ?? 0) + 1);
    }
  }
}
