/**
 * Messages between the in-page engine (main thread) and its worker.
 */
import type { CommandName } from "../command.js";
import type { OutputSource, Program, StartFailure } from "../engine.js";
import type { PaneEvent, PaneRequest } from "../panes/protocol.js";

export type ToWorker =
  | { type: "start"; id: number; program: Program }
  /**
   * `tty`: the command's output goes to a terminal (the deck's xterm), as wscat asks. `output`
   * (a cross-origin isolated page): the run's chunks are also written there (shared-output.ts).
   */
  | { type: "run"; id: number; program: CommandName; argv: string[]; tty: boolean; input: boolean; output?: SharedArrayBuffer }
  /** A line typed into run `id` (without its newline); `null` is the end of input. */
  | { type: "input"; run: number; line: string | null }
  /** Ctrl+C for run `id`. */
  | { type: "interrupt"; run: number }
  /** The watchdog asks whether the worker's event loop still turns. */
  | { type: "ping"; n: number }
  /** A browser pane's request for the program (panes/server.ts makes it). */
  | { type: "pane"; session: number; request: PaneRequest }
  | { type: "pane-close"; session: number };

export type FromWorker =
  /** The worker has loaded the runtime and can take a program. */
  | { type: "ready" }
  /** `run`: the command that printed it (source "command"); `seq`: its chunk's number in the run's shared output. */
  | { type: "output"; source: OutputSource; stream: "stdout" | "stderr" | "log"; text: string; run?: number; seq?: number }
  | { type: "started"; id: number; ports: number[] }
  | ({ type: "start-failed"; id: number } & StartFailure)
  | { type: "ran"; id: number; exitCode: number }
  | { type: "pong"; n: number }
  | { type: "pane"; session: number; event: PaneEvent };
