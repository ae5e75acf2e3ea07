import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IOLoop, PeriodicCallback } from "./ioloop.js";
import { platform } from "./platform/index.js";
import { captureLogs, sleep, usePlatform } from "./platform/testkit.js";

describe("IOLoop", () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(() => logs.restore());

  it("has one instance, which is also current()", () => {
    expect(IOLoop.instance()).toBe(IOLoop.current());
    expect(IOLoop.instance()).toBe(IOLoop.instance());
  });

  it("runs callbacks on a later turn, in order, with their arguments", async () => {
    const loop = IOLoop.current();
    const seen: string[] = [];
    let ran!: () => void;
    const second = new Promise<void>((r) => (ran = r));
    loop.addCallback((a: string, b: number) => seen.push(`${a}${b}`), "x", 1);
    loop.addCallback(() => (seen.push("second"), ran()));
    expect(seen).toEqual([]);
    await second;
    expect(seen).toEqual(["x1", "second"]);
  });

  it("runs callbacks added by a callback on the next iteration, not the same batch", async () => {
    const loop = IOLoop.current();
    const seen: string[] = [];
    let ran!: () => void;
    const last = new Promise<void>((r) => (ran = r));
    loop.addCallback(() => {
      seen.push("a");
      loop.addCallback(() => (seen.push("c"), ran()));
    });
    loop.addCallback(() => seen.push("b"));
    // Waiting for "c" itself, not for a timer: under load a 10 ms timer can come due first.
    await last;
    expect(seen).toEqual(["a", "b", "c"]);
  });

  it("logs exceptions from callbacks and keeps running", async () => {
    const loop = IOLoop.current();
    const seen: string[] = [];
    loop.addCallback(function exploding() {
      throw new Error("boom");
    });
    loop.addCallback(async () => {
      throw new Error("async boom");
    });
    // Waiting for "after" itself, not a 10 ms timer: a worker descheduled for 10 ms wakes in
    // the timers phase, before the check phase that runs the callbacks (seen once in CI).
    let ran!: () => void;
    const after = new Promise<void>((r) => (ran = r));
    loop.addCallback(() => (seen.push("after"), ran()));
    await after;
    expect(seen).toEqual(["after"]);
    const errors = logs.records.filter((r) => r.logger === "tornado.application" && r.level === "error");
    expect(errors.map((r) => r.message.split("\n")[0])).toEqual(["Exception in callback <function exploding>", "Exception in callback <function>"]);
    expect(logs.text()).toContain("Error: boom");
    expect(logs.text()).toContain("async boom");
  });

  it("callLater waits at least the delay; removeTimeout cancels", async () => {
    const loop = IOLoop.current();
    const t0 = loop.time();
    const fired: number[] = [];
    loop.callLater(0.05, (v: number) => fired.push(v), 1);
    const cancelled = loop.callLater(0.02, () => fired.push(2));
    loop.removeTimeout(cancelled);
    loop.removeTimeout(cancelled); // harmless twice
    await sleep(120);
    expect(fired).toEqual([1]);
    expect(loop.time() - t0).toBeGreaterThanOrEqual(0.05);
  });

  it("addTimeout takes a monotonic deadline or a relative {seconds}", async () => {
    const loop = IOLoop.current();
    const order: string[] = [];
    const start = loop.time();
    loop.addTimeout(start + 0.04, () => order.push("absolute"));
    loop.addTimeout({ seconds: 0.01 }, () => order.push("relative"));
    const h = loop.addTimeout(start + 0.02, () => order.push("removed"));
    expect(h.deadline).toBeCloseTo(start + 0.02, 6);
    loop.removeTimeout(h);
    await sleep(100);
    expect(order).toEqual(["relative", "absolute"]);
  });

  it("time() is monotonic seconds", async () => {
    const loop = IOLoop.current();
    const a = loop.time();
    await sleep(20);
    const b = loop.time();
    expect(b - a).toBeGreaterThanOrEqual(0.015);
    expect(b - a).toBeLessThan(5);
  });

  it("start() resolves when stop() is called", async () => {
    const loop = IOLoop.current();
    let done = false;
    const running = loop.start().then(() => (done = true));
    expect(loop.isRunning()).toBe(true);
    loop.callLater(0.01, () => loop.stop());
    await running;
    expect(done).toBe(true);
    expect(loop.isRunning()).toBe(false);
  });
});

/**
 * Timeout order under a clock the test moves by hand, and host timers it fires by hand (vitest's
 * fake setTimeout): the two can disagree, as Node's cached timer millisecond and
 * `performance.now()` do on a loaded machine, and every step is deterministic.
 */
describe("IOLoop timeouts, deadline order", () => {
  let now = 0;
  let restorePlatform: () => void;
  beforeEach(() => {
    now = 0;
    restorePlatform = usePlatform({ ...platform(), monotonic: () => now * 1000 });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  });
  afterEach(() => {
    vi.useRealTimers();
    restorePlatform();
  });

  it("runs an earlier deadline first even when its host timer woke too early", () => {
    const loop = new IOLoop();
    const order: string[] = [];
    loop.callAt(0.005, () => order.push("a"));
    loop.callAt(0.006, () => order.push("b"));
    // The host wakes at 5 ms while the loop's clock still reads 0: "a" is not due yet.
    vi.advanceTimersByTime(5);
    expect(order).toEqual([]);
    // The process was descheduled: the clock jumps past both deadlines before the next wake-up.
    // With one host timer per timeout, "a" (re-armed behind "b") ran second here.
    now = 1;
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(10);
    expect(order).toEqual(["a", "b"]);
  });

  it("keeps creation order between equal deadlines, and runs nothing before its deadline", () => {
    const loop = new IOLoop();
    const order: string[] = [];
    for (const name of ["a", "b", "c"]) loop.callAt(0.002, () => order.push(name));
    loop.callAt(0.001, () => order.push("first"));
    now = 0.0015;
    vi.advanceTimersByTime(1);
    expect(order).toEqual(["first"]);
    vi.advanceTimersByTime(5);
    expect(order).toEqual(["first"]);
    now = 0.002;
    vi.advanceTimersByTime(5);
    expect(order).toEqual(["first", "a", "b", "c"]);
  });

  it("runs a timeout scheduled by a due one on a later turn, and skips one removed in the batch", () => {
    const loop = new IOLoop();
    const order: string[] = [];
    let victim: ReturnType<IOLoop["callAt"]> | null = null;
    loop.callAt(0.001, () => {
      order.push("a");
      loop.removeTimeout(victim);
      loop.callAt(0, () => order.push("scheduled by a"));
    });
    victim = loop.callAt(0.001, () => order.push("removed by a"));
    loop.callAt(0.001, () => order.push("c"));
    now = 0.001;
    vi.advanceTimersByTime(1);
    expect(order).toEqual(["a", "c"]);
    vi.advanceTimersByTime(1);
    expect(order).toEqual(["a", "c", "scheduled by a"]);
  });

  it("arms the host timer for a new earlier deadline, and forgets removed ones", () => {
    const loop = new IOLoop();
    const order: string[] = [];
    const late = loop.callAt(10, () => order.push("late"));
    loop.callAt(0.003, () => order.push("early"));
    now = 0.003;
    vi.advanceTimersByTime(3);
    expect(order).toEqual(["early"]);
    loop.removeTimeout(late);
    now = 20;
    vi.advanceTimersByTime(10_000);
    expect(order).toEqual(["early"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not grow without bound when timeouts are set and removed (one per request)", () => {
    const loop = new IOLoop();
    let ran = 0;
    for (let i = 0; i < 10_000; i++) loop.removeTimeout(loop.callAt(5 + i / 1000, () => ran--));
    loop.callAt(1, () => ran++);
    expect((loop as unknown as { timeouts: { size: number } }).timeouts.size).toBeLessThan(1100);
    now = 100;
    vi.advanceTimersByTime(2_000_000);
    expect(ran).toBe(1);
  });
});

describe("PeriodicCallback", () => {
  it("runs repeatedly until stopped, surviving exceptions", async () => {
    const logs = captureLogs();
    let n = 0;
    const pc = new PeriodicCallback(() => {
      n++;
      if (n === 2) throw new Error("tick failed");
    }, 10);
    expect(pc.isRunning()).toBe(false);
    const t0 = performance.now();
    pc.start();
    expect(pc.isRunning()).toBe(true);
    // Wait for the runs themselves, not a fixed 75 ms: a process descheduled on a loaded machine
    // wakes with its sleep due alongside the first beat, and the skipped beats never come back.
    const deadline = Date.now() + 5000;
    while (n < 3 && Date.now() < deadline) await sleep(5);
    pc.stop();
    const elapsed = performance.now() - t0;
    const count = n;
    expect(count).toBeGreaterThanOrEqual(3);
    // Never more runs than whole periods elapsed.
    expect(count).toBeLessThanOrEqual(Math.floor(elapsed / 10));
    await sleep(40);
    expect(n).toBe(count);
    expect(pc.isRunning()).toBe(false);
    expect(logs.text()).toContain("tick failed");
    logs.restore();
  });

  it("skips missed beats instead of bursting after a stall", async () => {
    const times: number[] = [];
    const pc = new PeriodicCallback(() => {
      times.push(performance.now());
      if (times.length === 1) {
        const until = Date.now() + 60;
        while (Date.now() < until) {
          // block the loop for six periods
        }
      }
    }, 10);
    pc.start();
    const deadline = Date.now() + 5000;
    while (times.length < 4 && Date.now() < deadline) await sleep(5);
    pc.stop();
    expect(times.length).toBeGreaterThanOrEqual(4);
    // Without skipping, the missed beats would run back to back right after the stall, packing
    // more runs into the span than its periods allow. Counting runs per elapsed period (rather
    // than timing the gaps) holds on a loaded machine, where wake-ups come late but never early.
    const span = times[times.length - 1]! - times[0]!;
    expect(times.length).toBeLessThanOrEqual(Math.floor(span / 10) + 1 - 4);
  });

  it("refuses a non-positive interval", () => {
    expect(() => new PeriodicCallback(() => {}, 0)).toThrow(RangeError);
  });
});
