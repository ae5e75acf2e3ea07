/**
 * A demo slide's browser panes (its manifest's `panes`, rendered by slides/demos/render.ts as
 * `.demo-pane` figures): each shows the page the demo's program serves, live, with its own
 * reload and close. Nothing here knows a particular demo.
 */
import type { Playground } from "../deck.js";
import { PaneFrame } from "./host.js";

export class PanesView {
  private readonly panes: { frame: PaneFrame; figure: HTMLElement; notice: HTMLElement; toggle: HTMLButtonElement }[] = [];

  constructor(
    private readonly playground: Playground,
    private readonly name: string,
    private readonly slide: HTMLElement,
    container: HTMLElement,
  ) {
    for (const figure of container.querySelectorAll<HTMLElement>(".demo-pane[data-url]")) {
      const frame = new PaneFrame(figure.dataset.url!, figure.dataset.title ?? figure.dataset.url!);
      const screen = figure.querySelector<HTMLElement>(".pane-screen") ?? figure;
      const notice = document.createElement("p");
      notice.className = "pane-notice";
      notice.setAttribute("role", "status");
      screen.replaceChildren(frame.frame, notice);
      const bar = figure.querySelector<HTMLElement>(".pane-bar") ?? figure;
      const reload = paneButton("⟳", `reload ${frame.frame.title}`, () => void this.load(frame, true, true));
      const toggle = paneButton("✕", `close ${frame.frame.title}`, () => (frame.state === "closed" ? void this.load(frame, true, true) : frame.close()));
      bar.append(reload, toggle);
      frame.visible = () => this.shown();
      frame.onState = (state, message) => {
        figure.dataset.state = state;
        const shows = state === "live" || state === "ready";
        notice.textContent = shows ? "" : message;
        notice.hidden = shows;
        toggle.textContent = state === "closed" ? "open" : "✕";
        toggle.setAttribute("aria-label", `${state === "closed" ? "open" : "close"} ${frame.frame.title}`);
      };
      this.panes.push({ frame, figure, notice, toggle });
    }
    // A program started afresh (an edit run, the watchdog's restart) while the slide is shown:
    // the panes load the new program's page.
    playground.onStart((started) => {
      if (started !== this.name || !this.shown()) return;
      for (const p of this.panes) {
        // A page loaded ahead from the very program now adopted is that program's already.
        if (this.ahead(p.frame)) p.frame.reveal();
        else if (p.frame.state !== "closed") void this.load(p.frame, false);
      }
    });
    playground.manager.onChange(() => {
      if (this.shown()) this.enter();
    });
  }

  private shown(): boolean {
    return this.playground.deck.getCurrentSlide() === this.slide;
  }

  /** Whether `frame` shows (or is loading) a page of the program running now, loaded ahead. */
  private ahead(frame: PaneFrame): boolean {
    return (frame.state === "ready" || frame.state === "loading" || frame.state === "live") && frame.attached;
  }

  /**
   * The program was started ahead (in-page: a neighbour slide is shown): the pages load now, from
   * that program, and are `ready` until the slide is entered, which then shows them at once.
   */
  preload(): void {
    const engine = this.playground.manager.engine;
    if (this.shown() || !engine.openPane || engine.previewUrl) return;
    const program = this.playground.sources.program(this.name);
    for (const p of this.panes) if (["idle", "ended", "failed"].includes(p.frame.state)) void p.frame.load(engine, program);
  }

  /** Entering the slide: every pane not live yet (and not closed by the presenter) loads. */
  enter(): void {
    // The program running already (started ahead and swapped in by the slide's own command):
    // load now, not after that command, which the engine's queue would put first.
    const running = this.playground.isRunning(this.name);
    for (const p of this.panes) {
      if (this.ahead(p.frame)) p.frame.reveal();
      else if (["idle", "ended", "failed", "ready"].includes(p.frame.state)) void this.load(p.frame, !running);
    }
  }

  /** Which program start (the playground's log generation) each pane last loaded the page of. */
  private readonly loadedFor = new Map<PaneFrame, number>();

  /**
   * Load the program's page in `frame` (`ensure`: start the program first if need be); unless
   * `force` (the pane's own buttons), a pane already loading or showing the page of this very
   * program start is left alone: a second load would only throw the first away.
   */
  private async load(frame: PaneFrame, ensure = true, force = false): Promise<void> {
    if (ensure) {
      const started = await this.playground.ensure(this.name);
      if (!started.ok) {
        frame.state = "failed";
        frame.onState("failed", `the program did not start: ${started.message.split("\n")[0]}`);
        return;
      }
    }
    if (!force && this.ahead(frame)) return frame.reveal();
    if (!force && this.loadedFor.get(frame) === this.playground.logGeneration && (frame.state === "loading" || frame.state === "live")) return;
    this.loadedFor.set(frame, this.playground.logGeneration);
    await frame.load(this.playground.manager.engine);
  }
}

function paneButton(text: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "pane-button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.title = label;
  b.addEventListener("click", (event) => {
    event.stopPropagation();
    onClick();
  });
  return b;
}
