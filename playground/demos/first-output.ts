/**
 * A demo slide's first live output, as its manifest declares it (`firstOutput.kind`, rendered as
 * `data-first-output`): from the moment the slide is entered, the first mutation of the slide that
 * is output of the running program of that kind. The slide is stamped with it
 * (`data-first-output-ms`: ms since entering; `data-first-outputs`: how many entries had one), as
 * a commandline slide stamps `data-output-ms`; the browser tests and `npm run bench:deck` read it.
 *
 * Only what happens after entering counts (the observer starts then), and only the program's own
 * output: the terminal's `$ command` line, a lane's "running…" title, a pane's "loading…" are
 * the deck's words, not output, and are never taken for it.
 */
import type { FirstOutputKind } from "../../slides/demos/catalog.js";

/** Whether `mutation` puts output of `kind` on the slide. */
function isOutput(kind: FirstOutputKind, mutation: MutationRecord): boolean {
  const target = mutation.target instanceof Element ? mutation.target : mutation.target.parentElement;
  if (!target) return false;
  switch (kind) {
    case "answer": {
      // The transcript after the `$ command` line the terminal writes itself.
      const transcript = target.closest(".playground-transcript");
      const text = transcript?.textContent ?? "";
      const eol = text.indexOf("\n");
      return transcript !== null && text.startsWith("$ ") && eol >= 0 && eol < text.length - 1;
    }
    case "log": {
      const log = target.closest(".playground-server-log");
      return log !== null && /\S/.test(log.textContent ?? "");
    }
    case "trace":
      return mutation.type === "attributes" && mutation.attributeName === "data-events" && target.matches(".demo-widget");
    case "bar":
      return [...mutation.addedNodes].some((n) => n instanceof Element && n.matches(".timeline-bar, .timeline-wait"));
    case "pane":
      return mutation.type === "attributes" && mutation.attributeName === "data-state" && target.matches(".demo-pane") && target.getAttribute("data-state") === "live";
  }
}

export class FirstOutputWatch {
  private observer: MutationObserver | null = null;
  private entries = 0;

  constructor(private readonly slide: HTMLElement) {}

  /** The slide was entered at `enteredAt` (performance.now()): watch for its first output. */
  enter(enteredAt: number): void {
    const kind = this.slide.dataset.firstOutput as FirstOutputKind | undefined;
    if (!kind) return;
    this.observer?.disconnect();
    const entry = ++this.entries;
    const observer = new MutationObserver((mutations) => {
      if (!mutations.some((m) => isOutput(kind, m))) return;
      observer.disconnect();
      if (this.observer === observer) this.observer = null;
      this.slide.dataset.firstOutputMs = (performance.now() - enteredAt).toFixed(1);
      this.slide.dataset.firstOutputs = String(entry);
    });
    observer.observe(this.slide, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["data-events", "data-state"] });
    this.observer = observer;
  }

  /** The slide was left: output from now on is not this entry's. */
  leave(): void {
    this.observer?.disconnect();
    this.observer = null;
  }
}
