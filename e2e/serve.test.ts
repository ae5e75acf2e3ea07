/**
 * The deck as `npm run serve` serves it (tools/serve.ts: the runtime's StaticFileHandler), in
 * Chromium: the page is cross-origin isolated from the server's own headers, its assets arrive
 * gzipped, and the hello curl slide shows its live output.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { collectConsoleErrors, launchBrowser, openDeck } from "./support.js";

const ROOT = resolve(import.meta.dirname, "..");
let browser: Browser;
let server: ChildProcess;
let deckUrl = "";

beforeAll(async () => {
  server = spawn(process.execPath, ["--import", "tsx", "tools/serve.ts", "--dist", inject("deckDir"), "--no-build", "--host", "127.0.0.1", "--port", "0"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  server.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const port = await new Promise<number>((done, fail) => {
    let stdout = "";
    server.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      const m = /this machine: +http:\/\/localhost:(\d+)\//.exec(stdout);
      if (m) done(Number(m[1]));
    });
    server.once("exit", (code) => fail(new Error(`npm run serve exited with ${code}:\n${stderr}`)));
  });
  deckUrl = `http://127.0.0.1:${port}/`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
});

describe("the deck served by npm run serve", () => {
  it("is cross-origin isolated, gets gzipped assets, and the hello curl slide shows live output", async () => {
    // No service worker in this browser: the isolation, the gzip and the live output must all
    // come from the server itself (the deck's worker would add isolation headers of its own).
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, serviceWorkers: "block" });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    const encodings = new Map<string, string>();
    page.on("response", (r) => void (r.url().endsWith(".js") && encodings.set(r.url(), r.headers()["content-encoding"] ?? "")));
    const pageResponse = page.waitForResponse((r) => r.request().resourceType() === "document");
    await openDeck(page, deckUrl + "?transition=none");
    expect((await pageResponse).headers()["cross-origin-embedder-policy"]).toBe("require-corp");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(encodings.size).toBeGreaterThan(0);
    for (const [url, encoding] of encodings) expect(encoding, url).toBe("gzip");

    await page.waitForFunction(() => "__playground" in globalThis, undefined, { timeout: 30_000 });
    const sel = '.live-command[data-example="hello"]';
    await page.evaluate((s) => {
      const slides = [...document.querySelectorAll(".reveal .slides > section")];
      (window as any).deck.slide(slides.findIndex((x) => x.querySelector(s)));
    }, sel);
    await page.waitForFunction(
      (s) => (document.querySelector(`${s} .playground-transcript`)?.textContent ?? "").endsWith("\r\n\r\nHello, world"),
      sel,
      { timeout: 30_000 },
    );
    const transcript = await page.locator(`${sel} .playground-transcript`).textContent();
    expect(transcript).toContain("$ curl -i http://localhost:8888\nHTTP/1.1 200 OK\r\n");
    expect(transcript).toContain('Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"\r\n');
    expect(errors.messages).toEqual([]);
    await context.close();
  });
});
