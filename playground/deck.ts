/**
 * The playground in the deck: Monaco on code slides, live terminals on commandline slides, one
 * engine (with its badge) for the whole page.
 *
 * Everything here is defensive: a failure shows up in the playground's own UI (a status line,
 * the terminal, the badge) and the deck keeps working as a plain slideshow.
 */
import { compareWithTalk, describeComparison } from "./compare.js";
import { CommandInput, type CommandResult, type OutputListener, type Program, type RunOptions, type StartResult } from "./engine.js";
import { EngineManager } from "./engines.js";
import { Sources } from "./sources.js";
import { TerminalView } from "./terminal.js";
import { codeLineHeight } from "./sizes.js";
import type { EditorHandle } from "./editor.js";
import { loadRuntimeSources } from "./webcontainer/runtime-sources.js";
import { afterFrame, whenIdle } from "./idle.js";

/** The part of reveal's API the playground uses. */
export interface DeckLike {
  on(type: string, listener: (event: Event & { currentSlide?: HTMLElement; indexh?: number; indexv?: number }) => void): void;
  getCurrentSlide(): HTMLElement | undefined;
  getSlides(): HTMLElement[];
}

const DEFAULT_COMMAND = "curl -i http://localhost:8888";
/** After this pause in typing, an edited program is started ahead (`Playground.edited`). */
const EDIT_PAUSE_MS = 120;


/** The example a slide runs when entered (a commandline or demo slide), if any. */
function liveProgram(slide: HTMLElement): string | undefined {
  if (slide.dataset.demo) return slide.dataset.example;
  if (!slide.hasAttribute("data-live-command")) return undefined;
  return slide.querySelector<HTMLElement>(".live-command[data-example]")?.dataset.example;
}

type RunOutcome = { start: StartResult; result?: CommandResult };

export class Playground {
  readonly manager = new EngineManager();
  private runningKey: string | null = null;
  private serverLog = "";
  /** Bumped whenever the log starts over (another program starts): a pane follows one program's log. */
  logGeneration = 0;
  /** The command view that ran last: it alone keeps taking the log's late lines. */
  lastCommandView: object | null = null;
  private readonly logListeners = new Set<(log: string) => void>();
  private readonly logChunkListeners = new Set<(chunk: string) => void>();
  private readonly startListeners = new Set<(name: string) => void>();
  private readonly preparedListeners = new Set<(name: string) => void>();
  /** What Run (Ctrl/Cmd+Enter) on a program's editor does, when its slide is not a terminal's (a demo's timeline). */
  readonly runners = new Map<string, () => Promise<void>>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly codeViews = new Map<HTMLElement, CodeView>();
  private readonly commandViews = new Map<HTMLElement, CommandView>();
  private editorModule: Promise<typeof import("./editor.js")> | null = null;
  /** When the current slide was entered (performance.now()), for the output timing. */
  enteredAt = 0;
  /** The command running as a session (a terminal's), stopped when another starts or the slide is left. */
  private session: AbortController | null = null;

  constructor(
    readonly deck: DeckLike,
    readonly sources: Sources,
    /**
     * Load Monaco only when the viewer clicks "Edit" (a room's attendees: a thousand phones must
     * not download the editor over venue wifi); until then the highlighted code stays, and Run
     * still runs the current text.
     */
    readonly editorsOnDemand = false,
  ) {
    // Only a real switch of engines stops the running command: the status also changes when just
    // the badge's words do (a WebContainer boot that fails offline, after 8 s, mid-command).
    let generation = this.manager.generation;
    this.manager.onChange(() => {
      if (this.manager.generation === generation) return;
      generation = this.manager.generation;
      this.runningKey = null;
      this.stopSession();
    });
  }

  /** Stop the command running as a session, if any (Ctrl+C). */
  stopSession(): void {
    this.session?.abort();
    this.session = null;
  }

  /** Show someone else's edit (the presenter's, in a room): stored, and in every view of that file. */
  applyEdit(name: string, file: string, text: string): void {
    if (!this.sources.has(name)) return;
    this.sources.set(name, file, text);
    for (const view of this.codeViews.values()) if (view.name === name && view.file === file) view.showText(text);
  }

  /** Monaco and the runtime's types, loaded once, after the first slide is up. */
  editor(): Promise<typeof import("./editor.js")> {
    this.editorModule ??= import("./editor.js").then(async (m) => {
      m.setupTypes(await loadRuntimeSources());
      m.remeasureFontsWhenReady();
      return m;
    });
    return this.editorModule;
  }

  /** Engine operations one at a time: there is one program running per page. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    return this.track(this.queue.then(fn, fn));
  }

  /** Operations queued or under way. */
  private pending = 0;

  /** `operation` is the queue's new tail: what is serialized next waits for it. */
  private track<T>(operation: Promise<T>): Promise<T> {
    this.pending++;
    const settled = operation.then(
      () => void this.pending--,
      () => void this.pending--,
    );
    this.queue = settled;
    return operation;
  }

  get log(): string {
    return this.serverLog;
  }

  onLog(listener: (log: string) => void): () => void {
    this.logListeners.add(listener);
    return () => void this.logListeners.delete(listener);
  }

  /** Each piece of the running program's output as it arrives (the log keeps only the tail). */
  onLogChunk(listener: (chunk: string) => void): () => void {
    this.logChunkListeners.add(listener);
    return () => void this.logChunkListeners.delete(listener);
  }

  private appendLog: OutputListener = (text) => {
    for (const l of this.logChunkListeners) l(text);
    this.serverLog += text;
    if (this.serverLog.length > 20000) this.serverLog = this.serverLog.slice(-16000);
    for (const l of this.logListeners) l(this.serverLog);
  };

  /** Start the example's current code unless exactly that is already running. */
  private async ensureRunning(name: string, force: boolean): Promise<StartResult> {
    const program: Program = this.sources.program(name);
    const key = `${this.manager.generation}:${JSON.stringify(program.files)}`;
    if (!force && key === this.runningKey) return { ok: true, ports: [], ms: 0, ahead: true };
    this.logStartsOver();
    const started = await this.manager.engine.start(program, this.appendLog);
    return this.started(name, key, started);
  }

  /**
   * `ensureRunning` in this task, when it needs no start: the program runs, or the engine has
   * it started ahead and swaps it in synchronously. Null when a start would have to wait.
   */
  private runningNow(name: string, force: boolean): StartResult | null {
    const program: Program = this.sources.program(name);
    const key = `${this.manager.generation}:${JSON.stringify(program.files)}`;
    if (!force && key === this.runningKey) return { ok: true, ports: [], ms: 0, ahead: true };
    const engine = this.manager.engine;
    if (!engine.startPrepared || !engine.isPrepared?.(program)) return null;
    this.logStartsOver();
    const started = engine.startPrepared(program, this.appendLog);
    return started && this.started(name, key, started);
  }

  private logStartsOver(): void {
    this.runningKey = null;
    this.serverLog = "";
    this.logGeneration++;
    for (const l of this.logListeners) l("");
  }

  private started(name: string, key: string, started: StartResult): StartResult {
    if (started.ok) this.runningKey = key;
    // Told after this task's own work: a command run on the program just swapped in is posted
    // first, so a pane's page load (a listener) does not go ahead of the slide's own output.
    if (started.ok) queueMicrotask(() => {
      for (const l of this.startListeners) l(name);
    });
    for (const view of this.codeViews.values()) if (view.name === name) view.showStart(started);
    return started;
  }

  /** Told whenever a program (by name) has been started afresh and listens (browser panes reload then). */
  onStart(listener: (name: string) => void): () => void {
    this.startListeners.add(listener);
    return () => void this.startListeners.delete(listener);
  }

  /** Told whenever a program (by name) has been started ahead (`prepare`) and listens, beside the running one. */
  onPrepared(listener: (name: string) => void): () => void {
    this.preparedListeners.add(listener);
    return () => void this.preparedListeners.delete(listener);
  }

  /** The example's current code running (started unless exactly that already runs). */
  ensure(name: string): Promise<StartResult> {
    return this.serialize(() => this.ensureRunning(name, false));
  }

  prestart(name: string): void {
    void this.serialize(() => this.ensureRunning(name, false)).catch(() => {});
  }

  /** Whether `name`'s current text is the program running now. */
  isRunning(name: string): boolean {
    return this.runningKey === `${this.manager.generation}:${JSON.stringify(this.sources.program(name).files)}`;
  }

  /**
   * Start these examples' current text ahead, beside the running program, so entering their
   * slide (or Run) only swaps workers; `fresh` ones even when that text runs already (Run
   * restarts). Queued behind the slide's own command, so it never slows the output on screen;
   * an engine that cannot prepare (the WebContainer) starts the first one, as before.
   * Not with `editorsOnDemand` (a room's attendees): a phone would hold up to four programs
   * ahead, each a worker, for output it can wait a start for.
   */
  prepare(names: string[], fresh: string[] = []): void {
    if (this.editorsOnDemand) return;
    const engine = this.manager.engine;
    const wanted = [...new Set([...names, ...fresh])].filter((n) => this.sources.has(n) && (fresh.includes(n) || !this.isRunning(n)));
    if (!wanted.length) return;
    if (!engine.prepare) {
      if (names[0] && wanted.includes(names[0])) this.prestart(names[0]);
      return;
    }
    void this.serialize(async () => {
      if (this.manager.engine !== engine) return;
      // Least wanted first: the engine keeps the most recently prepared when it must choose.
      for (const name of wanted.reverse()) {
        void engine.prepare!(this.sources.program(name)).then(
          (started) => {
            if (started.ok && this.manager.engine === engine) for (const l of this.preparedListeners) l(name);
          },
          () => {},
        );
      }
    });
  }

  private readonly editTimers = new Map<string, ReturnType<typeof setTimeout>>();

  /**
   * The code of `name` was edited: once the typing pauses, start the new text ahead, so Run
   * (Ctrl/Cmd+Enter) finds it started. What Run shows is still the output of the edited code,
   * produced by it when Run asks; a program prepared for an older text is never used.
   */
  edited(name: string): void {
    clearTimeout(this.editTimers.get(name));
    this.editTimers.set(name, setTimeout(() => {
      this.editTimers.delete(name);
      if (this.manager.engine.prepare) this.prepare([], [name]);
    }, EDIT_PAUSE_MS));
  }

  /**
   * Run `command` against the example's program (started first if need be); `timeoutMs` is a
   * demo's time budget. With `session` (a terminal's), the command runs until it ends or the
   * signal is aborted, with the terminal's input. One command at a time: a running session is
   * stopped first, as Ctrl+C would.
   */
  run(
    name: string,
    command: string,
    onOutput: OutputListener,
    force = false,
    timeoutMs?: number,
    session?: { interrupt: AbortController; input: CommandInput },
    early?: RunOptions["early"],
  ): Promise<RunOutcome> {
    this.stopSession();
    if (session) this.session = session.interrupt;
    const command_ = async (start: StartResult): Promise<RunOutcome> => {
      if (session?.interrupt.signal.aborted) return { start, result: { exitCode: 130, stdout: "", stderr: "", timedOut: false, stopped: true, ms: 0 } };
      const result = await this.manager.engine.run(command, onOutput, {
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(session ? { signal: session.interrupt.signal, input: session.input } : {}),
        ...(early ? { early } : {}),
      });
      if (this.session === session?.interrupt) this.session = null;
      if (result.timedOut) this.runningKey = null;
      return { start, result };
    };
    // Nothing queued and no start needed: the command leaves in this very task (a slide change
    // is one long task of reveal.js; the worker answers while the page lays the slide out).
    const now = this.pending === 0 ? this.runningNow(name, force) : null;
    if (now?.ok) return this.track(command_(now));
    return this.serialize(async () => {
      const start = await this.ensureRunning(name, force);
      if (!start.ok) return { start };
      return command_(start);
    });
  }

  /** The first command shown for an example (what Ctrl+Enter on its code slide runs). */
  commandFor(name: string): string {
    const el = document.querySelector<HTMLElement>(`.live-command[data-example="${CSS.escape(name)}"]`);
    return el?.dataset.command ?? DEFAULT_COMMAND;
  }

  private mountSlide(slide: HTMLElement): void {
    for (const el of slide.querySelectorAll<HTMLElement>(".code-ts[data-example]")) {
      if (this.codeViews.has(el) || !this.sources.has(el.dataset.example!)) continue;
      const view = new CodeView(this, el);
      this.codeViews.set(el, view);
      view.mount().catch((error: unknown) => view.fail(error));
    }
    for (const el of slide.querySelectorAll<HTMLElement>(".live-command")) {
      if (this.commandViews.has(el)) continue;
      const view = new CommandView(this, el);
      this.commandViews.set(el, view);
      view.mount();
    }
  }

  /** Bumped on every slide shown: work left for a slide the presenter has already left is dropped. */
  private shown = 0;

  /** The slide whose commands `enter` started before reveal's slide change, until its `show`. */
  private entering: { slide: HTMLElement; runs: Promise<void>[] } | null = null;

  /**
   * The presenter is moving to `slide` (reveal's `beforeslidechange`, dispatched before its slide
   * change does its own work: classes, layout and the style recalculation of the slides, the
   * controls, the URL). A commandline slide already mounted (a neighbour) has its commands run
   * now, so the worker answers while reveal works and the output is there for the new slide's
   * first frame; `show` then does the rest. Other slides wait for `show`, as before.
   */
  enter(slide: HTMLElement | undefined): void {
    this.entering = null;
    if (!slide || slide === this.deck.getCurrentSlide() || !slide.hasAttribute("data-live-command")) return;
    const views = [...slide.querySelectorAll<HTMLElement>(".live-command")].map((el) => this.commandViews.get(el));
    if (!views.length || views.some((v) => !v)) return;
    this.stopSession();
    this.enteredAt = performance.now();
    this.entering = { slide, runs: views.map((v) => v!.run()) };
  }

  /**
   * The slide was shown: mount it, run its commands; then, once its output is on screen and the
   * page is idle, mount its neighbours and start ahead the programs they will run.
   */
  show(slide: HTMLElement | undefined): void {
    if (!slide) return;
    const early = this.entering?.slide === slide ? this.entering.runs : null;
    this.entering = null;
    if (!early) {
      // Leaving a slide stops its terminal's command (a wscat session would run on unseen).
      this.stopSession();
      this.enteredAt = performance.now();
    }
    const shown = ++this.shown;
    const slides = this.deck.getSlides();
    const i = slides.indexOf(slide);
    const runs: Promise<void>[] = early ?? [];
    this.mountSlide(slide);
    // The commands first: posted to the worker in this task, it answers while the page lays out.
    if (!early && slide.hasAttribute("data-live-command")) {
      for (const el of slide.querySelectorAll<HTMLElement>(".live-command")) runs.push(this.commandViews.get(el)?.run() ?? Promise.resolve());
    }
    // A slide entered early was mounted and laid out as a neighbour (and again on any resize):
    // its layout, a forced one after reveal's writes, can wait until the slide is on screen.
    if (early) afterFrame(() => {
      if (shown === this.shown) this.layoutIn(slide);
    });
    else this.layoutIn(slide);
    // Neighbours: mount early (Monaco and xterm take a moment) and start the programs the
    // slides around will run (the next first, then back, then two away), and a fresh copy of
    // this code slide's program for Run, so entering one of them only runs its command. Not in
    // the slide's own critical path: creating an editor is a long task of the main thread.
    void Promise.allSettled(runs).then(() =>
      whenIdle(() => {
        if (shown !== this.shown) return;
        for (const n of [slides[i + 1], slides[i - 1]]) {
          if (!n) continue;
          this.mountSlide(n);
          this.layoutIn(n);
        }
        const near = [i + 1, i - 1, i + 2, i - 2].map((k) => slides[k] && liveProgram(slides[k]!)).filter((n): n is string => !!n);
        const code = slide.querySelector<HTMLElement>(".code-ts[data-example]")?.dataset.example;
        this.prepare(near, code && !liveProgram(slide) ? [code] : []);
      }),
    );
  }

  /** Lay out the views mounted in `slide` (a hidden slide's editors and terminals have no size). */
  private layoutIn(slide: HTMLElement): void {
    for (const [el, view] of this.codeViews) if (slide.contains(el)) view.layout();
    for (const [el, view] of this.commandViews) if (slide.contains(el)) view.layout();
  }

  layout(): void {
    for (const view of this.codeViews.values()) view.layout();
    for (const view of this.commandViews.values()) view.layout();
  }

  /** Run `command` in the terminal of `el` (a `.live-command`), as if typed there. */
  runIn(el: HTMLElement, command?: string, focus = false): Promise<void> {
    this.mountSlide(el.closest<HTMLElement>("section") ?? el);
    return this.commandViews.get(el)?.run(command, focus) ?? Promise.resolve();
  }

  /** The Monaco editor mounted in `el` (a `.code-ts`), if any: for tests and the bench. */
  editorIn(el: Element): EditorHandle["editor"] | undefined {
    return this.codeViews.get(el as HTMLElement)?.editor;
  }
}

/** A code slide's editor, toolbar and result line. */
class CodeView {
  readonly name: string;
  readonly file: string;
  private handle: EditorHandle | null = null;
  private readonly status: HTMLElement;
  private readonly output: HTMLPreElement;
  private readonly host: HTMLElement;
  private runs = 0;

  constructor(
    private readonly playground: Playground,
    private readonly el: HTMLElement,
  ) {
    this.name = el.dataset.example!;
    this.file = el.dataset.file ?? playground.sources.program(this.name).main;
    this.host = document.createElement("div");
    this.host.className = "playground-editor";
    this.status = document.createElement("span");
    this.status.className = "playground-status";
    this.output = document.createElement("pre");
    this.output.className = "playground-run-output";
    this.output.hidden = true;
    this.output.title = "Click to hide";
    this.output.tabIndex = 0; // it scrolls: reachable by keyboard
    this.output.addEventListener("click", () => (this.output.hidden = true));
  }

  async mount(): Promise<void> {
    const text = this.playground.sources.text(this.name, this.file);
    // As tall as the code at the editor's line height (sizes.ts), so the slide keeps the
    // layout the highlighted code had.
    const lines = text.replace(/\n+$/, "").split("\n").length;
    this.host.style.height = `${Math.min(22, Math.max(3, lines)) * codeLineHeight() + 16}px`;
    const bar = document.createElement("div");
    bar.className = "playground-toolbar";
    const run = button("Run ▶", "Run (Ctrl/Cmd+Enter)", () => void this.run());
    run.classList.add("playground-run");
    const reset = button("Reset", "Back to the talk's code", () => this.reset());
    reset.classList.add("playground-reset");
    bar.append(run, reset, this.status);
    this.el.classList.add("playground-mounted");
    if (this.playground.editorsOnDemand) {
      // The code stays highlighted text until the viewer asks for the editor.
      this.el.append(bar, this.output);
      this.el.dataset.editor = "on-demand";
      if (this.playground.sources.edited(this.name, this.file)) this.showText(text);
      this.el.dataset.edited = String(this.playground.sources.edited(this.name, this.file));
      const edit = button("Edit ✎", "Edit this code (loads the editor)", () => {
        edit.remove();
        this.el.insertBefore(this.host, bar);
        this.loadEditor().catch((error: unknown) => this.fail(error));
      });
      edit.classList.add("playground-edit");
      bar.prepend(edit);
      return;
    }
    this.el.append(this.host, bar, this.output);
    await this.loadEditor();
  }

  /** The code's text changed elsewhere: show it in the editor, or in the highlighted block. */
  showText(text: string): void {
    if (this.handle) {
      if (this.handle.model.getValue() !== text) this.handle.model.setValue(text);
    } else {
      const code = this.el.querySelector(":scope > pre:not(.playground-run-output) > code");
      if (code) code.textContent = text;
    }
    this.el.dataset.edited = String(this.playground.sources.edited(this.name, this.file));
  }

  private async loadEditor(): Promise<void> {
    const text = this.playground.sources.text(this.name, this.file);
    this.el.dataset.editor = "loading";
    const m = await this.playground.editor();
    this.handle = m.createEditor(this.host, {
      path: `examples/${this.file}`,
      value: text,
      onRun: () => void this.run(),
      onChange: (value) => {
        this.playground.sources.set(this.name, this.file, value);
        this.playground.edited(this.name);
        this.handle?.setError(null);
        this.el.dataset.edited = String(this.playground.sources.edited(this.name, this.file));
      },
    });
    // Once Monaco is up, follow its content height instead: it counts wrapped lines (phones wrap)
    // and lines the presenter adds, within the same bounds as above.
    const editor = this.handle.editor;
    const fit = () => {
      const line = codeLineHeight();
      const height = Math.min(22 * line + 16, Math.max(3 * line + 16, editor.getContentHeight()));
      if (this.host.style.height !== `${height}px`) this.host.style.height = `${height}px`;
    };
    editor.onDidContentSizeChange(fit);
    fit();
    this.el.dataset.editor = "ready";
    this.el.dataset.edited = String(this.playground.sources.edited(this.name, this.file));
  }

  fail(error: unknown): void {
    // Monaco could not load: the highlighted code stays; Run still works on the stored text.
    this.el.dataset.editor = "failed";
    this.host.remove();
    this.el.classList.remove("playground-mounted");
    this.status.textContent = `editor unavailable: ${(error as Error)?.message ?? String(error)}`;
  }

  layout(): void {
    this.handle?.layout();
  }

  get editor(): EditorHandle["editor"] | undefined {
    return this.handle?.editor;
  }

  showStart(started: StartResult): void {
    if (started.ok) {
      this.handle?.setError(null);
      return;
    }
    if (started.kind === "compile" && started.file === this.file) this.handle?.setError(started);
  }

  private reset(): void {
    this.showText(this.playground.sources.reset(this.name, this.file));
    this.status.textContent = "back to the talk's code";
  }

  async run(): Promise<void> {
    const runner = this.playground.runners.get(this.name);
    if (runner) return runner();
    const command = this.playground.commandFor(this.name);
    const t0 = performance.now();
    this.el.dataset.run = "running";
    this.status.textContent = `running: ${command}`;
    let text = "";
    const render = () => {
      this.output.hidden = false;
      this.output.textContent = text;
    };
    try {
      const { start, result } = await this.playground.run(this.name, command, (chunk) => {
        text += chunk;
        render();
      }, true);
      if (!start.ok) {
        text = start.message;
        render();
        this.status.textContent = start.kind === "compile" ? `compile error, line ${start.line}` : `the program failed (${start.kind})`;
        this.el.dataset.run = "error";
        return;
      }
      if (result && result.stderr) {
        text += (text.endsWith("\n") || text === "" ? "" : "\n") + result.stderr;
        render();
      }
      const ms = performance.now() - t0;
      this.output.dataset.ms = ms.toFixed(1);
      // Of which starting the program (0 when it was running or prepared): the rest is the command's.
      this.output.dataset.startMs = start.ms.toFixed(1);
      this.output.dataset.startedAhead = String(!!start.ahead);
      this.status.textContent = result?.timedOut ? "stopped: the server did not answer" : `$ ${command} (${ms.toFixed(0)} ms)`;
      this.el.dataset.run = result?.timedOut ? "timeout" : "done";
    } catch (error) {
      this.status.textContent = `could not run: ${(error as Error).message}`;
      this.el.dataset.run = "error";
    } finally {
      this.el.dataset.runs = String(++this.runs);
      // The next Run restarts the program: have a fresh copy waiting.
      this.playground.prepare([], [this.name]);
    }
  }
}

/** A commandline slide's terminal: editable command, live output, server log, 2011 comparison. */
class CommandView {
  private terminal: TerminalView | null = null;
  private readonly input: HTMLInputElement;
  private readonly log: HTMLPreElement;
  private readonly comparison: HTMLElement;
  private readonly stop: HTMLButtonElement;
  private readonly talk: string;
  private readonly name: string;
  private runs = 0;
  /** Ctrl+C for the command running in this terminal. */
  private interrupt: AbortController | null = null;
  /** The log generation this view's last run showed. */
  private logGeneration = -1;

  constructor(
    private readonly playground: Playground,
    private readonly el: HTMLElement,
  ) {
    this.name = el.dataset.example ?? "";
    const template = el.querySelector<HTMLTemplateElement>("template.talk-output");
    this.talk = template?.content.textContent ?? "";
    this.input = document.createElement("input");
    this.input.className = "playground-command-input";
    this.input.value = el.dataset.command ?? DEFAULT_COMMAND;
    this.input.spellcheck = false;
    this.input.setAttribute("aria-label", "command");
    this.log = document.createElement("pre");
    this.log.className = "playground-server-log";
    this.log.tabIndex = 0; // it scrolls: reachable by keyboard
    this.log.setAttribute("aria-label", "server log");
    // Folded to its one-line verdict until opened: the live output is what the room reads.
    this.comparison = document.createElement("details");
    this.comparison.className = "playground-comparison";
    this.stop = button("Stop ■", "Stop the command (Ctrl+C in the terminal)", () => this.interrupt?.abort());
    this.stop.classList.add("playground-stop");
    this.stop.hidden = true;
  }

  mount(): void {
    const out = this.el.querySelector<HTMLElement>(".live-output") ?? this.el;
    const line = document.createElement("div");
    line.className = "playground-commandline";
    const prompt = document.createElement("span");
    prompt.textContent = "$";
    const backToDeck = () => {
      // Back to the deck: its keys work again, Tab goes on from this command.
      if (!this.el.hasAttribute("tabindex")) this.el.tabIndex = -1;
      this.el.focus({ preventScroll: true });
    };
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        void this.run(undefined, true);
      } else if (e.key === "Escape") backToDeck();
    });
    line.append(prompt, this.input, button("Run ▶", "Run the command", () => void this.run(undefined, true)), this.stop);
    const panes = document.createElement("div");
    panes.className = "playground-panes";
    const termPane = document.createElement("div");
    termPane.className = "playground-term-pane";
    const logPane = document.createElement("div");
    logPane.className = "playground-log-pane";
    const label = document.createElement("div");
    label.className = "playground-label";
    label.textContent = "server log";
    logPane.append(label, this.log);
    panes.append(termPane, logPane);
    out.append(line, panes, this.comparison);
    this.el.classList.add("playground-mounted");
    this.terminal = new TerminalView(termPane, 11);
    this.terminal.onEscape = backToDeck;
    this.terminal.open();
    this.playground.onLog((log) => {
      // A server may log after the client has its answer (Node batches its stderr; a handler's
      // onFinish logs late): the pane of the last run keeps following the same program's log.
      const following = this.playground.lastCommandView === this && this.logGeneration === this.playground.logGeneration;
      if (this.el.dataset.state === "running" || following) this.log.textContent = log;
    });
  }

  layout(): void {
    this.terminal?.layout();
  }

  /**
   * Run the command line in this terminal, as a session: output streams in, keys typed in the
   * terminal are its input, Ctrl+C or Stop ends it. `focus`: the presenter ran it (Enter, Run),
   * so the terminal takes the keys while it runs; a run on entering the slide leaves them to the deck.
   */
  async run(typed?: string, focus = false): Promise<void> {
    const terminal = this.terminal;
    if (!terminal) return;
    if (typed !== undefined) this.input.value = typed;
    const run = ++this.runs;
    this.interrupt?.abort();
    const interrupt = new AbortController();
    const input = new CommandInput();
    this.interrupt = interrupt;
    this.playground.lastCommandView = this;
    const enteredAt = this.playground.enteredAt;
    const command = this.input.value;
    const budget = Number(this.el.dataset.budgetMs) || undefined;
    this.el.dataset.state = "running";
    let stdout = "";
    // Posted first (in this task, when the program runs or waits prepared), so the worker works
    // while the terminal is cleared and the page lays out; its output arrives in a later task.
    // That task comes after the frame due meanwhile (the slide's first), so where the engine can
    // hand output over early (shared memory), it is taken in that frame's animation callbacks:
    // registered here, before the terminal's writes below, this one runs before xterm's
    // renderer's, which then draws the output in the same frame.
    const running = this.name && this.playground.sources.has(this.name)
      ? this.playground.run(this.name, command, (chunk) => {
          if (run !== this.runs) return;
          stdout += chunk;
          terminal.write(chunk);
        }, false, budget, { interrupt, input }, (take) => requestAnimationFrame(() => take()))
      : null;
    terminal.clear();
    terminal.write(`$ ${command}\n`, "command");
    this.comparison.textContent = "";
    terminal.takeInput({ line: (text) => input.line(text), interrupt: () => interrupt.abort(), end: () => input.end() });
    this.stop.hidden = false;
    if (focus) terminal.focus();
    const ended = () => {
      if (run !== this.runs) return;
      terminal.takeInput(null);
      this.stop.hidden = true;
      this.interrupt = null;
      // The keys go back to the command line, for the next command.
      if (terminal.focused) this.input.focus({ preventScroll: true });
    };
    try {
      if (!running) throw new Error(`no program for this command (${this.name || "none"})`);
      const { start, result } = await running;
      ended();
      if (run !== this.runs) return;
      this.el.dataset.runs = String(run);
      this.log.textContent = this.playground.log;
      this.logGeneration = this.playground.logGeneration;
      if (!start.ok) {
        terminal.write(`${start.message}\n`, "error");
        this.el.dataset.state = "error";
        const verdict = document.createElement("summary");
        verdict.textContent = start.kind === "compile" ? "the code on the previous slide does not compile" : "the program did not start";
        this.comparison.replaceChildren(verdict);
        return;
      }
      if (result!.stderr) terminal.write((stdout.endsWith("\n") || stdout === "" ? "" : "\n") + result!.stderr, result!.timedOut ? "note" : "error");
      this.el.dataset.state = result!.timedOut ? "timeout" : result!.stopped ? "stopped" : "done";
      // Whether the program was running or started ahead (the bench counts starts on the critical path).
      this.el.dataset.startedAhead = String(!!start.ahead);
      this.el.dataset.exitCode = String(result!.exitCode);
      this.el.dataset.commandMs = result!.ms.toFixed(1);
      this.el.dataset.outputMs = (performance.now() - enteredAt).toFixed(1);
      if (this.talk.trim() && !result!.timedOut) this.showComparison(result!.stdout);
    } catch (error) {
      ended();
      terminal.write(`${(error as Error).message ?? String(error)}\n`, "error");
      this.el.dataset.runs = String(run);
      this.el.dataset.state = "error";
    }
  }

  private showComparison(live: string): void {
    const c = compareWithTalk(live, this.talk);
    this.comparison.dataset.matches = String(c.matches);
    const title = document.createElement("summary");
    title.className = "playground-label";
    const differences = describeComparison(c).length;
    title.textContent = c.matches ? "✓ matches the 2011 slide" : `compared with the 2011 slide: ${differences} difference${differences === 1 ? "" : "s"}`;
    const list = document.createElement("ul");
    if (!c.matches) {
      for (const line of describeComparison(c)) {
        const li = document.createElement("li");
        li.textContent = line;
        list.append(li);
      }
    }
    this.comparison.replaceChildren(title, list);
  }
}

function button(label: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.title = title;
  b.addEventListener("click", (e) => {
    e.stopPropagation();
    onClick();
  });
  return b;
}
