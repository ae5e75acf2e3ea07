/**
 * The engine contract (playground/contract.ts) against the in-page engine, in Chromium, in the
 * built deck served without isolation headers: the runtime in a Web Worker over the in-memory
 * network, started and queried exactly as the deck does. The WebContainer engine runs the same
 * suite over the Node-backed container (playground/webcontainer/engine.serial.test.ts).
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, inject } from "vitest";
import { examples } from "../slides/examples/catalog.js";
import { engineContract, type EngineDriver } from "../playground/contract.js";
import type { CommandResult, Program, StartResult } from "../playground/engine.js";
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
  stop: () => page.evaluate(() => (globalThis as any).__contractEngine.stop()),
});

engineContract("in-page (Chromium worker)", driver, () => ({
  hello: examples.hello!,
  json: examples.json!,
  templates: examples.templates!,
}));
