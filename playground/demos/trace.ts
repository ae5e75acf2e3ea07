/**
 * The trace view: the program logs what its IOLoop does (`trace <time> <kind>: <detail>`, from
 * the runtime's `setTraceHook`), and this view lights up the pseudo-code lines the manifest maps
 * each kind to, and lists the events with their times. Events come in bursts far faster than
 * eyes follow, so they are shown one after another at a readable pace, in the order and with the
 * times the loop reported; nothing is shown that the program did not log.
 */
import type { Playground } from "../deck.js";
import type { DemoView } from "./index.js";
import type { DemoWidget } from "../../slides/demos/catalog.js";

export type TraceOptions = Extract<DemoWidget, { kind: "trace" }>;

interface TraceLine {
  time: number;
  kind: string;
  detail: string;
}

const KIND_WORDS: Record<string, string> = {
  readable: "socket readable",
  callback: "callback run",
  timer: "timer fired",
  write: "write done",
};

/** One `trace …` log line, or null. */
export function parseTraceLine(line: string): TraceLine | null {
  const m = /^trace (\d+(?:\.\d+)?) (\w+): (.*)$/.exec(line.trim());
  return m ? { time: Number(m[1]), kind: m[2]!, detail: m[3]! } : null;
}

const STEP_MS = 450;
const SHOWN = 4;

export class TraceView implements DemoView {
  private readonly list: HTMLOListElement;
  private readonly queue: TraceLine[] = [];
  private pending = "";
  private timer: ReturnType<typeof setTimeout> | null = null;
  private first: number | null = null;
  private count = 0;

  constructor(
    playground: Playground,
    private readonly slide: HTMLElement,
    private readonly el: HTMLElement,
    _options: TraceOptions,
  ) {
    const label = document.createElement("div");
    label.className = "playground-label";
    label.textContent = "what the IOLoop reported";
    this.list = document.createElement("ol");
    this.list.className = "trace-events";
    this.el.append(label, this.list);
    playground.onLogChunk((chunk) => {
      this.pending += chunk;
      const lines = this.pending.split("\n");
      this.pending = lines.pop()!;
      for (const line of lines) {
        const event = parseTraceLine(line);
        if (event) this.queue.push(event);
      }
      this.pump();
    });
  }

  /**
   * Entering the slide: what is still queued is gone by (events of an earlier request, paced
   * out after the presenter left, or the startup output of the program the deck prepared ahead,
   * replayed as the slide's command adopts it). Dropped, so the first event shown is one the
   * loop reports from now on, at once, not after the old ones' 450 ms steps.
   */
  enter(): void {
    this.queue.length = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const line of this.slide.querySelectorAll(".listing-line.lit")) line.classList.remove("lit");
  }

  private pump(): void {
    if (this.timer !== null) return;
    const event = this.queue.shift();
    if (!event) {
      for (const line of this.slide.querySelectorAll(".listing-line.lit")) line.classList.remove("lit");
      return;
    }
    this.show(event);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, STEP_MS);
  }

  private show(event: TraceLine): void {
    // Times relative to the first event seen, in the program's own clock.
    if (this.first === null || event.time - this.first > 60) this.first = event.time;
    for (const line of this.slide.querySelectorAll<HTMLElement>(".listing-line")) {
      const kinds = (line.dataset.trace ?? "").split(" ");
      line.classList.toggle("lit", kinds.includes(event.kind));
    }
    const li = document.createElement("li");
    li.dataset.kind = event.kind;
    const ms = ((event.time - this.first) * 1000).toFixed(1);
    li.textContent = `+${ms} ms  ${KIND_WORDS[event.kind] ?? event.kind}: ${event.detail}`;
    this.list.append(li);
    while (this.list.children.length > SHOWN) this.list.firstElementChild!.remove();
    this.el.dataset.events = String(++this.count);
    this.el.dataset.lastKind = event.kind;
  }
}
