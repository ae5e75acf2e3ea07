/**
 * The WebContainer engine: the program runs in real Node inside the browser (StackBlitz's
 * WebContainer), and our curl or wscat runs as a second `node` process beside it, in the
 * program's directory (a cookie jar is the program's, as in the in-page engine).
 *
 * Works against any `Container` (container.ts): the real WebContainer in the deck, the
 * Node-backed one in tests. The runtime is mounted once per container; each program start
 * replaces `app/`, spawns `node <main>.js`, and waits for the container's 'port' event.
 * The program's own output stream is its log (access lines, tracebacks). The container's PTY
 * merges stdout and stderr, so a command's output all arrives as `stdout`.
 */
import {
  COMMAND_TIMEOUT_MS,
  START_TIMEOUT_MS,
  type CommandResult,
  type Engine,
  type OutputListener,
  type Program,
  type RunOptions,
  type StartResult,
} from "../engine.js";
import { parseCommand } from "../command.js";
import { cleanTerminalText, deadline, now } from "../output.js";
import { formatCompileError } from "../transpile.js";
import { QuietClock } from "../watchdog.js";
import type { Container, ContainerProcess } from "./container.js";
import { APP_DIR, entryFile, HEARTBEAT_FILE, programTree, runtimeTree, TranspileError } from "./files.js";

export interface WebContainerEngineOptions {
  startTimeoutMs?: number;
  commandTimeoutMs?: number;
}

interface Running {
  program: Program;
  process: ContainerProcess;
  /** Everything the program printed so far. */
  output: string;
  exited: boolean;
  listeners: Set<OutputListener>;
}

export class WebContainerEngine implements Engine {
  readonly kind = "webcontainer" as const;
  private base: Promise<void> | null = null;
  private running: Running | null = null;
  private lastProgram: { program: Program; onOutput?: OutputListener } | null = null;
  private readonly openPorts = new Set<number>();
  /** The container's URL for each open port (its preview / server-ready URL): browser panes load it. */
  private readonly previewUrls = new Map<number, string>();
  private readonly portWaiters = new Set<(port: number, type: "open" | "close") => void>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly startTimeoutMs: number;
  private readonly commandTimeoutMs: number;

  constructor(
    private readonly container: Container,
    private readonly loadSources: () => Promise<Record<string, string>>,
    options: WebContainerEngineOptions = {},
  ) {
    this.startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
    this.commandTimeoutMs = options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
    this.unsubscribe.push(
      container.on("port", (port, type, url) => {
        if (type === "open") this.openPorts.add(port);
        else this.openPorts.delete(port);
        if (type === "open") this.previewUrls.set(port, url);
        else this.previewUrls.delete(port);
        for (const waiter of [...this.portWaiters]) waiter(port, type);
      }),
    );
  }

  /** Mount the runtime package and curl.mjs once per container. */
  private ensureBase(): Promise<void> {
    this.base ??= (async () => {
      const tree = runtimeTree(await this.loadSources());
      await this.container.mount(tree);
    })();
    this.base.catch(() => (this.base = null));
    return this.base;
  }

  async start(program: Program, onOutput?: OutputListener): Promise<StartResult> {
    const t0 = now();
    await this.stop();
    this.lastProgram = { program, ...(onOutput ? { onOutput } : {}) };
    try {
      await this.ensureBase();
    } catch (error) {
      const message = error instanceof TranspileError ? `runtime does not compile: ${error.message}` : String(error);
      return { ok: false, ms: now() - t0, kind: "engine", message };
    }
    const app = programTree(program);
    if (!app.ok) {
      return { ok: false, ms: now() - t0, kind: "compile", message: formatCompileError(app), file: app.file, line: app.line, column: app.column };
    }
    await this.container.fs.rm(APP_DIR, { recursive: true, force: true });
    await this.container.fs.mkdir(APP_DIR, { recursive: true });
    await this.container.mount(app.tree, { mountPoint: APP_DIR });

    const portsBefore = new Set(this.openPorts);
    let opened!: (port: number) => void;
    const listening = new Promise<number>((resolve) => (opened = resolve));
    const waiter = (port: number, type: "open" | "close") => {
      if (type === "open") opened(port);
    };
    this.portWaiters.add(waiter);

    const proc = await this.container.spawn("node", ["--require", "../heartbeat.cjs", entryFile(program)], { cwd: APP_DIR });
    const running: Running = { program, process: proc, output: "", exited: false, listeners: new Set() };
    if (onOutput) running.listeners.add(onOutput);
    this.running = running;
    void proc.output
      .pipeTo(
        new WritableStream({
          write: (chunk) => {
            const text = cleanTerminalText(chunk);
            running.output += text;
            for (const l of running.listeners) l(text, "server");
          },
        }),
      )
      .catch(() => {});
    const exited = proc.exit.then((code) => {
      running.exited = true;
      if (this.running === running) this.running = null;
      return code;
    });

    // A port that was already open (another process) does not count as this program listening.
    const firstNewPort = listening.then(async (port) => (portsBefore.has(port) ? await new Promise<number>(() => {}) : port));
    const timer = deadline(this.startTimeoutMs, "timeout" as const);
    const outcome = await Promise.race([
      firstNewPort.then((port) => ({ port })),
      exited.then((code) => ({ code })),
      timer.promise,
    ]);
    timer.cancel();
    this.portWaiters.delete(waiter);
    const ms = now() - t0;
    if (outcome === "timeout") {
      await this.stop();
      return {
        ok: false,
        ms,
        kind: "timeout",
        message: `the program did not listen within ${this.startTimeoutMs / 1000} s and was stopped`,
      };
    }
    if ("code" in outcome) {
      // Let the output stream deliver the traceback before reporting it.
      await new Promise((r) => setTimeout(r, 20));
      return { ok: false, ms, kind: "crash", message: `exited with code ${outcome.code}\n${running.output}`.trim() };
    }
    return { ok: true, ports: [outcome.port], ms };
  }

  async run(command: string, onOutput?: OutputListener, options: RunOptions = {}): Promise<CommandResult> {
    const t0 = now();
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    const parsed = parseCommand(command);
    if (!parsed.ok) return { exitCode: 127, stdout: "", stderr: parsed.error + "\n", timedOut: false, ms: now() - t0 };
    if (!this.running && this.lastProgram) {
      // The program was stopped (watchdog, crash): bring it back for this command.
      const restarted = await this.start(this.lastProgram.program, this.lastProgram.onOutput);
      if (!restarted.ok) {
        return { exitCode: 7, stdout: "", stderr: `the program could not be restarted: ${restarted.message}\n`, timedOut: false, ms: now() - t0 };
      }
    }
    await this.ensureBase();
    await this.container.fs.mkdir(APP_DIR, { recursive: true });
    const { signal, input } = options;
    const session = signal !== undefined;
    const proc = await this.container.spawn("node", [`../${parsed.program}.mjs`, ...parsed.argv], {
      cwd: APP_DIR,
      env: { TORNADO_TTY: session ? "1" : "0" },
    });
    let stdout = "";
    const streamed = proc.output
      .pipeTo(
        new WritableStream({
          write: (chunk) => {
            const text = cleanTerminalText(chunk);
            stdout += text;
            onOutput?.(text, "command");
          },
        }),
      )
      .catch(() => {});
    let outcome: number | "timeout";
    let stopped = false;
    if (!session) {
      const timer = deadline(timeoutMs, "timeout" as const);
      outcome = await Promise.race([proc.exit, timer.promise]);
      timer.cancel();
    } else {
      const writer = proc.input.getWriter();
      const type = (text: string) => void writer.write(text).catch(() => {});
      let ended = false;
      void proc.exit.then(() => (ended = true));
      if (input) {
        void (async () => {
          for await (const line of input) {
            if (ended) return;
            type(`${line}\n`);
          }
          if (!ended) type("\x04"); // Ctrl+D
        })();
      }
      // Ctrl+C as a terminal types it; a command that does not take it is killed, as a shell's SIGINT would.
      let interrupted!: () => void;
      const killed = new Promise<number>((resolve) => {
        interrupted = () => {
          stopped = true;
          type("\x03");
          const timer = deadline(500, 130);
          void timer.promise.then((code) => {
            proc.kill();
            resolve(code);
          });
          void proc.exit.then(() => timer.cancel());
        };
      });
      if (signal.aborted) interrupted();
      else signal.addEventListener("abort", interrupted, { once: true });
      const watch = this.watchProgram(timeoutMs);
      outcome = await Promise.race([proc.exit, killed, watch.stuck]);
      watch.cancel();
      signal.removeEventListener("abort", interrupted);
      writer.releaseLock();
    }
    if (outcome === "timeout") {
      proc.kill();
      const server = this.running;
      await this.stop();
      const note = `\nstopped after ${timeoutMs / 1000} s: the server did not answer${server ? " (an endless loop?); the program was killed" : ""}\n`;
      return { exitCode: 28, stdout, stderr: note, timedOut: true, ms: now() - t0 };
    }
    // A killed process's stream may never close in a real WebContainer: wait for it briefly.
    const drained = deadline(stopped ? 200 : 2000, undefined);
    await Promise.race([streamed, drained.promise]);
    drained.cancel();
    return { exitCode: outcome, stdout, stderr: "", timedOut: false, ...(stopped ? { stopped } : {}), ms: now() - t0 };
  }

  /**
   * A session's watchdog: resolves "timeout" once the running program has shown no sign of
   * life (its heartbeat file, heartbeat.cjs) for `windowMs`. A program that has exited is not
   * watched: the command will see it gone.
   */
  private watchProgram(windowMs: number): { stuck: Promise<"timeout">; cancel(): void } {
    const clock = new QuietClock(windowMs, 100);
    let last: string | null = null;
    let timer: ReturnType<typeof setInterval> | undefined;
    let reading = false;
    const stuck = new Promise<"timeout">((resolve) => {
      timer = setInterval(() => {
        const running = this.running;
        const watched = running !== null && !running.exited;
        if (!watched) clock.alive();
        if (clock.look()) resolve("timeout");
        if (reading || !watched) return;
        reading = true;
        void this.container.fs
          .readFile(HEARTBEAT_FILE, "utf-8")
          .then(
            (beat) => {
              // The first read is no sign of life: the beat may be from before a loop began.
              if (beat !== last && last !== null) clock.alive();
              last = beat;
            },
            () => {},
          )
          .finally(() => (reading = false));
      }, 100);
    });
    return { stuck, cancel: () => clearInterval(timer) };
  }

  /** Where a browser pane finds the program's port: the container's preview URL for it. */
  previewUrl(port: number): string | null {
    return this.previewUrls.get(port) ?? null;
  }

  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = null;
    const ports = [...this.openPorts];
    running.process.kill();
    await Promise.race([running.process.exit, new Promise((r) => setTimeout(r, 2000))]);
    // Wait (briefly) for the container to notice the ports closed, so the next start's
    // 'open' is really the next program's.
    if (ports.length > 0) {
      let waiter = () => {};
      const closed = new Promise<void>((resolve) => {
        waiter = () => {
          if (ports.every((p) => !this.openPorts.has(p))) resolve();
        };
        this.portWaiters.add(waiter);
        waiter();
      });
      const timer = deadline(1000, undefined);
      await Promise.race([closed, timer.promise]);
      timer.cancel();
      this.portWaiters.delete(waiter);
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    for (const u of this.unsubscribe) u();
  }
}
