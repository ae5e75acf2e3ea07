/**
 * Pre-flight in the built deck: `?preflight` or the R key runs every live slide's program and
 * command in the current engine and lists the result slide by slide; a broken program (an edit
 * kept in localStorage, as a rehearsal leaves it) is listed as failed, with its error.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser, openDeck } from "./support.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Slide numbers (1-based) holding a live command or an editor, read from the page independently. */
function liveSlideNumbers(page: Page): Promise<number[]> {
  return page.evaluate(() =>
    ((window as any).deck.getSlides() as HTMLElement[]).flatMap((s, i) => (s.querySelector(".live-command[data-example], .code-ts[data-example]") ? [i + 1] : [])),
  );
}

interface Row {
  slide: number;
  example: string;
  state: string;
  text: string;
}

async function results(page: Page): Promise<{ rows: Row[]; summary: string }> {
  await page.waitForFunction(() => document.documentElement.dataset.preflight === "done", undefined, { timeout: 0 });
  return page.evaluate(() => ({
    rows: [...document.querySelectorAll<HTMLElement>(".playground-preflight li")].map((li) => ({
      slide: Number(li.dataset.slide),
      example: li.dataset.example ?? "",
      state: li.dataset.state ?? "",
      text: li.textContent ?? "",
    })),
    summary: document.querySelector(".playground-preflight-summary")?.textContent ?? "",
  }));
}

describe("pre-flight", () => {
  it("?preflight lists every live slide as passed on the in-page engine, in under 30 s", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await openDeck(page, inject("plainDeckUrl") + "?no-coi&transition=none&preflight");
    const { rows, summary } = await results(page);
    const live = await liveSlideNumbers(page);
    expect(live.length).toBeGreaterThanOrEqual(6);
    expect([...new Set(rows.map((r) => r.slide))]).toEqual(live);
    for (const row of rows) expect(row.state, row.text).toBe("passed");
    // The websocket demo's wscat, checked as a session (connected, a broadcast received, stopped).
    expect(rows.filter((r) => r.example === "websocket").map((r) => /\$ (\w+)/.exec(r.text)?.[1])).toEqual(["curl", "wscat"]);
    expect(await page.isVisible(".playground-preflight")).toBe(true);
    const seconds = Number(/in ([\d.]+) s/.exec(summary)?.[1]);
    expect(summary).toMatch(new RegExp(`^${rows.length} checks in [\\d.]+ s: ${rows.length} passed, 0 failed$`));
    expect(seconds).toBeLessThan(30);
    expect(await page.textContent(".playground-badge")).toMatch(/^in-page · /);
    // Escape closes the list and gives the keys back to the deck.
    await page.keyboard.press("Escape");
    expect(await page.isVisible(".playground-preflight")).toBe(false);
    await context.close();
  });

  it("the R key runs it; a broken program stored by the editor is listed as failed, with its error; a session that receives nothing fails", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const demo = readFileSync(resolve(import.meta.dirname, "../slides/demos/websocket/websocket.ts"), "utf8");
    const withoutBroadcasts = demo.replace("new PeriodicCallback(poll, 3000).start();", "");
    expect(withoutBroadcasts).not.toBe(demo);
    await context.addInitScript((websocket) => {
      // What the editor stores after a typo in hello.ts (playground/sources.ts's key).
      localStorage.setItem(
        "tornado-deck:playground:hello:hello.ts",
        'import { IOLoop } from "tornado/ioloop";\nimport { Application, RequestHandler } from "tornado/web";\n\nclass MainHandler extends RequestHandler {\n  get() {\n    this.write("Hello, world";\n  }\n}\n\nnew Application([["/", MainHandler]]).listen(8888);\nIOLoop.instance().start();\n',
      );
      // The websocket demo with its PeriodicCallback never started: it serves, but broadcasts nothing.
      localStorage.setItem("tornado-deck:playground:websocket:websocket.ts", websocket);
    }, withoutBroadcasts);
    const page = await context.newPage();
    await openDeck(page, inject("plainDeckUrl") + "?no-coi&transition=none");
    await page.waitForFunction(() => "__playground" in globalThis, undefined, { timeout: 20_000 });
    await page.keyboard.press("r");
    const { rows, summary } = await results(page);
    // Its curl passes; its wscat connects but receives nothing, and says so.
    const websocket = rows.filter((r) => r.example === "websocket");
    expect(websocket.map((r) => r.state)).toEqual(["passed", "failed"]);
    expect(websocket[1]!.text).toMatch(/\$ wscat -c ws:\/\/localhost:8888\/websocket failed\s*connected, but nothing arrived within 10 s/);
    const hello = rows.filter((r) => r.example === "hello");
    const others = rows.filter((r) => r.example !== "hello" && r.example !== "websocket");
    expect(hello.length).toBeGreaterThanOrEqual(2); // its code slide and its curl slide
    for (const row of hello) {
      expect(row.state).toBe("failed");
      expect(row.text).toMatch(/compile error: hello\.ts:6:\d+: SyntaxError/);
    }
    expect(others.length).toBeGreaterThanOrEqual(3);
    for (const row of others) expect(row.state, row.text).toBe("passed");
    expect(summary).toContain(`${hello.length + 1} failed`);
    await context.close();
  });
});
