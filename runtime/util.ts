/**
 * Bits of `tornado.util` that other modules share. For now one: `TimeoutError`, raised by
 * `gen.withTimeout` and by the waits of `tornado.locks` and `tornado.queues` (Tornado exports
 * the same class as `tornado.gen.TimeoutError` and `tornado.util.TimeoutError`).
 */

/** A wait gave up before what it waited for happened (Tornado's `tornado.util.TimeoutError`). */
export class TimeoutError extends Error {
  override name = "TimeoutError";
}
