/**
 * Messages between the in-page engine (main thread) and its worker.
 */
import type { OutputSource, Program, StartFailure } from "../engine.js";

export type ToWorker =
  | { type: "start"; id: number; program: Program }
  | { type: "run"; id: number; argv: string[] };

export type FromWorker =
  /** The worker has loaded the runtime and can take a program. */
  | { type: "ready" }
  | { type: "output"; source: OutputSource; stream: "stdout" | "stderr" | "log"; text: string }
  | { type: "started"; id: number; ports: number[] }
  | ({ type: "start-failed"; id: number } & StartFailure)
  | { type: "ran"; id: number; exitCode: number };
