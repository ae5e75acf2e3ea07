/**
 * Follow along: the deck as a room sees it when `npm run serve` serves it (tools/room.ts).
 *
 * A reveal.js plugin, started only when the served index.html carries
 * `<meta name="tornado-room">` (a static host has none: the deck then loads nothing of this).
 * - The presenter's deck publishes its position (slide and fragment) and code edits over the
 *   `/follow` websocket, shows the questions as they come in, and obeys the remote.
 * - An attendee's deck follows the presenter; browsing by hand stops following, the "follow the
 *   presenter" toggle comes back to where the presenter is. On the last slide it can ask a
 *   question. The title slide shows the attendee URL and its QR code (the room's, never a secret).
 * Attendees open it over plain http on the local network, not a secure context: this uses only
 * WebSocket, JSON and the DOM (no service worker, no crypto.subtle, no cross-origin isolation).
 * A socket that drops (a phone asleep, wifi lost) reconnects with backoff and catches up from the
 * server's state.
 */
import type { RevealApi, RevealPlugin } from "reveal.js";
import "./follow.css";

export type RoomRole = "presenter" | "attendee" | "remote";

export interface RoomMeta {
  role: RoomRole;
  url: string;
  qr: string;
}

interface Position {
  h: number;
  v: number;
  f: number | null;
  slide: number;
}

interface Question {
  id: number;
  text: string;
  at: number;
  hidden: boolean;
}

interface PlaygroundLike {
  sources: { onChange(listener: (name: string, file: string, text: string) => void): unknown };
  applyEdit(name: string, file: string, text: string): void;
}

/** The room's description the server injected, or null on a static host. */
export function roomMeta(doc: Document = document): RoomMeta | null {
  const meta = doc.querySelector<HTMLMetaElement>('meta[name="tornado-room"]');
  if (!meta) return null;
  try {
    const value = JSON.parse(meta.content) as RoomMeta;
    return typeof value.url === "string" ? value : null;
  } catch {
    return null;
  }
}

/** Reconnect delays: fast at first, then backing off to 8 s, with jitter so a room does not reconnect in step. */
export function backoff(attempt: number, random = Math.random): number {
  const base = Math.min(8000, 250 * 2 ** attempt);
  return Math.round(base * (0.75 + random() * 0.5));
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function followPlugin(meta: RoomMeta): RevealPlugin {
  return { id: "tornado-follow", init: (deck: RevealApi) => new Follow(deck, meta).start() };
}

class Follow {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private following = true;
  /** The presenter's latest position, as the server last said. */
  private target: Position | null = null;
  /** True while this deck moves itself to the target (so the move is not taken as browsing). */
  private applying = false;
  private firstState = true;
  private readonly questions = new Map<number, Question>();
  private readonly pendingEdits = new Map<string, [string, string, string]>();
  private readonly root = document.documentElement;
  private readonly presenter: boolean;
  private toggle: HTMLButtonElement | null = null;
  private list: HTMLOListElement | null = null;
  private askStatus: HTMLElement | null = null;
  private editTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly deck: RevealApi,
    private readonly meta: RoomMeta,
  ) {
    this.presenter = meta.role === "presenter";
  }

  start(): void {
    this.root.dataset.room = this.presenter ? "presenter" : "attendee";
    if (this.presenter && /[?&]presenter=/.test(location.search)) {
      // The secret is in a signed cookie now: keep it out of the address bar, history and screen.
      const url = new URL(location.href);
      url.searchParams.delete("presenter");
      history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    }
    this.showJoin();
    if (this.presenter) this.mountQuestions();
    else this.mountAttendee();
    for (const event of ["slidechanged", "fragmentshown", "fragmenthidden"]) this.deck.on(event, () => this.moved());
    this.watchPlayground();
    this.connect();
    // A phone waking up or back on the wifi reconnects now instead of waiting out the backoff.
    const soon = () => {
      if (!this.ws && document.visibilityState === "visible") this.connect();
    };
    document.addEventListener("visibilitychange", soon);
    window.addEventListener("online", soon);
  }

  // ---- the socket ---------------------------------------------------------------------------

  private retry: ReturnType<typeof setTimeout> | null = null;

  private connect(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const url = new URL("follow", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.search = url.hash = "";
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.root.dataset.roomConnected = "true";
    };
    ws.onmessage = (event) => {
      try {
        this.receive(JSON.parse(String(event.data)) as Record<string, unknown>);
      } catch (error) {
        console.warn("room: a message could not be handled", error);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.root.dataset.roomConnected = "false";
      this.retry = setTimeout(() => this.connect(), backoff(this.attempt++));
    };
  }

  private send(message: Record<string, unknown>): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  private receive(m: Record<string, unknown>): void {
    switch (m.type) {
      case "state": {
        const position = m.position as Position;
        for (const [key, text] of Object.entries((m.sources as Record<string, string>) ?? {})) {
          const i = key.indexOf(":");
          this.edit(key.slice(0, i), key.slice(i + 1), text);
        }
        if (this.presenter) {
          // A reload takes the room's position; a reconnect tells the room where the presenter is.
          if (this.firstState && m.moved) this.goTo(position);
          else this.moved();
          this.firstState = false;
          for (const q of (m.questions as Question[]) ?? []) this.addQuestion(q);
        } else if (m.moved) {
          // Until the presenter has moved, there is nothing to follow: attendees stay where they are.
          this.target = position;
          if (this.following) this.goTo(position);
        }
        this.root.dataset.roomState = String(Number(this.root.dataset.roomState ?? 0) + 1);
        return;
      }
      case "move": {
        if (this.presenter) return;
        this.target = m.position as Position;
        // For the tests' delivery times: when the server sent it and when this page had it.
        this.root.dataset.roomSent = String(m.sent);
        this.root.dataset.roomReceived = String(Date.now());
        if (this.following) this.goTo(this.target);
        return;
      }
      case "command":
        if (this.presenter) (m.action === "next" ? this.deck.next() : this.deck.prev());
        return;
      case "edit":
        this.edit(String(m.name), String(m.file), String(m.text));
        return;
      case "question":
        this.addQuestion(m.question as Question);
        return;
      case "hidden":
        this.questions.delete(m.id as number);
        this.list?.querySelector(`[data-id="${Number(m.id)}"]`)?.remove();
        this.updateQuestionCount();
        return;
      case "asked":
        this.setAskStatus("sent: the speaker sees it", "sent");
        return;
      case "refused":
        this.setAskStatus(`not sent: ${String(m.reason)}`, "refused");
        return;
    }
  }

  // ---- position -----------------------------------------------------------------------------

  private position(): Position {
    const { h, v, f } = this.deck.getIndices();
    const slide = Number(this.deck.getCurrentSlide()?.dataset.slide ?? h + 1);
    return { h, v: v ?? 0, f: f ?? null, slide };
  }

  private moved(): void {
    if (this.applying) return;
    if (this.presenter) {
      this.send({ type: "move", position: this.position() });
      return;
    }
    this.showAsk();
    // An attendee who moves by hand is browsing: stop following until the toggle says so.
    const here = this.position();
    const t = this.target;
    if (this.following && t && (here.h !== t.h || here.v !== t.v || here.f !== t.f)) this.setFollowing(false);
  }

  private goTo(p: Position): void {
    this.applying = true;
    try {
      this.deck.slide(p.h, p.v, p.f ?? undefined);
    } finally {
      this.applying = false;
    }
    this.showAsk();
  }

  private setFollowing(on: boolean): void {
    this.following = on;
    this.root.dataset.following = String(on);
    if (this.toggle) {
      this.toggle.setAttribute("aria-pressed", String(on));
      this.toggle.textContent = on ? "following the presenter" : "follow the presenter";
    }
    if (on && this.target) this.goTo(this.target);
  }

  // ---- code edits ---------------------------------------------------------------------------

  private playground(): PlaygroundLike | null {
    return ((globalThis as { __playground?: PlaygroundLike }).__playground ?? null) as PlaygroundLike | null;
  }

  private edit(name: string, file: string, text: string): void {
    if (this.presenter) return;
    const playground = this.playground();
    if (playground) playground.applyEdit(name, file, text);
    else this.pendingEdits.set(`${name}:${file}`, [name, file, text]);
  }

  /** The playground loads after the first slide: hook it (and apply what came before) once it is there. */
  private watchPlayground(): void {
    const hook = () => {
      const playground = this.playground();
      if (!playground) return false;
      if (this.presenter) {
        playground.sources.onChange((name, file, text) => {
          const key = `${name}:${file}`;
          clearTimeout(this.editTimers.get(key));
          this.editTimers.set(key, setTimeout(() => this.send({ type: "edit", name, file, text }), 100));
        });
      } else {
        for (const [name, file, text] of this.pendingEdits.values()) playground.applyEdit(name, file, text);
        this.pendingEdits.clear();
      }
      return true;
    };
    if (hook()) return;
    const observer = new MutationObserver(() => {
      if (this.root.dataset.playground !== "loading" && hook()) observer.disconnect();
      else if (this.root.dataset.playground === "failed") observer.disconnect();
    });
    observer.observe(this.root, { attributes: true, attributeFilter: ["data-playground"] });
  }

  // ---- what the room sees ------------------------------------------------------------------

  /** The title slide: how to join (the attendee URL and its QR code; never a secret). */
  private showJoin(): void {
    const title = this.deck.getSlides()[0];
    if (!title || title.querySelector(".room-join")) return;
    const aside = el("div", "room-join");
    const img = el("img", "room-qr");
    img.alt = `QR code of ${this.meta.url}`;
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(this.meta.qr)}`;
    aside.append(img, el("span", "room-url", this.meta.url), el("span", "room-hint", "follow along on your phone"));
    title.append(aside);
    this.deck.layout();
  }

  private mountAttendee(): void {
    const bar = el("div", "room-bar");
    const toggle = el("button", "room-follow");
    toggle.type = "button";
    toggle.addEventListener("click", () => this.setFollowing(!this.following));
    this.toggle = toggle;
    bar.append(toggle);
    document.body.append(bar);
    this.setFollowing(true);
  }

  /** On the last slide ("¿preguntas?"), a form to send a question. */
  private showAsk(): void {
    if (this.presenter) return;
    const slide = this.deck.getCurrentSlide();
    if (!slide || !this.deck.isLastSlide() || slide.querySelector(".room-ask")) return;
    const form = el("form", "room-ask");
    const input = el("textarea", "room-question");
    input.maxLength = 280;
    input.rows = 3;
    input.placeholder = "your question (280 characters at most)";
    input.setAttribute("aria-label", "your question");
    const submit = el("button", "room-send", "send the question");
    submit.type = "submit";
    const status = el("span", "room-ask-status");
    status.setAttribute("role", "status");
    this.askStatus = status;
    form.append(input, submit, status);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      if (this.send({ type: "question", text })) {
        input.value = "";
        this.setAskStatus("sending…", "sending");
      } else this.setAskStatus("not connected; try again in a moment", "offline");
    });
    slide.append(form);
    this.deck.layout();
  }

  private setAskStatus(text: string, state: string): void {
    if (!this.askStatus) return;
    this.askStatus.textContent = text;
    this.askStatus.dataset.state = state;
  }

  /** The presenter's screen: questions as they come in, each with a hide button. */
  private mountQuestions(): void {
    const panel = el("aside", "room-questions");
    panel.setAttribute("aria-label", "questions from the room");
    panel.hidden = true;
    const heading = el("h2", "room-questions-title", "questions");
    this.list = el("ol", "room-questions-list");
    panel.append(heading, this.list);
    document.body.append(panel);
  }

  private addQuestion(q: Question): void {
    if (!this.list || q.hidden || this.questions.has(q.id)) return;
    this.questions.set(q.id, q);
    const item = el("li", "room-question-item");
    item.dataset.id = String(q.id);
    // Text, never HTML: whatever an attendee typed shows as typed.
    const text = el("span", "room-question-text", q.text);
    const hide = el("button", "room-hide", "hide");
    hide.type = "button";
    hide.title = "hide this question";
    hide.addEventListener("click", () => this.send({ type: "hide", id: q.id }));
    item.append(text, hide);
    this.list.append(item);
    this.updateQuestionCount();
  }

  private updateQuestionCount(): void {
    const panel = this.list?.parentElement;
    if (panel) panel.hidden = this.questions.size === 0;
    this.root.dataset.roomQuestions = String(this.questions.size);
  }
}
