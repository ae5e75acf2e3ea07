/**
 * The playground as the audience meets it, in Chromium, in the built deck: live output on the
 * commandline slides, edits in Monaco (typed, clicked, Ctrl+Enter), bad input, the watchdog,
 * and a host without isolation headers.
 */
import { createHash } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { collectConsoleErrors, deckHosts, launchBrowser, openDeck, showLive, timeLeft, until, type DeckHost } from "./support.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
const isMac = process.platform === "darwin";

/** Open the deck; slide transitions are off (`?transition=none`) so pointer targets hold still. */
async function open(url: string, viewport = { width: 1280, height: 720 }): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await openDeck(page, url);
  await until(page, "the playground", () => "__playground" in globalThis);
  return { page, context };
}

/** Index of the slide holding `selector`. */
function slideIndex(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const slides = [...document.querySelectorAll(".reveal .slides > section")];
    const i = slides.findIndex((s) => s.querySelector(sel) || s.matches(sel));
    if (i < 0) throw new Error(`no slide with ${sel}`);
    return i;
  }, selector);
}

const liveSel = (example: string) => `.live-command[data-example="${example}"]`;
const codeSel = (example: string, file = `${example}.ts`) => `.code-ts[data-example="${example}"][data-file="${file}"]`;

/** Go to the code slide of `example` and wait for Monaco. */
async function showCode(page: Page, example: string): Promise<void> {
  const index = await slideIndex(page, codeSel(example));
  await page.evaluate((i) => (window as any).deck.slide(i), index);
  await until(page, `the ${example} editor`, (s) => document.querySelector<HTMLElement>(s)?.dataset.editor === "ready", codeSel(example));
}

/**
 * Wait until the TypeScript worker has checked the example's file (`data-types="ready"`). Its
 * first answer waits for the worker to load and build the whole program, seconds of CPU that
 * grow with the machine's load; a hover or a suggestion asked before that shows "Loading...".
 * Tests about where hovers and suggestions appear wait for this state first (no deadline of
 * their own: the test's timeout bounds it), so they measure placement, not the machine.
 */
async function waitForTypes(page: Page, example: string): Promise<void> {
  await until(page, `the TypeScript worker's check of ${example}`, (s) => document.querySelector<HTMLElement>(`${s} .playground-editor`)?.dataset.types === "ready", codeSel(example));
}

/** Screen rectangle of the `column`-th character (1-based) of `line` in the example's editor. */
function charRect(page: Page, example: string, line: number, column: number, file?: string) {
  return page.evaluate(
    async ([sel, l, c]) => {
      const code = document.querySelector(sel as string)!;
      const editor = (globalThis as any).__playground.editorIn(code);
      editor.revealLine(l);
      // Monaco renders scrolled lines on the next animation frame.
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const top = editor.getTopForLineNumber(l); // rows sit at their unscrolled top
      const rows = [...code.querySelectorAll<HTMLElement>(".view-line")];
      const row = rows.find((r) => Math.abs(parseFloat(r.style.top) - top) < 1);
      if (!row) throw new Error(`line ${l} is not rendered (top ${top}; rows ${rows.map((r) => r.style.top + ":" + r.textContent).join(" | ")})`);
      const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
      let remaining = (c as number) - 1;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const len = node.textContent!.length;
        if (remaining < len) {
          const range = document.createRange();
          range.setStart(node, remaining);
          range.setEnd(node, remaining + 1);
          const r = range.getBoundingClientRect();
          return { x: r.left, y: r.top, width: r.width, height: r.height, char: node.textContent![remaining] };
        }
        remaining -= len;
      }
      throw new Error(`column ${c} is past the end of line ${l}`);
    },
    [codeSel(example, file), line, column] as const,
  );
}

const editorValue = (page: Page, example: string) =>
  page.evaluate((s) => (globalThis as any).__playground.editorIn(document.querySelector(s)).getValue() as string, codeSel(example));
const editorPosition = (page: Page, example: string) =>
  page.evaluate((s) => (globalThis as any).__playground.editorIn(document.querySelector(s)).getPosition() as { lineNumber: number; column: number }, codeSel(example));

/** Replace line `line`'s code (indentation kept) by typing, as a presenter would. */
async function retypeLine(page: Page, example: string, line: number, text: string): Promise<void> {
  const r = await charRect(page, example, line, 1);
  await page.mouse.click(r.x + 1, r.y + r.height / 2);
  await page.keyboard.press("End");
  await page.keyboard.press("Shift+Home"); // Monaco's Home stops at the first non-blank
  await page.keyboard.type(text);
}

/** Waits until the element's run counter (`data-runs`) has moved past `before`. */
async function waitForRunAfter(page: Page, sel: string, before: number): Promise<void> {
  await until(page, `a run of ${sel}`, ([s, n]) => Number(document.querySelector<HTMLElement>(s)?.dataset.runs ?? 0) > n, [sel, before] as const);
}

async function runFromEditor(page: Page, example: string, file?: string): Promise<{ run: string; output: string; status: string }> {
  const sel = codeSel(example, file);
  const before = await page.evaluate((s) => Number(document.querySelector<HTMLElement>(s)?.dataset.runs ?? 0), sel);
  await page.keyboard.press(isMac ? "Meta+Enter" : "Control+Enter");
  await waitForRunAfter(page, sel, before);
  return page.evaluate((s) => {
    const el = document.querySelector<HTMLElement>(s)!;
    return {
      run: el.dataset.run ?? "",
      output: el.querySelector(".playground-run-output")?.textContent ?? "",
      status: el.querySelector(".playground-status")?.textContent ?? "",
    };
  }, sel);
}

const HELLO_LINE = 6; // `    this.write("Hello, world");` in slides/examples/hello.ts

describe("the playground in the deck", () => {
  it("the hello curl slide shows the live output, the access log and the comparison with 2011", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none");
    const errors = collectConsoleErrors(page);
    const live = await showLive(page, "hello");
    expect(live.state).toBe("done");
    expect(live.transcript).toContain("$ curl -i http://localhost:8888\nHTTP/1.1 200 OK\r\n");
    expect(live.transcript).toContain('Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"\r\n');
    expect(live.transcript.endsWith("\r\n\r\nHello, world")).toBe(true);
    expect(live.log).toMatch(/\[I \d{6} \d\d:\d\d:\d\d web\] 200 GET \/ \(127\.0\.0\.1\)/);
    expect(live.comparison).toMatch(/matches the 2011 slide|compared with the 2011 slide/);
    if (!/matches/.test(live.comparison)) expect(live.comparison).toContain("the Date header: Tornado sends it since 3.0");
    const badge = await page.textContent(".playground-badge");
    expect(badge).toMatch(/^in-page · in the page: page is not cross-origin isolated/);
    expect(errors.messages).toEqual([]);
    await context.close();
  });

  it("an edit typed in Monaco runs with Ctrl+Enter, shows up on the curl slide, survives a reload, and resets", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none");
    await showCode(page, "hello");
    const slideBefore = await page.evaluate(() => (window as any).deck.getIndices().h);
    // Double-click "world" (columns 24-28 of line 6) and type over it.
    const w = await charRect(page, "hello", HELLO_LINE, 26);
    expect(w.char).toBe("r");
    await page.mouse.dblclick(w.x + w.width / 2, w.y + w.height / 2);
    await page.keyboard.type("Barcelona");
    // Keys typed in the editor stay in the editor: no slide change.
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.type(" ");
    await page.keyboard.press("Backspace");
    expect(await page.evaluate(() => (window as any).deck.getIndices().h)).toBe(slideBefore);
    expect((await editorValue(page, "hello")).split("\n")[HELLO_LINE - 1]).toBe('    this.write("Hello, Barcelona");');

    const ran = await runFromEditor(page, "hello");
    expect(ran.run).toBe("done");
    expect(await page.isVisible(`${codeSel("hello")} .playground-run-output`)).toBe(true);
    expect(ran.output).toContain("Content-Length: 16\r\n");
    expect(ran.output).toContain(`Etag: "${sha1("Hello, Barcelona")}"\r\n`);
    expect(ran.output.endsWith("\r\n\r\nHello, Barcelona")).toBe(true);

    const live = await showLive(page, "hello");
    expect(live.transcript).toContain(`Etag: "${sha1("Hello, Barcelona")}"`);
    expect(live.comparison).toContain("~ Hello, Barcelona  [2011: Hello, world]");

    await page.reload();
    await until(page, "the playground after the reload", () => "__playground" in globalThis);
    await showCode(page, "hello");
    expect((await editorValue(page, "hello")).split("\n")[HELLO_LINE - 1]).toBe('    this.write("Hello, Barcelona");');
    await page.click(`${codeSel("hello")} .playground-reset`);
    expect((await editorValue(page, "hello")).split("\n")[HELLO_LINE - 1]).toBe('    this.write("Hello, world");');
    await context.close();
  });

  it("a typo shows the compile error with its line; an exception gives a 500 with the stack in the log", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none");
    await showCode(page, "hello");
    // The typo: delete the ")" (column 30) of this.write("Hello, world");
    const paren = await charRect(page, "hello", HELLO_LINE, 30);
    expect(paren.char).toBe(")");
    await page.mouse.click(paren.x + paren.width * 0.25, paren.y + paren.height / 2);
    await page.keyboard.press("Delete");
    expect((await editorValue(page, "hello")).split("\n")[HELLO_LINE - 1]).toBe('    this.write("Hello, world";');
    const typo = await runFromEditor(page, "hello");
    expect(typo.run).toBe("error");
    expect(typo.status).toBe(`compile error, line ${HELLO_LINE}`);
    expect(typo.output).toMatch(new RegExp(`^hello\\.ts:${HELLO_LINE}:\\d+: SyntaxError: `));
    await page.waitForSelector(`${codeSel("hello")} .squiggly-error`, { timeout: timeLeft() });
    // The deck still moves, and the curl slide reports the broken program instead of output.
    const broken = await showLive(page, "hello");
    expect(broken.state).toBe("error");
    expect(broken.transcript).toContain(`hello.ts:${HELLO_LINE}:`);

    await showCode(page, "hello");
    await retypeLine(page, "hello", HELLO_LINE, 'throw new Error("boom from the handler");');
    const thrown = await runFromEditor(page, "hello");
    expect(thrown.output.split("\r\n")[0]).toBe("HTTP/1.1 500 Internal Server Error");
    const live = await showLive(page, "hello");
    expect(live.transcript).toContain("HTTP/1.1 500 Internal Server Error");
    expect(live.log).toContain("Error: boom from the handler");
    expect(live.log).toMatch(/at MainHandler\.get \(hello\.ts:6:\d+\)/);
    await page.evaluate(() => localStorage.clear());
    await context.close();
  });

  it("a line the server logs after the answer still shows in the curl slide's log pane", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none");
    await showCode(page, "hello");
    // The handler logs on each request after the first: the slide's run answers and completes
    // with nothing of it logged; the line comes only when a request made after that completion
    // (another client of the same program, not the slide) arrives: no timer, no race.
    await retypeLine(page, "hello", HELLO_LINE, 'this.write("Hello, world"); if ((globalThis as any).answered) console.log("logged after the answer"); (globalThis as any).answered = true;');
    const live = await showLive(page, "hello");
    expect(live.state).toBe("done");
    expect(live.log).not.toContain("logged after the answer");
    const other = await page.evaluate(() => (globalThis as any).__playground.manager.engine.run("curl -s http://localhost:8888/").then((r: { exitCode: number }) => r.exitCode));
    expect(other).toBe(0);
    await until(page, "the late line in the slide's log pane", (s) => document.querySelector(`${s} .playground-server-log`)?.textContent?.includes("logged after the answer"), liveSel("hello"));
    const log = await page.textContent(`${liveSel("hello")} .playground-server-log`);
    expect(log).toMatch(/200 GET \/ \(127\.0\.0\.1\)[^]*logged after the answer/);
    await page.evaluate(() => localStorage.clear());
    await context.close();
  });

  it("while (true) {} in a handler is stopped within 5 s and reported; the next run works", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none");
    await showCode(page, "hello");
    await retypeLine(page, "hello", HELLO_LINE, "while (true) {}");
    expect((await editorValue(page, "hello")).split("\n")[HELLO_LINE - 1]).toBe("    while (true) {}");
    const stuck = await runFromEditor(page, "hello");
    // Within 5 s of the request: the run's own clock, less the edited program's start (a fresh
    // worker transpiling it, which on a loaded machine alone can take seconds).
    const { ms, startMs } = await page.$eval(`${codeSel("hello")} .playground-run-output`, (el) => ({ ms: Number((el as HTMLElement).dataset.ms), startMs: Number((el as HTMLElement).dataset.startMs) }));
    expect(ms - startMs).toBeGreaterThanOrEqual(4000);
    expect(ms - startMs).toBeLessThan(5000);
    expect(stuck.run).toBe("timeout");
    expect(stuck.status).toBe("stopped: the server did not answer");
    expect(stuck.output).toContain("stopped after 4 s");
    // The deck was never blocked (the loop ran in the worker): it moves at once.
    await page.click(`${codeSel("hello")} .playground-reset`);
    await page.click(`${codeSel("hello")} .playground-run`);
    await until(page, "the reset program's run", (s) => document.querySelector<HTMLElement>(s)?.dataset.run === "done", codeSel("hello"));
    const ok = await page.textContent(`${codeSel("hello")} .playground-run-output`);
    expect(ok?.endsWith("Hello, world")).toBe(true);
    await context.close();
  });

  it("the template is editable too: its editor runs the templates program with the edit", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none");
    await showCode(page, "templates");
    const file = "templates/index.html";
    await page.waitForFunction((s) => document.querySelector<HTMLElement>(s)?.dataset.editor === "ready", codeSel("templates", file));
    // Line 2 is `    <h1> {{ msg }}</h1>`: type "!!" before the "<" of "</h1>" (column 19).
    const lt = await charRect(page, "templates", 2, 19, file);
    expect(lt.char).toBe("<");
    await page.mouse.click(lt.x + lt.width * 0.25, lt.y + lt.height / 2);
    await page.keyboard.type("!!");
    const ran = await runFromEditor(page, "templates", file);
    expect(ran.run).toBe("done");
    const body = "<html>\n<h1> hello!!!</h1>\n</html>\n";
    expect(ran.output).toContain(`Content-Length: ${body.length}\r\n`);
    expect(ran.output).toContain(`Etag: "${sha1(body)}"\r\n`);
    expect(ran.output.endsWith(`\r\n\r\n${body}`)).toBe(true);
    const live = await showLive(page, "templates");
    expect(live.transcript.endsWith(body)).toBe(true);
    await context.close();
  });

  it("the command can be edited on the slide: an If-None-Match with the Etag gives the 304", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none");
    const first = await showLive(page, "hello");
    expect(first.state).toBe("done");
    const sel = liveSel("hello");
    const before = Number(await page.getAttribute(sel, "data-runs"));
    const slide = await page.evaluate(() => (window as any).deck.getIndices().h);
    await page.click(`${sel} .playground-command-input`);
    await page.keyboard.press("Control+A");
    // Typed into the slide's input: reveal must not take "space" or the arrows.
    await page.keyboard.type(`curl -i -H 'If-None-Match: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"' http://localhost:8888`);
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.waitForFunction(([s, n]) => Number(document.querySelector<HTMLElement>(s as string)?.dataset.runs) > (n as number), [sel, before] as const);
    expect(await page.evaluate(() => (window as any).deck.getIndices().h)).toBe(slide);
    const transcript = (await page.textContent(`${sel} .playground-transcript`)) ?? "";
    expect(transcript).toContain(`$ curl -i -H 'If-None-Match: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"' http://localhost:8888\n`);
    expect(transcript).toContain("HTTP/1.1 304 Not Modified\r\n");
    expect(transcript.endsWith("\r\n\r\n")).toBe(true);
    expect(await page.textContent(`${sel} .playground-server-log`)).toMatch(/304 GET \/ \(127\.0\.0\.1\)/);
    await context.close();
  });

  it("a new run starts on a clear terminal: nothing of the last run is left on screen or in the scrollback", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none");
    await showLive(page, "hello");
    const sel = liveSel("hello");
    const rows = () => page.$$eval(`${sel} .xterm-rows > div`, (divs) => divs.map((d) => (d.textContent ?? "").trimEnd()));
    const runTyped = async (command: string) => {
      const before = Number(await page.getAttribute(sel, "data-runs"));
      await page.click(`${sel} .playground-command-input`);
      await page.keyboard.press("Control+A");
      await page.keyboard.type(command);
      await page.keyboard.press("Enter");
      await page.waitForFunction(([s, n]) => Number(document.querySelector<HTMLElement>(s as string)?.dataset.runs) > (n as number), [sel, before] as const);
      // xterm draws its rows in an animation frame after the output.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    };
    // curl -v: its trace and the response run past the terminal's rows, into the scrollback.
    await runTyped("curl -v -i http://localhost:8888");
    const verbose = await rows();
    expect(verbose.some((r) => r.startsWith("> GET / HTTP/1.1"))).toBe(false); // scrolled past the first rows
    expect(verbose.some((r) => r.startsWith("* Connection #0 to host localhost left intact"))).toBe(true);
    await runTyped("curl -i http://localhost:8888");
    const box = (await page.locator(`${sel} .xterm-screen`).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -2000);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const plain = await rows();
    expect(plain[0]).toBe("$ curl -i http://localhost:8888");
    expect(plain[1]).toBe("HTTP/1.1 200 OK");
    expect(plain.join("\n")).not.toMatch(/curl -v|^[<>*] /m);
    await context.close();
  });

  it("hovers show the runtime's types beside the word, in a scaled slide", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none", { width: 1600, height: 1000 });
    await showCode(page, "hello");
    await waitForTypes(page, "hello");
    const w = await charRect(page, "hello", HELLO_LINE, 11); // the "r" of write
    expect(w.char).toBe("r");
    // A pointer that arrives and rests on the word, as a hand does (Monaco waits for moves).
    await page.mouse.move(w.x - 30, w.y + w.height / 2);
    await page.mouse.move(w.x + w.width / 2, w.y + w.height / 2, { steps: 5 });
    await until(page, "the hover with write's type", () => /RequestHandler\.write\(/.test(document.querySelector(".monaco-hover:not(.hidden)")?.textContent ?? ""));
    const box = (await page.locator(".monaco-hover:not(.hidden)").first().boundingBox())!;
    // Above or below the line, horizontally around the word.
    expect(box.x).toBeLessThan(w.x + 20);
    expect(box.x + box.width).toBeGreaterThan(w.x);
    const gap = Math.min(Math.abs(box.y + box.height - w.y), Math.abs(box.y - (w.y + w.height)));
    expect(gap).toBeLessThan(40);
    await context.close();
  });

  for (const viewport of [
    { width: 1600, height: 1000 },
    { width: 900, height: 560 },
  ]) {
    it(`a click lands on the character under the pointer in a scaled slide (${viewport.width}x${viewport.height})`, async () => {
      const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none", viewport);
      await showCode(page, "hello");
      const scale = await page.evaluate(() => (window as any).deck.getScale());
      expect(scale).not.toBe(1);
      for (const [line, column] of [
        [HELLO_LINE, 17], // the H of "Hello"
        [10, 30],
        [1, 3],
      ] as const) {
        const r = await charRect(page, "hello", line, column);
        // Just right of the character's left edge: the cursor goes before it.
        await page.mouse.click(r.x + r.width * 0.25, r.y + r.height / 2);
        expect(await editorPosition(page, "hello")).toEqual({ lineNumber: line, column });
      }
      await context.close();
    });
  }

  it("suggestions appear at the cursor in a scaled slide", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?no-coi&transition=none", { width: 1600, height: 1000 });
    await showCode(page, "hello");
    await waitForTypes(page, "hello");
    const end = await charRect(page, "hello", HELLO_LINE, 31);
    await page.mouse.click(end.x + end.width, end.y + end.height / 2);
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("this.wri");
    const widget = await page.waitForSelector(".suggest-widget.visible", { timeout: timeLeft() });
    await until(page, "suggestions", () => document.querySelectorAll(".suggest-widget.visible .monaco-list-row").length > 0);
    const labels = await page.$$eval(".suggest-widget.visible .monaco-list-row", (rows) => rows.map((r) => r.getAttribute("aria-label") ?? r.textContent ?? ""));
    expect(labels.some((l) => /\bwrite\b/.test(l))).toBe(true);
    const box = (await widget.boundingBox())!;
    const cursor = await page.evaluate((s) => {
      const c = document.querySelector(`${s} .cursor`)!.getBoundingClientRect();
      return { x: c.left, y: c.bottom, height: c.height };
    }, codeSel("hello"));
    expect(Math.abs(box.x - cursor.x)).toBeLessThan(60);
    // Within about a line of the cursor (the line's height on screen: sizes.ts times the scale).
    expect(Math.abs(box.y - cursor.y)).toBeLessThan(cursor.height * 1.5);
    await page.evaluate(() => localStorage.clear());
    await context.close();
  });
});

describe("the playground on hosts with and without isolation", () => {
  it("the service worker makes a plain host cross-origin isolated; without StackBlitz the page engine runs", async () => {
    const { page, context } = await open(inject("plainDeckUrl") + "?transition=none");
    // The deck's service worker registers, caches the deck, then reloads the page once so it controls it.
    await until(page, "the worker's reload (isolated)", () => crossOriginIsolated === true);
    await until(page, "the playground", () => "__playground" in globalThis);
    const live = await showLive(page, "hello");
    expect(live.transcript).toContain('Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"');
    expect(await page.textContent(".playground-badge")).toMatch(/^in-page · /);
    await context.close();
  });

  it("on the isolated deck the WebContainer boot is tried and, unreachable here, reported on the badge", async () => {
    const { page, context } = await open(inject("deckUrl") + "?transition=none");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const live = await showLive(page, "json");
    expect(live.transcript).toContain('{"msg": "hello!"}');
    await until(page, "the badge's report of the WebContainer boot", () => /WebContainer boot failed/.test(document.querySelector(".playground-badge")?.textContent ?? ""));
    expect(await page.textContent(".playground-badge")).toMatch(/^in-page · in the page: WebContainer boot failed: /);
    await context.close();
  });
});

/** Every live slide on each deck host (support.ts): the served deck passes this one too. */
describe.each(deckHosts())("the live slides ($name host)", (host: DeckHost) => {
  it("every live slide produces its live output in a page that is not isolated (a plain static host; an attendee's phone)", async () => {
    const { page, context } = await open(host.plainUrl + "?no-coi&transition=none");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    const expected: Record<string, { etag: string; body: string }> = {
      hello: { etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8", body: "Hello, world" },
      templates: { etag: "3e7020fdb7b87ef428cbdd140c96217044748c27", body: "<html>\n<h1> hello!</h1>\n</html>\n" },
      json: { etag: "4d34dd0d61eba5957a5ca36846f974697c730a22", body: '{"msg": "hello!"}' },
    };
    const examples = await page.$$eval(".live-command", (all) => all.map((el) => (el as HTMLElement).dataset.example ?? ""));
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const example of examples) {
      const live = await showLive(page, example);
      expect(live.state, example).toBe("done");
      const want = expected[example];
      if (want) {
        expect(live.transcript).toContain(`Etag: "${want.etag}"`);
        expect(live.transcript.endsWith(`\r\n\r\n${want.body}`)).toBe(true);
      }
    }
    await context.close();
  });
});
