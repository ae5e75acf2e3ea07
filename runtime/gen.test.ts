import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { moment, multi, sleep, TimeoutError, withTimeout } from "./gen.js";
import { IOLoop } from "./ioloop.js";
import { captureLogs } from "./platform/testkit.js";
import { TimeoutError as UtilTimeoutError } from "./util.js";

/** A promise and its settlers, for ordering tests that must not depend on timing. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("gen", () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => (logs = captureLogs()));
  afterEach(() => logs.restore());

  it("sleep waits at least its duration on the IOLoop's clock", async () => {
    const loop = IOLoop.current();
    const t0 = loop.time();
    await sleep(0.02);
    expect(loop.time() - t0).toBeGreaterThanOrEqual(0.02);
  });

  it("multi resolves an array or an object of promises and values in the same shape", async () => {
    expect(await multi([Promise.resolve(1), 2, sleep(0.001).then(() => "three")])).toEqual([1, 2, "three"]);
    expect(await multi({ a: Promise.resolve(1), b: "x" })).toEqual({ a: 1, b: "x" });
    expect(await multi([])).toEqual([]);
    expect(await multi({})).toEqual({});
  });

  it("multi waits for every child, then raises the first failure in list order and logs the rest", async () => {
    const first = deferred<number>();
    const second = deferred<number>();
    const slow = deferred<number>();
    let settled = false;
    const result = multi([first.promise, second.promise, slow.promise]).finally(() => (settled = true));
    result.catch(() => {});
    second.reject(new Error("second"));
    first.reject(new Error("first"));
    await sleep(0.005);
    // Promise.all would have rejected by now; Tornado's multi waits for the slow child.
    expect(settled).toBe(false);
    slow.resolve(3);
    await expect(result).rejects.toThrow("first");
    const errors = logs.records.filter((r) => r.level === "error");
    expect(errors.map((r) => r.message.split("\n")[0])).toEqual(["Multiple exceptions in yield list"]);
    expect(errors[0]!.message).toContain("second");
  });

  it("multi does not log failures of a quiet exception class", async () => {
    class Quiet extends Error {}
    await expect(multi([Promise.reject(new Quiet("a")), Promise.reject(new Quiet("b"))], Quiet)).rejects.toThrow("a");
    expect(logs.records.filter((r) => r.level === "error")).toEqual([]);
  });

  it("withTimeout passes a result through and rejects with TimeoutError('Timeout') at the deadline", async () => {
    expect(await withTimeout({ seconds: 1 }, Promise.resolve("v"))).toBe("v");
    await expect(withTimeout({ seconds: 1 }, Promise.reject(new Error("own")))).rejects.toThrow("own");
    const never = new Promise(() => {});
    const err = await withTimeout({ seconds: 0.01 }, never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toBeInstanceOf(UtilTimeoutError);
    expect((err as Error).message).toBe("Timeout");
  });

  it("withTimeout takes a number as an absolute IOLoop time, as Tornado does", async () => {
    const loop = IOLoop.current();
    await expect(withTimeout(loop.time() - 1, new Promise(() => {}))).rejects.toBeInstanceOf(TimeoutError);
    expect(await withTimeout(loop.time() + 5, sleep(0.001).then(() => 1))).toBe(1);
  });

  it("withTimeout logs a failure that arrives after the timeout, unless quiet", async () => {
    const late = deferred<number>();
    await expect(withTimeout({ seconds: 0.005 }, late.promise)).rejects.toThrow("Timeout");
    late.reject(new Error("too late"));
    await sleep(0.001);
    expect(logs.records.map((r) => r.message.split("\n")[0])).toEqual(["Exception in Future <Promise> after timeout"]);
    class Quiet extends Error {}
    const quiet = deferred<number>();
    await expect(withTimeout({ seconds: 0.005 }, quiet.promise, [Quiet])).rejects.toThrow("Timeout");
    quiet.reject(new Quiet("shh"));
    await sleep(0.001);
    expect(logs.records).toHaveLength(1);
  });

  it("moment yields one IOLoop iteration: callbacks already queued run first", async () => {
    const seen: string[] = [];
    IOLoop.current().addCallback(() => seen.push("callback"));
    await moment;
    seen.push("after moment");
    await moment; // awaitable any number of times
    expect(seen).toEqual(["callback", "after moment"]);
  });
});
