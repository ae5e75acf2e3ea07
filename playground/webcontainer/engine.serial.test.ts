/**
 * The engine contract against the WebContainer engine, over the Node-backed container: real
 * files, real `node` processes binding the talk's port 8888 (hence a serial test), port events
 * by probing. Only `WebContainer.boot()` itself is not exercised (it needs StackBlitz).
 */
import { afterAll, beforeAll } from "vitest";
import { examples } from "../../slides/examples/catalog.js";
import { engineContract, localSession, type EngineDriver } from "../contract.js";
import type { Program } from "../engine.js";
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
});

engineContract("WebContainer (Node-backed)", driver, () => ({
  hello: examples.hello!,
  json: examples.json!,
  templates: examples.templates!,
}));
