/**
 * runtime-hello.ts with the access log written line by line as it is logged (Tornado's way)
 * instead of in 10 ms batches: the bench row that measures what the batching buys.
 */
process.env.TORNADO_LOG_BATCH = "0";
await import("./runtime-hello.js");
export {};
