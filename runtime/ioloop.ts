/**
 * The event loop (`tornado.ioloop`).
 *
 * Tornado owns its loop (epoll + a timer heap). JavaScript already has one, so this IOLoop is a
 * thin, Tornado-shaped facade over it: callbacks are batched onto the next macrotask, timeouts
 * wait in a heap, as Tornado's do, behind one host timer armed for the earliest, and `start()`
 * merely holds the process open until `stop()`. Keeping every
 * timer behind this class keeps the rest of the runtime platform-free and gives one place
 * where callback exceptions are caught and logged instead of killing the process.
 */
import { appLog } from "./log.js";
import { platform } from "./platform/index.js";

type Callback = (...args: never[]) => unknown;

/** A pending timeout, returned by `callLater`/`addTimeout` and accepted by `removeTimeout`. */
export class TimeoutHandle {
  /** Set when it ran or was removed: either way it will not run (again). */
  cancelled = false;
  /** @internal still in its loop's heap */
  queued = false;
  constructor(
    /** Monotonic seconds at which the callback runs. */
    readonly deadline: number,
    readonly callback: () => void,
    /** @internal order of creation: breaks ties between equal deadlines, as Tornado's heap does */
    readonly sequence: number,
  ) {}
}

/** Heap order: earlier deadline first, then the one scheduled first (Tornado's `_Timeout.__lt__`). */
function before(a: TimeoutHandle, b: TimeoutHandle): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.sequence < b.sequence);
}

/**
 * The loop's pending timeouts, a binary min-heap in `before` order. Tornado keeps one heap and
 * sleeps until its head; so do we, with one host timer for the head. One host timer per
 * timeout would be simpler, but host timers do not keep deadline order: one that fires a hair
 * early must be re-armed, and then runs after timeouts armed later with later deadlines.
 */
class TimeoutHeap {
  private readonly items: TimeoutHandle[] = [];
  /** Removed timeouts still in `items` (removal is lazy, as in Tornado). */
  private cancelledCount = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): TimeoutHandle | undefined {
    return this.items[0];
  }

  push(handle: TimeoutHandle): void {
    const items = this.items;
    let i = items.length;
    handle.queued = true;
    items.push(handle);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(handle, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = handle;
  }

  pop(): TimeoutHandle | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top !== undefined) top.queued = false;
    if (top === undefined || last === undefined || items.length === 0) return top;
    this.siftDown(0, last);
    return top;
  }

  /** A removed timeout stays in place until it reaches the head or the heap is compacted. */
  noteCancelled(): void {
    this.cancelledCount++;
    // Tornado's rule: compact once removals pass 512 and half the heap, so a program that
    // sets and clears many timeouts (one per request) does not grow the heap without bound.
    if (this.cancelledCount > 512 && this.cancelledCount > this.items.length >> 1) this.compact();
  }

  /** Drops a removed head (it was counted in `noteCancelled`). */
  dropCancelledHead(): void {
    this.pop();
    this.cancelledCount--;
  }

  private compact(): void {
    const live = this.items.filter((h) => !h.cancelled);
    for (const h of this.items) h.queued = false;
    this.items.length = 0;
    this.cancelledCount = 0;
    for (const h of live) this.push(h);
  }

  private siftDown(start: number, handle: TimeoutHandle): void {
    const items = this.items;
    const n = items.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(items[child + 1]!, items[child]!)) child++;
      if (!before(items[child]!, handle)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = handle;
  }
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
  private readonly timeouts = new TimeoutHeap();
  private timeoutSequence = 0;
  /** The one host timer, armed for the heap's head (or null when nothing is pending). */
  private hostTimer: ReturnType<typeof setTimeout> | null = null;
  private hostDeadline = Infinity;
  /** While due timeouts run, new ones only join the heap; the host timer is armed once after. */
  private runningTimeouts = false;

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
    const handle = new TimeoutHandle(
      when,
      () => {
        if (tracer.hook !== null) traceEvent("timer", describe(fn));
        this.runCallback(fn, args);
      },
      this.timeoutSequence++,
    );
    this.timeouts.push(handle);
    if (!this.runningTimeouts && (this.hostTimer === null || when < this.hostDeadline)) this.armHostTimer();
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
    // Lazy, as in Tornado: it leaves the heap when it reaches the head or at a compaction. A
    // host timer armed for it fires, finds nothing due, and re-arms for the next.
    if (handle.queued) this.timeouts.noteCancelled();
  }

  private armHostTimer(): void {
    if (this.hostTimer !== null) clearTimeout(this.hostTimer);
    this.hostTimer = null;
    this.hostDeadline = Infinity;
    let head = this.timeouts.peek();
    while (head !== undefined && head.cancelled) {
      this.timeouts.dropCancelledHead();
      head = this.timeouts.peek();
    }
    if (head === undefined) return;
    const delayMs = Math.max(0, (head.deadline - this.time()) * 1000);
    this.hostDeadline = head.deadline;
    // Host timers cap at 2^31-1 ms; longer deadlines re-arm when that fires.
    this.hostTimer = setTimeout(this.runDueTimeouts, Math.min(delayMs, 0x7fffffff));
    unref(this.hostTimer);
  }

  /**
   * Runs every timeout due now, in deadline order. As in Tornado's loop, the due set is taken
   * first: a timeout scheduled by one of them waits for the next turn even if already due. The
   * host timer may fire a hair early relative to `time()` (Node's timers read a cached
   * millisecond); nothing runs before its deadline, so a callback that reschedules itself from
   * `time()` cannot run twice, and one early wake-up just re-arms.
   */
  private readonly runDueTimeouts = (): void => {
    this.hostTimer = null;
    const now = this.time();
    const due: TimeoutHandle[] = [];
    for (let head = this.timeouts.peek(); head !== undefined; head = this.timeouts.peek()) {
      if (head.cancelled) this.timeouts.dropCancelledHead();
      else if (head.deadline <= now) due.push(this.timeouts.pop()!);
      else break;
    }
    this.runningTimeouts = true;
    try {
      for (const handle of due) {
        // A timeout removed by an earlier one in this batch does not run (Tornado checks too).
        if (handle.cancelled) continue;
        handle.cancelled = true;
        handle.callback();
      }
    } finally {
      this.runningTimeouts = false;
      this.armHostTimer();
    }
  };

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
