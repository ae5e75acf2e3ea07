import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sleep } from "./gen.js";
import { LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull } from "./queues.js";
import { TimeoutError } from "./util.js";

const flush = () => new Promise<void>((r) => setImmediate(r));

describe("Queue", () => {
  it("putNowait/getNowait, qsize, empty, full, QueueFull and QueueEmpty", () => {
    const q = new Queue<number>(2);
    expect([q.maxsize, q.qsize(), q.empty(), q.full()]).toEqual([2, 0, true, false]);
    expect(() => q.getNowait()).toThrow(QueueEmpty);
    q.putNowait(1);
    q.putNowait(2);
    expect([q.qsize(), q.empty(), q.full()]).toEqual([2, false, true]);
    expect(() => q.putNowait(3)).toThrow(QueueFull);
    expect([q.getNowait(), q.getNowait()]).toEqual([1, 2]);
    expect(() => new Queue(-1)).toThrow("maxsize can't be negative");
    expect(new Queue().full()).toBe(false);
  });

  it("get waits for a put; put waits while full and its item goes in once there is room", async () => {
    const q = new Queue<string>(1);
    const got = q.get();
    await q.put("a"); // straight to the waiting getter
    expect(await got).toBe("a");
    await q.put("b");
    let putDone = false;
    const blocked = q.put("c").then(() => (putDone = true));
    await flush();
    expect(putDone).toBe(false);
    expect(q.getNowait()).toBe("b"); // makes room: "c" moves in
    await blocked;
    expect([q.qsize(), await q.get()]).toEqual([1, "c"]);
  });

  it("get and put take timeouts (TimeoutError) and drop the expired wait", async () => {
    const q = new Queue<number>(1);
    const err = await q.get({ seconds: 0.005 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    q.putNowait(1);
    await expect(q.put(2, { seconds: 0.005 })).rejects.toBeInstanceOf(TimeoutError);
    // The expired put's item never enters the queue.
    expect([q.getNowait(), q.qsize()]).toEqual([1, 0]);
    expect(String(q)).toBe("<Queue maxsize=1 tasks=1>");
  });

  it("an aborted get is dropped: the next item goes to a live getter", async () => {
    const q = new Queue<number>();
    const controller = new AbortController();
    const aborted = q.get(undefined, { signal: controller.signal });
    const live = q.get();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: "AbortError" });
    q.putNowait(7);
    expect(await live).toBe(7);
  });

  it("taskDone/join: join resolves when every item put has been processed", async () => {
    const q = new Queue<number>();
    await q.join(); // nothing put: done at once
    q.putNowait(1);
    q.putNowait(2);
    let joined = false;
    const join = q.join().then(() => (joined = true));
    q.getNowait();
    q.taskDone();
    await flush();
    expect(joined).toBe(false);
    q.getNowait();
    q.taskDone();
    await join;
    expect(() => q.taskDone()).toThrow("task_done() called too many times");
    q.putNowait(3);
    await expect(q.join({ seconds: 0.005 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it("Tornado's producer/consumer example: `for await` consumer, bounded producer", async () => {
    const q = new Queue<number>(2);
    const log: string[] = [];
    const consumer = async () => {
      for await (const item of q) {
        try {
          log.push(`Doing work on ${item}`);
          await sleep(0.001);
        } finally {
          q.taskDone();
        }
      }
    };
    const producer = async () => {
      for (let item = 0; item < 5; item++) {
        await q.put(item);
        log.push(`Put ${item}`);
      }
    };
    void consumer();
    await producer();
    await q.join();
    log.push("Done");
    expect(log.filter((l) => l.startsWith("Doing"))).toEqual([0, 1, 2, 3, 4].map((i) => `Doing work on ${i}`));
    expect(log.at(-1)).toBe("Done");
  });

  it("PriorityQueue gives the smallest first (Python's tuple order); LifoQueue the newest", () => {
    const p = new PriorityQueue<[number, string]>();
    for (const item of [[1, "medium"], [0, "high"], [10, "low"], [1, "a"]] as [number, string][]) p.putNowait(item);
    expect([p.getNowait(), p.getNowait(), p.getNowait(), p.getNowait()]).toEqual([[0, "high"], [1, "a"], [1, "medium"], [10, "low"]]);
    const l = new LifoQueue<number>();
    [3, 2, 1].forEach((i) => l.putNowait(i));
    expect([l.getNowait(), l.getNowait(), l.getNowait()]).toEqual([1, 2, 3]);
  });

  type Op = { kind: "put"; value: number } | { kind: "get" };
  const ops = fc.array(fc.oneof(fc.integer().map((value): Op => ({ kind: "put", value })), fc.constant<Op>({ kind: "get" })), { maxLength: 60 });

  it("property: putNowait/getNowait behave as a bounded FIFO model", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), ops, (maxsize, sequence) => {
        const q = new Queue<number>(maxsize);
        const model: number[] = [];
        for (const op of sequence) {
          if (op.kind === "put") {
            if (maxsize > 0 && model.length >= maxsize) expect(() => q.putNowait(op.value)).toThrow(QueueFull);
            else {
              q.putNowait(op.value);
              model.push(op.value);
            }
          } else if (model.length === 0) expect(() => q.getNowait()).toThrow(QueueEmpty);
          else expect(q.getNowait()).toBe(model.shift());
          expect([q.qsize(), q.full()]).toEqual([model.length, maxsize > 0 && model.length >= maxsize]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("property: waiting puts and gets in any interleaving deliver every item once, in put order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), ops, async (maxsize, sequence) => {
        const q = new Queue<number>(maxsize);
        const putOrder: number[] = [];
        const got: number[] = [];
        let gets = 0;
        for (const op of sequence) {
          if (op.kind === "put") {
            putOrder.push(op.value);
            void q.put(op.value);
          } else {
            gets++;
            void q.get().then((v) => got.push(v));
          }
        }
        await flush();
        const delivered = Math.min(gets, putOrder.length);
        expect(got).toEqual(putOrder.slice(0, delivered));
        expect(q.qsize()).toBe(Math.min(maxsize, putOrder.length - delivered));
      }),
      { numRuns: 200 },
    );
  });

  it("property: PriorityQueue yields its items sorted", () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), (items) => {
        const p = new PriorityQueue<number>();
        items.forEach((i) => p.putNowait(i));
        const out = items.map(() => p.getNowait());
        expect(out).toEqual([...items].sort((a, b) => a - b));
      }),
    );
  });
});
