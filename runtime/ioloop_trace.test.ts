/**
 * The loop's trace hook (`setTraceHook`): what a server does for a real request over TCP is
 * reported in order (socket readable, the read callback, the handler's timer, the write), only
 * for the server's own sockets, and nothing at all once the hook is off.
 */
import { afterEach, describe, expect, it } from "vitest";
import { AsyncHTTPClient } from "./httpclient.js";
import { HTTPServer } from "./httpserver.js";
import { IOLoop, setTraceHook, type TraceEvent } from "./ioloop.js";
import { setLogSink, type LogRecord } from "./log.js";
import { Application, RequestHandler } from "./web.js";

class Sleepy extends RequestHandler {
  async get() {
    await new Promise((done) => IOLoop.current().callLater(0.05, function wakeUp() { done(null); }));
    this.write("Hello, world");
  }
}

let server: HTTPServer | null = null;
afterEach(async () => {
  setTraceHook(null);
  setLogSink(null);
  await server?.stop();
  await server?.closeAllConnections();
  server = null;
});

async function serve(): Promise<number> {
  server = new HTTPServer(new Application([["/", Sleepy]]));
  return server.listen(0, "127.0.0.1");
}

describe("IOLoop trace hook", () => {
  it("reports a request's events in order, for the server's sockets only", async () => {
    const port = await serve();
    // Make the request straddle a second boundary, as it does at random on a loaded machine:
    // a first response caches the Date text with a timer for the next second, and the traced
    // request starts 25 ms before that second, so its handler's 50 ms sleep spans the timer.
    await AsyncHTTPClient.instance().fetch(`http://127.0.0.1:${port}/`);
    await new Promise((done) => setTimeout(done, Math.max(0, 975 - (Date.now() % 1000))));
    const events: TraceEvent[] = [];
    setTraceHook((e) => events.push(e));
    const response = await AsyncHTTPClient.instance().fetch(`http://127.0.0.1:${port}/`);
    expect(response.text).toBe("Hello, world");
    const kinds = events.map((e) => e.kind);
    // The client's own socket is not traced: one read and one write, the server's.
    expect(kinds.filter((k) => k === "readable")).toHaveLength(1);
    expect(kinds.filter((k) => k === "write").length).toBeGreaterThanOrEqual(1);
    // The handler's timer is found by name: the server's own once-a-second Date-cache timer
    // (clearDateText) is traced too, and fires first whenever the request straddles a second.
    const wakeUp = events.findIndex((e) => e.kind === "timer" && e.detail === "<function wakeUp>");
    const order = [kinds.indexOf("readable"), kinds.indexOf("callback"), wakeUp, kinds.indexOf("write")];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(events.filter((e) => e.kind === "timer").every((e) => /^<function (wakeUp|clearDateText)>$/.test(e.detail))).toBe(true);
    expect(events.find((e) => e.kind === "readable")!.detail).toMatch(/^\d+ bytes from port \d+$/);
    expect(events.find((e) => e.kind === "callback")!.detail).toMatch(/^read callback \(\d+ bytes\)$/);
    // Times are the loop's clock, non-decreasing, and the timer fired ~50 ms after the read.
    const times = events.map((e) => e.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const readAt = events.find((e) => e.kind === "readable")!.time;
    expect(events[wakeUp]!.time - readAt).toBeGreaterThanOrEqual(0.045);
  });

  it("reports queued callbacks by name", async () => {
    const events: TraceEvent[] = [];
    setTraceHook((e) => events.push(e));
    await new Promise<void>((done) => IOLoop.current().addCallback(function queued() { done(); }));
    expect(events).toEqual([expect.objectContaining({ kind: "callback", detail: "<function queued>" })]);
  });

  it("reports nothing when off, and a throwing hook is logged and removed", async () => {
    const port = await serve();
    const events: TraceEvent[] = [];
    setTraceHook((e) => events.push(e));
    setTraceHook(null);
    await AsyncHTTPClient.instance().fetch(`http://127.0.0.1:${port}/`);
    expect(events).toEqual([]);

    const logged: LogRecord[] = [];
    setLogSink((r) => logged.push(r));
    let calls = 0;
    setTraceHook(() => {
      calls++;
      throw new Error("bad hook");
    });
    const response = await AsyncHTTPClient.instance().fetch(`http://127.0.0.1:${port}/`);
    expect(response.text).toBe("Hello, world");
    expect(calls).toBe(1);
    expect(logged.some((r) => /bad hook/.test(r.message))).toBe(true);
  });
});
