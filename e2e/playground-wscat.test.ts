/**
 * wscat in a deck slide's terminal, in Chromium, in the built deck on the plain static host (the
 * in-page engine): a websocket echo server (a test program, ECHO_PROGRAM, put in hello's place
 * the way an edit is stored) is driven from hello's terminal as the presenter would: the command
 * typed in the command line, lines typed into the terminal and their echoes streamed back, Ctrl+C,
 * the Stop button, and leaving the slide each ending the session. Then the same on the cross-origin
 * isolated host, where a run's output also comes through shared memory (playground/inpage/
 * shared-output.ts): it still streams each chunk once, in order.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ECHO_PROGRAM, shown } from "../playground/contract.js";
import { collectConsoleErrors, launchBrowser, liveSelector, liveTranscript, openDeck, showLive } from "./support.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const live = liveSelector("hello");
const transcript = (page: Page) => liveTranscript(page, "hello");
const state = (page: Page) => page.getAttribute(live, "data-state");
const waitForTranscript = (page: Page, pattern: RegExp) =>
  page.waitForFunction(
    ([s, source]) => new RegExp(source as string).test(document.querySelector(`${s} .playground-transcript`)?.textContent ?? ""),
    [live, pattern.source] as const,
    { timeout: 15_000 },
  );
const waitForState = (page: Page, wanted: string) =>
  page.waitForFunction(([s, w]) => document.querySelector<HTMLElement>(s as string)?.dataset.state === w, [live, wanted] as const, { timeout: 15_000 });
const stopVisible = (page: Page) => page.isVisible(`${live} .playground-stop`);

/** Type `command` into hello's command line and press Enter. */
async function enter(page: Page, command: string): Promise<void> {
  await page.click(`${live} .playground-command-input`);
  await page.keyboard.press("Control+A");
  await page.keyboard.type(command);
  await page.keyboard.press("Enter");
}

describe("wscat in the deck's terminal (in-page engine)", () => {
  it("streams what arrives, sends the lines typed in the terminal, and stops on Ctrl+C, on Stop and on leaving the slide", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, inject("plainDeckUrl") + "?no-coi&transition=none");
    await page.waitForFunction(() => "__playground" in globalThis, undefined, { timeout: 20_000 });
    await page.evaluate((text) => localStorage.setItem("tornado-deck:playground:hello:hello.ts", text), ECHO_PROGRAM.files["echo.ts"]!);
    // The slide's own curl runs first (the echo program has no "/": a 404).
    expect((await showLive(page, "hello")).transcript).toContain("HTTP/1.1 404 Not Found");

    await enter(page, "wscat -c ws://localhost:8888/echo");
    await waitForTranscript(page, /Connected \(press CTRL\+C to quit\)\n> \r< welcome\n> $/);
    expect(await state(page)).toBe("running");
    expect(await stopVisible(page)).toBe(true);
    // The terminal has the keys while the command runs.
    expect(await page.evaluate((s) => !!document.activeElement?.closest(`${s} .playground-terminal`), live)).toBe(true);
    await page.keyboard.type("hello from the deck");
    await page.keyboard.press("Enter");
    await waitForTranscript(page, /> hello from the deck\n> \r< echo: hello from the deck\n> $/);
    // Backspace edits the line before it is sent.
    await page.keyboard.type("typoo");
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Enter");
    await waitForTranscript(page, /< echo: typo\n> $/);
    await page.keyboard.press("Control+C");
    await waitForState(page, "stopped");
    expect(await transcript(page)).toMatch(/> \^C\n$/);
    expect(await stopVisible(page)).toBe(false);
    expect(await page.getAttribute(live, "data-exit-code")).toBe("0");
    // The keys are back in the command line.
    expect(await page.evaluate((s) => document.activeElement?.matches(`${s} .playground-command-input`) ?? false, live)).toBe(true);
    expect(await page.textContent(`${live} .playground-server-log`)).toMatch(/101 GET \/echo \(127\.0\.0\.1\)/);

    // The Stop button.
    let runs = Number(await page.getAttribute(live, "data-runs"));
    await page.click(`${live} .playground-commandline button`);
    await waitForTranscript(page, /< welcome\n> $/);
    await page.click(`${live} .playground-stop`);
    await page.waitForFunction(([s, n]) => Number(document.querySelector<HTMLElement>(s as string)?.dataset.runs) > (n as number), [live, runs] as const);
    expect(await state(page)).toBe("stopped");

    // Leaving the slide.
    runs = Number(await page.getAttribute(live, "data-runs"));
    await page.click(`${live} .playground-commandline button`);
    await waitForTranscript(page, /< welcome\n> $/);
    const slide = await page.evaluate(() => (window as any).deck.getIndices().h as number);
    await page.evaluate(() => (window as any).deck.next());
    await page.waitForFunction(([s, n]) => Number(document.querySelector<HTMLElement>(s as string)?.dataset.runs) > (n as number), [live, runs] as const);
    expect(await state(page)).toBe("stopped");
    expect(await page.evaluate(() => (window as any).deck.getIndices().h)).toBe(slide + 1);

    // Back on the slide, its command (now the wscat typed) runs again as it is entered, and stays
    // connected; a one-shot -x run typed meanwhile replaces it and ends by itself.
    await page.evaluate(() => (window as any).deck.prev());
    await waitForTranscript(page, /^\$ wscat -c ws:\/\/localhost:8888\/echo\n[^]*< welcome\n> $/);
    expect(await state(page)).toBe("running");
    runs = Number(await page.getAttribute(live, "data-runs"));
    await enter(page, "wscat -c ws://localhost:8888/echo -x once -w 0.5");
    await page.waitForFunction(([s, n]) => Number(document.querySelector<HTMLElement>(s as string)?.dataset.runs) > (n as number), [live, runs] as const);
    expect(await state(page)).toBe("done");
    expect(shown(await transcript(page))).toMatch(/-w 0\.5\nwelcome\necho: once\n$/);
    await page.evaluate(() => localStorage.clear());
    expect(errors.messages).toEqual([]);
    await context.close();
  }, 90_000);

  it("on an isolated page (output also through shared memory) it streams the same, each chunk once, run by hand or entered by navigation", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, inject("deckUrl") + "?engine=inpage&transition=none");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.waitForFunction(() => "__playground" in globalThis, undefined, { timeout: 20_000 });
    await page.evaluate((text) => localStorage.setItem("tornado-deck:playground:hello:hello.ts", text), ECHO_PROGRAM.files["echo.ts"]!);
    expect((await showLive(page, "hello")).transcript).toContain("HTTP/1.1 404 Not Found");
    await enter(page, "wscat -c ws://localhost:8888/echo");
    await waitForTranscript(page, /< welcome\n> $/);
    await page.keyboard.type("one");
    await page.keyboard.press("Enter");
    await waitForTranscript(page, /< echo: one\n> $/);
    expect(shown(await transcript(page))).toBe("$ wscat -c ws://localhost:8888/echo\nConnected (press CTRL+C to quit)\n< welcome\n> one\n< echo: one\n> ");
    // Leave and come back: the session runs again as the slide is entered (taken in its first frame).
    const runs = Number(await page.getAttribute(live, "data-runs"));
    await page.evaluate(() => (window as any).deck.next());
    await page.waitForFunction(([s, n]) => Number(document.querySelector<HTMLElement>(s as string)?.dataset.runs) > (n as number), [live, runs] as const);
    await page.evaluate(() => (window as any).deck.prev());
    await waitForTranscript(page, /< welcome\n> $/);
    expect(shown(await transcript(page))).toBe("$ wscat -c ws://localhost:8888/echo\nConnected (press CTRL+C to quit)\n< welcome\n> ");
    await page.click(`${live} .playground-stop`);
    await waitForState(page, "stopped");
    await page.evaluate(() => localStorage.clear());
    expect(errors.messages).toEqual([]);
    await context.close();
  }, 90_000);
});
