/**
 * The one contract every playground engine meets: load a talk program, start it, run a
 * command such as `curl -i http://localhost:8888` against it, stream what happens, stop it.
 *
 * Two engines implement it: the WebContainer (real Node in the browser, needs cross-origin
 * isolation and StackBlitz's servers) and the in-page engine (the same runtime in a Web Worker
 * over the in-memory network). The slides only ever talk to this interface, so the presenter
 * can switch engines mid-talk and the contract tests can run the same cases against both.
 */

/** A program as the deck's catalog describes it (slides/examples/catalog.ts `Example`). */
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
  /** Wall time of the command in ms. */
  ms: number;
}

export interface RunOptions {
  /**
   * How long this command may take before the watchdog stops the program (default
   * COMMAND_TIMEOUT_MS): a demo that blocks on purpose declares its time budget here, so a
   * long run is told from a runaway, which is still stopped once the budget is spent.
   */
  timeoutMs?: number;
}

export interface Engine {
  readonly kind: EngineKind;
  /** Start `program`, replacing whatever ran before. Resolves once it listens, or fails. */
  start(program: Program, onOutput?: OutputListener): Promise<StartResult>;
  /** Run a shell-like command line (only `curl ...` is available) against the running program. */
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

/** How long a command may take before the watchdog stops the program (the issue asks ≤ 5 s). */
export const COMMAND_TIMEOUT_MS = 4000;
/** How long a program may take to start listening. */
export const START_TIMEOUT_MS = 4000;
