/**
 * The engine contract against the WebContainer engine, over the Node-backed container: real
 * files, real `node` processes binding the talk's port 8888 on the container's own localhost
 * (so other tests can run beside it), port events by probing. Only `WebContainer.boot()` itself is not exercised (it needs StackBlitz).
 *
 * Then the live demos (slides/demos/): each demo's program in a real `node` process, each of its
 * slide's commands as the slide runs them (the timeline's with their time budget, the cookie
 * jar's in the program's directory, the tampered cookie filled in from what the terminal saw),
 * checked as e2e/demos.test.ts checks the in-page engine. The demos bind 8888 and 8889.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demos } from "../../slides/demos/catalog.js";
import { examples } from "../../slides/examples/catalog.js";
import { body, engineContract, header, holdThread, localSession, type EngineDriver } from "../contract.js";
import type { CommandResult, Program } from "../engine.js";
import { cookiesSet, fillCommand as fillCookies } from "../demos/commands.js";
import { fillCommand, runBudgetMs, type TimelineOptions } from "../demos/timeline.js";
import { bootNodeContainer, type NodeContainer } from "./node-backed.js";
import { WebContainerEngine } from "./engine.js";
import { loadRuntimeSources } from "./runtime-sources.js";

let container: NodeContainer;
let engine: WebContainerEngine;
let serverLog = "";

beforeAll(() => {
  container = bootNodeContainer();
  engine = new WebContainerEngine(container, loadRuntimeSources);
});
afterAll(async () => {
  await engine.dispose();
  await container.teardown();
});

const driver = (): EngineDriver => ({
  start: (program: Program) => {
    serverLog = "";
    return engine.start(program, (text) => (serverLog += text));
  },
  run: async (command) => {
    const result = await engine.run(command);
    // Access-log lines are written as the response goes out; give the pipe a moment.
    await new Promise((r) => setTimeout(r, 50));
    return { ...result, serverLog };
  },
  session: async (command, options = {}) =>
    localSession((c, onOutput, runOptions) => engine.run(c, onOutput, runOptions), () => serverLog, command, options.timeoutMs),
  stop: () => engine.stop(),
  busy: async (ms) => holdThread(ms),
});

engineContract("WebContainer (Node-backed)", driver, () => ({
  hello: examples.hello!,
  json: examples.json!,
  templates: examples.templates!,
}));

let log = "";

async function start(name: string): Promise<void> {
  log = "";
  const started = await engine.start(demos[name]!, (text) => (log += text));
  expect(started, JSON.stringify(started)).toMatchObject({ ok: true });
}

async function run(command: string, timeoutMs?: number): Promise<CommandResult> {
  const result = await engine.run(command, undefined, timeoutMs === undefined ? {} : { timeoutMs });
  expect(result.timedOut, `${command}: ${result.stdout}${result.stderr}`).toBe(false);
  return result;
}

/** Waits for the program's log to match (its access lines follow the response). */
async function logged(pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !pattern.test(log); i++) await new Promise((r) => setTimeout(r, 20));
  expect(log).toMatch(pattern);
}

describe("the live demos in the WebContainer engine (Node-backed)", () => {
  it("async_http: /api answers the stand-in's results from port 8889, and 500 once the stand-in is stopped", async () => {
    const [api, stop, again] = demos.async_http!.manifest.commands;
    await start("async_http");
    const first = await run(api!);
    expect(first.stdout.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    expect(header(first.stdout, "Content-Type")).toBe("application/json; charset=UTF-8");
    expect(body(first.stdout)).toBe('{"twits": ["tornado 2.1 is out", "async python at bcndevconf", "non-blocking I/O, one thread"]}');
    await logged(/200 GET \/search\.json\?q=tornado[^]*200 GET \/api/);
    expect(body((await run(stop!)).stdout)).toBe("search stand-in stopped\n");
    const failed = await run(again!);
    expect(failed.stdout.split("\r\n")[0]).toBe("HTTP/1.1 500 Internal Server Error");
    await logged(/500 GET \/api/);
  });

  it("blocking vs non-blocking: one block of about `wait` against a staircase, the long run within its time budget", async () => {
    const demo = demos.blocking!;
    const widget = demo.manifest.widget as TimelineOptions;
    const line = new RegExp(widget.line);
    await start("blocking");
    const timeline = async (mode: string, params: Record<string, number>) => {
      const budget = runBudgetMs(widget.budget, params, demo.manifest.budgetMs);
      const out = await run(fillCommand(widget.command, { mode, ...params }), budget);
      const bars = out.stdout
        .split("\n")
        .map((l) => line.exec(l)?.groups)
        // A request's line as it is sent has no served part yet; the answered line closes its bar.
        .filter((g) => g?.start !== undefined)
        .map((g) => ({ start: Number(g!.start), end: Number(g!.end) }))
        .sort((a, b) => a.start - b.start);
      const total = Number(/requests, [\w-]+: (\d+) ms/.exec(out.stdout)?.[1]);
      return { bars, total, out };
    };
    const fast = await timeline("non-blocking", { n: 4, wait: 0.3 });
    expect(fast.bars).toHaveLength(4);
    expect(Math.max(...fast.bars.map((b) => b.start))).toBeLessThan(Math.min(...fast.bars.map((b) => b.end)));
    // More than the 4 s a command may usually take: the budget (n x wait x 1.5 + 4 s) lets it finish.
    const slow = await timeline("blocking", { n: 5, wait: 1 });
    expect(slow.bars, slow.out.stdout).toHaveLength(5);
    slow.bars.slice(1).forEach((b, i) => expect(b.start).toBeGreaterThanOrEqual(slow.bars[i]!.end - 2));
    expect(slow.total).toBeGreaterThanOrEqual(5000);
    expect(slow.total / fast.total).toBeGreaterThan(2);
  }, 60_000);

  it("the event loop, seen: a request's trace lines reach the log, all four kinds", async () => {
    await start("eventloop");
    const out = await run(demos.eventloop!.manifest.commands[0]!);
    expect(body(out.stdout)).toBe("Hello, world");
    await logged(/200 GET \/ \(127\.0\.0\.1\)/);
    const kinds = new Set([...log.matchAll(/^trace [\d.]+ (\w+): /gm)].map((m) => m[1]));
    for (const kind of ["readable", "callback", "timer", "write"]) expect(kinds).toContain(kind);
  });

  it("secure cookies: refused, logged in into the jar, greeted from it, the tampered cookie refused and logged", async () => {
    const commands = demos.secure_cookies!.manifest.commands;
    await start("secure_cookies");
    const seen = new Map<string, string>();
    const outputs: string[] = [];
    for (const template of commands) {
      const filled = fillCookies(template, seen);
      if (!filled.ok) throw new Error(filled.error);
      const out = await run(filled.command);
      cookiesSet(out.stdout, seen);
      outputs.push(out.stdout);
    }
    const [anonymous, login, greeted, tampered] = outputs;
    expect(anonymous!.split("\r\n")[0]).toBe("HTTP/1.1 403 Forbidden");
    expect(login).toMatch(/\r\nSet-Cookie: user="?2\|1:0\|10:\d+\|4:user\|4:YmVu\|[0-9a-f]{64}"?; /);
    expect(body(login!)).toBe("logged in as ben\n");
    expect(body(greeted!)).toBe("hello ben\n");
    expect(tampered!.split("\r\n")[0]).toBe("HTTP/1.1 403 Forbidden");
    await logged(/cookie user refused: its signature does not match/);
  });
});
