/**
 * The runtime modules a program in the in-page engine can `require("tornado/<name>")`.
 *
 * One eager glob over runtime/, so every module the runtime has (ioloop, web, httpserver,
 * httpclient, template, escape, httputil, ...) is in the worker's bundle and new modules need
 * no list to be kept in sync. Only the browser-safe platform modules are included.
 */
const found = import.meta.glob(
  // Test kits are not modules a program uses, and websocket_testkit reaches platform/node.ts.
  ["../../runtime/*.ts", "../../runtime/platform/index.ts", "../../runtime/platform/memory.ts", "!../../runtime/*.test.ts", "!../../runtime/*testkit.ts"],
  { eager: true },
);

/** "web" → the module namespace of runtime/web.ts; "platform/index" → runtime/platform/index.ts. */
export const runtimeModules: Record<string, unknown> = Object.fromEntries(
  Object.entries(found).map(([key, mod]) => [key.replace(/^\.\.\/\.\.\/runtime\//, "").replace(/\.ts$/, ""), mod]),
);
