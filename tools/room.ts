/**
 * The room: what `npm run serve` adds to the static deck so the audience follows the presenter.
 *
 * - `/` (index.html) is served with a `<meta name="tornado-room">` injected: the deck's follow
 *   plugin (slides/follow.ts) starts only when it is there, so a static host shows nothing new
 *   and makes no extra request. The meta carries the attendee URL, its QR code (SVG, made here
 *   with `qrcode`) and the page's role; never a secret.
 * - `/?presenter=<secret>` makes this browser the presenter: a signed cookie from then on (the
 *   page drops the secret from its URL). `/remote?key=<secret>` does the same for a phone remote.
 * - `/follow` is one websocket for everyone. The server holds the room's state (position, code
 *   edits, questions), so a presenter's reload or an attendee's reconnect catches up from it.
 *   Only the presenter moves the room; anything else is refused, logged and answered.
 *
 * Limits keep one client from hurting the others: messages over 16 KiB close that socket (1009);
 * malformed JSON and unknown types are refused; a question is plain text of at most 280
 * characters, one per attendee (a signed cookie, not an address) every 10 seconds; a reader that
 * stops reading is dropped once 64 messages wait for it, instead of buffering for it forever.
 */
import { readFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import QRCode from "qrcode";
import { xhtmlEscape } from "tornado/escape";
import { appLog } from "tornado/log";
import { platform } from "tornado/platform/index";
import { Application, RequestHandler, type InitArgs } from "tornado/web";
import { WebSocketHandler, type WebSocketMessage } from "tornado/websocket";
import { parseNotes } from "../slides/notes.js";
import { DeckHandler } from "./serve.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export const MAX_MESSAGE_BYTES = 16 * 1024;
export const MAX_QUESTION_CHARS = 280;
export const QUESTION_INTERVAL_MS = 10_000;
/** Messages allowed to wait for one client before it is dropped as a reader that does not read. */
export const MAX_PENDING_WRITES = 64;
const MAX_QUESTIONS = 500;
const MAX_SOURCE_CHARS = 12_000;

export type Role = "presenter" | "remote" | "attendee";

export interface Position {
  h: number;
  v: number;
  f: number | null;
  /** The slide's number in the talk (`data-slide`): what the notes are keyed by. */
  slide: number;
}

export interface Question {
  id: number;
  text: string;
  at: number;
  hidden: boolean;
}

export interface RoomOptions {
  /** The URL attendees open (shown on the title slide with its QR code). */
  attendeeUrl: string;
  presenterKey?: string;
  remoteKey?: string;
  cookieSecret?: string;
  /** Speaker notes by slide number (default: slides/talk.notes.md). */
  notes?: Map<number, string>;
}

function secret(): string {
  return [...platform().randomBytes(24)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison, so a secret cannot be guessed a character at a time. */
function same(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export class Room {
  /** Set once the server knows its port; read when the first page is served. */
  attendeeUrl: string;
  readonly presenterKey: string;
  readonly remoteKey: string;
  readonly cookieSecret: string;
  readonly notes: Map<number, string>;
  position: Position = { h: 0, v: 0, f: null, slide: 1 };
  /** True once a presenter has moved: a presenter's reload then takes the room's position. */
  moved = false;
  /** Edited programs: "name:file" -> text. */
  readonly sources = new Map<string, string>();
  readonly questions: Question[] = [];
  readonly clients = new Set<FollowHandler>();
  readonly lastQuestion = new Map<string, number>();
  refused = 0;
  dropped = 0;
  private nextQuestionId = 1;
  private qrSvg: Promise<string> | null = null;

  constructor(options: RoomOptions) {
    this.attendeeUrl = options.attendeeUrl;
    this.presenterKey = options.presenterKey ?? secret();
    this.remoteKey = options.remoteKey ?? secret();
    this.cookieSecret = options.cookieSecret ?? secret();
    this.notes =
      options.notes ?? new Map([...parseNotes(readFileSync(join(ROOT, "slides", "talk.notes.md"), "utf8"))].map(([n, v]) => [n, v.markdown]));
  }

  isPresenterKey(key: string | null): boolean {
    return key !== null && same(key, this.presenterKey);
  }

  isRemoteKey(key: string | null): boolean {
    return key !== null && same(key, this.remoteKey);
  }

  qr(): Promise<string> {
    this.qrSvg ??= QRCode.toString(this.attendeeUrl, { type: "svg", margin: 1, errorCorrectionLevel: "M" });
    return this.qrSvg;
  }

  /** What a client sees on connecting: everything it needs to catch up. */
  state(role: Role): Record<string, unknown> {
    const state: Record<string, unknown> = {
      type: "state",
      role,
      position: this.position,
      moved: this.moved,
      sources: Object.fromEntries(this.sources),
    };
    if (role !== "attendee") state.questions = this.questions;
    if (role === "remote") state.notes = this.notes.get(this.position.slide) ?? "";
    return state;
  }

  /**
   * Sends one message to every client `to` selects. The text is encoded once; a client with too
   * many writes still waiting (it does not read) is closed instead of buffering more for it.
   */
  broadcast(message: Record<string, unknown>, to: (client: FollowHandler) => boolean = () => true): void {
    const text = JSON.stringify(message);
    for (const client of this.clients) if (to(client)) client.send(text);
  }

  move(position: Position): void {
    this.position = position;
    this.moved = true;
    this.broadcast({ type: "move", position, sent: Date.now() });
    this.broadcast({ type: "notes", slide: position.slide, notes: this.notes.get(position.slide) ?? "" }, (c) => c.role === "remote");
  }

  edit(name: string, file: string, text: string): void {
    this.sources.set(`${name}:${file}`, text);
    this.broadcast({ type: "edit", name, file, text }, (c) => c.role !== "presenter");
  }

  /** Adds a question, or says why not (the answer goes back to the asker only). */
  ask(attendee: string | null, raw: unknown, now = Date.now()): Question | string {
    if (attendee === null) return "no attendee cookie: open the deck first";
    if (typeof raw !== "string") return "a question is text";
    const text = raw.trim();
    if (!text) return "the question is empty";
    if ([...text].length > MAX_QUESTION_CHARS) return `at most ${MAX_QUESTION_CHARS} characters`;
    const last = this.lastQuestion.get(attendee);
    if (last !== undefined && now - last < QUESTION_INTERVAL_MS) return `one question every ${QUESTION_INTERVAL_MS / 1000} seconds`;
    this.lastQuestion.set(attendee, now);
    const question: Question = { id: this.nextQuestionId++, text, at: now, hidden: false };
    this.questions.push(question);
    if (this.questions.length > MAX_QUESTIONS) this.questions.shift();
    this.broadcast({ type: "question", question }, (c) => c.role !== "attendee");
    return question;
  }

  hide(id: unknown): boolean {
    const question = this.questions.find((q) => q.id === id);
    if (!question) return false;
    question.hidden = true;
    this.broadcast({ type: "hidden", id: question.id }, (c) => c.role !== "attendee");
    return true;
  }
}

const ROLE_COOKIE = "room_role";
const ATTENDEE_COOKIE = "room_attendee";

/** Who a request's browser is, from its signed role cookie (any role other than these is an attendee). */
function roleOf(handler: RequestHandler): Role {
  const value = handler.getSecureCookie(ROLE_COOKIE, { maxAgeDays: 2 });
  const text = value ? new TextDecoder().decode(value) : "";
  return text === "presenter" || text === "remote" ? text : "attendee";
}

/** The attendee id from the signed cookie (what the question limit counts by), or null. */
function attendeeOf(handler: RequestHandler): string | null {
  const value = handler.getSecureCookie(ATTENDEE_COOKIE, { maxAgeDays: 2 });
  return value ? new TextDecoder().decode(value) : null;
}

class RoomHandler extends RequestHandler {
  room!: Room;

  initialize(args: InitArgs): void {
    this.room = args.room as Room;
  }

  becomeRole(role: Role): void {
    this.setSecureCookie(ROLE_COOKIE, role, { httponly: true, expiresDays: 2 });
  }
}

/** index.html with the room's meta tag; `?presenter=<secret>` makes this browser the presenter. */
export class RoomIndexHandler extends RoomHandler {
  dist = "";

  override initialize(args: InitArgs): void {
    super.initialize(args);
    this.dist = args.dist as string;
  }

  override setDefaultHeaders(): void {
    this.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    this.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    this.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    // Revalidated each time (its Etag is computed over what this browser gets: role and all).
    this.setHeader("Cache-Control", "no-cache");
  }

  async get(): Promise<void> {
    let role = roleOf(this);
    const key = this.getArgument("presenter", null);
    if (key !== null) {
      if (this.room.isPresenterKey(key)) {
        this.becomeRole("presenter");
        role = "presenter";
      } else {
        this.room.refused++;
        appLog.warning("room", `a wrong presenter secret from ${this.request.remoteIp}`);
      }
    }
    if (attendeeOf(this) === null) this.setSecureCookie(ATTENDEE_COOKIE, secret(), { httponly: true, expiresDays: 2 });
    const meta = { role, url: this.room.attendeeUrl, qr: await this.room.qr() };
    const html = readFileSync(join(this.dist, "index.html"), "utf8");
    this.setHeader("Content-Type", "text/html; charset=UTF-8");
    this.finish(injectMeta(html, `<meta name="tornado-room" content="${xhtmlEscape(JSON.stringify(meta))}" />`));
  }

  /** `curl -I` and link checkers: the same head as GET (the runtime sends no body for HEAD). */
  head(): Promise<void> {
    return this.get();
  }
}

/** Puts `tag` first in the head (after `<head>`, else after the doctype, else first). */
export function injectMeta(html: string, tag: string): string {
  const at = /<head\b[^>]*>/i.exec(html) ?? /^\s*<!doctype[^>]*>/i.exec(html);
  const end = at ? at.index + at[0].length : 0;
  return `${html.slice(0, end)}${tag}${html.slice(end)}`;
}

/** `/remote?key=<secret>`: a phone becomes the presenter's remote (next/previous, notes, timer). */
export class RemoteHandler extends RoomHandler {
  get(): void {
    const key = this.getArgument("key", null);
    if (key !== null) {
      if (!this.room.isRemoteKey(key)) {
        this.room.refused++;
        appLog.warning("room", `a wrong remote secret from ${this.request.remoteIp}`);
        this.setStatus(403);
        this.finish("wrong remote key");
        return;
      }
      this.becomeRole("remote");
      // Drop the secret from the address bar (and from the history).
      this.redirect("/remote");
      return;
    }
    if (roleOf(this) !== "remote") {
      this.setStatus(403);
      this.finish("open the remote link that npm run serve printed");
      return;
    }
    this.setHeader("Content-Type", "text/html; charset=UTF-8");
    // Revalidated each time (its Etag is computed over what this browser gets: role and all).
    this.setHeader("Cache-Control", "no-cache");
    this.finish(REMOTE_PAGE);
  }
}

interface Incoming {
  type?: unknown;
  [key: string]: unknown;
}

function isIndex(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n < 10_000;
}

/** `/follow`: the room's websocket. */
export class FollowHandler extends WebSocketHandler {
  room!: Room;
  role: Role = "attendee";
  attendee: string | null = null;
  private pendingWrites = 0;
  private refusals = 0;

  initialize(args: InitArgs): void {
    this.room = args.room as Room;
  }

  override open(): void {
    this.role = roleOf(this);
    this.attendee = attendeeOf(this);
    this.room.clients.add(this);
    this.setNodelay(true);
    this.send(JSON.stringify(this.room.state(this.role)));
  }

  override onClose(): void {
    this.room.clients.delete(this);
  }

  /** Queues `text`; a client that has let MAX_PENDING_WRITES pile up is dropped. */
  send(text: string): void {
    if (this.pendingWrites >= MAX_PENDING_WRITES) {
      this.room.dropped++;
      this.room.clients.delete(this);
      appLog.warning("room", `dropped a ${this.role} that stopped reading (${this.pendingWrites} messages waiting)`);
      const ws = this.wsConnection;
      this.close(1008, "too slow");
      ws?.abort();
      return;
    }
    this.pendingWrites++;
    this.writeMessage(text).then(
      () => this.pendingWrites--,
      () => this.room.clients.delete(this),
    );
  }

  refuseMessage(reason: string): void {
    this.room.refused++;
    // A flood is logged, not copied into the log: the first few, then one line per thousand.
    const n = ++this.refusals;
    if (n <= 3 || n % 1000 === 0) appLog.warning("room", `refused a message from a ${this.role} at ${this.request.remoteIp}${n > 3 ? ` (${n} so far)` : ""}: ${reason}`);
    this.send(JSON.stringify({ type: "refused", reason }));
  }

  override onMessage(message: WebSocketMessage): void {
    if (typeof message !== "string") return this.refuseMessage("binary messages are not understood");
    let data: Incoming;
    try {
      data = JSON.parse(message) as Incoming;
    } catch {
      return this.refuseMessage("malformed JSON");
    }
    if (typeof data !== "object" || data === null) return this.refuseMessage("a message is a JSON object");
    const room = this.room;
    switch (data.type) {
      case "move": {
        if (this.role !== "presenter") return this.refuseMessage("only the presenter moves the room");
        const p = data.position as Partial<Position> | undefined;
        if (!p || !isIndex(p.h) || !isIndex(p.v) || !(p.f === null || p.f === undefined || (Number.isInteger(p.f) && p.f >= -1 && p.f < 1000)) || !isIndex(p.slide)) {
          return this.refuseMessage("a position is {h, v, f, slide}");
        }
        room.move({ h: p.h, v: p.v, f: p.f ?? null, slide: p.slide });
        return;
      }
      case "command": {
        // The remote asks; the presenter's deck moves (and then publishes where it is).
        if (this.role !== "remote" && this.role !== "presenter") return this.refuseMessage("only the remote sends commands");
        if (data.action !== "next" && data.action !== "prev") return this.refuseMessage("a command is next or prev");
        room.broadcast({ type: "command", action: data.action }, (c) => c.role === "presenter");
        return;
      }
      case "edit": {
        if (this.role !== "presenter") return this.refuseMessage("only the presenter edits the room's code");
        const { name, file, text } = data;
        if (typeof name !== "string" || typeof file !== "string" || typeof text !== "string" || name.length > 100 || file.length > 200 || text.length > MAX_SOURCE_CHARS) {
          return this.refuseMessage("an edit is {name, file, text}");
        }
        room.edit(name, file, text);
        return;
      }
      case "question": {
        const result = room.ask(this.attendee, data.text);
        if (typeof result === "string") return this.refuseMessage(result);
        this.send(JSON.stringify({ type: "asked", id: result.id }));
        return;
      }
      case "hide": {
        if (this.role !== "presenter") return this.refuseMessage("only the presenter hides questions");
        if (!room.hide(data.id)) return this.refuseMessage("no such question");
        return;
      }
      default:
        return this.refuseMessage(`unknown message type ${JSON.stringify(String(data.type)).slice(0, 40)}`);
    }
  }
}

/** The room's routes in front of the deck's files. */
export function roomApplication(dist: string, room: Room): Application {
  return new Application(
    [
      ["/", RoomIndexHandler, { room, dist }],
      ["/index.html", RoomIndexHandler, { room, dist }],
      ["/follow", FollowHandler, { room }],
      ["/remote", RemoteHandler, { room }],
      ["/(.*)", DeckHandler, { path: dist }],
    ],
    {
      compressResponse: true,
      cookieSecret: room.cookieSecret,
      websocketMaxMessageSize: MAX_MESSAGE_BYTES,
      // Phones that vanish without a close (sleep, wifi lost) are found and forgotten.
      websocketPingInterval: 20,
      websocketPingTimeout: 60,
    },
  );
}

/** The remote: one page, no build step; plain http and no secure-context APIs, as on any phone. */
const REMOTE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Remote · Tornado deck</title>
<style>
body{font:18px system-ui,sans-serif;margin:0;padding:12px;background:#111;color:#eee}
.bar{display:flex;gap:12px}.bar button{flex:1;font-size:28px;padding:24px 0;border-radius:12px;border:0}
#next{background:#2a7;color:#fff}#prev{background:#444;color:#fff}
#timer{font:32px ui-monospace,monospace;text-align:center;margin:12px 0}
#status{color:#aaa;font-size:14px}#notes{white-space:pre-wrap;line-height:1.4;background:#222;padding:12px;border-radius:8px}
</style></head><body>
<div class="bar"><button id="prev" type="button">◀ previous</button><button id="next" type="button">next ▶</button></div>
<div id="timer" title="click to restart">00:00</div>
<div id="status">connecting…</div>
<h2 id="slide">slide</h2>
<div id="notes"></div>
<script>
(function(){
  var ws=null, delay=250, started=Date.now();
  var $=function(id){return document.getElementById(id)};
  function show(slide,notes){$("slide").textContent="slide "+slide;$("notes").textContent=notes||"(no notes)";document.body.dataset.slide=slide;}
  function connect(){
    ws=new WebSocket(location.href.replace(/^http/,"ws").replace(/\\/remote.*$/,"/follow"));
    ws.onopen=function(){delay=250;$("status").textContent="connected";document.body.dataset.connected="true"};
    ws.onmessage=function(e){var m=JSON.parse(e.data);
      if(m.type==="state")show(m.position.slide,m.notes);
      else if(m.type==="notes")show(m.slide,m.notes);
      else if(m.type==="refused")$("status").textContent="refused: "+m.reason;};
    ws.onclose=function(){document.body.dataset.connected="false";$("status").textContent="reconnecting…";setTimeout(connect,delay);delay=Math.min(delay*2,8000)};
  }
  function send(action){if(ws&&ws.readyState===1)ws.send(JSON.stringify({type:"command",action:action}))}
  $("next").onclick=function(){send("next")};$("prev").onclick=function(){send("prev")};
  $("timer").onclick=function(){started=Date.now()};
  setInterval(function(){var s=Math.floor((Date.now()-started)/1000);$("timer").textContent=String(Math.floor(s/60)).padStart(2,"0")+":"+String(s%60).padStart(2,"0")},500);
  connect();
})();
</script></body></html>`;
