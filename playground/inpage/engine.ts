/**
 * The in-page engine: the runtime in a Web Worker over the in-memory network.
 *
 * One worker per program start is the reset: nothing of a previous program (listeners,
 * IOLoop, module state, a wedged handler) can leak into the next. A spare worker is kept
 * loaded so a start costs a message round trip plus the program's own work, not a worker
 * boot. The main thread keeps a watchdog on every request: a worker that does not answer
 * (`while (true) {}` in a handler) is terminated, and the next command starts the program
 * again in a fresh worker.
 */
import {
  COMMAND_TIMEOUT_MS,
  START_TIMEOUT_MS,
  type CommandResult,
  type Engine,
  type OutputListener,
  type OutputSource,
  type Program,
  type RunOptions,
  type StartResult,
} from "../engine.js";
import { parseCommand } from "../command.js";
import { now } from "../output.js";
import { whenIdle } from "../idle.js";
import { QuietClock, type Watchdog } from "../watchdog.js";
import type { FromWorker, ToWorker } from "./protocol.js";
import { createSharedOutput, SharedOutputReader, sharedOutputSupported } from "./shared-output.js";
import type { PaneChannel, PaneEnd, PaneEvent } from "../panes/protocol.js";

export interface InPageEngineOptions {
  startTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Keep a loaded spare worker for the next start (default true). */
  spare?: boolean;
  /** How many programs may wait started ahead (`prepare`), one per example name (default 4). */
  prepared?: number;
}

/** What identifies a program's exact text: a prepared worker answers only for this key. */
export function programKey(program: Program): string {
  return JSON.stringify([program.main, Object.entries(program.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/** Output a prepared program wrote before anyone listened: replayed once it is adopted. */
const PREPARED_OUTPUT_LIMIT = 64 * 1024;

/** A program started ahead in its own worker, not yet the running one. */
interface Prepared {
  key: string;
  handle: WorkerHandle;
  started: Promise<StartResult>;
  output: Array<[string, OutputSource]>;
  /** How the start went, once it has. */
  result?: StartResult;
}

type Reply = Extract<FromWorker, { id: number }>;
type Request = ToWorker extends infer T ? (T extends ToWorker ? Omit<T, "id"> : never) : never;

/** A worker plus request bookkeeping. */
class WorkerHandle {
  readonly ready: Promise<void>;
  private pending = new Map<number, (reply: Reply | { type: "dead"; message: string }) => void>();
  private nextId = 1;
  listener: OutputListener | null = null;
  /** Output of the commands running, by run id (`seq`: the chunk's number, when the run shares its output). */
  readonly commandListeners = new Map<number, (text: string, stream: "stdout" | "stderr", seq?: number) => void>();
  /** The watchdogs on this worker: each hears every answer to a ping (its event loop turned). */
  private readonly clocks = new Set<QuietClock>();
  private pings = 0;
  dead: string | null = null;
  /** Events for browser panes, by pane session. */
  onPane: ((session: number, event: PaneEvent) => void) | null = null;
  /** Called once when the worker is terminated, with the reason. */
  onKill: ((reason: string) => void) | null = null;
  /** The runtime has loaded: a request can go out without waiting a turn. */
  isReady = false;

  constructor(readonly worker: Worker) {
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.ready.catch(() => {});
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const m = event.data;
      if (m.type === "ready") {
        this.isReady = true;
        readyResolve();
      } else if (m.type === "pong") for (const clock of this.clocks) clock.alive();
      else if (m.type === "output") {
        if (m.source === "command") this.commandListeners.get(m.run ?? -1)?.(m.text, m.stream === "stderr" ? "stderr" : "stdout", m.seq);
        else this.listener?.(m.text, m.source);
      } else if (m.type === "pane") {
        this.onPane?.(m.session, m.event);
      } else {
        const settle = this.pending.get(m.id);
        this.pending.delete(m.id);
        settle?.(m);
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      const message = `the engine's worker failed to load: ${event.message || "unknown error"}`;
      this.kill(message);
      readyReject(new Error(message));
    };
  }

  /** An id for the next request, when its output must be routed before it is sent. */
  reserveId(): number {
    return this.nextId++;
  }

  /** A message that expects no reply (input, Ctrl+C, ping). */
  send(message: Exclude<ToWorker, { id: number }>): void {
    if (!this.dead) this.worker.postMessage(message);
  }

  /**
   * A watchdog on this worker, looking every `everyMs`: each look pings the worker and says
   * whether a ping has gone unanswered for `windowMs` (see QuietClock).
   */
  watchdog(windowMs: number, everyMs: number): Watchdog {
    const clock = new QuietClock(windowMs, everyMs);
    this.clocks.add(clock);
    return {
      look: () => {
        const stuck = clock.look();
        this.send({ type: "ping", n: ++this.pings });
        return stuck;
      },
      release: () => this.clocks.delete(clock),
    };
  }

  /** Send `message` and wait for its reply, at most `timeoutMs` (null: as long as it takes). */
  request(message: Request, timeoutMs: number | null, id = this.reserveId()): Promise<Reply | { type: "dead"; message: string } | { type: "timeout" }> {
    if (this.dead) return Promise.resolve({ type: "dead", message: this.dead });
    return new Promise((resolve) => {
      const timer =
        timeoutMs === null
          ? undefined
          : setTimeout(() => {
              this.pending.delete(id);
              resolve({ type: "timeout" });
            }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.worker.postMessage({ ...message, id } as ToWorker);
    });
  }

  /**
   * `later`: the worker is dead to us at once (no message of it is heard again), but terminated
   * once the page is idle: Chromium's terminate() waits for the worker's thread (tens of ms on a
   * busy machine), and a program replaced on a slide change must not hold up the new one's
   * output. A worker that must stop now (a runaway loop) is killed without `later`.
   */
  kill(reason: string, later = false): void {
    if (this.dead) return;
    this.dead = reason;
    if (later) {
      this.worker.onmessage = null;
      const worker = this.worker;
      whenIdle(() => worker.terminate(), 500);
    } else this.worker.terminate();
    this.onKill?.(reason);
    for (const settle of this.pending.values()) settle({ type: "dead", message: reason });
    this.pending.clear();
  }
}

export class InPageEngine implements Engine {
  readonly kind = "inpage" as const;
  private spare: WorkerHandle | null = null;
  private current: WorkerHandle | null = null;
  private lastProgram: { program: Program; onOutput?: OutputListener } | null = null;
  /** Programs started ahead, by example name (the latest text of each only), oldest first. */
  private readonly prepared = new Map<string, Prepared>();
  private readonly startTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly keepSpare: boolean;
  /** Open browser panes: which worker each talks to, and how to tell it the program went. */
  private readonly panes = new Map<number, { handle: WorkerHandle; onEnd: (end: PaneEnd) => void }>();
  private nextPane = 1;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** The worker the panes' heartbeat watches, and its watchdog. */
  private watched: { handle: WorkerHandle; watchdog: Watchdog } | null = null;
  private readonly maxPrepared: number;

  constructor(
    private readonly createWorker: () => Worker,
    options: InPageEngineOptions = {},
  ) {
    this.startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
    this.commandTimeoutMs = options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
    this.keepSpare = options.spare ?? true;
    this.maxPrepared = options.prepared ?? 4;
  }

  /** Load a worker ahead of time (the deck calls this early so the first start is quick). */
  warm(): Promise<void> {
    this.spare ??= new WorkerHandle(this.createWorker());
    return this.spare.ready;
  }

  private take(): WorkerHandle {
    const handle = this.spare ?? new WorkerHandle(this.createWorker());
    this.spare = null;
    return handle;
  }

  /**
   * Start `program` ahead in a worker of its own, without touching the running one, so that a
   * later `start` of exactly the same text only swaps workers (a message round trip, no
   * transpile, no module evaluation). One program per example name is kept: preparing a newer
   * text of the same example discards the older one (a stale program never answers for an
   * edited one: `start` adopts a prepared worker only when every file is identical). A prepared
   * program has served nothing yet, so adopting it is a fresh start. Resolves with how its
   * start went; its output is kept and replayed to the listener `start` gives.
   */
  prepare(program: Program): Promise<StartResult> {
    const key = programKey(program);
    const existing = this.prepared.get(program.name);
    if (existing && existing.key === key && !existing.handle.dead) {
      // Most recently wanted last: the oldest is evicted first.
      this.prepared.delete(program.name);
      this.prepared.set(program.name, existing);
      return existing.started;
    }
    if (existing) this.discardPrepared(program.name);
    const t0 = now();
    const handle = this.take();
    const output: Array<[string, OutputSource]> = [];
    let size = 0;
    handle.listener = (text, source) => {
      size += text.length;
      if (size <= PREPARED_OUTPUT_LIMIT) output.push([text, source]);
    };
    const started = this.boot(handle, program, t0);
    const entry: Prepared = { key, handle, started, output };
    this.prepared.set(program.name, entry);
    // A program that failed to start is not kept: `start` runs it again and reports why.
    void started.then((r) => {
      entry.result = r;
      if (!r.ok && this.prepared.get(program.name) === entry) this.prepared.delete(program.name);
    });
    while (this.prepared.size > this.maxPrepared) this.discardPrepared(this.prepared.keys().next().value!);
    return started;
  }

  /** Forget the program prepared for `name`, if any (its worker goes). */
  discardPrepared(name: string): void {
    const entry = this.prepared.get(name);
    if (!entry) return;
    this.prepared.delete(name);
    entry.handle.kill("discarded");
  }

  /** Whether exactly `program` is prepared (started or starting) ahead. */
  isPrepared(program: Program): boolean {
    const entry = this.prepared.get(program.name);
    return !!entry && !entry.handle.dead && entry.key === programKey(program);
  }

  /** Take `program`'s prepared worker, if it holds exactly these files, as the running one. */
  private adopt(program: Program, onOutput?: OutputListener): Prepared | null {
    const entry = this.prepared.get(program.name);
    if (!entry || entry.handle.dead || entry.key !== programKey(program)) return null;
    this.prepared.delete(program.name);
    this.current?.kill("stopped", true);
    this.current = entry.handle;
    this.lastProgram = { program, ...(onOutput ? { onOutput } : {}) };
    // Hand over what it has printed so far, then the rest as it comes.
    entry.handle.listener = onOutput ?? null;
    for (const [text, source] of entry.output.splice(0)) onOutput?.(text, source);
    return entry;
  }

  startPrepared(program: Program, onOutput?: OutputListener): StartResult | null {
    const entry = this.prepared.get(program.name);
    if (!entry?.result?.ok) return null;
    return this.adopt(program, onOutput) && { ...entry.result, ms: 0, ahead: true };
  }

  async start(program: Program, onOutput?: OutputListener): Promise<StartResult> {
    const t0 = now();
    const entry = this.adopt(program, onOutput);
    if (entry) {
      const result = await entry.started;
      if (result.ok) return { ...result, ms: now() - t0, ahead: true };
      // Its failure is the program's own (compile error, crash, endless loop): report it as a
      // start would have. An engine failure (the worker died) is retried below in a new worker.
      if (result.kind !== "engine") return { ...result, ms: now() - t0 };
    }
    await this.stop();
    this.lastProgram = { program, ...(onOutput ? { onOutput } : {}) };
    const handle = this.take();
    handle.listener = onOutput ?? null;
    this.current = handle;
    return this.boot(handle, program, t0);
  }

  /** Load `program` in `handle`'s worker and wait until it listens; a failed worker is killed. */
  private async boot(handle: WorkerHandle, program: Program, t0: number): Promise<StartResult> {
    try {
      await handle.ready;
    } catch (error) {
      if (this.current === handle) this.current = null;
      return { ok: false, ms: now() - t0, kind: "engine", message: (error as Error).message };
    }
    // The worker has its own start timeout; ours is the watchdog for a worker stuck in a loop.
    const reply = await handle.request({ type: "start", program }, this.startTimeoutMs + 500);
    if (this.keepSpare) setTimeout(() => void this.warm().catch(() => {}), 0);
    const ms = now() - t0;
    if (reply.type === "started") return { ok: true, ports: reply.ports, ms };
    if (this.current === handle) this.current = null;
    if (reply.type === "start-failed") {
      handle.kill("start failed");
      const { type: _t, id: _id, ...failure } = reply;
      return { ok: false, ms, ...failure };
    }
    if (reply.type === "timeout") {
      handle.kill("start timed out");
      return { ok: false, ms, kind: "timeout", message: `the program did not start within ${this.startTimeoutMs / 1000} s and was stopped (an endless loop?)` };
    }
    return { ok: false, ms, kind: "engine", message: reply.type === "dead" ? reply.message : "unexpected reply" };
  }

  async run(command: string, onOutput?: OutputListener, options: RunOptions = {}): Promise<CommandResult> {
    const t0 = now();
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    const parsed = parseCommand(command);
    if (!parsed.ok) return { exitCode: 127, stdout: "", stderr: parsed.error + "\n", timedOut: false, ms: now() - t0 };
    if (!this.current && this.lastProgram) {
      const restarted = await this.start(this.lastProgram.program, this.lastProgram.onOutput);
      if (!restarted.ok) {
        return { exitCode: 7, stdout: "", stderr: `the program could not be restarted: ${restarted.message}\n`, timedOut: false, ms: now() - t0 };
      }
    }
    // With no program at all, curl still runs (and finds nothing listening), as in a terminal.
    const handle = this.current ?? this.take();
    if (!this.current) this.current = handle;
    // Loaded already: the command is posted in the caller's task.
    if (!handle.isReady) await handle.ready;
    let stdout = "";
    let stderr = "";
    const id = handle.reserveId();
    const deliver = (text: string, stream: "stdout" | "stderr") => {
      if (stream === "stderr") stderr += text;
      else stdout += text;
      onOutput?.(text, "command");
    };
    // Asked for and possible: the worker also writes the output into shared memory, which the
    // caller may take before the messages come (each chunk is delivered once, by either path).
    const shared = options.early && sharedOutputSupported() ? createSharedOutput() : null;
    const reader = shared ? new SharedOutputReader(shared, deliver) : null;
    handle.commandListeners.set(id, (text, stream, seq) => (reader && seq !== undefined ? reader.message(seq, text, stream) : deliver(text, stream)));
    const { signal, input } = options;
    const session = signal !== undefined;
    const request = handle.request(
      { type: "run", program: parsed.program, argv: parsed.argv, tty: session, input: input !== undefined, ...(shared ? { output: shared } : {}) },
      session ? null : timeoutMs,
      id,
    );
    let ended = false;
    if (reader) {
      options.early!(() => {
        // Once, while the command runs: after it (or once it has ended) the messages carry all.
        const taken = ended ? 0 : reader.take();
        reader.close();
        return taken;
      });
    }
    const cleanups: Array<() => void> = [];
    let reply: Awaited<typeof request>;
    if (!session) reply = await request;
    else {
      if (input) {
        void (async () => {
          for await (const line of input) {
            if (ended) return;
            handle.send({ type: "input", run: id, line });
          }
          if (!ended) handle.send({ type: "input", run: id, line: null });
        })();
      }
      const interrupt = () => handle.send({ type: "interrupt", run: id });
      if (signal.aborted) interrupt();
      else signal.addEventListener("abort", interrupt, { once: true });
      cleanups.push(() => signal.removeEventListener("abort", interrupt));
      // A session runs as long as the program shows life: the worker answers pings (a handler
      // stuck in `while (true) {}` holds the worker's only thread, so no answer comes).
      const watchdog = handle.watchdog(timeoutMs, 100);
      const stuck = new Promise<{ type: "timeout" }>((resolve) => {
        const timer = setInterval(() => {
          if (watchdog.look()) resolve({ type: "timeout" });
        }, 100);
        cleanups.push(() => clearInterval(timer), watchdog.release);
      });
      reply = await Promise.race([request, stuck]);
    }
    ended = true;
    reader?.close();
    for (const cleanup of cleanups) cleanup();
    handle.commandListeners.delete(id);
    if (reply.type === "ran") return { exitCode: reply.exitCode, stdout, stderr, timedOut: false, ...(signal?.aborted ? { stopped: true } : {}), ms: now() - t0 };
    handle.kill("watchdog");
    if (this.current === handle) this.current = null;
    if (reply.type === "timeout") {
      const note = `\nstopped after ${timeoutMs / 1000} s: the server did not answer (an endless loop?); the program was stopped\n`;
      onOutput?.(note, "command");
      return { exitCode: 28, stdout, stderr: stderr + note, timedOut: true, ms: now() - t0 };
    }
    return { exitCode: 1, stdout, stderr: stderr + `${reply.type === "dead" ? reply.message : "unexpected reply"}\n`, timedOut: false, ms: now() - t0 };
  }

  /**
   * A browser pane's channel to the running program (playground/panes/). While panes are open
   * the worker is pinged every second: a program stuck in a loop (a websocket handler, a
   * periodic callback) answers nothing and no command is in flight to time out, so the same
   * watchdog applies to the pings.
   */
  async openPane(onEvent: (event: PaneEvent) => void, onEnd: (end: PaneEnd) => void, ahead?: Program): Promise<PaneChannel> {
    let handle: WorkerHandle | null;
    if (ahead) {
      // `ahead` started ahead (prepare): its pane is open before its slide is entered, and
      // stays open when the slide's command adopts the worker as the running one.
      const entry = this.prepared.get(ahead.name);
      if (!entry || entry.key !== programKey(ahead)) throw new Error(`${ahead.name} is not started ahead`);
      const started = await entry.started;
      if (!started.ok) throw new Error(`the program did not start: ${started.message}`);
      handle = entry.handle;
      if (handle.dead) throw new Error(`the program stopped (${handle.dead})`);
    } else {
      if (!this.current && this.lastProgram) {
        const restarted = await this.start(this.lastProgram.program, this.lastProgram.onOutput);
        if (!restarted.ok) throw new Error(`the program could not be restarted: ${restarted.message}`);
      }
      handle = this.current;
    }
    if (!handle) throw new Error("no program is running");
    await handle.ready;
    const session = this.nextPane++;
    handle.onPane ??= (s, event) => this.paneEvents.get(s)?.(event);
    handle.onKill ??= (reason) => {
      const end: PaneEnd =
        reason === "watchdog"
          ? { kind: "watchdog", message: `the program did not answer for ${this.commandTimeoutMs / 1000} s (an endless loop?) and was stopped` }
          : { kind: "stopped", message: "the program stopped" };
      for (const [id, pane] of [...this.panes]) {
        if (pane.handle !== handle) continue;
        this.panes.delete(id);
        this.paneEvents.delete(id);
        pane.onEnd(end);
      }
      this.watch();
    };
    this.paneEvents.set(session, onEvent);
    this.panes.set(session, { handle, onEnd });
    this.watch();
    return {
      send: (request) => {
        if (this.panes.has(session) && !handle.dead) handle.worker.postMessage({ type: "pane", session, request } satisfies ToWorker);
      },
      close: () => {
        if (!this.panes.delete(session)) return;
        this.paneEvents.delete(session);
        if (!handle.dead) handle.worker.postMessage({ type: "pane-close", session } satisfies ToWorker);
        this.watch();
      },
      running: () => this.current === handle && !handle.dead,
    };
  }

  private readonly paneEvents = new Map<number, (event: PaneEvent) => void>();

  /** Ping the worker while panes are open; one unanswered for the command timeout is a runaway. */
  private watch(): void {
    if (this.panes.size === 0) {
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
      this.watched?.watchdog.release();
      this.watched = null;
      return;
    }
    if (this.heartbeat) return;
    // The same ping as a terminal session's watchdog: answered only when the worker's loop is free.
    this.heartbeat = setInterval(() => {
      const handle = this.current;
      if (!handle || handle.dead) return;
      // Panes opened ahead on a program not running yet do not make the running one watched.
      if (![...this.panes.values()].some((pane) => pane.handle === handle)) return;
      if (this.watched?.handle !== handle) {
        this.watched?.watchdog.release();
        this.watched = { handle, watchdog: handle.watchdog(this.commandTimeoutMs, 1000) };
      }
      if (!this.watched.watchdog.look()) return;
      handle.listener?.(`\nstopped: the program did not answer for ${this.commandTimeoutMs / 1000} s (an endless loop?) and was stopped\n`, "server");
      if (this.current === handle) this.current = null;
      handle.kill("watchdog");
    }, 1000);
  }

  async stop(): Promise<void> {
    this.current?.kill("stopped");
    this.current = null;
  }

  async dispose(): Promise<void> {
    await this.stop();
    for (const name of [...this.prepared.keys()]) this.discardPrepared(name);
    this.spare?.kill("disposed");
    this.spare = null;
    this.lastProgram = null;
  }
}

/** The deck's worker: Vite bundles worker.ts (and the runtime it imports) as a module worker. */
export function createInPageWorker(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "tornado-inpage" });
}
