import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Script } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { precacheManifest, serviceWorkerPlugin, serviceWorkerSource, SW_FILE, writeServiceWorker } from "./build.js";

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deck(): string {
  dir = mkdtempSync(join(tmpdir(), "sw-build-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>deck</title>");
  writeFileSync(join(dir, "assets", "index-abc.js"), "console.log(1)");
  writeFileSync(join(dir, "assets", "index-abc.js.map"), "{}");
  writeFileSync(join(dir, "assets", "codicon.ttf"), Buffer.from([0, 1, 2, 255]));
  return dir;
}

const sha = (bytes: string | Buffer) => createHash("sha256").update(bytes).digest("hex").slice(0, 20);

describe("the precache manifest", () => {
  it("lists every file the build wrote with a hash of its bytes, but not sw.js or source maps", () => {
    const root = deck();
    writeFileSync(join(root, SW_FILE), "old worker");
    expect(precacheManifest(root)).toEqual([
      { url: "assets/codicon.ttf", revision: sha(Buffer.from([0, 1, 2, 255])) },
      { url: "assets/index-abc.js", revision: sha("console.log(1)") },
      { url: "index.html", revision: sha("<!doctype html><title>deck</title>") },
    ]);
  });

  it("names a new build when any file changes, and only then", () => {
    const root = deck();
    const first = writeServiceWorker(root).build;
    expect(writeServiceWorker(root).build).toBe(first); // sw.js itself is not in the manifest
    writeFileSync(join(root, "index.html"), "<!doctype html><title>deck, build 2</title>");
    expect(writeServiceWorker(root).build).not.toBe(first);
  });
});

describe("sw.js", () => {
  it("is a classic script (no import/export) that starts with the build's manifest", () => {
    const root = deck();
    const { build, manifest } = writeServiceWorker(root);
    const source = readFileSync(join(root, SW_FILE), "utf8");
    expect(source).toBe(serviceWorkerSource(root).source);
    expect(() => new Script(source)).not.toThrow();
    expect(source.startsWith(`const PRECACHE = ${JSON.stringify(manifest)};\nconst BUILD = "${build}";\n`)).toBe(true);
    expect(source).not.toMatch(/^\s*(import|export)\b/m);
  });
});

describe("the Vite plugin", () => {
  /** Run the plugin's hooks as Vite would for `command`, building into `outDir`. */
  function run(command: "build" | "serve", outDir: string) {
    const plugin = serviceWorkerPlugin() as any;
    plugin.configResolved({ command, root: outDir, build: { outDir: "." } });
    const tags = plugin.transformIndexHtml();
    plugin.closeBundle();
    return tags as Array<{ tag: string; children: string; injectTo: string }>;
  }

  it("in a build: registers ./sw.js from the page and writes sw.js last", () => {
    const root = deck();
    const [tag] = run("build", root);
    expect(tag!.tag).toBe("script");
    expect(tag!.children).toContain('register("./sw.js", { updateViaCache: "none" })');
    expect(() => new Script(tag!.children)).not.toThrow();
    expect(existsSync(join(root, SW_FILE))).toBe(true);
  });

  it("in dev: no worker, and one left from a build is unregistered", () => {
    const root = deck();
    const [tag] = run("serve", root);
    expect(tag!.children).toContain("unregister()");
    expect(tag!.children).not.toMatch(/\.register\(/);
    expect(existsSync(join(root, SW_FILE))).toBe(false);
  });
});
