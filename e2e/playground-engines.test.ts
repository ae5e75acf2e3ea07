/**
 * The engine contract (playground/contract.ts) against the in-page engine, in Chromium, in the
 * built deck served without isolation headers: the runtime in a Web Worker over the in-memory
 * network, started and queried exactly as the deck does. The WebContainer engine runs the same
 * suite over the Node-backed container (playground/webcontainer/engine.test.ts).
 */
import { createServer, type AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { examples } from "../slides/examples/catalog.js";
import { engineContract, holdThread, shown, type EngineDriver, type SessionDriver } from "../playground/contract.js";
import type { CommandResult, Program, StartResult } from "../playground/engine.js";
import { bootNodeContainer, type NodeContainer } from "../playground/webcontainer/node-backed.js";
import { WebContainerEngine } from "../playground/webcontainer/engine.js";
import { loadRuntimeSources } from "../playground/webcontainer/runtime-sources.js";
import { launchBrowser, openDeck } from "./support.js";

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  page = await browser.newPage();
  await openDeck(page, inject("plainDeckUrl") + "?no-coi");
  await page.waitForFunction(() => "__playgroundEngines" in globalThis, undefined, { timeout: 20_000 });
  await page.evaluate(() => {
    const g = globalThis as unknown as Record<string, any>;
    g.__contractEngine = g.__playgroundEngines.inPage();
    g.__contractLog = "";
  });
});
afterAll(async () => {
  await page?.evaluate(() => (globalThis as any).__contractEngine?.dispose());
  await browser?.close();
});

const driver = (): EngineDriver => ({
  busy: (ms) => page.evaluate(holdThread, ms),
  start: (program: Program) =>
    page.evaluate(
      (p) => {
        const g = globalThis as any;
        g.__contractLog = "";
        return g.__contractEngine.start(p, (text: string) => (g.__contractLog += text)) as Promise<StartResult>;
      },
      program,
    ),
  run: (command: string) =>
    page.evaluate(async (c) => {
      const g = globalThis as any;
      const result = (await g.__contractEngine.run(c)) as CommandResult;
      await new Promise((r) => setTimeout(r, 20));
      return { ...result, serverLog: g.__contractLog as string };
    }, command),
  session: async (command, options = {}) => {
    // The session lives in the page (its input, its Ctrl+C, its output); Node polls it.
    const id = await page.evaluate(
      ([c, timeoutMs]) => {
        const g = globalThis as any;
        const s = { output: "", input: new g.__playgroundEngines.CommandInput(), interrupt: new AbortController(), result: null as unknown };
        s.result = g.__contractEngine.run(c, (text: string) => (s.output += text), {
          signal: s.interrupt.signal,
          input: s.input,
          ...(timeoutMs === null ? {} : { timeoutMs }),
        });
        (g.__sessions ??= []).push(s);
        return g.__sessions.length - 1;
      },
      [command, options.timeoutMs ?? null] as const,
    );
    const output = () => page.evaluate((i) => (globalThis as any).__sessions[i].output as string, id);
    const session: SessionDriver = {
      async waitFor(pattern, waitMs = 10_000) {
        const until = Date.now() + waitMs;
        for (;;) {
          const text = await output();
          if (pattern.test(shown(text))) return text;
          if (Date.now() > until) throw new Error(`no ${pattern} within ${waitMs} ms; output so far: ${JSON.stringify(text)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      type: (line) => page.evaluate(([i, l]) => (globalThis as any).__sessions[i].input.line(l), [id, line] as const),
      stop: () => page.evaluate((i) => (globalThis as any).__sessions[i].interrupt.abort(), id),
      result: () =>
        page.evaluate(async (i) => {
          const g = globalThis as any;
          const result = (await g.__sessions[i].result) as CommandResult;
          await new Promise((r) => setTimeout(r, 20));
          return { ...result, serverLog: g.__contractLog as string };
        }, id),
    };
    return session;
  },
  stop: () => page.evaluate(() => (globalThis as any).__contractEngine.stop()),
});

engineContract("in-page (Chromium worker)", driver, () => ({
  hello: examples.hello!,
  json: examples.json!,
  templates: examples.templates!,
}));

/**
 * Byte for byte: the in-page engine (Chromium, memory network) against real Node (the
 * WebContainer engine over the Node-backed container: node processes, real sockets), same
 * programs, same commands; only the Date header's value may differ. Node's copy listens on a
 * free ephemeral port instead of 8888 (other tests may hold 8888), which curl's output does
 * not show.
 */
describe("in-page output is what Node gives", () => {
  let container: NodeContainer;
  let node: WebContainerEngine;
  beforeAll(() => {
    container = bootNodeContainer();
    node = new WebContainerEngine(container, loadRuntimeSources);
  });
  afterAll(async () => {
    await node?.dispose();
    await container?.teardown();
  });

  const freePort = () =>
    new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
  const maskDate = (text: string) => text.replace(/^Date: .*$/gm, "Date: <date>");

  const cases: Array<[string, string[]]> = [
    ["hello", ["curl -i http://localhost:8888", "curl -I http://localhost:8888", 'curl -i -H "If-None-Match: \\"e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8\\"" http://localhost:8888', "curl -i -d a=1 http://localhost:8888/", "curl -i http://localhost:8888/missing", "curl -s http://localhost:8888"]],
    ["json", ["curl -i http://localhost:8888/json", "curl -i -0 http://localhost:8888/json"]],
    ["templates", ["curl -i http://localhost:8888/", "curl -i -X DELETE http://localhost:8888/"]],
  ];
  for (const [name, commands] of cases) {
    it(`${name}: ${commands.length} commands`, async () => {
      const port = await freePort();
      const program = examples[name]!;
      const onPort = { ...program, files: { ...program.files, [program.main]: program.files[program.main]!.replace("listen(8888)", `listen(${port})`) } };
      expect((await node.start(onPort)).ok).toBe(true);
      expect((await driver().start(program)).ok).toBe(true);
      for (const command of commands) {
        const inNode = await node.run(command.replace("localhost:8888", `localhost:${port}`));
        const inPage = await driver().run(command);
        expect([inNode.timedOut, inPage.timedOut], command).toEqual([false, false]);
        expect(inPage.exitCode, command).toBe(inNode.exitCode);
        expect(maskDate(inPage.stdout + inPage.stderr), command).toBe(maskDate(inNode.stdout));
      }
    });
  }
});

/**
 * Programs started ahead (`prepare`): a start of exactly the same files swaps the prepared
 * worker in; anything else starts afresh. What answers is always the program that was asked for.
 */
describe("in-page engine: programs started ahead", () => {
  const counter = (label: string, extra = "") => ({
    name: "ahead",
    main: "ahead.ts",
    files: {
      "ahead.ts":
        `import { Application, RequestHandler } from "tornado/web";\n` +
        `import { IOLoop } from "tornado/ioloop";\n` +
        `let served = 0;\nconsole.log("booted ${label}");\n` +
        `class Main extends RequestHandler { get() { ${extra} served++; this.write("${label} " + served); } }\n` +
        `new Application([["/", Main]]).listen(8888);\nIOLoop.instance().start();\n`,
    },
  });
  /** In the page, on an engine of its own: optionally prepare, then start `program` and curl it. */
  const startAndCurl = (program: Program, prepare: Program[]) =>
    page.evaluate(
      async ([p, ahead]) => {
        const g = globalThis as any;
        g.__aheadEngine ??= g.__playgroundEngines.inPage();
        const engine = g.__aheadEngine;
        for (const q of ahead) await engine.prepare(q);
        let log = "";
        const start = (await engine.start(p, (text: string) => (log += text))) as StartResult;
        const ran = (await engine.run("curl -s http://localhost:8888/")) as CommandResult;
        return { start, stdout: ran.stdout, timedOut: ran.timedOut, log };
      },
      [program, prepare] as const,
    );
  afterAll(() => page?.evaluate(() => (globalThis as any).__aheadEngine?.dispose()));

  it("a prepared program is swapped in, fresh, with what it printed while waiting", async () => {
    const a = counter("A");
    const first = await startAndCurl(a, [a]);
    expect(first.start).toMatchObject({ ok: true, ahead: true });
    expect(first.stdout).toBe("A 1");
    expect(first.log).toContain("booted A");
    // Prepared again: a new program that has served nothing, not the one that just answered.
    const again = await startAndCurl(a, [a]);
    expect(again.start).toMatchObject({ ok: true, ahead: true });
    expect(again.stdout).toBe("A 1");
  });

  it("a program prepared for another text never answers for the edited one", async () => {
    const old = counter("old");
    const edited = counter("edited");
    const ran = await startAndCurl(edited, [old]);
    expect(ran.start.ok).toBe(true);
    expect(ran.start).not.toMatchObject({ ahead: true });
    expect(ran.stdout).toBe("edited 1");
    expect(ran.log).toContain("booted edited");
    expect(ran.log).not.toContain("booted old");
    // Preparing the newer text discards the older: only the last text of an example waits.
    const newer = counter("newer");
    const back = await startAndCurl(old, [old, newer]);
    expect(back.start).not.toMatchObject({ ahead: true });
    expect(back.stdout).toBe("old 1");
  });

  it("an endless loop in a prepared program's handler is still stopped by the watchdog", async () => {
    const loop = counter("loop", "while (true) {}");
    const stuck = await startAndCurl(loop, [loop]);
    expect(stuck.start).toMatchObject({ ok: true, ahead: true });
    expect(stuck.timedOut).toBe(true);
    const fine = counter("after");
    expect((await startAndCurl(fine, [fine])).stdout).toBe("after 1");
  });
});
