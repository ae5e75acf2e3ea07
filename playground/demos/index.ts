/**
 * The live parts of demo slides (slides/demos/render.ts renders them from each demo's manifest):
 * the buttons that put one of the demo's commands in its terminal and run it, and the view its
 * widget kind names (a re-runnable timeline, a traced pseudo-code). Nothing here knows a
 * particular demo; everything comes from the slide's markup.
 */
import type { Playground } from "../deck.js";
import { cookiesSet, fillCommand } from "./commands.js";
import { TimelineView, type TimelineOptions } from "./timeline.js";
import { TraceView, type TraceOptions } from "./trace.js";
import { PanesView } from "../panes/view.js";
import { FirstOutputWatch } from "./first-output.js";
import "./demos.css";

export interface DemoView {
  /** The slide was entered: show the first live output if there is none yet. */
  enter(): void;
}

export class Demos {
  private readonly views = new Map<HTMLElement, DemoView[]>();
  private readonly watches = new Map<HTMLElement, FirstOutputWatch>();
  private current: FirstOutputWatch | null = null;

  constructor(private readonly playground: Playground) {
    // A demo whose first output is its panes: once its program is started ahead, they load from it.
    playground.onPrepared((name) => {
      for (const slide of document.querySelectorAll<HTMLElement>("section[data-demo][data-first-output=pane]")) {
        if (slide.dataset.example !== name) continue;
        for (const view of this.viewsOf(slide)) if (view instanceof PanesView) view.preload();
      }
    });
  }

  /** Called for every slide shown; only demo slides do anything. */
  show(slide: HTMLElement | undefined): void {
    this.current?.leave();
    this.current = null;
    if (!slide?.dataset.demo) return;
    let watch = this.watches.get(slide);
    if (!watch) this.watches.set(slide, (watch = new FirstOutputWatch(slide)));
    // From the slide change (Playground.show has just set enteredAt and posted the command).
    watch.enter(this.playground.enteredAt);
    this.current = watch;
    for (const view of this.viewsOf(slide)) view.enter();
  }

  /** The slide's views, mounted on first use. */
  private viewsOf(slide: HTMLElement): DemoView[] {
    let views = this.views.get(slide);
    if (!views) {
      views = this.mount(slide);
      this.views.set(slide, views);
    }
    return views;
  }

  private mount(slide: HTMLElement): DemoView[] {
    const name = slide.dataset.demo!;
    const terminal = slide.querySelector<HTMLElement>(".live-command");
    // Cookies the terminal has seen set, for commands that send one back altered.
    const cookies = new Map<string, string>();
    const note = slide.querySelector<HTMLElement>(".demo-commands");
    for (const button of slide.querySelectorAll<HTMLButtonElement>("button[data-run-command]")) {
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        if (!terminal) return;
        const filled = fillCommand(button.dataset.runCommand!, cookies);
        if (note) note.dataset.error = filled.ok ? "" : filled.error;
        if (filled.ok) void this.playground.runIn(terminal, filled.command);
      });
    }
    if (terminal) {
      new MutationObserver(() => cookiesSet(terminal.querySelector(".playground-transcript")?.textContent ?? "", cookies)).observe(terminal, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    }
    const views: DemoView[] = [];
    for (const el of slide.querySelectorAll<HTMLElement>(".demo-widget")) {
      const options = JSON.parse(el.dataset.options ?? "{}") as { kind: string };
      const budgetMs = Number(slide.dataset.budgetMs) || undefined;
      if (options.kind === "timeline") views.push(new TimelineView(this.playground, name, el, options as TimelineOptions, budgetMs));
      else if (options.kind === "trace") views.push(new TraceView(this.playground, slide, el, options as TraceOptions));
      else el.textContent = `this deck has no view for "${options.kind}"`;
    }
    const panes = slide.querySelector<HTMLElement>(".demo-panes");
    if (panes) views.push(new PanesView(this.playground, name, slide, panes));
    return views;
  }
}
