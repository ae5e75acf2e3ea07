/**
 * The built deck in Debian's Chromium, on each deck host (support.ts's deckHosts()): served
 * from a sub-path (/talks/tornado/) by a plain static server, and served by `npm run serve`.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseShowoff, slideTitle, type Block } from "../slides/showoff.js";
import { collectConsoleErrors, currentIndices, deckHosts, launchBrowser, openDeck, staticHost, until, waitForDeck, type DeckHost } from "./support.js";

const talk = parseShowoff(readFileSync(resolve(import.meta.dirname, "../slides/talk.showoff.md"), "utf8"));
const plainText = (inline: string) => inline.replace(/\*\*|__/g, "").replace(/&nbsp;/g, "\u00a0");
/** The words a slide shows, block by block, as a reader sees them. */
function expectedTexts(blocks: Block[]): string[] {
  return blocks.flatMap((b) => {
    switch (b.kind) {
      case "heading":
      case "paragraph":
        return [plainText(b.text)];
      case "list":
        return b.items.map(plainText);
      case "commandline":
        return b.commands.map((c) => `${c.prompt} ${c.input}`);
      default:
        return [];
    }
  });
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function newPage(viewport = { width: 1280, height: 720 }, serviceWorkers: "allow" | "block" = "allow"): Promise<Page> {
  const context = await browser.newContext({ viewport, serviceWorkers });
  return context.newPage();
}

const present = (page: Page) =>
  page.evaluate(() => Number(document.querySelector(".reveal .slides section.present[data-slide]")?.getAttribute("data-slide")));

/** The playground has loaded, failed, or the build has none: whatever it logs while loading is in. */
const playgroundSettled = (page: Page) =>
  until(page, "the playground to load (or fail)", () => ["absent", "loaded", "failed"].includes(document.documentElement.dataset.playground ?? ""));

describe("the deck on a host without isolation headers", () => {
  it("works: its service worker isolates it", async () => {
    const page = await newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, inject("plainDeckUrl"), "#/17");
    // The deck's service worker caches the deck, then reloads the page once to isolate it: wait for that.
    await until(page, "the page to be cross-origin isolated (the worker's one reload)", () => crossOriginIsolated);
    await waitForDeck(page);
    expect(await present(page)).toBe(18);
    expect(page.url()).toMatch(/\/talks\/tornado\/#\/17$/);
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });
});

describe.each(deckHosts())("the deck ($name host)", (host: DeckHost) => {
  it("shows every slide of the talk, in order, with its text, and logs no errors", async () => {
    const page = await newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, host.url);
    expect(page.url().startsWith(host.url)).toBe(true);
    // The talk's slides (a demo stack holds its talk slide, then the demos below it).
    const sections = await page.$$eval(".reveal .slides section[data-slide]", (all) =>
      all.map((s) => {
        const clone = s.cloneNode(true) as HTMLElement;
        clone.querySelectorAll("aside.notes, template").forEach((n) => n.remove());
        return { number: Number(s.getAttribute("data-slide")), classes: s.className, text: clone.textContent ?? "" };
      }),
    );
    expect(sections.map((s) => s.number)).toEqual(talk.map((s) => s.number));
    talk.forEach((slide, i) => {
      const section = sections[i]!;
      for (const cls of slide.classes) expect(section.classes.split(" "), `slide ${slide.number}`).toContain(cls);
      for (const text of expectedTexts(slide.blocks)) {
        expect(section.text.replace(/\s+/g, " "), `slide ${slide.number} (${slideTitle(slide)})`).toContain(text.replace(/\s+/g, " ").trim());
      }
    });
    // Pictures keep the talk's alt text.
    const alts = await page.$$eval("figure.picture img, figure.chart canvas", (els) => els.map((e) => e.getAttribute("alt") ?? e.getAttribute("aria-label")));
    expect(alts).toEqual(["aldea", "aldea", "aldea", "aldea", "github"]);
    expect(await currentIndices(page)).toEqual({ h: 0, v: 0 });
    // The COOP/COEP server gives an isolated page (the WebContainer engine needs it).
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await playgroundSettled(page);
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it("moves with arrow keys, space, Home and End, and keeps the slide in the URL", async () => {
    const page = await newPage();
    await openDeck(page, host.url);
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(() => location.hash === "#/1");
    expect(await present(page)).toBe(2);
    await page.keyboard.press("Space");
    await page.waitForFunction(() => location.hash === "#/2");
    expect(await present(page)).toBe(3);
    await page.keyboard.press("ArrowLeft");
    await page.waitForFunction(() => location.hash === "#/1");
    expect(await present(page)).toBe(2);
    await page.keyboard.press("End");
    await page.waitForFunction(() => location.hash === "#/25");
    expect(await present(page)).toBe(26);
    await page.keyboard.press("Home");
    await page.waitForFunction(() => location.hash === "#/" || location.hash === "" || location.hash === "#/0");
    expect(await present(page)).toBe(1);
    // The address is written after the frame that shows the slide, not inside the slide change
    // (slides/url.ts). reveal writes at once when its last write is over a second old: wait that.
    await page.waitForTimeout(1100);
    const writesInTheChange = await page.evaluate(() => {
      let writes = 0;
      const replaceState = history.replaceState;
      history.replaceState = function (...args: Parameters<History["replaceState"]>) {
        writes++;
        return replaceState.apply(this, args);
      };
      (window as unknown as { deck: { slide(h: number): void } }).deck.slide(3);
      return writes;
    });
    expect(writesInTheChange).toBe(0);
    await page.waitForFunction(() => location.hash === "#/3");
    expect(await present(page)).toBe(4);
    await page.context().close();
  });

  it("opens at a deep link and shows the slide number", async () => {
    const page = await newPage();
    await openDeck(page, host.url, "#/7");
    expect(await present(page)).toBe(8);
    expect(await page.locator(".slide-number").innerText()).toMatch(/^8\s*\/\s*26$/);
    // Reloading keeps the place.
    await page.reload();
    await waitForDeck(page);
    expect(await present(page)).toBe(8);
    await page.context().close();
  });

  it("has an overview (Escape) to pick a slide from", async () => {
    const page = await newPage();
    await openDeck(page, host.url, "#/3");
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => document.querySelector(".reveal")!.classList.contains("overview"));
    const visible = await page.$$eval(".reveal .slides > section", (all) => all.filter((s) => s.getBoundingClientRect().width > 0).length);
    expect(visible).toBeGreaterThan(3);
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => !document.querySelector(".reveal")!.classList.contains("overview"));
    expect(await present(page)).toBe(5);
    // "o" toggles it too.
    await page.keyboard.press("o");
    await page.waitForFunction(() => document.querySelector(".reveal")!.classList.contains("overview"));
    await page.keyboard.press("o");
    await page.waitForFunction(() => !document.querySelector(".reveal")!.classList.contains("overview"));
    await page.context().close();
  });

  it("goes fullscreen with f", async () => {
    const page = await newPage();
    await openDeck(page, host.url, "#/2");
    await page.keyboard.press("f");
    await page.waitForFunction(() => document.fullscreenElement !== null);
    expect(await present(page)).toBe(3);
    await page.context().close();
  });

  it("flips code slides between TypeScript and the talk's Python, with the p key and the button", async () => {
    const page = await newPage();
    await openDeck(page, host.url, "#/16");
    const section = page.locator('section[data-slide="17"]');
    const ts = section.locator('.code-ts[data-file="hello.ts"]');
    const py = section.locator(".code-py");
    await expect.poll(() => ts.isVisible()).toBe(true);
    expect(await py.isVisible()).toBe(false);
    // Highlighted code or, once the playground mounts it, a Monaco editor (spaces as nbsp).
    await expect.poll(async () => (await ts.innerText()).replace(/\u00a0/g, " ")).toContain('this.write("Hello, world");');
    await page.keyboard.press("p");
    await expect.poll(() => py.isVisible()).toBe(true);
    expect(await ts.isVisible()).toBe(false);
    expect(await py.innerText()).toContain('self.write("Hello, world")');
    expect(await section.getAttribute("class")).toContain("show-python");
    expect(await present(page)).toBe(17); // p flips; it does not go back a slide here
    await section.locator("button.flip").click();
    await expect.poll(() => ts.isVisible()).toBe(true);
    expect(await section.locator("button.flip").getAttribute("aria-pressed")).toBe("false");
    // The templates slide shows the template beside the handler.
    await page.evaluate(() => (window as unknown as { deck: { slide(h: number): void } }).deck.slide(18));
    await expect.poll(() => page.locator('section[data-slide="19"] .code-ts[data-file="templates/index.html"]').isVisible()).toBe(true);
    await page.context().close();
  });

  it("ignores deck keys typed into inputs and editors", async () => {
    const page = await newPage();
    await openDeck(page, host.url, "#/16");
    await page.evaluate(() => {
      const input = document.createElement("textarea");
      input.id = "probe";
      document.querySelector(".reveal .slides section.present")!.append(input);
      const editor = document.createElement("div");
      editor.className = "monaco-editor";
      editor.tabIndex = 0;
      editor.id = "editor-probe";
      document.querySelector(".reveal .slides section.present")!.append(editor);
    });
    await page.focus("#probe");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("p");
    await page.focus("#editor-probe");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Space");
    expect(await present(page)).toBe(17);
    expect(await page.locator('section[data-slide="17"]').getAttribute("class")).not.toContain("show-python");
    // Out of the inputs, the same key moves the deck by one slide: had a key above leaked, it
    // would be further on (or flipped to Python) by now.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(() => location.hash === "#/17");
    expect(await present(page)).toBe(18);
    expect(await page.locator('section[data-slide="17"]').getAttribute("class")).not.toContain("show-python");
    await page.context().close();
  });

  it("keeps commandline slides waiting for the live engine, never showing the 2011 output as live", async () => {
    // No service worker: it would fetch and serve the chunks itself, which page.route never sees.
    const page = await newPage(undefined, "block");
    // Let only the scripts index.html names load: the playground (and chart) chunks fail, as on
    // a flaky network, so the page shows what it shows before/without the live engine.
    const html = await (await fetch(host.url)).text();
    const allowed = new Set([...html.matchAll(/(?:src|href)="\.\/([^"]+\.js)"/g)].map((m) => m[1]!));
    expect(allowed.size).toBeGreaterThan(0);
    const base = new URL(host.url).pathname;
    await page.route(/\.js$/, (route) => {
      const file = new URL(route.request().url()).pathname.slice(base.length);
      return allowed.has(file) ? route.continue() : route.abort();
    });
    const warnings: string[] = [];
    page.on("console", (m) => void (m.type() === "warning" && warnings.push(m.text())));
    const errors = collectConsoleErrors(page, [/Failed to load resource/]);
    await openDeck(page, host.url, "#/17");
    const section = page.locator('section[data-slide="18"]');
    const command = section.locator(".live-command");
    expect(await command.getAttribute("data-command")).toBe("curl -i http://localhost:8888");
    expect(await command.getAttribute("data-example")).toBe("hello");
    expect(await section.locator(".live-output").innerHTML()).toBe("");
    const visible = await section.innerText();
    expect(visible).toContain("$ curl -i http://localhost:8888");
    expect(visible).not.toContain("TornadoServer");
    expect(visible).not.toContain("Etag");
    const talkOutput = await command.locator("template.talk-output").evaluate((t) => (t as HTMLTemplateElement).content.textContent);
    expect(talkOutput).toContain("Server: TornadoServer/2.1.1");
    const playground = await page.evaluate(() => document.documentElement.dataset.playground);
    if (playground !== "absent") {
      // The build has a playground and it could not load: a warning, a neutral message, a working deck.
      await page.waitForFunction(() => document.documentElement.dataset.playground === "failed");
      expect(warnings.join("\n")).toMatch(/playground could not be loaded/);
    }
    expect(await section.locator(".live-output").evaluate((e) => getComputedStyle(e, "::before").content)).toMatch(/live engine|playground engine/);
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(() => location.hash === "#/18");
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it("loads the playground after the first slide, if the build has one, without breaking the deck", async () => {
    const page = await newPage();
    const errors = collectConsoleErrors(page);
    await openDeck(page, host.url);
    await playgroundSettled(page);
    const state = await page.evaluate(() => document.documentElement.dataset.playground);
    expect(state).not.toBe("failed");
    if (state === "loaded") {
      // reveal ran the late-registered plugins' init: they are registered, and the code slide's
      // .code-ts got the playground's editor beside (or instead of) the highlighted code.
      expect(await page.evaluate(() => Object.keys((window as unknown as { deck: { getPlugins(): object } }).deck.getPlugins()).length)).toBeGreaterThan(1);
      await page.evaluate(() => (window as unknown as { deck: { slide(h: number): void } }).deck.slide(16));
      await until(page, "the playground's editor (or its Edit button) on the hello code slide", () => document.querySelector('section[data-slide="17"] .code-ts')!.children.length > 1);
      await page.evaluate(() => (window as unknown as { deck: { slide(h: number): void } }).deck.slide(0));
    }
    // Whatever the playground does, the deck still navigates.
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(() => location.hash === "#/1");
    expect(errors.messages).toEqual([]);
    await page.context().close();
  });

  it("starts nothing live in the speaker view's receivers, and the speaker view shows the notes", async () => {
    const page = await newPage();
    await openDeck(page, host.url, "#/10");
    const popup = page.waitForEvent("popup");
    await page.keyboard.press("s");
    const speaker = await popup;
    await until(speaker, "the speaker view's notes", () => document.querySelector(".speaker-controls-notes .value")?.textContent?.includes("pseudo-code"));
    const frame = speaker.frames().find((f) => f.url().includes("receiver"));
    expect(frame, "receiver iframe").toBeDefined();
    await frame!.waitForFunction(() => document.documentElement.dataset.deck === "ready");
    expect(await frame!.evaluate(() => document.documentElement.dataset.playground)).toBe("off");
    await speaker.close();
    await page.context().close();
  });
});

describe("a demo slide below a talk slide", () => {
  it("is centred again when its content changes height (an editor mounting late, output arriving)", async () => {
    const page = await newPage();
    await openDeck(page, staticHost().url + "?transition=none");
    // The first demo, wherever the catalog puts it: a vertical slide inside a stack.
    const v = await page.evaluate(() => {
      const deck = (window as unknown as { deck: { getSlides(): HTMLElement[]; getIndices(s: HTMLElement): { h: number; v?: number }; slide(h: number, v?: number): void } }).deck;
      const demo = deck.getSlides().find((s) => s.dataset.demo)!;
      const { h, v } = deck.getIndices(demo);
      deck.slide(h, v ?? 0);
      return v ?? 0;
    });
    expect(v).toBeGreaterThan(0);
    await until(page, "the demo to be the present slide", () => document.querySelector("section.present[data-demo]") !== null);
    // reveal centres a slide from its height when it is shown; shrink the content afterwards
    // (as if the editor had not mounted yet) and the slide must be centred for its new height.
    const centred = () => {
      const s = document.querySelector<HTMLElement>("section.present[data-demo]")!;
      const height = (window as unknown as { deck: { getConfig(): { height: number } } }).deck.getConfig().height;
      return Math.abs(parseFloat(s.style.top || "0") - Math.max((height - s.scrollHeight) / 2, 0)) < 1;
    };
    await until(page, "the demo to be centred", centred);
    // The relayout follows the resize within frames (ResizeObserver, then one animation frame),
    // not whenever something else happens to call reveal's layout.
    const after = await page.evaluate(async () => {
      const s = document.querySelector<HTMLElement>("section.present[data-demo]")!;
      s.querySelector<HTMLElement>(".demo-body")!.style.display = "none";
      for (let i = 0; i < 4; i++) await new Promise(requestAnimationFrame);
      const height = (window as unknown as { deck: { getConfig(): { height: number } } }).deck.getConfig().height;
      return { top: parseFloat(s.style.top || "0"), expected: Math.max((height - s.scrollHeight) / 2, 0) };
    });
    expect(after.top).toBeCloseTo(after.expected, 0);
    expect(after.top).toBeGreaterThan(100);
    await page.context().close();
  });
});

describe("a viewer who asks for reduced motion", () => {
  it("gets slides without their transitions; everyone else gets them", async () => {
    const motion = async (reducedMotion: "reduce" | "no-preference") => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, reducedMotion });
      const page = await context.newPage();
      await openDeck(page, staticHost().url);
      const config = await page.evaluate(() => {
        const c = (window as unknown as { deck: { getConfig(): { transition: string; backgroundTransition: string } } }).deck.getConfig();
        return `${c.transition}/${c.backgroundTransition}`;
      });
      await context.close();
      return config;
    };
    expect(await motion("reduce")).toBe("none/none");
    expect(await motion("no-preference")).toBe("slide/fade");
  });
});
