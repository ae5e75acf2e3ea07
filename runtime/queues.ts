/**
 * Queues for coroutines (`tornado.queues`): `Queue` (first in, first out), `PriorityQueue`
 * (smallest first) and `LifoQueue` (last in, first out), with `QueueFull` and `QueueEmpty`.
 *
 * A producer `await`s `put` while a bounded queue is full; a consumer `await`s `get` while it
 * is empty; `taskDone`/`join` tell a producer when every item put has been processed. Waits
 * take Tornado deadlines (see `gen.Timeout`; 0 or none waits forever) and reject with
 * `TimeoutError`, and take `{ signal }` to be cancelled (see locks.ts). `for await (const item
 * of queue)` gets items forever, as Tornado's `async for`.
 */
import type { Timeout } from "./gen.js";
import { Event, popFirst, Waiter, type WaitOptions } from "./locks.js";
import { TimeoutError } from "./util.js";

/** `getNowait` on an empty queue. */
export class QueueEmpty extends Error {
  override name = "QueueEmpty";
}

/** `putNowait` on a full queue. */
export class QueueFull extends Error {
  override name = "QueueFull";
}

function armTimeout<T>(waiter: Waiter<T>, timeout: Timeout | null | undefined): void {
  // Python's `if timeout:`: none, 0 and timedelta(0) wait forever.
  if (timeout === undefined || timeout === null) return;
  if (typeof timeout === "number" ? timeout === 0 : timeout.seconds === 0) return;
  waiter.expireAt(timeout, (w) => w.reject(new TimeoutError()));
}

/** The items of a FIFO queue: an array read from a moving head, compacted now and then. */
class Deque<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T {
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T; // let it be collected
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  toArray(): T[] {
    return this.items.slice(this.head);
  }
}

export class Queue<T> implements AsyncIterable<T> {
  readonly maxsize: number;
  protected readonly getters = new Set<Waiter<T>>();
  /** Waiting `put`s and their items, in order. */
  protected readonly putters = new Map<Waiter<void>, T>();
  private readonly putterSet = new Set<Waiter<void>>();
  private unfinishedTasks = 0;
  private readonly finished = new Event();

  /** `maxsize` 0 (the default) is unbounded. */
  constructor(maxsize = 0) {
    if (maxsize === null || maxsize === undefined) throw new TypeError("maxsize can't be None");
    if (maxsize < 0) throw new RangeError("maxsize can't be negative");
    this.maxsize = maxsize;
    this.finished.set();
  }

  qsize(): number {
    return this.size();
  }

  empty(): boolean {
    return this.size() === 0;
  }

  full(): boolean {
    return this.maxsize !== 0 && this.size() >= this.maxsize;
  }

  /** Puts `item`, waiting while the queue is full; rejects with `TimeoutError` at `timeout`. */
  put(item: T, timeout?: Timeout | null, options?: WaitOptions): Promise<void> {
    if (!options?.signal?.aborted) {
      try {
        this.putNowait(item);
        return Promise.resolve();
      } catch (err) {
        if (!(err instanceof QueueFull)) throw err;
      }
    }
    const waiter = Waiter.park(this.putterSet, options);
    if (!waiter.done) {
      this.putters.set(waiter, item);
      // The item leaves with its waiter, whichever way the wait ends.
      waiter.promise.then(
        () => this.putters.delete(waiter),
        () => this.putters.delete(waiter),
      );
      armTimeout(waiter, timeout);
    }
    return waiter.promise;
  }

  /** Puts `item` without waiting: straight to a waiting `get` if there is one; `QueueFull` if full. */
  putNowait(item: T): void {
    const getter = popFirst(this.getters);
    if (getter !== undefined) {
      this.putInternal(item);
      getter.resolve(this._get());
    } else if (this.full()) {
      throw new QueueFull();
    } else {
      this.putInternal(item);
    }
  }

  /** Removes and returns an item, waiting while the queue is empty; rejects with `TimeoutError` at `timeout`. */
  get(timeout?: Timeout | null, options?: WaitOptions): Promise<T> {
    if (!options?.signal?.aborted) {
      try {
        return Promise.resolve(this.getNowait());
      } catch (err) {
        if (!(err instanceof QueueEmpty)) throw err;
      }
    }
    const waiter = Waiter.park(this.getters, options);
    armTimeout(waiter, timeout);
    return waiter.promise;
  }

  /** Removes and returns an item without waiting (a waiting `put` fills the space); `QueueEmpty` if empty. */
  getNowait(): T {
    const putter = popFirst(this.putterSet);
    if (putter !== undefined) {
      const item = this.putters.get(putter) as T;
      this.putters.delete(putter);
      this.putInternal(item);
      putter.resolve();
      return this._get();
    }
    if (this.size() > 0) return this._get();
    throw new QueueEmpty();
  }

  /** One item taken with `get` has been processed; `join` resolves when all have. */
  taskDone(): void {
    if (this.unfinishedTasks <= 0) throw new RangeError("task_done() called too many times");
    this.unfinishedTasks -= 1;
    if (this.unfinishedTasks === 0) this.finished.set();
  }

  /** Resolves once every item put has had its `taskDone`; rejects with `TimeoutError` at `timeout`. */
  join(timeout?: Timeout | null, options?: WaitOptions): Promise<void> {
    return this.finished.wait(timeout, options);
  }

  /** `for await (const item of queue)`: items forever (Tornado's `async for`). */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.get().then((value) => ({ value, done: false })) };
  }

  private putInternal(item: T): void {
    this.unfinishedTasks += 1;
    this.finished.clear();
    this._put(item);
  }

  // The storage, overridden by PriorityQueue and LifoQueue (Tornado's `_init`/`_get`/`_put`).
  private readonly fifo = new Deque<T>();
  protected size(): number {
    return this.fifo.length;
  }
  protected _put(item: T): void {
    this.fifo.push(item);
  }
  protected _get(): T {
    return this.fifo.shift();
  }
  protected items(): T[] {
    return this.fifo.toArray();
  }

  toString(): string {
    let result = `maxsize=${this.maxsize}`;
    if (this.size()) result += ` queue=${JSON.stringify(this.items())}`;
    if (this.getters.size) result += ` getters[${this.getters.size}]`;
    if (this.putterSet.size) result += ` putters[${this.putterSet.size}]`;
    if (this.unfinishedTasks) result += ` tasks=${this.unfinishedTasks}`;
    return `<${this.constructor.name} ${result}>`;
  }
}

/**
 * Python's ordering for what priority queues usually hold: numbers and strings by value, arrays
 * (Python's tuples, `[priority, item]`) element by element.
 */
export function pythonCompare(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = pythonCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if ((typeof a === "number" && typeof b === "number") || (typeof a === "string" && typeof b === "string")) return a < b ? -1 : a > b ? 1 : 0;
  throw new TypeError(`'<' not supported between ${typeof a} and ${typeof b}`);
}

/** Retrieves the smallest item first (Tornado's heap order; `compare` defaults to Python's `<`). */
export class PriorityQueue<T> extends Queue<T> {
  private readonly heap: T[] = [];

  constructor(
    maxsize = 0,
    private readonly compare: (a: T, b: T) => number = pythonCompare,
  ) {
    super(maxsize);
  }

  protected override size(): number {
    return this.heap.length;
  }

  protected override _put(item: T): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(heap[i]!, heap[parent]!) >= 0) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  protected override _get(): T {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < heap.length && this.compare(heap[l]!, heap[smallest]!) < 0) smallest = l;
        if (r < heap.length && this.compare(heap[r]!, heap[smallest]!) < 0) smallest = r;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }

  protected override items(): T[] {
    return [...this.heap];
  }
}

/** Retrieves the most recently put item first. */
export class LifoQueue<T> extends Queue<T> {
  private readonly stack: T[] = [];

  protected override size(): number {
    return this.stack.length;
  }
  protected override _put(item: T): void {
    this.stack.push(item);
  }
  protected override _get(): T {
    return this.stack.pop()!;
  }
  protected override items(): T[] {
    return [...this.stack];
  }
}
