/**
 * locks.ts, queues.ts and gen.ts against the real Tornado 6.2 (Debian's /usr/bin/python3): one
 * scripted scenario, written once in Python and once in TypeScript, logs what each wait returned
 * or raised (the exception's class and message), in order. The two logs must be equal. Steps are
 * separated by sleeps, so the order within a step is the waiters' order, not a scheduler's.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { multi, sleep, withTimeout } from "./gen.js";
import { BoundedSemaphore, Condition, Event, Lock, Semaphore } from "./locks.js";
import { captureLogs } from "./platform/testkit.js";
import { LifoQueue, PriorityQueue, Queue } from "./queues.js";
import { hasTornado, PYTHON } from "../tools/real-tornado.js";

const SCENARIO_PY = String.raw`
import asyncio, datetime, json, logging
from tornado import gen
from tornado.locks import Condition, Event, Semaphore, BoundedSemaphore, Lock
from tornado.queues import Queue, PriorityQueue, LifoQueue, QueueFull, QueueEmpty
logging.getLogger("tornado").setLevel(logging.CRITICAL)
log = []
def s(x): return datetime.timedelta(seconds=x)
def err(e):
    # Python's exception names as the TypeScript twins name them
    name = {"ValueError": "RangeError", "RuntimeError": "Error"}.get(type(e).__name__, type(e).__name__)
    return "%s(%s)" % (name, str(e))
async def record(name, aw):
    try:
        log.append("%s -> %s" % (name, json.dumps(await aw)))
    except Exception as e:
        log.append("%s !! %s" % (name, err(e)))
def now(name, fn):
    try:
        log.append("%s -> %s" % (name, json.dumps(fn())))
    except Exception as e:
        log.append("%s !! %s" % (name, err(e)))
async def step(): await gen.sleep(0.02)
async def nothing(aw): await aw

async def main():
    c = Condition()
    tasks = [asyncio.ensure_future(record("cond a", c.wait())),
             asyncio.ensure_future(record("cond b (timeout)", c.wait(timeout=s(0.01)))),
             asyncio.ensure_future(record("cond c", c.wait())),
             asyncio.ensure_future(record("cond d", c.wait()))]
    await step()
    c.notify(1); await step()
    c.notify(1); await step()
    c.notify_all(); await asyncio.gather(*tasks)

    e = Event()
    await record("event timeout", e.wait(timeout=s(0.01)))
    t = asyncio.ensure_future(record("event waiter", e.wait()))
    await step(); e.set(); await t
    await record("event while set", e.wait())
    e.clear(); await record("event after clear", e.wait(timeout=s(0.01)))

    sem = Semaphore(2)
    await sem.acquire(); await sem.acquire()
    t1 = asyncio.ensure_future(record("sem timeout", nothing(sem.acquire(timeout=s(0.01)))))
    t2 = asyncio.ensure_future(record("sem waiter", nothing(sem.acquire())))
    await step(); sem.release(); await t1; await t2
    now("sem value", lambda: sem._value)
    now("semaphore negative", lambda: Semaphore(-1))
    b = BoundedSemaphore(1)
    now("bounded release", lambda: b.release())
    lock = Lock()
    now("lock release unlocked", lambda: lock.release())
    await lock.acquire()
    await record("lock timeout", lock.acquire(timeout=s(0.01)))
    lock.release()

    q = Queue(maxsize=2)
    q.put_nowait(1); q.put_nowait(2)
    now("queue full", lambda: q.put_nowait(3))
    now("queue state", lambda: [q.qsize(), q.empty(), q.full()])
    t = asyncio.ensure_future(record("queue put waits", q.put(3)))
    await step()
    now("queue get_nowait", q.get_nowait)
    await t
    await record("queue put timeout", q.put(4, timeout=s(0.01)))
    now("queue drain", lambda: [q.get_nowait(), q.get_nowait()])
    now("queue empty", q.get_nowait)
    await record("queue get timeout", q.get(timeout=s(0.01)))
    getters = [asyncio.ensure_future(record("queue getter %d" % i, q.get())) for i in range(3)]
    await step()
    for i in range(3): q.put_nowait("item %d" % i)
    await asyncio.gather(*getters)
    await record("queue join timeout", q.join(timeout=s(0.01)))
    for i in range(6): q.task_done()
    await record("queue join", q.join())
    now("task_done too many", q.task_done)
    now("queue negative", lambda: Queue(maxsize=-1))
    p = PriorityQueue()
    for item in [(2, "b"), (0, "z"), (1, "y"), (0, "a")]: p.put_nowait(item)
    now("priority", lambda: [list(p.get_nowait()) for _ in range(4)])
    l = LifoQueue()
    for item in [1, 2, 3]: l.put_nowait(item)
    now("lifo", lambda: [l.get_nowait() for _ in range(3)])

    await record("with_timeout", gen.with_timeout(s(0.01), asyncio.sleep(1)))
    await record("with_timeout in time", gen.with_timeout(s(1), gen.sleep(0.001)))
    async def fail(msg, delay):
        await gen.sleep(delay)
        raise KeyError(msg)
    async def ok(v):
        await gen.sleep(0.001)
        return v
    await record("multi", gen.multi([ok(1), ok("two")]))
    await record("multi dict", gen.multi({"a": ok(1), "b": ok(2)}))
    await record("multi failures", gen.multi([ok(1), fail("slow first", 0.02), fail("fast second", 0.001)]))
    print(json.dumps(log))

asyncio.run(main())
`;

/** Python's KeyError, so both logs can name the same class. */
class KeyError extends Error {
  override name = "KeyError";
}

async function scenarioTs(): Promise<string[]> {
  const log: string[] = [];
  const s = (seconds: number) => ({ seconds });
  const err = (e: unknown) => {
    const error = e as Error;
    // Python's str(KeyError("x")) is "'x'".
    return `${error.name}(${error instanceof KeyError ? `'${error.message}'` : error.message})`;
  };
  const json = (v: unknown) => (v === undefined ? "null" : JSON.stringify(v).replace(/,/g, ", ").replace(/:/g, ": "));
  const record = async (name: string, aw: PromiseLike<unknown>) => {
    try {
      log.push(`${name} -> ${json(await aw)}`);
    } catch (e) {
      log.push(`${name} !! ${err(e)}`);
    }
  };
  const now = (name: string, fn: () => unknown) => {
    try {
      log.push(`${name} -> ${json(fn())}`);
    } catch (e) {
      log.push(`${name} !! ${err(e)}`);
    }
  };
  const step = () => sleep(0.02);

  const c = new Condition();
  const tasks = [record("cond a", c.wait()), record("cond b (timeout)", c.wait(s(0.01))), record("cond c", c.wait()), record("cond d", c.wait())];
  await step();
  c.notify(1);
  await step();
  c.notify(1);
  await step();
  c.notifyAll();
  await Promise.all(tasks);

  const e = new Event();
  await record("event timeout", e.wait(s(0.01)));
  const t = record("event waiter", e.wait());
  await step();
  e.set();
  await t;
  await record("event while set", e.wait());
  e.clear();
  await record("event after clear", e.wait(s(0.01)));

  const sem = new Semaphore(2);
  await sem.acquire();
  await sem.acquire();
  const t1 = record("sem timeout", sem.acquire(s(0.01)).then(() => null));
  const t2 = record("sem waiter", sem.acquire().then(() => null));
  await step();
  sem.release();
  await t1;
  await t2;
  now("sem value", () => sem.counter);
  now("semaphore negative", () => new Semaphore(-1));
  const b = new BoundedSemaphore(1);
  now("bounded release", () => b.release());
  const lock = new Lock();
  now("lock release unlocked", () => lock.release());
  await lock.acquire();
  await record("lock timeout", lock.acquire(s(0.01)));
  lock.release();

  const q = new Queue<unknown>(2);
  q.putNowait(1);
  q.putNowait(2);
  now("queue full", () => q.putNowait(3));
  now("queue state", () => [q.qsize(), q.empty(), q.full()]);
  const tp = record("queue put waits", q.put(3));
  await step();
  now("queue get_nowait", () => q.getNowait());
  await tp;
  await record("queue put timeout", q.put(4, s(0.01)));
  now("queue drain", () => [q.getNowait(), q.getNowait()]);
  now("queue empty", () => q.getNowait());
  await record("queue get timeout", q.get(s(0.01)));
  const getters = [0, 1, 2].map((i) => record(`queue getter ${i}`, q.get()));
  await step();
  for (let i = 0; i < 3; i++) q.putNowait(`item ${i}`);
  await Promise.all(getters);
  await record("queue join timeout", q.join(s(0.01)));
  for (let i = 0; i < 6; i++) q.taskDone();
  await record("queue join", q.join());
  now("task_done too many", () => q.taskDone());
  now("queue negative", () => new Queue(-1));
  const p = new PriorityQueue<[number, string]>();
  for (const item of [[2, "b"], [0, "z"], [1, "y"], [0, "a"]] as [number, string][]) p.putNowait(item);
  now("priority", () => [0, 1, 2, 3].map(() => p.getNowait()));
  const l = new LifoQueue<number>();
  for (const item of [1, 2, 3]) l.putNowait(item);
  now("lifo", () => [0, 1, 2].map(() => l.getNowait()));

  await record("with_timeout", withTimeout(s(0.01), sleep(1)));
  await record("with_timeout in time", withTimeout(s(1), sleep(0.001)));
  const fail = async (msg: string, delay: number) => {
    await sleep(delay);
    throw new KeyError(msg);
  };
  const ok = async (v: unknown) => {
    await sleep(0.001);
    return v;
  };
  await record("multi", multi([ok(1), ok("two")]));
  await record("multi dict", multi({ a: ok(1), b: ok(2) }));
  await record("multi failures", multi([ok(1), fail("slow first", 0.02), fail("fast second", 0.001)]));
  return log;
}

describe.skipIf(!hasTornado)("locks, queues and gen vs Tornado 6.2", () => {
  it("one scripted scenario logs the same results and errors on both", async () => {
    const logs = captureLogs();
    let ours: string[];
    try {
      ours = await scenarioTs();
    } finally {
      logs.restore();
    }
    const run = spawnSync(PYTHON, ["-c", SCENARIO_PY], { encoding: "utf8", timeout: 30_000 });
    expect(run.stderr).toBe("");
    const theirs = JSON.parse(run.stdout) as string[];
    expect(ours).toEqual(theirs);
    // Tornado logs the second failure of the multi; so do we.
    expect(logs.records.filter((r) => r.level === "error").map((r) => r.message.split("\n")[0])).toEqual(["Multiple exceptions in yield list"]);
  }, 30_000);
});
