/**
 * Coordination between coroutines (`tornado.locks`): `Condition`, `Event`, `Semaphore`,
 * `BoundedSemaphore`, `Lock`. As in Tornado these are not thread locks (there is one thread):
 * they park coroutines on promises until another coroutine lets them go, with timeouts on the
 * IOLoop's timers.
 *
 * Timeouts are Tornado deadlines (`gen.Timeout`): a number is an absolute `IOLoop.time()`, an
 * object `{ seconds }` is relative. Where Tornado tests `if timeout:`, a zero timeout means no
 * timeout here too (`Condition.wait`, `Semaphore.acquire`); `Event.wait` takes any deadline.
 *
 * Cancelling. Tornado cancels a waiting future (`future.cancel()`), which a long-poll handler
 * does from `on_connection_close`. Promises cannot be cancelled, so every wait here also takes
 * `{ signal }`, an `AbortSignal`: aborting removes the waiter at once (no leak, however many
 * clients come and go) and rejects its promise with the signal's reason (an `AbortError`).
 *
 * `async with lock:` becomes
 *
 *     const releaser = await lock.acquire();
 *     try { ... } finally { releaser.release(); }
 *
 * or, where `using` is available (TypeScript 5.2+ on Node 20+ or a current browser),
 * `using _ = await lock.acquire();` releases at the end of the block.
 */
import { IOLoop, type TimeoutHandle } from "./ioloop.js";
import type { Timeout } from "./gen.js";
import { TimeoutError } from "./util.js";

export interface WaitOptions {
  /** Aborting it drops the wait and rejects it with the signal's reason (Tornado's `future.cancel()`). */
  signal?: AbortSignal;
}

/** Python's truthiness of a timeout: `None`, `0` and `timedelta(0)` mean "no timeout". */
function hasTimeout(timeout: Timeout | null | undefined): timeout is Timeout {
  if (timeout === undefined || timeout === null) return false;
  return typeof timeout === "number" ? timeout !== 0 : timeout.seconds !== 0;
}

/**
 * One parked coroutine: a promise settled at most once. It belongs to its owner's set of waiters
 * while it waits and leaves it (with its timer and abort listener) as soon as it settles, so a
 * wait that timed out or was aborted holds nothing.
 * @internal shared with queues.ts
 */
export class Waiter<T> {
  readonly promise: Promise<T>;
  done = false;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (err: unknown) => void;
  private timer: TimeoutHandle | null = null;
  private signal: AbortSignal | null = null;

  constructor(private readonly owner: Set<Waiter<T>>) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    owner.add(this);
  }

  /** Parks a waiter in `owner`, or rejects at once if `signal` is already aborted. */
  static park<T>(owner: Set<Waiter<T>>, options: WaitOptions | undefined): Waiter<T> {
    const waiter = new Waiter<T>(owner);
    const signal = options?.signal;
    if (signal) {
      if (signal.aborted) waiter.reject(signal.reason);
      else {
        waiter.signal = signal;
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
    }
    return waiter;
  }

  /** At `timeout`, `onTimeout` runs (it settles the waiter one way or the other). */
  expireAt(timeout: Timeout, onTimeout: (waiter: Waiter<T>) => void): void {
    if (this.done) return;
    this.timer = IOLoop.current().addTimeout(timeout, () => {
      this.timer = null;
      onTimeout(this);
    });
  }

  resolve(value: T): boolean {
    if (!this.settle()) return false;
    this.resolveFn(value);
    return true;
  }

  reject(err: unknown): boolean {
    if (!this.settle()) return false;
    this.rejectFn(err);
    return true;
  }

  private readonly onAbort = (): void => {
    this.reject(this.signal!.reason);
  };

  private settle(): boolean {
    if (this.done) return false;
    this.done = true;
    this.owner.delete(this);
    if (this.timer !== null) IOLoop.current().removeTimeout(this.timer);
    this.timer = null;
    if (this.signal !== null) this.signal.removeEventListener("abort", this.onAbort);
    this.signal = null;
    return true;
  }
}

/** The first waiter of a set (they iterate in the order they were parked), removed from it. */
export function popFirst<T>(waiters: Set<Waiter<T>>): Waiter<T> | undefined {
  for (const waiter of waiters) {
    waiters.delete(waiter);
    return waiter;
  }
  return undefined;
}

/**
 * Lets coroutines wait until another notifies them (`tornado.locks.Condition`): the long-poll
 * primitive. `wait` resolves true when notified, false when its timeout passes first.
 */
export class Condition {
  private readonly waiters = new Set<Waiter<boolean>>();

  /** How many coroutines are waiting (Tornado shows it in the `repr`). */
  get waiterCount(): number {
    return this.waiters.size;
  }

  /** Resolves true once notified, or false at `timeout` (a Tornado deadline; 0 or none waits forever). */
  wait(timeout?: Timeout | null, options?: WaitOptions): Promise<boolean> {
    const waiter = Waiter.park(this.waiters, options);
    if (hasTimeout(timeout)) waiter.expireAt(timeout, (w) => w.resolve(false));
    return waiter.promise;
  }

  /** Wakes `n` waiters, the longest-waiting first. */
  notify(n = 1): void {
    const woken: Waiter<boolean>[] = [];
    while (n > 0 && this.waiters.size > 0) {
      woken.push(popFirst(this.waiters)!);
      n--;
    }
    for (const waiter of woken) waiter.resolve(true);
  }

  /** Wakes every waiter. */
  notifyAll(): void {
    this.notify(this.waiters.size);
  }

  toString(): string {
    return this.waiters.size ? `<Condition waiters[${this.waiters.size}]>` : "<Condition>";
  }
}

/**
 * A flag coroutines can wait for (`tornado.locks.Event`): `wait` resolves at once while it is
 * set, otherwise when `set()` is called; with a timeout it rejects with `TimeoutError`.
 */
export class Event {
  private value = false;
  private readonly waiters = new Set<Waiter<void>>();

  isSet(): boolean {
    return this.value;
  }

  /** Sets the flag and wakes every waiter; later `wait`s resolve at once until `clear()`. */
  set(): void {
    if (this.value) return;
    this.value = true;
    const woken = [...this.waiters];
    this.waiters.clear();
    for (const waiter of woken) waiter.resolve();
  }

  /** Resets the flag: `wait` blocks again. */
  clear(): void {
    this.value = false;
  }

  /** Resolves once the flag is set; rejects with `TimeoutError("Timeout")` at `timeout` (any deadline, as `gen.withTimeout`). */
  wait(timeout?: Timeout | null, options?: WaitOptions): Promise<void> {
    if (this.value && !options?.signal?.aborted) return Promise.resolve();
    const waiter = Waiter.park(this.waiters, options);
    if (timeout !== undefined && timeout !== null) waiter.expireAt(timeout, (w) => w.reject(new TimeoutError("Timeout")));
    return waiter.promise;
  }

  toString(): string {
    return `<Event ${this.value ? "set" : "clear"}>`;
  }
}

/** What `acquire` resolves to: releases what was acquired (the `async with` block's exit). */
export class Releaser {
  constructor(private readonly obj: { release(): void }) {}

  release(): void {
    this.obj.release();
  }

  /** `using _ = await lock.acquire()` releases at the end of the block. */
  [Symbol.dispose](): void {
    this.obj.release();
  }
}

/**
 * A counter that `acquire` decrements, waiting while it is zero, and `release` increments
 * (`tornado.locks.Semaphore`): at most `value` coroutines inside at once.
 */
export class Semaphore {
  protected value: number;
  private readonly waiters = new Set<Waiter<Releaser>>();

  constructor(value = 1) {
    if (value < 0) throw new RangeError("semaphore initial value must be >= 0");
    this.value = value;
  }

  /** How many more `acquire`s would succeed at once. */
  get counter(): number {
    return this.value;
  }

  /** How many coroutines wait in `acquire`. */
  get waiterCount(): number {
    return this.waiters.size;
  }

  /** Increments the counter and wakes one waiter (which takes the count right back). */
  release(): void {
    this.value += 1;
    const waiter = popFirst(this.waiters);
    if (waiter !== undefined) {
      this.value -= 1;
      waiter.resolve(new Releaser(this));
    }
  }

  /**
   * Decrements the counter, waiting while it is zero. Resolves to a `Releaser`; rejects with
   * `TimeoutError` at `timeout` (a Tornado deadline; 0 or none waits forever).
   */
  acquire(timeout?: Timeout | null, options?: WaitOptions): Promise<Releaser> {
    if (this.value > 0 && !options?.signal?.aborted) {
      this.value -= 1;
      return Promise.resolve(new Releaser(this));
    }
    const waiter = Waiter.park(this.waiters, options);
    if (hasTimeout(timeout)) waiter.expireAt(timeout, (w) => w.reject(new TimeoutError()));
    return waiter.promise;
  }

  toString(): string {
    let extra = this.value === 0 ? "locked" : `unlocked,value:${this.value}`;
    if (this.waiters.size) extra += `,waiters:${this.waiters.size}`;
    return `<${this.constructor.name} [${extra}]>`;
  }
}

/** A semaphore that refuses to be released above its initial value (`tornado.locks.BoundedSemaphore`). */
export class BoundedSemaphore extends Semaphore {
  private readonly initialValue: number;

  constructor(value = 1) {
    super(value);
    this.initialValue = value;
  }

  override release(): void {
    if (this.value >= this.initialValue) throw new RangeError("Semaphore released too many times");
    super.release();
  }
}

/**
 * A lock for coroutines (`tornado.locks.Lock`): one holder at a time, the others wait in order.
 * See the module comment for the `async with` idiom.
 */
export class Lock {
  private readonly block = new BoundedSemaphore(1);

  /** Resolves to a `Releaser` once the lock is ours; rejects with `TimeoutError` at `timeout`. */
  acquire(timeout?: Timeout | null, options?: WaitOptions): Promise<Releaser> {
    // The block's releaser, as Tornado returns it: releasing it twice is the semaphore's error.
    return this.block.acquire(timeout, options);
  }

  /** Unlocks; the longest waiter gets the lock. Releasing an unlocked lock is an error. */
  release(): void {
    try {
      this.block.release();
    } catch {
      throw new Error("release unlocked lock");
    }
  }

  /** True while someone holds the lock. */
  locked(): boolean {
    return this.block.counter === 0;
  }

  toString(): string {
    return `<Lock _block=${this.block.toString()}>`;
  }
}
