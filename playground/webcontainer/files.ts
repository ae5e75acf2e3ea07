/**
 * What gets mounted in the container: our runtime as a plain-JS `tornado` package, a tiny
 * `curl.mjs` (the container has no curl), and the program being shown.
 *
 * Everything is transpiled in the page, so the container needs no `npm install`, no network
 * and no TypeScript support of its own. Layout of the container's workdir:
 *
 *   node_modules/tornado/package.json   exports "./*" → "./*.js", imports "#platform" → node
 *   node_modules/tornado/web.js, ...    runtime/*.ts, types stripped (imports keep `.js`)
 *   node_modules/@noble/hashes/...      third-party files the runtime imports (no npm install)
 *   curl.mjs                            `node curl.mjs -i http://localhost:8888`
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
 * The workdir's base tree: the runtime package and curl.mjs. `sources` maps paths relative to
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
