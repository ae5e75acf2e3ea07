/**
 * The room's server (tools/room.ts) over real sockets, with `ws` clients: who may move the
 * room, what a reconnect catches up on, the question limits, and floods (small numbers here;
 * bench/room.ts runs a thousand attendees).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { HTTPServer } from "tornado/httpserver";
import { setLogSink, type LogRecord } from "tornado/log";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cookiesFrom, flood, join, joinMany, moveAndMeasure, slowReader } from "./room-load.js";
import { MAX_PENDING_WRITES, Room, roomApplication } from "./room.js";

let dist: string;
let server: HTTPServer;
let room: Room;
let base: string;
const logs: LogRecord[] = [];
let previousSink: ReturnType<typeof setLogSink>;

beforeAll(async () => {
  dist = mkdtempSync(joinPath(tmpdir(), "room-"));
  writeFileSync(joinPath(dist, "index.html"), "<!doctype html><html><head><title>deck</title></head><body></body></html>");
  room = new Room({ attendeeUrl: "http://room.test:8000/", notes: new Map([[5, "the fifth slide's notes"]]) });
  server = new HTTPServer(roomApplication(dist, room));
  const port = await server.listen(0, "127.0.0.1");
  base = `http://127.0.0.1:${port}/`;
  previousSink = setLogSink((r) => void logs.push(r));
});

afterAll(async () => {
  setLogSink(previousSink);
  await server.stop();
  rmSync(dist, { recursive: true, force: true });
});

const presenterCookie = () => cookiesFrom(base, `/?presenter=${room.presenterKey}`);

describe("the room's server", () => {
  it("injects the room's meta (URL and QR code, no secret) into index.html", async () => {
    const response = await fetch(base);
    const html = await response.text();
    const meta = /<meta name="tornado-room" content="([^"]*)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const data = JSON.parse(meta!.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#39;/g, "'").replace(/&amp;/g, "&"));
    expect(data).toMatchObject({ role: "attendee", url: "http://room.test:8000/" });
    expect(data.qr).toMatch(/^<svg/);
    expect(html).not.toContain(room.presenterKey);
    expect(html).not.toContain(room.remoteKey);
    expect(response.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    const presenter = await fetch(new URL(`/?presenter=${room.presenterKey}`, base));
    expect(presenter.headers.getSetCookie().some((c) => c.startsWith("room_role="))).toBe(true);
    expect(await presenter.text()).toContain("&quot;role&quot;:&quot;presenter&quot;");
    const head = await fetch(base, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(response.headers.get("content-length"));
  });

  it("the presenter moves 20 attendees; an attendee's move is refused and logged; a late joiner catches up", async () => {
    const presenter = await join(base, await presenterCookie());
    const attendees = await joinMany(base, 20, 10);
    const delivery = await moveAndMeasure(presenter, attendees, 4);
    expect(delivery.delivered).toBe(20);
    const intruder = attendees[0]!;
    intruder.ws.send(JSON.stringify({ type: "move", position: { h: 1, v: 0, f: null, slide: 2 } }));
    expect((await intruder.next((m) => m.type === "refused")).reason).toBe("only the presenter moves the room");
    expect(logs.some((r) => /refused a message from a attendee .*only the presenter moves the room/.test(r.message))).toBe(true);
    expect(room.position.h).toBe(4);
    const late = await join(base);
    const state = await late.next((m) => m.type === "state");
    expect(state.position).toMatchObject({ h: 4, slide: 5 });
    for (const m of [presenter, late, ...attendees]) m.ws.close();
  });

  it("the remote's commands reach the presenter, and the remote gets the slide's notes", async () => {
    const presenter = await join(base, await presenterCookie());
    const refusedRemote = await fetch(new URL("/remote?key=guess", base), { redirect: "manual" });
    expect(refusedRemote.status).toBe(403);
    const remote = await join(base, await cookiesFrom(base, `/remote?key=${room.remoteKey}`));
    remote.ws.send(JSON.stringify({ type: "command", action: "next" }));
    await presenter.next((m) => m.type === "command" && m.action === "next");
    presenter.ws.send(JSON.stringify({ type: "move", position: { h: 4, v: 0, f: null, slide: 5 } }));
    expect((await remote.next((m) => m.type === "notes")).notes).toBe("the fifth slide's notes");
    const attendee = await join(base);
    attendee.ws.send(JSON.stringify({ type: "command", action: "next" }));
    expect((await attendee.next((m) => m.type === "refused")).reason).toBe("only the remote sends commands");
    for (const m of [presenter, remote, attendee]) m.ws.close();
  });

  it("edits reach attendees and late joiners; questions: text up to 280 characters, one per attendee per 10 s, hidden by the presenter", async () => {
    const presenter = await join(base, await presenterCookie());
    const asker = await join(base, await cookiesFrom(base, "/"));
    presenter.ws.send(JSON.stringify({ type: "edit", name: "hello", file: "hello.ts", text: "// edited" }));
    expect((await asker.next((m) => m.type === "edit")).text).toBe("// edited");
    expect(((await (await join(base)).next((m) => m.type === "state")).sources as Record<string, string>)["hello:hello.ts"]).toBe("// edited");

    asker.ws.send(JSON.stringify({ type: "question", text: "x".repeat(281) }));
    expect((await asker.next((m) => m.type === "refused")).reason).toBe("at most 280 characters");
    asker.ws.send(JSON.stringify({ type: "question", text: "<b>why?</b>" }));
    await asker.next((m) => m.type === "asked");
    const q = (await presenter.next((m) => m.type === "question")).question as { id: number; text: string };
    expect(q.text).toBe("<b>why?</b>");
    asker.ws.send(JSON.stringify({ type: "question", text: "again" }));
    expect((await asker.next((m) => m.type === "refused" && /every 10/.test(String(m.reason)))).reason).toBe("one question every 10 seconds");
    const noCookie = await join(base);
    noCookie.ws.send(JSON.stringify({ type: "question", text: "hi" }));
    expect((await noCookie.next((m) => m.type === "refused")).reason).toMatch(/no attendee cookie/);
    presenter.ws.send(JSON.stringify({ type: "hide", id: q.id }));
    await presenter.next((m) => m.type === "hidden" && m.id === q.id);
    expect(room.questions.find((x) => x.id === q.id)!.hidden).toBe(true);
    for (const m of [presenter, asker, noCookie]) m.ws.close();
  });

  it("floods are refused or dropped and the others keep getting moves", async () => {
    const presenter = await join(base, await presenterCookie());
    const attendees = await joinMany(base, 10, 10);
    const droppedBefore = room.dropped;
    const result = await flood(base, { slowReaderFrames: 200_000, questionsPerSecond: 100, dropped: () => room.dropped > droppedBefore });
    expect(result).toMatchObject({ oversizedCode: 1009, malformed: "malformed JSON", asked: 1, refused: 99, slowDropped: true });
    expect(logs.some((r) => r.message.includes(`(${MAX_PENDING_WRITES} messages waiting)`))).toBe(true);
    const after = await moveAndMeasure(presenter, attendees, 7);
    expect(after.delivered).toBe(10);
    for (const m of [presenter, ...attendees]) m.ws.close();
  });

  it("a reader that never reads while the presenter edits is dropped, not buffered for", async () => {
    const presenter = await join(base, await presenterCookie());
    const droppedBefore = room.dropped;
    const slow = await slowReader(base);
    const big = "y".repeat(11_000);
    for (let i = 0; i < 2000 && room.dropped === droppedBefore; i++) {
      presenter.ws.send(JSON.stringify({ type: "edit", name: "hello", file: "hello.ts", text: `${i}${big}` }));
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + 10_000;
    while (room.dropped === droppedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(room.dropped).toBe(droppedBefore + 1);
    slow.destroy();
    presenter.ws.close();
  });
});
