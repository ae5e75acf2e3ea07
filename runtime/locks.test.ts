import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sleep } from "./gen.js";
import { IOLoop } from "./ioloop.js";
import { BoundedSemaphore, Condition, Event, Lock, Semaphore } from "./locks.js";
import { captureLogs } from "./platform/testkit.js";
import { TimeoutError } from "./util.js";

/** Lets every settled promise's reactions run (microtasks), without waiting on timers. */
const flush = () => new Promise<void>((r) => setImmediate(r));

describe("Condition", () => {
  it("wait resolves true when notified, the longest waiter first", async () => {
    const c = new Condition();
    const order: string[] = [];
    const waits = ["a", "b", "c"].map((n) => c.wait().then((v) => order.push(`${n}:${v}`)));
    expect(c.waiterCount).toBe(3);
    c.notify();
    await flush();
    expect(order).toEqual(["a:true"]);
    c.notify(5);
    await Promise.all(waits);
    expect(order).toEqual(["a:true", "b:true", "c:true"]);
    expect(c.waiterCount).toBe(0);
  });

  it("wait(timeout) resolves false at the deadline and leaves the waiters; a later notify skips it", async () => {
    const c = new Condition();
    const timed = c.wait({ seconds: 0.01 });
    const patient = c.wait();
    expect(await timed).toBe(false);
    expect(c.waiterCount).toBe(1);
    c.notify(1); // goes to the patient waiter, not the expired one
    expect(await patient).toBe(true);
  });

  it("a zero timeout means none (Tornado's `if timeout:`); notifyAll wakes every waiter", async () => {
    const c = new Condition();
    const w = [c.wait(0), c.wait({ seconds: 0 }), c.wait(null)];
    await sleep(0.01);
    expect(c.waiterCount).toBe(3);
    c.notifyAll();
    expect(await Promise.all(w)).toEqual([true, true, true]);
  });

  it("an aborted wait leaves the waiters at once and rejects with the signal's reason", async () => {
    const c = new Condition();
    const controller = new AbortController();
    const aborted = c.wait(undefined, { signal: controller.signal });
    const other = c.wait();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: "AbortError" });
    expect(c.waiterCount).toBe(1);
    c.notify();
    expect(await other).toBe(true);
    await expect(c.wait(undefined, { signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(c.waiterCount).toBe(0);
  });

  it("a notified wait holds no timer: its timeout never fires", async () => {
    const c = new Condition();
    const w = c.wait({ seconds: 0.005 });
    c.notify();
    expect(await w).toBe(true);
    await sleep(0.01);
    expect(String(c)).toBe("<Condition>");
  });
});

describe("Event", () => {
  it("wait resolves once set, at once while set, and blocks again after clear", async () => {
    const e = new Event();
    expect(e.isSet()).toBe(false);
    let woke = false;
    const w = e.wait().then(() => (woke = true));
    await flush();
    expect(woke).toBe(false);
    e.set();
    await w;
    expect([woke, e.isSet(), String(e)]).toEqual([true, true, "<Event set>"]);
    await e.wait();
    e.clear();
    await expect(e.wait({ seconds: 0.005 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it("wait(timeout) raises TimeoutError('Timeout'), for any deadline including 0", async () => {
    const e = new Event();
    const err = await e.wait({ seconds: 0.01 }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe("Timeout");
    await expect(e.wait(0)).rejects.toBeInstanceOf(TimeoutError);
  });
});

describe("Semaphore, BoundedSemaphore, Lock", () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => (logs = captureLogs()));
  afterEach(() => logs.restore());

  it("Semaphore admits `value` holders; release hands the count to the longest waiter", async () => {
    const s = new Semaphore(2);
    const order: string[] = [];
    const hold = async (name: string) => {
      const releaser = await s.acquire();
      order.push(`in ${name}`);
      await sleep(0.002);
      order.push(`out ${name}`);
      releaser.release();
    };
    await Promise.all(["a", "b", "c", "d"].map(hold));
    expect(order.slice(0, 2)).toEqual(["in a", "in b"]);
    // c enters only after a first holder left, d only after a second one did. (Which of a and b
    // leaves first is the timers' business: their 2 ms sleeps fall due together on a loaded
    // machine, and CI once saw b's run first.)
    const outs = order.flatMap((entry, i) => (entry.startsWith("out ") ? [i] : []));
    expect(order.indexOf("in c")).toBeGreaterThan(outs[0]!);
    expect(order.indexOf("in d")).toBeGreaterThan(outs[1]!);
    expect(order.indexOf("in d")).toBeGreaterThan(order.indexOf("in c"));
    expect(s.counter).toBe(2);
  });

  it("acquire(timeout) rejects with TimeoutError and drops the waiter; the next release goes to a live one", async () => {
    const s = new Semaphore(0);
    const timed = s.acquire({ seconds: 0.005 });
    const live = s.acquire();
    await expect(timed).rejects.toBeInstanceOf(TimeoutError);
    expect(s.waiterCount).toBe(1);
    s.release();
    await live;
    expect([s.counter, s.waiterCount]).toEqual([0, 0]);
    expect(() => new Semaphore(-1)).toThrow("semaphore initial value must be >= 0");
  });

  it("BoundedSemaphore refuses a release above its initial value", async () => {
    const b = new BoundedSemaphore(1);
    const r = await b.acquire();
    r.release();
    expect(() => b.release()).toThrow("Semaphore released too many times");
  });

  it("Lock: one holder at a time, in arrival order; release of an unlocked lock is an error", async () => {
    const lock = new Lock();
    expect(() => lock.release()).toThrow("release unlocked lock");
    const log: string[] = [];
    const critical = async (name: string) => {
      const releaser = await lock.acquire();
      try {
        log.push(`enter ${name}`);
        await sleep(0.001);
        log.push(`exit ${name}`);
      } finally {
        releaser.release();
      }
    };
    await Promise.all([critical("1"), critical("2"), critical("3")]);
    expect(log).toEqual(["enter 1", "exit 1", "enter 2", "exit 2", "enter 3", "exit 3"]);
    expect(lock.locked()).toBe(false);
    const held = await lock.acquire();
    await expect(lock.acquire({ seconds: 0.005 })).rejects.toBeInstanceOf(TimeoutError);
    held.release();
  });

  it("Lock with `using`: released at the end of the block, also when it throws", async () => {
    const lock = new Lock();
    const inBlock = async (fail: boolean) => {
      using _held = await lock.acquire();
      expect(lock.locked()).toBe(true);
      if (fail) throw new Error("inside");
    };
    await inBlock(false);
    expect(lock.locked()).toBe(false);
    await expect(inBlock(true)).rejects.toThrow("inside");
    expect(lock.locked()).toBe(false);
  });

  it("property: counter and waiters follow the semaphore's model over any acquire/release sequence", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.array(fc.boolean(), { maxLength: 40 }), async (initial, ops) => {
        const s = new Semaphore(initial);
        let value = initial;
        let waiting = 0;
        let granted = 0;
        let expectedGranted = 0;
        for (const acquire of ops) {
          if (acquire) {
            void s.acquire().then(() => granted++);
            if (value > 0) {
              value--;
              expectedGranted++;
            } else waiting++;
          } else {
            s.release();
            value++;
            if (waiting > 0) {
              waiting--;
              value--;
              expectedGranted++;
            }
          }
          expect([s.counter, s.waiterCount]).toEqual([value, waiting]);
        }
        await flush();
        expect(granted).toBe(expectedGranted);
      }),
      { numRuns: 200 },
    );
  });

  it("every wait goes through the IOLoop's timers (a stopped clock would show it)", () => {
    // Timeouts are armed with IOLoop.addTimeout: with no timeout nothing is armed at all.
    const loop = IOLoop.current();
    const original = loop.addTimeout.bind(loop);
    let armed = 0;
    loop.addTimeout = (d, fn) => (armed++, original(d, fn));
    try {
      void new Condition().wait();
      void new Semaphore(0).acquire();
      expect(armed).toBe(0);
      void new Condition().wait({ seconds: 60 }).catch(() => {});
      void new Event().wait({ seconds: 60 }).catch(() => {});
      void new Semaphore(0).acquire({ seconds: 60 }).catch(() => {});
      expect(armed).toBe(3);
    } finally {
      loop.addTimeout = original;
    }
  });
});
