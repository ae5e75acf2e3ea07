/**
 * The in-page engine's Web Worker: one program per worker (the main thread discards the worker
 * to reset everything, and terminates it when a handler never returns).
 */
import type { FromWorker, ToWorker } from "./protocol.js";
import { describeError, Sandbox } from "./sandbox.js";
import { runtimeModules } from "./modules.js";
import { CommandInput, START_TIMEOUT_MS } from "../engine.js";
import { PaneServer } from "../panes/server.js";
import { SharedOutputWriter } from "./shared-output.js";

const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  addEventListener(type: string, listener: (event: Event) => void): void;
};
const post = (message: FromWorker) => scope.postMessage(message);

const sandbox = new Sandbox({
  modules: runtimeModules,
  output: (source, stream, text) => post({ type: "output", source, stream, text }),
});

// Errors that escape the runtime (a throw in a bare setTimeout callback...) go to the log, as
// Node would print them before dying; the worker itself keeps serving.
scope.addEventListener("error", (event) => {
  const e = event as ErrorEvent;
  e.preventDefault();
  post({ type: "output", source: "server", stream: "stderr", text: describeError(e.error ?? e.message) + "\n" });
});
scope.addEventListener("unhandledrejection", (event) => {
  const e = event as PromiseRejectionEvent;
  e.preventDefault();
  post({ type: "output", source: "server", stream: "stderr", text: describeError(e.reason) + "\n" });
});

/** Commands still running: their input and their Ctrl+C. */
const runs = new Map<number, { input: CommandInput; interrupt: AbortController }>();

const panes = new PaneServer((session, paneEvent) => post({ type: "pane", session, event: paneEvent }));

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "ping") {
    // Answered only when the loop is free: a handler in `while (true) {}` never answers.
    post({ type: "pong", n: message.n });
  } else if (message.type === "pane") {
    panes.handle(message.session, message.request);
  } else if (message.type === "pane-close") {
    panes.close(message.session);
  } else if (message.type === "input") {
    const run = runs.get(message.run);
    if (message.line === null) run?.input.end();
    else run?.input.line(message.line);
  } else if (message.type === "interrupt") {
    runs.get(message.run)?.interrupt.abort();
  } else if (message.type === "start") {
    void sandbox.start(message.program, START_TIMEOUT_MS).then((result) => {
      if (result.ok) post({ type: "started", id: message.id, ports: result.ports });
      else {
        const { ok: _ok, ...failure } = result;
        post({ type: "start-failed", id: message.id, ...failure });
      }
    });
  } else if (message.type === "run") {
    const { id } = message;
    const input = new CommandInput();
    const interrupt = new AbortController();
    runs.set(id, { input, interrupt });
    // Each chunk goes by message as always; with a shared buffer, numbered and copied there too.
    const shared = message.output ? new SharedOutputWriter(message.output) : null;
    const output = (stream: "stdout" | "stderr", text: string) =>
      post({ type: "output", source: "command", stream, text, run: id, ...(shared ? { seq: shared.write(stream, text) } : {}) });
    const ran = sandbox.run(message.argv, {
      command: message.program,
      tty: message.tty,
      signal: interrupt.signal,
      ...(message.input ? { stdin: input } : {}),
      output,
    });
    // curl has no Ctrl+C of its own: interrupted, it ends as a shell reports SIGINT (130).
    const interrupted = new Promise<number>((resolve) => interrupt.signal.addEventListener("abort", () => resolve(130), { once: true }));
    void (message.program === "curl" ? Promise.race([ran, interrupted]) : ran).then(
      (exitCode) => {
        runs.delete(id);
        post({ type: "ran", id, exitCode });
      },
      (error: unknown) => {
        runs.delete(id);
        output("stderr", `${message.program} crashed: ${describeError(error)}\n`);
        post({ type: "ran", id, exitCode: 1 });
      },
    );
  }
};

// Ready once the runtime's request path has been compiled by a request of our own (the engine
// sends nothing before "ready", so no message waits on it): the program started here answers
// its first curl at full speed.
void sandbox.warm().then(() => post({ type: "ready" }));
