/**
 * Messages between the in-page engine (main thread) and its worker.
 */
import type { OutputSource, Program, StartFailure } from "../engine.js";
import type { PaneEvent, PaneRequest } from "../panes/protocol.js";

export type ToWorker =
  | { type: "start"; id: number; program: Program }
  | { type: "run"; id: number; argv: string[] }
  /** Liveness check while panes are open (no command may be in flight to time out). */
  | { type: "ping"; id: number }
  /** A browser pane's request for the program (panes/server.ts makes it). */
  | { type: "pane"; session: number; request: PaneRequest }
  | { type: "pane-close"; session: number };

export type FromWorker =
  /** The worker has loaded the runtime and can take a program. */
  | { type: "ready" }
  | { type: "output"; source: OutputSource; stream: "stdout" | "stderr" | "log"; text: string }
  | { type: "started"; id: number; ports: number[] }
  | ({ type: "start-failed"; id: number } & StartFailure)
  | { type: "ran"; id: number; exitCode: number }
  | { type: "pong"; id: number }
  | { type: "pane"; session: number; event: PaneEvent };
