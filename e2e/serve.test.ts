/**
 * The deck as `npm run serve` serves it (tools/serve.ts: the runtime's StaticFileHandler), in
 * Chromium, beyond what every deck suite checks on it (support.ts's deckHosts()): the page is
 * cross-origin isolated by the server's own headers with no service worker, its assets arrive
 * gzipped, and the QR codes people scan (the terminal's and the title slide's) hold the
 * attendee URL and never a secret. The server is the e2e global setup's (`servedDeckUrl`).
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { decodeQr, decodeTerminalQr } from "../tools/qr-read.js";
import { collectConsoleErrors, launchBrowser, openDeck, showLive, until } from "./support.js";

let browser: Browser;
const deckUrl = inject("servedDeckUrl");
const attendeeUrl = inject("servedAttendeeUrl");
const announcement = inject("servedAnnouncement");
const secrets = [/presenter=(\w+)/, /key=(\w+)/].map((re) => re.exec(announcement)?.[1] ?? "");

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

/**
 * The pixels of a PNG (a screenshot), decoded by the page: drawn into a canvas with a white
 * margin of `pad` px around it (a QR code's quiet zone, whatever the slide around it).
 */
function pngPixels(page: Page, png: Buffer, pad: number): Promise<{ data: number[]; width: number; height: number }> {
  return page.evaluate(
    async ([base64, margin]) => {
      const img = new Image();
      img.src = `data:image/png;base64,${base64}`;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.naturalWidth + 2 * margin;
      canvas.height = img.naturalHeight + 2 * margin;
      const g = canvas.getContext("2d")!;
      g.fillStyle = "#fff";
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.drawImage(img, margin, margin);
      return { data: [...g.getImageData(0, 0, canvas.width, canvas.height).data], width: canvas.width, height: canvas.height };
    },
    [png.toString("base64"), pad] as const,
  );
}

describe("the deck served by npm run serve", () => {
  it("is cross-origin isolated by its headers (no service worker), gets gzipped assets, and the hello curl slide shows live output", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    const warnings: string[] = [];
    page.on("console", (m) => void (m.type() === "warning" && warnings.push(m.text())));
    const encodings = new Map<string, string>();
    page.on("response", (r) => void (r.url().endsWith(".js") && encodings.set(r.url(), r.headers()["content-encoding"] ?? "")));
    const pageResponse = page.waitForResponse((r) => r.request().resourceType() === "document");
    await openDeck(page, deckUrl + "?transition=none");
    expect((await pageResponse).headers()["cross-origin-embedder-policy"]).toBe("require-corp");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(encodings.size).toBeGreaterThan(0);
    for (const [url, encoding] of encodings) expect(encoding, url).toBe("gzip");

    const hello = await showLive(page, "hello");
    expect(hello.transcript).toContain("$ curl -i http://localhost:8888\nHTTP/1.1 200 OK\r\n");
    expect(hello.transcript).toContain('Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"\r\n');
    expect(hello.transcript.endsWith("\r\n\r\nHello, world")).toBe(true);

    // The server writes each browser's index.html (its role in the room): no worker may answer
    // for it from a cache, so a served deck registers none, and a reload still has the room.
    expect(await page.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length))).toBe(0);
    await page.reload({ waitUntil: "load" });
    await until(page, "the room's title slide after a reload", () => document.querySelector(".room-join") !== null);
    expect(await page.evaluate(() => [navigator.serviceWorker.controller, crossOriginIsolated])).toEqual([null, true]);
    expect(warnings.filter((w) => /service worker|offline/i.test(w))).toEqual([]);
    expect(errors.messages).toEqual([]);
    await context.close();
  });

  it("the terminal's QR code holds the attendee URL, never a secret", () => {
    expect(announcement).toContain(`attendees on this network can scan ${attendeeUrl}:`);
    const qr = announcement.slice(announcement.indexOf("can scan"), announcement.indexOf("presenter ("));
    expect(decodeTerminalQr(qr)).toBe(attendeeUrl);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(16);
      expect(decodeTerminalQr(qr)).not.toContain(secret);
    }
  });

  it("the title slide shows the attendee URL and a QR code of it, as projected, and no secret", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    // An attendee's page: a presenter's here would move this suite's shared room (room.test.ts
    // checks the presenter's title slide holds no secret either); the join box is the same.
    await openDeck(page, deckUrl);
    await until(page, "the room's title slide", () => document.querySelector<HTMLImageElement>(".room-qr")?.complete === true);
    expect(await page.locator(".slides > section").first().innerText()).toContain(attendeeUrl);
    // The slide's pixels, as the projector shows them: a screenshot of the QR code, decoded.
    const shot = await page.locator(".room-qr").screenshot();
    const { data, width, height } = await pngPixels(page, shot, 16);
    expect(decodeQr(Uint8ClampedArray.from(data), width, height)).toBe(attendeeUrl);
    const html = await page.content();
    for (const secret of secrets) expect(html).not.toContain(secret);
    await context.close();
  });
});
