/**
 * What gets mounted in the container: our runtime as a plain-JS `tornado` package, tiny
 * `curl.mjs` and `wscat.mjs` (the container has neither), the heartbeat every program carries,
 * and the program being shown.
 *
 * Everything is transpiled in the page, so the container needs no `npm install`, no network
 * and no TypeScript support of its own. Layout of the container's workdir:
 *
 *   node_modules/tornado/package.json   exports "./*" → "./*.js", imports "#platform" → node
 *   node_modules/tornado/web.js, ...    runtime/*.ts, types stripped (imports keep `.js`)
 *   node_modules/@noble/hashes/...      third-party files the runtime imports (no npm install)
 *   curl.mjs                            `node ../curl.mjs -i http://localhost:8888` (commands run in app/)
 *   wscat.mjs                           `node ../wscat.mjs -c ws://localhost:8888/feed`
 *   heartbeat.cjs                       `node --require ../heartbeat.cjs hello.js`: the watchdog's sign of life
 *   app/                                the program: hello.js (from hello.ts), templates/...
 */
import type { FileSystemTree } from "./container.js";
import type { Program } from "../engine.js";
import { transpile, type TranspileResult } from "../transpile.js";

/** Directory (inside the workdir) the program is mounted in and runs from. */
export const APP_DIR = "app";

export const RUNTIME_PACKAGE_JSON = {
  name: "tornado",
  private: true,
  type: "module",
  exports: { "./*": "./*.js" },
  imports: { "#platform": "./platform/node.js" },
};

export const CURL_MJS = `// Our curl (tornado/curl), run by node: the WebContainer has no curl binary.
import { curl } from "tornado/curl";
const sink = (stream) => (chunk) => { stream.write(typeof chunk === "string" ? chunk : Buffer.from(chunk)); };
process.exitCode = await curl(process.argv.slice(2), { stdout: sink(process.stdout), stderr: sink(process.stderr) });
`;

/**
 * Our wscat (tornado/wscat), run by node. Lines typed in the terminal arrive on stdin; Ctrl+C
 * and Ctrl+D arrive as characters (a pipe, or a terminal that passes them through) or, for
 * Ctrl+C, as SIGINT (a terminal that turns it into one). TORNADO_TTY says whether the engine
 * shows the output in a terminal (wscat's notices and prompt), whatever stdout is.
 */
export const WSCAT_MJS = `// Our wscat (tornado/wscat), run by node: the WebContainer has no wscat.
import { wscat } from "tornado/wscat";
const interrupt = new AbortController();
process.on("SIGINT", () => interrupt.abort());
async function* lines() {
  let line = "";
  let afterCR = false;
  for await (const chunk of process.stdin.setEncoding("utf8")) {
    for (const c of chunk) {
      if (c === "\\x03") { interrupt.abort(); return; }
      if (c === "\\x04") return;
      if (c === "\\n" && afterCR) { afterCR = false; continue; }
      afterCR = c === "\\r";
      if (c === "\\n" || c === "\\r") { yield line; line = ""; } else line += c;
    }
  }
}
const tty = process.env.TORNADO_TTY ? process.env.TORNADO_TTY === "1" : Boolean(process.stdout.isTTY);
const code = await wscat(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: tty,
  stdin: lines(),
  signal: interrupt.signal,
});
// stdin would keep node alive: exit once what was printed is written.
process.stdout.write("", () => process.exit(code));
`;

/** Where a program's heartbeat is written, relative to the workdir. */
export const HEARTBEAT_FILE = ".heartbeat";

/**
 * Preloaded into every program: while its event loop turns, a counter in HEARTBEAT_FILE moves
 * (an unref'd timer: it never keeps a finished program alive). A program stuck in
 * `while (true) {}` stops it; one waiting on the network does not. The watchdog of a command
 * that stays connected (wscat -c) reads it, as the in-page engine pings its worker.
 */
export const HEARTBEAT_CJS = `// The engine's watchdog: this program's event loop still turns.
const { writeFileSync } = require("node:fs");
const { resolve } = require("node:path");
const file = resolve(__dirname, ${JSON.stringify(HEARTBEAT_FILE)});
let beat = 0;
const tick = () => { try { writeFileSync(file, process.pid + " " + ++beat); } catch {} };
tick();
setInterval(tick, 200).unref();
`;

/** True for the runtime sources that belong in the package (not tests, not declarations). */
export function isRuntimeSource(path: string): boolean {
  return path.endsWith(".ts") && !path.endsWith(".test.ts") && !path.endsWith(".d.ts") && !path.includes("/fixtures/");
}

function put(tree: FileSystemTree, path: string, contents: string): void {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  let dir = tree;
  for (const part of parts.slice(0, -1)) {
    let node = dir[part];
    if (!node || !("directory" in node)) {
      node = { directory: {} };
      dir[part] = node;
    }
    dir = node.directory;
  }
  dir[parts[parts.length - 1]!] = { file: { contents } };
}

export class TranspileError extends Error {
  constructor(readonly failure: Extract<TranspileResult, { ok: false }>) {
    super(`${failure.file}:${failure.line}:${failure.column}: ${failure.message}`);
  }
}

/**
 * The workdir's base tree: the runtime package, curl.mjs, wscat.mjs and heartbeat.cjs. `sources` maps paths relative to
 * runtime/ ("web.ts", "platform/node.ts") to their TypeScript text.
 */
export function runtimeTree(sources: Record<string, string>): FileSystemTree {
  const pkg: FileSystemTree = {};
  // The runtime's own package.json (web.ts reads its version from it), pointed at the .js files.
  const original = sources["package.json"] ? (JSON.parse(sources["package.json"]) as Record<string, unknown>) : {};
  put(pkg, "package.json", JSON.stringify({ ...original, ...RUNTIME_PACKAGE_JSON, version: original.version }, null, 2) + "\n");
  const vendor: FileSystemTree = {};
  for (const [path, source] of Object.entries(sources)) {
    if (path.startsWith("node_modules/")) {
      put(vendor, path.slice("node_modules/".length), source);
      continue;
    }
    if (!isRuntimeSource(path)) continue;
    const out = transpile(source, `tornado/${path}`, "esm");
    if (!out.ok) throw new TranspileError(out);
    put(pkg, path.replace(/\.ts$/, ".js"), out.code);
  }
  const tree: FileSystemTree = {
    "package.json": { file: { contents: JSON.stringify({ private: true, type: "module" }) + "\n" } },
    "curl.mjs": { file: { contents: CURL_MJS } },
    "wscat.mjs": { file: { contents: WSCAT_MJS } },
    "heartbeat.cjs": { file: { contents: HEARTBEAT_CJS } },
    node_modules: { directory: { ...vendor, tornado: { directory: pkg } } },
  };
  return tree;
}

/** The entry file's name once transpiled ("hello.ts" → "hello.js"). */
export function entryFile(program: Program): string {
  return program.main.replace(/\.ts$/, ".js");
}

/** The program's tree (mounted at APP_DIR): .ts transpiled to ESM .js, other files as they are. */
export function programTree(program: Program): { ok: true; tree: FileSystemTree } | Extract<TranspileResult, { ok: false }> {
  const tree: FileSystemTree = {};
  put(tree, "package.json", JSON.stringify({ private: true, type: "module" }) + "\n");
  for (const [path, text] of Object.entries(program.files)) {
    if (path.endsWith(".ts")) {
      const out = transpile(text, path, "esm");
      if (!out.ok) return out;
      put(tree, path.replace(/\.ts$/, ".js"), out.code);
    } else {
      put(tree, path, text);
    }
  }
  return { ok: true, tree };
}
