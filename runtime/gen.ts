/**
 * `tornado.gen`, the parts that still matter with native coroutines: `sleep`, `multi`,
 * `withTimeout`, `moment`.
 *
 * Python's coroutines became JavaScript's async functions, so `gen.coroutine` and `yield` have
 * no twin; what remains are the helpers a coroutine awaits. Each keeps Tornado's semantics where
 * they differ from the obvious `Promise` built-in:
 * - `multi` waits for every child even after one failed (`Promise.all` rejects at once), then
 *   raises the first failure in list order and logs the others ("Multiple exceptions in yield
 *   list"), as Tornado does.
 * - `withTimeout` takes a Tornado deadline: a number is an absolute `IOLoop.time()`, an object
 *   `{ seconds }` is relative (Python's `timedelta`). It does not cancel what it waited for; if
 *   that fails after the timeout, the failure is logged instead of being lost.
 * All timers are the IOLoop's.
 */
import { IOLoop } from "./ioloop.js";
import { appLog } from "./log.js";
import { TimeoutError } from "./util.js";

export { TimeoutError };

/** A deadline as Tornado takes it: `IOLoop.time()` seconds, or `{ seconds }` from now (a `timedelta`). */
export type Timeout = number | { seconds: number };

/** Exception classes that are not logged when they are the second failure of `multi` or fail after `withTimeout`. */
export type QuietExceptions = (abstract new (...args: never[]) => unknown) | readonly (abstract new (...args: never[]) => unknown)[];

function isQuiet(err: unknown, quiet: QuietExceptions | undefined): boolean {
  if (quiet === undefined) return false;
  const classes = Array.isArray(quiet) ? quiet : [quiet as abstract new (...args: never[]) => unknown];
  return classes.some((cls) => err instanceof cls);
}

function describeError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
}

/** Resolves after `duration` seconds (Tornado's `gen.sleep`), on the IOLoop's timer. */
export function sleep(duration: number): Promise<void> {
  return new Promise((resolve) => {
    IOLoop.current().callLater(duration, resolve);
  });
}

type Results<T> = { -readonly [K in keyof T]: Awaited<T[K]> };

/**
 * Waits for every child (an array or an object of promises or values) and resolves with their
 * results in the same shape. If any failed, rejects with the first failure in the children's
 * order once all have settled; later failures are logged unless `quietExceptions` covers them.
 */
export function multi<T extends readonly unknown[] | []>(children: T, quietExceptions?: QuietExceptions): Promise<Results<T>>;
export function multi<T extends Record<string, unknown>>(children: T, quietExceptions?: QuietExceptions): Promise<Results<T>>;
export async function multi(children: readonly unknown[] | Record<string, unknown>, quietExceptions?: QuietExceptions): Promise<unknown> {
  const keys = Array.isArray(children) ? null : Object.keys(children);
  const values = keys === null ? (children as readonly unknown[]) : keys.map((k) => (children as Record<string, unknown>)[k]);
  const settled = await Promise.allSettled(values);
  let failed = false;
  let failure: unknown;
  const results: unknown[] = [];
  for (const outcome of settled) {
    if (outcome.status === "fulfilled") results.push(outcome.value);
    else if (!failed) {
      failed = true;
      failure = outcome.reason;
    } else if (!isQuiet(outcome.reason, quietExceptions)) {
      appLog.error("gen", `Multiple exceptions in yield list\n${describeError(outcome.reason)}`);
    }
  }
  if (failed) throw failure;
  if (keys === null) return results;
  const out: Record<string, unknown> = {};
  keys.forEach((k, i) => (out[k] = results[i]));
  return out;
}

/** Tornado's `gen.multi_future`: the same function (futures and coroutines are both promises here). */
export const multiFuture = multi;

/**
 * Resolves or rejects as `promise` does, unless `timeout` (a Tornado deadline, see `Timeout`)
 * passes first: then rejects with `TimeoutError("Timeout")`. `promise` keeps running; if it
 * fails later, that is logged ("Exception in Future ... after timeout") unless quiet.
 */
export function withTimeout<T>(timeout: Timeout, promise: PromiseLike<T> | T, quietExceptions?: QuietExceptions): Promise<T> {
  const loop = IOLoop.current();
  const wrapped = Promise.resolve(promise);
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const handle = loop.addTimeout(timeout, () => {
      timedOut = true;
      reject(new TimeoutError("Timeout"));
    });
    wrapped.then(
      (value) => {
        loop.removeTimeout(handle);
        resolve(value);
      },
      (err: unknown) => {
        loop.removeTimeout(handle);
        if (!timedOut) reject(err);
        else if (!isQuiet(err, quietExceptions) && !isAbort(err)) {
          appLog.error("gen", `Exception in Future <Promise> after timeout\n${describeError(err)}`);
        }
      },
    );
  });
}

/** A cancelled wait (Python's `CancelledError`, JavaScript's `AbortError`) is not an error worth logging. */
function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}

/**
 * `await moment` lets the IOLoop run one iteration (Tornado's `gen.moment`): pending callbacks
 * and I/O go first, so a long loop of work can yield without sleeping.
 */
export const moment: PromiseLike<void> = {
  then<A = void, B = never>(onFulfilled?: ((value: void) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
    return new Promise<void>((resolve) => IOLoop.current().addCallback(resolve)).then(onFulfilled, onRejected);
  },
};
