/**
 * The in-page engine's Web Worker: one program per worker (the main thread discards the worker
 * to reset everything, and terminates it when a handler never returns).
 */
import type { FromWorker, ToWorker } from "./protocol.js";
import { describeError, Sandbox } from "./sandbox.js";
import { runtimeModules } from "./modules.js";
import { START_TIMEOUT_MS } from "../engine.js";
import { PaneServer } from "../panes/server.js";

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

const panes = new PaneServer((session, paneEvent) => post({ type: "pane", session, event: paneEvent }));

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "ping") post({ type: "pong", id: message.id });
  else if (message.type === "pane") panes.handle(message.session, message.request);
  else if (message.type === "pane-close") panes.close(message.session);
  else if (message.type === "start") {
    void sandbox.start(message.program, START_TIMEOUT_MS).then((result) => {
      if (result.ok) post({ type: "started", id: message.id, ports: result.ports });
      else {
        const { ok: _ok, ...failure } = result;
        post({ type: "start-failed", id: message.id, ...failure });
      }
    });
  } else if (message.type === "run") {
    void sandbox.run(message.argv).then(
      (exitCode) => post({ type: "ran", id: message.id, exitCode }),
      (error: unknown) => {
        post({ type: "output", source: "command", stream: "stderr", text: `curl crashed: ${describeError(error)}\n` });
        post({ type: "ran", id: message.id, exitCode: 1 });
      },
    );
  }
};

post({ type: "ready" });
