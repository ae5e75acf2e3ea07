/**
 * Global setup of the e2e project: build the deck once, serve it from a sub-path twice, and
 * once more as `npm run serve` serves it (the "served" host, see deckHosts() in support.ts).
 *
 * The deck must work from any sub-path of any static host, so the tests never use Vite's own
 * servers: they use a plain node:http file server mounted at `/talks/tornado/`. One server sends
 * COOP/COEP (what the WebContainer engine needs), the other sends no isolation headers (what a
 * plain host like GitHub Pages gives, where the in-page engine must take over).
 *
 * The build goes to a private temporary folder, not dist/, so engineers running the e2e tests at
 * the same time never delete each other's files mid-run. With E2E_SKIP_BUILD=1 the existing
 * build in E2E_DIST (default: dist/) is served as is.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import type {} from "vitest";
import { startServe, type ServeProcess } from "../tools/serve-process.js";
import { startStaticServer, type StaticServer } from "./static-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The built deck served with COOP/COEP, e.g. http://127.0.0.1:40123/talks/tornado/ */
    deckUrl: string;
    /** The same build served without cross-origin isolation headers. */
    plainDeckUrl: string;
    /** The folder of that build (tests that serve it themselves, or publish variants of it). */
    deckDir: string;
    /** The same build served by `npm run serve` (tools/serve.ts), at http://localhost:<port>/. */
    servedDeckUrl: string;
    /** That server by the name attendees use (`servedName`, mapped to loopback in the browser). */
    servedAttendeeUrl: string;
    /** What `npm run serve` printed (its URLs, secret links and QR code). */
    servedAnnouncement: string;
  }
}

export const mountPath = "/talks/tornado/";
/** The name the served deck's attendees use (Chromium maps it to loopback: see support.ts). */
export const servedName = "deck.test";

const repo = resolve(import.meta.dirname, "..");

function viteBuild(outDir: string): Promise<void> {
  return new Promise((done, fail) => {
    const vite = join(repo, "node_modules", "vite", "bin", "vite.js");
    const child = spawn(process.execPath, [vite, "build", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout.on("data", (d: Buffer) => (log += d.toString()));
    child.stderr.on("data", (d: Buffer) => (log += d.toString()));
    child.on("error", fail);
    child.on("exit", (code) =>
      code === 0 ? done() : fail(new Error(`vite build failed (exit ${code}):\n${log}`)),
    );
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let root: string;
  let tempDir: string | undefined;
  if (process.env.E2E_SKIP_BUILD === "1") {
    root = resolve(repo, process.env.E2E_DIST ?? "dist");
    const index = await stat(join(root, "index.html")).catch(() => undefined);
    if (!index) throw new Error(`E2E_SKIP_BUILD=1 but ${root}/index.html does not exist; run npm run build`);
  } else {
    tempDir = await mkdtemp(join(tmpdir(), "deck-e2e-"));
    root = join(tempDir, "dist");
    await viteBuild(root);
  }
  const servers: Array<StaticServer | ServeProcess> = [];
  const close = () => Promise.all(servers.map((s) => ("close" in s ? s.close() : s.stop())));
  try {
    const isolated = await startStaticServer({ root, mount: mountPath, isolation: true });
    servers.push(isolated);
    const plain = await startStaticServer({ root, mount: mountPath, isolation: false });
    servers.push(plain);
    project.provide("deckUrl", isolated.url);
    project.provide("plainDeckUrl", plain.url);
    project.provide("deckDir", root);
    // Loopback only; attendees reach it by name, as phones reach the presenter's laptop.
    const served = await startServe(root, ["--host", "127.0.0.1", "--name", servedName]);
    servers.push(served);
    project.provide("servedDeckUrl", `http://localhost:${served.port}/`);
    project.provide("servedAttendeeUrl", `http://${servedName}:${served.port}/`);
    project.provide("servedAnnouncement", served.stdout);
  } catch (error) {
    await close();
    throw error;
  }
  return async () => {
    await close();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };
}
