/**
 * Build-time side of the deck's service worker: the Vite plugin that writes `sw.js` (sw.ts with
 * the precache manifest of the build it sits in) and inlines the registration (register.ts)
 * into index.html.
 *
 * The manifest is taken from the output folder after Vite has written everything (chunks,
 * assets, workers, fonts, public files, index.html), so nothing the build emits is missed; each
 * file's revision is a hash of its bytes, so a file that changes under the same name (index.html)
 * is fetched again and one that did not is copied from the previous build's cache.
 *
 * In dev (`npm start`) there is no worker: Vite serves modules that change on every edit, and a
 * precaching worker would serve stale ones. The dev page unregisters any worker left in its scope.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import type { Plugin } from "vite";

export const SW_FILE = "sw.js";

export interface PrecacheEntry {
  /** Path relative to the deck's folder, with "/" separators ("assets/index-abc.js"). */
  url: string;
  /** The first 20 hex digits of the SHA-256 of the file's bytes. */
  revision: string;
}

const revisionOf = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex").slice(0, 20);

/** Every file under `dir` but the worker itself and source maps, sorted. */
export function precacheManifest(dir: string): PrecacheEntry[] {
  const root = resolve(dir);
  const entries: PrecacheEntry[] = [];
  for (const name of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!name.isFile()) continue;
    const file = join(name.parentPath, name.name);
    const url = relative(root, file).split(sep).join("/");
    if (url === SW_FILE || url.endsWith(".map")) continue;
    entries.push({ url, revision: revisionOf(readFileSync(file)) });
  }
  return entries.sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}

/** A TypeScript file of this folder as a classic script (its `export {}` marker removed). */
function classicScript(name: string): string {
  const source = readFileSync(resolve(import.meta.dirname, name), "utf8");
  const { outputText } = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, removeComments: true } });
  return outputText.replace(/^export \{\};\s*$/m, "").trim() + "\n";
}

/** The worker for the build in `dir`: sw.ts with that build's manifest. */
export function serviceWorkerSource(dir: string): { source: string; build: string; manifest: PrecacheEntry[] } {
  const manifest = precacheManifest(dir);
  const build = createHash("sha256").update(JSON.stringify(manifest)).digest("hex").slice(0, 16);
  const source = `const PRECACHE = ${JSON.stringify(manifest)};\nconst BUILD = ${JSON.stringify(build)};\n${classicScript("sw.ts")}`;
  return { source, build, manifest };
}

/** Write `sw.js` into the built deck in `dir` (the plugin runs this after every build). */
export function writeServiceWorker(dir: string): { build: string; manifest: PrecacheEntry[] } {
  const { source, build, manifest } = serviceWorkerSource(dir);
  writeFileSync(join(dir, SW_FILE), source);
  return { build, manifest };
}

const unregisterInDev = `navigator.serviceWorker?.getRegistrations().then((all) => all.forEach((r) => r.unregister()));`;

export function serviceWorkerPlugin(): Plugin {
  let outDir = "";
  let building = false;
  return {
    name: "tornado-deck:service-worker",
    configResolved(config) {
      building = config.command === "build";
      outDir = resolve(config.root, config.build.outDir);
    },
    transformIndexHtml() {
      return [{ tag: "script", children: building ? classicScript("register.ts") : unregisterInDev, injectTo: "head" }];
    },
    closeBundle() {
      if (building) writeServiceWorker(outDir);
    },
  };
}
