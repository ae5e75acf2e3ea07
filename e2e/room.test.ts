/**
 * The room in Chromium (tools/room.ts + slides/follow.ts): `npm run serve` as a process, one
 * presenter page at localhost and attendee pages at `room.test` (mapped to loopback, so they
 * are plain http on a non-local name: not a secure context, as a phone on the venue's wifi).
 * A TCP relay in front of the server lets the test cut an attendee's connection as lost wifi does.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startServe, type ServeProcess } from "../tools/serve-process.js";
import { currentIndices, launchBrowser, timeLeft, until, waitForDeck } from "./support.js";

let browser: Browser;
let server: ServeProcess;
let port = 0;
let presenterLink = "";
let remoteLink = "";

/** A relay to the server that can drop every connection and refuse new ones for a while. */
interface Relay {
  port: number;
  cut(): void;
  restore(): void;
  close(): void;
}

function relay(target: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  let down = false;
  const tcp: Server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(target, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  return new Promise((done) =>
    tcp.listen(0, "127.0.0.1", () =>
      done({
        port: (tcp.address() as { port: number }).port,
        cut() {
          down = true;
          for (const s of sockets) s.destroy();
        },
        restore() {
          down = false;
        },
        close() {
          for (const s of sockets) s.destroy();
          tcp.close();
        },
      }),
    ),
  );
}

beforeAll(async () => {
  server = await startServe(inject("deckDir"), ["--host", "127.0.0.1"]);
  port = server.port;
  presenterLink = server.presenterLink;
  remoteLink = server.remoteLink.replace("127.0.0.1", "localhost");
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const viewport = { width: 1280, height: 720 };
const contexts: BrowserContext[] = [];
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
});

async function page(url: string, log?: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const p = await context.newPage();
  if (log) p.on("request", (r) => log.push(r.url()));
  // Every in-page engine worker the page creates (a program running or started ahead, or the spare).
  await p.addInitScript(() => {
    const Base = window.Worker;
    (globalThis as any).__engineWorkers = 0;
    window.Worker = class extends Base {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        if (options?.name === "tornado-inpage") (globalThis as any).__engineWorkers++;
      }
    };
  });
  await p.goto(url, { waitUntil: "load" });
  return p;
}

async function openRoomDeck(url: string, log?: string[]): Promise<Page> {
  const p = await page(url, log);
  await waitForDeck(p);
  await until(p, "the room's socket", () => document.documentElement.dataset.roomConnected === "true");
  return p;
}

function at(p: Page, h: number, f?: number): Promise<void> {
  return until(
    p,
    `slide ${h}${f === undefined ? "" : `, fragment ${f}`}`,
    ([h, f]) => {
      const i = (window as any).deck.getIndices();
      return i.h === h && (f === null || i.f === f);
    },
    [h, f ?? null] as const,
  );
}

function moveTo(p: Page, h: number): Promise<void> {
  return p.evaluate((h) => (window as any).deck.slide(h), h);
}

let presenter: Page;
let attendees: Page[] = [];
const attendeeRequests: string[] = [];
const secondRequests: string[] = [];
const monaco = /monaco|editor\.|ts\.worker/i;
let cutRelay: Relay;

describe("a room served by npm run serve", () => {
  it("a presenter moves and two attendees on plain http follow (slide and fragment)", async () => {
    presenter = await openRoomDeck(presenterLink);
    // The secret left the address bar; the title slide shows the attendee URL and QR, not the secret.
    expect(presenter.url()).not.toContain("presenter=");
    const title = await presenter.locator(".slides > section").first().innerText();
    const secret = /presenter=(\w+)/.exec(presenterLink)![1]!;
    expect(title).toContain("http://");
    expect(await presenter.content()).not.toContain(secret);
    expect(await presenter.locator(".room-qr").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);

    cutRelay = await relay(port);
    attendees = [await openRoomDeck(`http://room.test:${port}/`, attendeeRequests), await openRoomDeck(`http://room.test:${cutRelay.port}/`, secondRequests)];
    for (const a of attendees) {
      expect(await a.evaluate(() => isSecureContext)).toBe(false);
      expect(await a.evaluate(() => document.documentElement.dataset.room)).toBe("attendee");
    }
    // Delivery: from the presenter's slide() to the move's arrival in each attendee's page (one
    // machine, one clock).
    const delivery: number[] = [];
    for (const h of [3, 5, 8, 4, 6, 3, 7, 5, 9, 4]) {
      const sent = await presenter.evaluate((h) => {
        const t = Date.now();
        (window as any).deck.slide(h);
        return t;
      }, h);
      for (const a of attendees) {
        await at(a, h);
        delivery.push(Number(await a.evaluate(() => document.documentElement.dataset.roomReceived)) - sent);
      }
    }
    delivery.sort((x, y) => x - y);
    console.log(`room e2e: presenter -> 2 attendee pages, ${delivery.length} deliveries: median ${delivery[delivery.length >> 1]} ms, max ${delivery.at(-1)} ms`);
    expect(delivery.every((d) => d >= 0)).toBe(true);
    // Fragments follow too. The talk has no incremental slide, so every page gets the same two
    // fragments on slide 2 (as an incremental list would render them).
    for (const p of [presenter, ...attendees]) {
      await p.evaluate(() => {
        const section = document.querySelectorAll(".slides > section")[2]!;
        section.insertAdjacentHTML("beforeend", '<p class="fragment">one</p><p class="fragment">two</p>');
        (window as any).deck.sync();
      });
    }
    await presenter.evaluate(() => (window as any).deck.slide(2, 0, 0));
    for (const a of attendees) await at(a, 2, 0);
    await presenter.evaluate(() => (window as any).deck.nextFragment());
    for (const a of attendees) await at(a, 2, 1);
  });

  it("an attendee who browses away stops following, and the toggle brings them back to the current slide", async () => {
    const [a, b] = attendees;
    expect((await currentIndices(presenter)).h).not.toBe(1);
    await moveTo(a!, 1);
    expect(await a!.evaluate(() => document.documentElement.dataset.following)).toBe("false");
    await moveTo(presenter, 9);
    await at(b!, 9);
    expect((await currentIndices(a!)).h).toBe(1);
    await a!.locator(".room-follow").click();
    await at(a!, 9);
    expect(await a!.evaluate(() => document.documentElement.dataset.following)).toBe("true");
  });

  it("a page without the secret cannot move anyone: its messages are refused and logged", async () => {
    const before = server.log.length;
    const [a, b] = attendees;
    // Every move that reaches b, from now on.
    await b!.evaluate(() => {
      const w = window as any;
      w.__moves = [];
      w.deck.on("slidechanged", () => w.__moves.push(w.deck.getIndices().h));
    });
    const refused = await a!.evaluate(
      () =>
        new Promise<string>((done) => {
          const url = new URL("/follow", location.href);
          url.protocol = "ws:";
          const ws = new WebSocket(url);
          ws.onmessage = (e) => {
            const m = JSON.parse(e.data);
            if (m.type === "state") ws.send(JSON.stringify({ type: "move", position: { h: 1, v: 0, f: null, slide: 2 } }));
            if (m.type === "refused") done(m.reason);
          };
        }),
    );
    expect(refused).toBe("only the presenter moves the room");
    // The server answered the refusal after handling the move; one the presenter makes now
    // reaches b after anything that move could have sent (one socket, in order).
    await moveTo(presenter, 10);
    await at(b!, 10);
    expect(await b!.evaluate(() => (window as any).__moves)).toEqual([10]);
    expect(server.log.slice(before)).toMatch(/refused a message from a attendee .*only the presenter moves the room/);
    // A wrong presenter secret in the URL makes an attendee, logged.
    const wrong = await openRoomDeck(`http://room.test:${port}/?presenter=guess`);
    expect(await wrong.evaluate(() => document.documentElement.dataset.room)).toBe("attendee");
    expect(server.log).toMatch(/a wrong presenter secret/);
  });

  it("a question on the last slide appears on the presenter's page, its HTML shown as text; the presenter hides it", async () => {
    const last = await presenter.evaluate(() => (window as any).deck.getHorizontalSlides().length - 1);
    await moveTo(presenter, last);
    const a = attendees[0]!;
    await at(a, last);
    const html = '<img src=x onerror="window.pwned=1"><b>¿async?</b>';
    await a.locator(".room-question").fill(html);
    await a.locator(".room-send").click();
    await a.waitForFunction(() => document.querySelector(".room-ask-status")?.getAttribute("data-state") === "sent");
    const item = presenter.locator(".room-question-text").last();
    await item.waitFor({ timeout: timeLeft() });
    expect(await item.textContent()).toBe(html);
    expect(await presenter.evaluate(() => document.querySelectorAll(".room-questions img, .room-questions b").length)).toBe(0);
    expect(await presenter.evaluate(() => (window as any).pwned)).toBeUndefined();
    // A second question within 10 seconds is refused.
    await a.locator(".room-question").fill("and another?");
    await a.locator(".room-send").click();
    await a.waitForFunction(() => document.querySelector(".room-ask-status")?.getAttribute("data-state") === "refused");
    expect(await a.locator(".room-ask-status").textContent()).toContain("one question every 10 seconds");
    // The questions survive a reload of the presenter's page, as does the position.
    await presenter.reload({ waitUntil: "load" });
    await waitForDeck(presenter);
    await presenter.locator(".room-question-text").last().waitFor({ timeout: timeLeft() });
    await at(presenter, last);
    await presenter.locator(".room-hide").last().click();
    await presenter.waitForFunction(() => document.querySelectorAll(".room-question-item").length === 0);
  });

  it("the remote moves the presenter, and the room with it; it shows the slide's notes", async () => {
    await moveTo(presenter, 3);
    for (const a of attendees) await at(a, 3);
    const remote = await page(remoteLink.replace("localhost", "room.test"));
    expect(remote.url()).not.toContain("key=");
    await remote.waitForFunction(() => document.body.dataset.connected === "true");
    await remote.locator("#next").click();
    await at(presenter, 4);
    for (const a of attendees) await at(a, 4);
    await remote.waitForFunction(() => document.body.dataset.slide === "5");
    expect((await remote.locator("#notes").textContent())!.length).toBeGreaterThan(10);
    await remote.locator("#prev").click();
    await at(presenter, 3);
    // Without the remote's secret, the remote page is refused.
    const stranger = await page(`http://room.test:${port}/remote`);
    expect(await stranger.textContent("body")).toContain("open the remote link");
  });

  it("an attendee whose connection drops reconnects and catches up by itself", async () => {
    const b = attendees[1]!;
    cutRelay.cut();
    await b.waitForFunction(() => document.documentElement.dataset.roomConnected === "false");
    await moveTo(presenter, 7);
    await at(attendees[0]!, 7);
    expect((await currentIndices(b)).h).not.toBe(7);
    cutRelay.restore();
    await at(b, 7);
    expect(await b.evaluate(() => document.documentElement.dataset.roomConnected)).toBe("true");
  });

  it("attendees never downloaded Monaco (no editor until they click Edit)", async () => {
    expect(attendeeRequests.some((u) => monaco.test(u))).toBe(false);
    expect(attendeeRequests.some((u) => /follow/.test(u))).toBe(true);
  });

  it("attendees follow the presenter's code edits, and load the editor only when they click Edit", async () => {
    const [a, b] = attendees;
    const h = await presenter.evaluate(() => [...document.querySelectorAll(".slides > section")].findIndex((s) => s.querySelector('.code-ts[data-example="hello"]')));
    expect(h).toBeGreaterThan(0);
    await moveTo(presenter, h);
    for (const x of attendees) await at(x, h);
    await until(presenter, "the playground", () => "__playground" in globalThis);
    const edited = '// edited live by the presenter\nconsole.log("<b>hi</b>");\n';
    // What typing in the presenter's editor does (CodeView's onChange).
    await presenter.evaluate((t) => (globalThis as any).__playground.sources.set("hello", "hello.ts", t), edited);
    const code = `.slides > section:nth-child(${h + 1}) .code-ts[data-example="hello"]`;
    for (const x of attendees) {
      await until(x, "the presenter's edit", ([sel, t]) => document.querySelector(`${sel} > pre > code`)?.textContent === t, [code, edited] as const);
      expect(await x.locator(code).getAttribute("data-editor")).toBe("on-demand");
    }
    expect(attendeeRequests.some((u) => monaco.test(u))).toBe(false);
    // One attendee chooses to edit: now (and only now) Monaco comes, with the presenter's text.
    expect(secondRequests.some((u) => monaco.test(u))).toBe(false);
    await b!.locator(`${code} .playground-edit`).click();
    await until(b!, "the editor", (sel) => document.querySelector(sel)?.getAttribute("data-editor") === "ready", code);
    expect(secondRequests.some((u) => monaco.test(u))).toBe(true);
    expect(await b!.evaluate((sel) => (globalThis as any).__playground.editorIn(document.querySelector(sel)).getValue(), code)).toBe(edited);
    expect(attendeeRequests.some((u) => monaco.test(u))).toBe(false);
    void a;
  });

  it("an attendee starts no program ahead: on the code slide before a curl slide it holds no worker but the spare", async () => {
    const h = await presenter.evaluate(() => [...document.querySelectorAll(".slides > section")].findIndex((s) => s.querySelector('.code-ts[data-example="hello"]')));
    const next = `.slides > section:nth-child(${h + 2})`;
    expect(await presenter.locator(`${next}[data-live-command] .live-command[data-example="hello"]`).count()).toBe(1);
    await moveTo(presenter, h);
    // A phone that joins now: it opens on the presenter's slide, the hello code, whose next
    // slide runs the hello program. The presenter's page starts that program ahead there.
    const phone = await openRoomDeck(`http://room.test:${port}/`);
    await at(phone, h);
    await until(phone, "the playground", () => "__playground" in globalThis);
    // The neighbours are mounted in the same idle task that would start their programs ahead.
    await until(phone, "the curl slide mounted as a neighbour", (sel) => !!document.querySelector(`${sel} .live-command.playground-mounted`), next);
    await phone.evaluate(() => new Promise((done) => setTimeout(done, 100)));
    // The spare, loaded at startup so a start on entry skips the worker's boot, is all it has.
    // (Attendees' live output on entry is covered by the deck suites on the served host.)
    expect(await phone.evaluate(() => (globalThis as any).__engineWorkers)).toBeLessThanOrEqual(1);
  });

  it("an attendee preloads no demo pane: on the slide above the websocket demo it prepares no program and creates no pane", async () => {
    const demo = 'section[data-demo="websocket"]';
    const [h, v] = await presenter.evaluate((sel) => {
      const { h, v } = (window as any).deck.getIndices(document.querySelector(sel));
      return [h, v] as const;
    }, demo);
    expect(v).toBeGreaterThan(0);
    await presenter.evaluate(([h, v]) => (window as any).deck.slide(h, v - 1), [h, v] as const);
    // A phone that joins there: every program the page prepares is recorded from the start.
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const phone = await context.newPage();
    await phone.addInitScript(() => {
      const w = globalThis as any;
      w.__prepared = [];
      w.__engineWorkers = 0;
      const Base = window.Worker;
      window.Worker = class extends Base {
        constructor(url: string | URL, options?: WorkerOptions) {
          super(url, options);
          if (options?.name === "tornado-inpage") w.__engineWorkers++;
        }
      };
      let playground: any;
      Object.defineProperty(w, "__playground", {
        configurable: true,
        get: () => playground,
        set(value) {
          playground = value;
          value.onPrepared((name: string) => w.__prepared.push(name));
        },
      });
    });
    await phone.goto(`http://room.test:${port}/`, { waitUntil: "load" });
    await waitForDeck(phone);
    await until(phone, "the slide above the demo", ([h, v]) => {
      const i = (window as any).deck.getIndices();
      return i.h === h && i.v === v - 1;
    }, [h, v] as const);
    await until(phone, "the playground", () => (globalThis as any).__playground !== undefined);
    // The demo is mounted as a neighbour in the idle task that would prepare its program, whose
    // worker the engine creates at once; the panes would load from it once it listens.
    await until(phone, "the demo mounted as a neighbour", (sel) => !!document.querySelector(`${sel} .live-command.playground-mounted`), demo);
    await phone.evaluate(() => new Promise((done) => setTimeout(done, 100)));
    expect(await phone.evaluate(() => (globalThis as any).__engineWorkers)).toBeLessThanOrEqual(1);
    expect(await phone.evaluate(() => (globalThis as any).__prepared)).toEqual([]);
    expect(await phone.locator(`${demo} iframe`).count()).toBe(0);
    expect(await phone.locator(`${demo} .demo-pane[data-state]`).count()).toBe(0);
    // The presenter's page, on the same slide, did load them ahead: the check above is not vacuous.
    await until(presenter, "the presenter's panes loaded ahead", (sel) => {
      const panes = [...document.querySelectorAll<HTMLElement>(`${sel} .demo-pane`)];
      return panes.length > 0 && panes.every((p) => p.dataset.state === "ready");
    }, demo);
    expect(await phone.locator(`${demo} iframe`).count()).toBe(0);
    expect(await phone.evaluate(() => (globalThis as any).__prepared)).toEqual([]);
  });
});
