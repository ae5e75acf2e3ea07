/**
 * Long polling over the real transports: requests park on a `Condition` until a message comes;
 * a client that goes away is told to its handler (`onConnectionClose`), which drops its wait;
 * a handler finished after its client left writes nothing and raises nothing. What gets logged
 * then is compared with the real Tornado 6.2: only the access line, unless the handler itself
 * awaits a flush to the closed connection (Tornado raises StreamClosedError into it; so do we).
 */
import { spawnSync } from "node:child_process";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AsyncHTTPClient } from "./httpclient.js";
import { setLogSink } from "./log.js";
import { HTTPServer } from "./httpserver.js";
import { Condition } from "./locks.js";
import { platform } from "./platform/index.js";
import { createMemoryPlatform } from "./platform/memory.js";
import { PLATFORMS, RawClient, captureLogs, enc, sleep, usePlatform } from "./platform/testkit.js";
import type { Platform, PlatformSocket } from "./platform/types.js";
import { Application, RequestHandler } from "./web.js";
import { hasTornado, PYTHON } from "../tools/real-tornado.js";

/** The message board of a long-poll app: waiters park on `cond`, `post` wakes them all. */
class Board {
  readonly cond = new Condition();
  message = "";
  closes = 0;
  post(message: string): void {
    this.message = message;
    this.cond.notifyAll();
  }
}

/**
 * Waits for a message without cancelling: when its client leaves, the wait outlives it, and the
 * message, when it comes, is answered to nobody (Tornado's behaviour is then what we check). As a
 * long-poll handler it leaks its wait per departed client, which the heap test must catch.
 */
class LateFinish extends RequestHandler {
  declare board: Board;
  initialize(args: { board: Board }) {
    this.board = args.board;
  }
  async get() {
    await this.board.cond.wait();
    this.write(this.board.message);
  }
  override onConnectionClose() {
    this.board.closes++;
  }
}

/** Tornado's chat-demo handler: waits for a message; a client that leaves cancels its wait. */
class Poll extends LateFinish {
  private readonly cancel = new AbortController();
  override async get() {
    try {
      await this.board.cond.wait(null, { signal: this.cancel.signal });
    } catch (err) {
      if ((err as Error).name === "AbortError") return; // the client left: nobody to answer
      throw err;
    }
    this.write(this.board.message);
  }
  override onConnectionClose() {
    super.onConnectionClose();
    this.cancel.abort();
  }
}

/** Awaits a flush after its client left: the flush rejects with StreamClosedError, as Tornado's raises. */
class LateFlush extends LateFinish {
  override async get() {
    await this.board.cond.wait();
    this.write(this.board.message);
    await this.flush();
    this.write(" and more");
  }
}

/** Tornado 6.2 running the same two handlers through the same story; prints its log records. */
const TORNADO_LATE = String.raw`
import asyncio, json, logging, sys, tornado.web, tornado.netutil, tornado.httpserver
from tornado.locks import Condition
records = []
class Capture(logging.Handler):
    def emit(self, r): records.append([r.name, r.levelname.lower(), r.getMessage().split("\n")[0]])
logging.getLogger("tornado").addHandler(Capture())
logging.getLogger("tornado").setLevel(logging.INFO)
logging.getLogger("tornado").propagate = False
cond = Condition()
closes = []
class LateFinish(tornado.web.RequestHandler):
    async def get(self):
        await cond.wait()
        self.write("too late")
    def on_connection_close(self): closes.append(1)
class LateFlush(LateFinish):
    async def get(self):
        await cond.wait()
        self.write("too late")
        await self.flush()
        self.write(" and more")
async def main():
    socks = tornado.netutil.bind_sockets(0, "127.0.0.1")
    tornado.httpserver.HTTPServer(tornado.web.Application([("/late", LateFinish), ("/lateflush", LateFlush)])).add_sockets(socks)
    r, w = await asyncio.open_connection("127.0.0.1", socks[0].getsockname()[1])
    w.write(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[1]).encode())
    while not cond._waiters: await asyncio.sleep(0.001)
    w.close()
    while not closes: await asyncio.sleep(0.001)
    cond.notify_all()
    while not any(r[0] == "tornado.access" for r in records): await asyncio.sleep(0.001)
    await asyncio.sleep(0.01)
    print(json.dumps(records))
asyncio.run(main())
`;

/** Tornado's records for one path, with the request time taken off the access line. */
function tornadoRecords(path: string): string[][] {
  const run = spawnSync(PYTHON, ["-c", TORNADO_LATE, path], { encoding: "utf8", timeout: 30_000 });
  if (run.status !== 0) throw new Error(run.stderr);
  return (JSON.parse(run.stdout) as string[][]).map(([logger, level, message]) => [logger!, level!, message!.replace(/ [\d.]+ms$/, "")]);
}

function app(board: Board): Application {
  return new Application([
    ["/poll", Poll, { board }],
    ["/late", LateFinish, { board }],
    ["/lateflush", LateFlush, { board }],
  ]);
}

/**
 * Waits until `check()` holds, looking again every event-loop turn. The 60 s bound only turns a
 * broken build's hang into a failure; a working one never gets near it, however loaded the machine.
 */
async function until(check: () => boolean, what: string): Promise<void> {
  const giveUp = Date.now() + 60_000;
  for (let i = 0; ; i++) {
    if (check()) return;
    if (Date.now() > giveUp) throw new Error(`never happened: ${what}`);
    await sleep(i < 100 ? 0 : 1);
  }
}

/**
 * Each test of the calling describe gets a fresh platform, log capture, board and server on an
 * ephemeral port (handed over through `use`), all undone after it.
 */
function serveBoard(make: () => Platform, use: (served: { logs: ReturnType<typeof captureLogs>; port: number; board: Board }) => void): void {
  let restore: () => void;
  let logs: ReturnType<typeof captureLogs>;
  let server: HTTPServer;
  beforeEach(async () => {
    restore = usePlatform(make());
    logs = captureLogs();
    const board = new Board();
    server = new HTTPServer(app(board));
    use({ logs, port: await server.listen(0, "127.0.0.1"), board });
  });
  afterEach(async () => {
    await server.stop();
    await server.closeAllConnections();
    logs.restore();
    restore();
  });
}

for (const { name, make } of PLATFORMS) {
  describe(`long polling on the ${name} platform`, () => {
    let logs: ReturnType<typeof captureLogs>;
    let port: number;
    let board: Board;
    serveBoard(make, (served) => ({ logs, port, board } = served));

    it("a parked request is answered by the next message", async () => {
      const c = await RawClient.connect(port);
      c.send("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => board.cond.waiterCount === 1, "the request parked");
      board.post("hello");
      const r = await c.readResponse();
      expect([r.code, new TextDecoder().decode(r.body)]).toEqual([200, "hello"]);
      c.close();
    });

    it("a client that leaves is told to its handler and dropped from the waiters; the server keeps serving", async () => {
      const c = await RawClient.connect(port);
      c.send("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => board.cond.waiterCount === 1, "the request parked");
      c.close();
      await until(() => board.closes === 1, "onConnectionClose");
      expect(board.cond.waiterCount).toBe(0);
      const next = await RawClient.connect(port);
      next.send("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => board.cond.waiterCount === 1, "the next request parked");
      board.post("still here");
      expect(new TextDecoder().decode((await next.readResponse()).body)).toBe("still here");
      next.close();
      expect(logs.records.filter((r) => r.level !== "info")).toEqual([]);
    });

    /** A client asks `path`, leaves while it waits, then the message comes: what was logged. */
    async function answeredAfterLeaving(path: string): Promise<string[][]> {
      const c = await RawClient.connect(port);
      c.send(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await until(() => board.cond.waiterCount === 1, "the request parked");
      c.close();
      await until(() => board.closes === 1, "onConnectionClose");
      board.post("too late");
      await until(() => logs.records.some((r) => r.logger === "tornado.access"), "the access line");
      await sleep(10);
      return logs.records.map((r) => [r.logger, r.level, r.message.split("\n")[0]!.replace(/ [\d.]+ms$/, "")]);
    }

    it("a handler finished after its client left writes nothing and raises nothing: only the access line is logged", async () => {
      const records = await answeredAfterLeaving("/late");
      expect(records).toEqual([["tornado.access", "info", "200 GET /late (127.0.0.1)"]]);
      if (hasTornado) expect(records).toEqual(tornadoRecords("/late"));
    });

    it("a handler that awaits a flush after its client left gets StreamClosedError, logged as Tornado 6.2 logs it", async () => {
      const records = await answeredAfterLeaving("/lateflush");
      expect(records).toEqual([
        ["tornado.application", "error", "Uncaught exception GET /lateflush (127.0.0.1)"],
        ["tornado.general", "error", "Cannot send error response after headers written"],
        ["tornado.access", "info", "200 GET /lateflush (127.0.0.1)"],
      ]);
      if (hasTornado) expect(records).toEqual(tornadoRecords("/lateflush"));
    });
  });
}

describe("long polling at scale, over the memory network", () => {
  let logs: ReturnType<typeof captureLogs>;
  let port: number;
  let board: Board;
  serveBoard(() => createMemoryPlatform({ log: () => {} }), (served) => ({ logs, port, board } = served));

  it("1,000 parked long-poll requests are all released by one message", async () => {
    const client = new AsyncHTTPClient({}, { maxClients: 1000 });
    const polls = Array.from({ length: 1000 }, () => client.fetch(`http://127.0.0.1:${port}/poll`));
    await until(() => board.cond.waiterCount === 1000, "1,000 parked requests");
    board.post("one message for all");
    const responses = await Promise.all(polls);
    expect(responses.every((r) => r.code === 200 && r.text === "one message for all")).toBe(true);
    expect(board.cond.waiterCount).toBe(0);
    client.close();
  }, 60_000);

  /** Opens `count` long polls in batches, waits until each handler is parked, then disconnects them all. */
  async function cycles(path: string, count: number): Promise<void> {
    const batch = 200;
    const request = enc(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    for (let done = 0; done < count; done += batch) {
      const parkedBefore = board.cond.waiterCount;
      const closesBefore = board.closes;
      const sockets: PlatformSocket[] = [];
      for (let i = 0; i < batch; i++) {
        const socket = await platform().connect("127.0.0.1", port);
        socket.onData = () => {};
        socket.write(request);
        sockets.push(socket);
      }
      await until(() => board.cond.waiterCount === parkedBefore + batch, "a batch parked");
      for (const socket of sockets) socket.destroy();
      await until(() => board.closes === closesBefore + batch, "a batch closed");
    }
  }

  /** Heap used after a full collection (V8's `gc`, reached without --expose-gc). */
  function heapAfterGc(): number {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    gc();
    gc();
    return v8.getHeapStatistics().used_heap_size;
  }

  it("10,000 connect/disconnect cycles leave nothing behind; a handler that keeps its wait is caught leaking", async () => {
    // Keep only what is not an access line: 12,000 kept records would be a leak of the test's own.
    const problems: string[] = [];
    setLogSink((r) => void (r.level !== "info" && problems.push(r.message)));
    await cycles("/poll", 1000); // warm up: caches, slabs, JIT
    const before = heapAfterGc();
    await cycles("/poll", 10_000);
    const after = heapAfterGc();
    expect(board.cond.waiterCount).toBe(0);
    const perCycle = (after - before) / 10_000;

    // The same measurement must see a real leak: a handler that never drops its wait.
    const leakBefore = heapAfterGc();
    await cycles("/late", 2_000);
    const leakAfter = heapAfterGc();
    expect(board.cond.waiterCount).toBe(2_000);
    const leakPerCycle = (leakAfter - leakBefore) / 2_000;
    if (process.env.LONGPOLL_REPORT) console.log(`heap growth per cycle: ${perCycle.toFixed(1)} bytes; leaking handler: ${leakPerCycle.toFixed(1)} bytes`);
    board.post("release the leak");
    await until(() => board.cond.waiterCount === 0, "the leaky waiters released");

    // A parked handler with its request and connection costs ~4 KB. Without a leak the heap
    // grows by a constant (~0.4 MB of compiled code and caches, the same after 2,000 or 30,000
    // cycles), so 10,000 cycles stay far below 2 MB while a leak of that size would pass 40 MB.
    expect(leakPerCycle).toBeGreaterThan(1000);
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
    expect(perCycle).toBeLessThan(leakPerCycle / 20);
    expect(problems).toEqual([]);
  }, 300_000);
});
