/**
 * Pre-flight: before going on stage, one key (R) or `?preflight` in the URL runs every live
 * slide's program and command in the current engine and lists, slide by slide, what passed and
 * what failed.
 *
 * The checks come from the deck itself: every `.live-command` (its example and its command),
 * every editor on a code slide (its example, with the command Ctrl+Enter would run), and every
 * command of a demo slide that stays connected (`wscat -c`: run as the terminal runs it, a
 * session, which passes once it has connected and received a message, then is stopped), so a
 * new live slide is checked without touching this file. Programs run as the presenter left
 * them (edits kept in localStorage included), each started afresh.
 */
import type { DeckLike, Playground } from "./deck.js";
import { staysConnected } from "./command.js";
import { CommandInput } from "./engine.js";
import { cleanTerminalText } from "./output.js";

/** How long a session check waits for its first message (the websocket demo broadcasts every 3 s). */
export const SESSION_WAIT_MS = 10_000;

export interface PreflightCheck {
  /** 0-based index of the slide (the deck shows index + 1). */
  slide: number;
  title: string;
  example: string;
  command: string;
  /** A command that stays connected: checked as a session (connect, receive, stop). */
  session?: boolean;
}

export interface PreflightResult extends PreflightCheck {
  ok: boolean;
  /** What went wrong, in one line or a few: the compile error, curl's stderr, the status line. */
  error: string;
  ms: number;
}

/** Every live check on the deck's slides, in slide order, without duplicates per slide. */
export function preflightChecks(slides: HTMLElement[], commandFor: (example: string) => string): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  slides.forEach((slide, i) => {
    const title = (slide.querySelector("h1, h2, h3")?.textContent ?? "").trim();
    const seen = new Set<string>();
    const add = (example: string | undefined, command: string | undefined) => {
      if (!example || !command || seen.has(`${example}\n${command}`)) return;
      seen.add(`${example}\n${command}`);
      checks.push({ slide: i, title, example, command });
    };
    for (const el of slide.querySelectorAll<HTMLElement>(".live-command[data-example]")) add(el.dataset.example, el.dataset.command);
    for (const el of slide.querySelectorAll<HTMLElement>(".code-ts[data-example]")) add(el.dataset.example, commandFor(el.dataset.example!));
    for (const el of slide.querySelectorAll<HTMLElement>("button[data-run-command]")) {
      const command = el.dataset.runCommand!;
      if (staysConnected(command)) add(slide.dataset.example, command);
    }
  });
  for (const check of checks) if (staysConnected(check.command)) check.session = true;
  return checks;
}

/** Run one check: the program starts afresh, the command exits 0, the server answers below 500. */
async function runCheck(playground: Playground, check: PreflightCheck): Promise<PreflightResult> {
  const t0 = performance.now();
  const done = (ok: boolean, error: string) => ({ ...check, ok, error, ms: performance.now() - t0 });
  if (!playground.sources.has(check.example)) return done(false, `no program named "${check.example}"`);
  try {
    if (check.session) return await runSession(playground, check, done);
    const { start, result } = await playground.run(check.example, check.command, () => {}, true);
    if (!start.ok) return done(false, `${start.kind === "compile" ? "compile error" : start.kind}: ${start.message}`);
    if (!result) return done(false, "no result");
    if (result.timedOut) return done(false, "the server did not answer (stopped by the watchdog)");
    if (result.exitCode !== 0) return done(false, `exit ${result.exitCode}: ${result.stderr.trim() || "no output"}`);
    const status = /^HTTP\/[\d.]+ (\d{3})[^\r\n]*/.exec(result.stdout);
    if (status && Number(status[1]) >= 500) return done(false, status[0]);
    return done(true, "");
  } catch (error) {
    return done(false, (error as Error)?.message ?? String(error));
  }
}

/**
 * A session check: the program starts afresh, the command connects and receives a message (wscat
 * prints it after "< "), then is stopped as Ctrl+C would, and must end cleanly (exit 0). Only
 * what arrives decides it: time only bounds the wait.
 */
async function runSession(playground: Playground, check: PreflightCheck, done: (ok: boolean, error: string) => PreflightResult): Promise<PreflightResult> {
  const interrupt = new AbortController();
  let output = "";
  let connected = false;
  let received = false;
  const running = playground.run(
    check.example,
    check.command,
    (chunk) => {
      output += chunk;
      // As the terminal shows it: wscat colours its notices and redraws its prompt.
      const shown = cleanTerminalText(output);
      connected ||= /Connected/.test(shown);
      if (connected && !received && /(^|\n|\r)< \S/.test(shown)) {
        received = true;
        interrupt.abort();
      }
    },
    true,
    undefined,
    { interrupt, input: new CommandInput() },
  );
  const timer = setTimeout(() => interrupt.abort(), SESSION_WAIT_MS);
  try {
    const { start, result } = await running;
    if (!start.ok) return done(false, `${start.kind === "compile" ? "compile error" : start.kind}: ${start.message}`);
    if (!result) return done(false, "no result");
    const said = (cleanTerminalText(output) + result.stderr).trim().split("\n").slice(-3).join("\n");
    if (result.timedOut) return done(false, `the program stopped answering (stopped by the watchdog)\n${said}`);
    if (!connected) return done(false, `did not connect (exit ${result.exitCode})\n${said}`);
    if (!received) return done(false, `connected, but nothing arrived within ${SESSION_WAIT_MS / 1000} s${result.stopped ? "" : ` (it ended by itself, exit ${result.exitCode})`}`);
    if (result.exitCode !== 0) return done(false, `connected and received, but did not stop cleanly (exit ${result.exitCode})\n${said}`);
    return done(true, "");
  } finally {
    clearTimeout(timer);
  }
}

/** The list on screen: a dialog over the deck, one row per check, a row per slide to jump to. */
class PreflightPanel {
  readonly element = document.createElement("div");
  private readonly summary = document.createElement("p");
  private readonly list = document.createElement("ol");

  constructor(private readonly deck: DeckLike & { slide(h: number): void }) {
    this.element.className = "playground-preflight";
    this.element.setAttribute("role", "dialog");
    this.element.setAttribute("aria-labelledby", "playground-preflight-title");
    const heading = document.createElement("h2");
    heading.id = "playground-preflight-title";
    heading.textContent = "Pre-flight";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "playground-preflight-close";
    close.textContent = "Close";
    close.addEventListener("click", () => this.hide());
    this.summary.className = "playground-preflight-summary";
    this.summary.setAttribute("role", "status");
    this.element.append(heading, close, this.summary, this.list);
    this.element.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.hide();
      }
    });
    this.element.hidden = true;
    document.body.append(this.element);
  }

  show(checks: PreflightCheck[]): HTMLLIElement[] {
    this.element.hidden = false;
    this.summary.textContent = `running ${checks.length} checks…`;
    const rows = checks.map((check) => {
      const li = document.createElement("li");
      li.dataset.slide = String(check.slide + 1);
      li.dataset.example = check.example;
      li.dataset.state = "pending";
      const go = document.createElement("button");
      go.type = "button";
      go.textContent = `slide ${check.slide + 1}${check.title ? ` · ${check.title}` : ""}`;
      go.title = "Go to this slide";
      go.addEventListener("click", () => {
        this.hide();
        this.deck.slide(check.slide);
      });
      const what = document.createElement("code");
      what.textContent = `${check.example}: $ ${check.command}`;
      const verdict = document.createElement("span");
      verdict.className = "playground-preflight-verdict";
      verdict.textContent = "waiting";
      li.append(go, " ", what, " ", verdict);
      this.list.append(li);
      return li;
    });
    this.list.replaceChildren(...rows);
    this.element.querySelector<HTMLButtonElement>(".playground-preflight-close")!.focus();
    return rows;
  }

  mark(row: HTMLLIElement, result: PreflightResult | "running"): void {
    const verdict = row.querySelector(".playground-preflight-verdict")!;
    if (result === "running") {
      row.dataset.state = "running";
      verdict.textContent = "running…";
      return;
    }
    row.dataset.state = result.ok ? "passed" : "failed";
    verdict.textContent = result.ok ? `passed (${result.ms.toFixed(0)} ms)` : "failed";
    if (!result.ok) {
      const error = document.createElement("pre");
      error.className = "playground-preflight-error";
      error.textContent = result.error;
      row.append(error);
    }
  }

  finish(results: PreflightResult[], ms: number): void {
    const failed = results.filter((r) => !r.ok).length;
    this.summary.textContent = `${results.length} checks in ${(ms / 1000).toFixed(1)} s: ${results.length - failed} passed, ${failed} failed`;
    this.element.dataset.failed = String(failed);
  }

  hide(): void {
    this.element.hidden = true;
    (document.querySelector(".reveal") as HTMLElement | null)?.focus();
  }
}

/** What the deck's own plugins use of reveal beyond DeckLike. */
export type DeckApi = DeckLike & { slide(h: number): void; addKeyBinding(binding: { keyCode: number; key: string; description: string }, callback: () => void): void };

/** The reveal plugin: key R, or `?preflight` once the playground is up. */
export function preflightPlugin(playground: () => Playground | null) {
  let running: Promise<PreflightResult[]> | null = null;
  return {
    id: "tornado-preflight",
    init(deck: DeckApi) {
      const panel = new PreflightPanel(deck);
      const run = (): Promise<PreflightResult[]> => {
        const p = playground();
        if (!p) return Promise.resolve([]);
        running ??= (async () => {
          const root = document.documentElement;
          root.dataset.preflight = "running";
          const t0 = performance.now();
          const checks = preflightChecks(deck.getSlides(), (name) => p.commandFor(name));
          const rows = panel.show(checks);
          const results: PreflightResult[] = [];
          for (const [i, check] of checks.entries()) {
            panel.mark(rows[i]!, "running");
            const result = await runCheck(p, check);
            panel.mark(rows[i]!, result);
            results.push(result);
          }
          panel.finish(results, performance.now() - t0);
          root.dataset.preflight = "done";
          return results;
        })().finally(() => (running = null));
        return running;
      };
      deck.addKeyBinding({ keyCode: 82, key: "R", description: "Pre-flight: run every live slide's program and command" }, () => void run());
      Object.assign(globalThis, { __preflight: run });
      if (new URLSearchParams(location.search).has("preflight")) void run();
    },
  };
}
