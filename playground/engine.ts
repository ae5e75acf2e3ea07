/**
 * The one contract every playground engine meets: load a talk program, start it, run a
 * command such as `curl -i http://localhost:8888` against it, stream what happens, stop it.
 *
 * A command that stays connected (`wscat -c`) is run as a session (`RunOptions.signal`): its
 * output streams as it arrives, lines typed go to its input, and it runs until it ends or is
 * stopped; the watchdog then judges the program by whether it still shows life, not by time.
 *
 * Two engines implement it: the WebContainer (real Node in the browser, needs cross-origin
 * isolation and StackBlitz's servers) and the in-page engine (the same runtime in a Web Worker
 * over the in-memory network). The slides only ever talk to this interface, so the presenter
 * can switch engines mid-talk and the contract tests can run the same cases against both.
 */

/** A program as the deck's catalog describes it (slides/examples/catalog.ts `Example`). */
import type { PaneChannel, PaneEnd, PaneEvent } from "./panes/protocol.js";

export interface Program {
  /** Catalog key ("hello"). */
  name: string;
  /** Path of the entry point inside `files` ("hello.ts"). */
  main: string;
  /** Every file, path relative to the program's directory → text. */
  files: Record<string, string>;
}

export type EngineKind = "inpage" | "webcontainer";

/** Where a piece of output came from. */
export type OutputSource = "server" | "command";

export interface OutputListener {
  (text: string, source: OutputSource): void;
}

/** Why a start failed, so the UI can say it plainly and point at the line. */
export type StartFailure =
  /** The TypeScript did not parse; `line`/`column` are 1-based in `file`. */
  | { kind: "compile"; message: string; file: string; line: number; column: number }
  /** The program threw (or exited) before it listened. */
  | { kind: "crash"; message: string }
  /** It neither listened nor failed within the time limit (an endless loop, or no listen()). */
  | { kind: "timeout"; message: string }
  /** The engine itself is unusable (boot failed, worker failed to load...). */
  | { kind: "engine"; message: string };

export type StartResult =
  /** `ahead`: the program had been started ahead (`prepare`) and was only swapped in. */
  | { ok: true; ports: number[]; ms: number; ahead?: boolean }
  | ({ ok: false; ms: number } & StartFailure);

export interface CommandResult {
  exitCode: number;
  /** What the command printed on stdout (curl: the response), exactly as printed. */
  stdout: string;
  stderr: string;
  /** The command was stopped by the watchdog (the server did not answer in time). */
  timedOut: boolean;
  /** The command was stopped by its caller (`RunOptions.signal`: Ctrl+C, the stop button, leaving the slide). */
  stopped?: boolean;
  /** Wall time of the command in ms. */
  ms: number;
}

/**
 * Lines typed while a command runs, as a terminal's line discipline hands them over: each
 * `line` without its newline; `end()` is Ctrl+D, the end of input.
 */
export class CommandInput {
  private readonly queued: Array<string | null> = [];
  private wake: (() => void) | null = null;
  private ended = false;

  line(text: string): void {
    if (this.ended) return;
    this.queued.push(text);
    this.wake?.();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queued.push(null);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      while (this.queued.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
      const next = this.queued.shift()!;
      if (next === null) return;
      yield next;
    }
  }
}

export interface RunOptions {
  /**
   * The watchdog's window (default COMMAND_TIMEOUT_MS). For a command run without `signal`, how
   * long it may take in all; with a `signal` (a session), how long the program may go without
   * showing life (its event loop turning) while the command runs. Either way, past it the
   * program is taken for a runaway (`while (true) {}`) and stopped. A demo that blocks on
   * purpose declares its time budget here, so a long run is told from a runaway.
   */
  timeoutMs?: number;
  /**
   * Makes the run a session, as in a terminal: the command streams what it prints until it
   * ends by itself or this is aborted (Ctrl+C, the stop button, leaving the slide); a healthy
   * program may keep it going as long as it likes (`wscat -c`, a long poll). Aborting ends the
   * command as Ctrl+C does (wscat closes its connection and exits with 0).
   */
  signal?: AbortSignal;
  /** The command's standard input (lines typed in the terminal). None: nothing is ever typed. */
  input?: CommandInput;
  /**
   * Asks for the command's output before its message arrives. An engine that can (the in-page
   * engine in a cross-origin isolated page: its worker also writes the output into shared
   * memory, inpage/shared-output.ts) calls this once, when it posts the command, with `take`.
   * Called later, once (the deck: in the next animation frame, before the terminal draws),
   * `take` delivers through `onOutput`, synchronously, what the command has printed so far,
   * and returns how many chunks. Everything else still comes as before; each chunk exactly
   * once, in order. An engine that cannot never calls this.
   */
  early?: (take: () => number) => void;
}

/** Browser panes (playground/panes/): how a pane reaches the running program. */
export interface PaneSupport {
  /**
   * In-page: a channel for one pane's network to the running program (restarted first if the
   * watchdog stopped it); `onEnd` says when the program goes (replaced, stopped, watchdog).
   * With `ahead`: to that program as started ahead (`prepare`), before its slide is entered.
   */
  openPane?(onEvent: (event: PaneEvent) => void, onEnd: (end: PaneEnd) => void, ahead?: Program): Promise<PaneChannel>;
  /** WebContainer: the preview URL the container gives for `port` (its server-ready URL), once listening. */
  previewUrl?(port: number): string | null;
}

export interface Engine extends PaneSupport {
  readonly kind: EngineKind;
  /** Start `program`, replacing whatever ran before. Resolves once it listens, or fails. */
  start(program: Program, onOutput?: OutputListener): Promise<StartResult>;
  /**
   * Run a shell-like command line (`curl ...` or `wscat ...`, command.ts) against the running
   * program; `onOutput` gets what it prints as it prints it. Resolves when the command ends.
   */
  run(command: string, onOutput?: OutputListener, options?: RunOptions): Promise<CommandResult>;
  /**
   * Optional: start `program` ahead, beside the running one, so that a later `start` of exactly
   * the same files only swaps it in (the in-page engine: a worker per prepared program).
   */
  prepare?(program: Program): Promise<StartResult>;
  /** Optional: whether exactly `program` (every file) is prepared, started or starting. */
  isPrepared?(program: Program): boolean;
  /**
   * Optional: `start`, synchronously, when `program` is prepared and has started: it replaces
   * the running program at once (so a command can follow in the same task). Null otherwise.
   */
  startPrepared?(program: Program, onOutput?: OutputListener): StartResult | null;
  /** Stop the running program, if any. */
  stop(): Promise<void>;
  /** Release everything (workers, processes). The engine is unusable afterwards. */
  dispose(): Promise<void>;
}

/** How long a command may take (or a session's program go silent) before the watchdog stops the program (the issue asks ≤ 5 s). */
export const COMMAND_TIMEOUT_MS = 4000;
/** How long a program may take to start listening. */
export const START_TIMEOUT_MS = 4000;
