/**
 * The event loop (`tornado.ioloop`).
 *
 * Tornado owns its loop (epoll + a timer heap). JavaScript already has one, so this IOLoop is a
 * thin, Tornado-shaped facade over it: callbacks are batched onto the next macrotask, timeouts
 * are host timers, and `start()` merely holds the process open until `stop()`. Keeping every
 * timer behind this class keeps the rest of the runtime platform-free and gives one place
 * where callback exceptions are caught and logged instead of killing the process.
 */
import { appLog } from "./log.js";
import { platform } from "./platform/index.js";

type Callback = (...args: never[]) => unknown;

/** A pending timeout, returned by `callLater`/`addTimeout` and accepted by `removeTimeout`. */
export class TimeoutHandle {
  /** @internal host timer id */
  timer: ReturnType<typeof setTimeout> | null = null;
  cancelled = false;
  constructor(
    /** Monotonic seconds at which the callback runs. */
    readonly deadline: number,
    readonly callback: () => void,
  ) {}
}

/** Runs `fn` on the next macrotask: after pending I/O, so a busy callback chain cannot starve sockets. */
const nextMacrotask: (fn: () => void) => void = (() => {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === "function") return (fn) => void g.setImmediate!(fn);
  if (typeof MessageChannel !== "undefined") {
    const channel = new MessageChannel();
    const queue: (() => void)[] = [];
    channel.port1.onmessage = () => queue.shift()?.();
    return (fn) => {
      queue.push(fn);
      channel.port2.postMessage(null);
    };
  }
  return (fn) => void setTimeout(fn, 0);
})();

/** Node timers keep the process alive; Tornado's don't run unless the loop does, so ours don't hold it. */
function unref(timer: unknown): void {
  (timer as { unref?: () => void } | null)?.unref?.();
}

function describe(fn: unknown): string {
  const name = (fn as { name?: string }).name;
  return name ? `<function ${name}>` : "<function>";
}

/** What the loop just did, for `setTraceHook` (the deck's "event loop, seen" slide). */
export interface TraceEvent {
  /**
   * "readable": bytes arrived on a server socket; "callback": a callback ran (a queued one, or
   * the read callback the bytes completed); "timer": a timeout fired; "write": bytes went to a
   * server socket.
   */
  kind: "readable" | "callback" | "timer" | "write";
  /** One line for people: sizes, ports, the callback's name. */
  detail: string;
  /** `IOLoop.time()` when it happened (monotonic seconds). */
  time: number;
}

/**
 * The trace hook, off (null) unless a program asks for it. Kept in a constant object so the
 * hot paths pay one property load and compare when tracing is off.
 * @internal read by iostream.ts; use `setTraceHook`.
 */
export const tracer: { hook: ((event: TraceEvent) => void) | null } = { hook: null };

/**
 * Reports what the loop does (sockets readable, callbacks run, timers fired, writes) to `hook`,
 * or stops with null; returns the previous hook. Not in Tornado: the deck's runtime adds it so
 * a slide can show the loop at work. A throwing hook is logged and removed.
 */
export function setTraceHook(hook: ((event: TraceEvent) => void) | null): ((event: TraceEvent) => void) | null {
  const previous = tracer.hook;
  tracer.hook = hook;
  return previous;
}

/** @internal Sends one event to the hook (callers check `tracer.hook` first). */
export function traceEvent(kind: TraceEvent["kind"], detail: string): void {
  const hook = tracer.hook;
  if (hook === null) return;
  try {
    hook({ kind, detail, time: platform().monotonic() / 1000 });
  } catch (err) {
    tracer.hook = null;
    logCallbackError(hook, err);
  }
}

export class IOLoop {
  private static _instance: IOLoop | null = null;

  private callbacks: (() => void)[] = [];
  private callbacksScheduled = false;
  private running = false;
  private keepAlive: ReturnType<typeof setInterval> | null = null;
  private stopResolvers: (() => void)[] = [];

  /** The global loop (Tornado's `IOLoop.instance()`). */
  static instance(): IOLoop {
    return (IOLoop._instance ??= new IOLoop());
  }

  /** The loop of the current thread: JavaScript has one, so this is `instance()`. */
  static current(): IOLoop {
    return IOLoop.instance();
  }

  /** Installs `loop` as the global loop (tests); returns the previous one. */
  static setInstance(loop: IOLoop | null): IOLoop | null {
    const previous = IOLoop._instance;
    IOLoop._instance = loop;
    return previous;
  }

  /**
   * Runs until `stop()`. The JavaScript event loop does the work; this only keeps a Node
   * process alive while started (even with nothing else pending) and resolves on `stop()`.
   */
  start(): Promise<void> {
    const done = new Promise<void>((resolve) => this.stopResolvers.push(resolve));
    if (!this.running) {
      this.running = true;
      // A referenced interval is what keeps Node's loop from exiting; ~24 days, never fires in practice.
      this.keepAlive = setInterval(() => {}, 0x7fffffff);
    }
    return done;
  }

  /** Makes `start()` resolve. Pending callbacks and timeouts stay scheduled. */
  stop(): void {
    if (this.keepAlive !== null) clearInterval(this.keepAlive);
    this.keepAlive = null;
    this.running = false;
    const resolvers = this.stopResolvers;
    this.stopResolvers = [];
    for (const resolve of resolvers) resolve();
  }

  isRunning(): boolean {
    return this.running;
  }

  /** Monotonic time in seconds (Tornado's `IOLoop.time()`), the clock of `addTimeout`. */
  time(): number {
    return platform().monotonic() / 1000;
  }

  /** Runs `fn(...args)` on the next loop iteration. Safe to call from any callback. */
  addCallback<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    this.callbacks.push(() => {
      if (tracer.hook !== null) traceEvent("callback", describe(fn));
      this.runCallback(fn, args);
    });
    if (!this.callbacksScheduled) {
      this.callbacksScheduled = true;
      nextMacrotask(this.drainCallbacks);
    }
  }

  /** Callbacks added while draining wait for the next iteration, as in Tornado. */
  private readonly drainCallbacks = (): void => {
    this.callbacksScheduled = false;
    const batch = this.callbacks;
    this.callbacks = [];
    for (const cb of batch) cb();
  };

  /** Runs `fn(...args)` after `delay` seconds. */
  callLater<A extends unknown[]>(delay: number, fn: (...args: A) => unknown, ...args: A): TimeoutHandle {
    return this.callAt(this.time() + delay, fn, ...args);
  }

  /** Runs `fn(...args)` when `time()` reaches `when` (monotonic seconds). */
  callAt<A extends unknown[]>(when: number, fn: (...args: A) => unknown, ...args: A): TimeoutHandle {
    const handle = new TimeoutHandle(when, () => {
      if (tracer.hook !== null) traceEvent("timer", describe(fn));
      this.runCallback(fn, args);
    });
    this.arm(handle);
    return handle;
  }

  /**
   * Runs `fn` at `deadline`: a number is a `time()` value (monotonic seconds), `{ seconds }`
   * is relative to now (Tornado accepts a `timedelta` there).
   */
  addTimeout(deadline: number | { seconds: number }, fn: () => unknown): TimeoutHandle {
    const when = typeof deadline === "number" ? deadline : this.time() + deadline.seconds;
    return this.callAt(when, fn);
  }

  /** Cancels a pending timeout; harmless if it already ran or was removed. */
  removeTimeout(handle: TimeoutHandle | null | undefined): void {
    if (!handle || handle.cancelled) return;
    handle.cancelled = true;
    if (handle.timer !== null) clearTimeout(handle.timer);
    handle.timer = null;
  }

  private arm(handle: TimeoutHandle): void {
    const delayMs = Math.max(0, (handle.deadline - this.time()) * 1000);
    // Host timers cap at 2^31-1 ms; longer deadlines re-arm when that fires.
    const capped = Math.min(delayMs, 0x7fffffff);
    handle.timer = setTimeout(() => {
      handle.timer = null;
      if (handle.cancelled) return;
      // setTimeout may fire a hair early relative to performance.now(); never run before the
      // deadline, so a callback that reschedules itself from time() cannot run twice.
      if (this.time() < handle.deadline) {
        this.arm(handle);
        return;
      }
      handle.cancelled = true;
      handle.callback();
    }, capped);
    unref(handle.timer);
  }

  /** Exceptions (and rejected promises) from callbacks are logged, never propagated. */
  private runCallback(fn: Callback | ((...args: never[]) => unknown), args: unknown[]): void {
    try {
      const result = (fn as (...a: unknown[]) => unknown)(...args);
      if (result && typeof (result as Promise<unknown>).then === "function") {
        (result as Promise<unknown>).then(undefined, (err: unknown) => logCallbackError(fn, err));
      }
    } catch (err) {
      logCallbackError(fn, err);
    }
  }
}

export function logCallbackError(fn: unknown, err: unknown): void {
  const detail = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  appLog.error("ioloop", `Exception in callback ${describe(fn)}\n${detail}`);
}

/**
 * Calls `callback` every `callbackTime` milliseconds (Tornado's `PeriodicCallback`). Runs that
 * overrun skip missed beats instead of queueing them, and a throwing callback keeps its schedule.
 */
export class PeriodicCallback {
  private running = false;
  private handle: TimeoutHandle | null = null;
  private nextTimeout = 0;

  constructor(
    private readonly callback: () => unknown,
    readonly callbackTime: number,
    /** Random spread of each interval, as a fraction (0..1) of `callbackTime`. */
    readonly jitter = 0,
  ) {
    if (!(callbackTime > 0)) throw new RangeError("Periodic callback must have a positive callback_time");
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextTimeout = IOLoop.current().time();
    this.scheduleNext();
  }

  stop(): void {
    this.running = false;
    IOLoop.current().removeTimeout(this.handle);
    this.handle = null;
  }

  isRunning(): boolean {
    return this.running;
  }

  private readonly run = (): void => {
    if (!this.running) return;
    try {
      const result = this.callback();
      if (result && typeof (result as Promise<unknown>).then === "function") {
        (result as Promise<unknown>).then(undefined, (err: unknown) => logCallbackError(this.callback, err));
      }
    } catch (err) {
      logCallbackError(this.callback, err);
    }
    this.scheduleNext();
  };

  private scheduleNext(): void {
    if (!this.running) return;
    const loop = IOLoop.current();
    const now = loop.time();
    let period = this.callbackTime / 1000;
    if (this.jitter) period *= 1 + this.jitter * (Math.random() - 0.5);
    if (this.nextTimeout <= now) {
      // Skip beats that were missed while a callback (or the process) was busy.
      this.nextTimeout += (Math.floor((now - this.nextTimeout) / period) + 1) * period;
    }
    this.handle = loop.addTimeout(this.nextTimeout, this.run);
  }
}
