/**
 * One browser pane in the deck: a frame showing the page the running program serves at a URL.
 *
 * In-page engine: the page is fetched from the program through the engine (a pane channel),
 * its same-origin scripts and style sheets inlined, and shown in an `<iframe sandbox=
 * "allow-scripts allow-forms">` (no allow-same-origin: an opaque origin, so its scripts cannot
 * reach the deck's DOM, storage or cookies) from `srcdoc`, with the shim (shim.ts) run before
 * the page's own scripts and a CSP that allows no network at all. The deck hands the frame one
 * end of a MessageChannel; what the shim sends on it is checked and relayed to the engine.
 *
 * WebContainer engine: the frame simply loads the container's preview URL for the port.
 */
import type { Engine, Program } from "../engine.js";
import { validatePaneRequest, type PaneChannel, type PaneEnd, type PaneEvent } from "./protocol.js";
import { markPaneWindow } from "./guard.js";
import { shimScript } from "./shim.js";

/** The pane's page may run scripts and submit forms (to its own handlers); nothing else. */
export const PANE_SANDBOX = "allow-scripts allow-forms";
/** No network for the page itself: everything it reaches goes through the shim. */
export const PANE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:; media-src data: blob:";

/** Ids the deck itself uses on a pane's channel (the page and its subresources); the shim counts from 1. */
const HOST_IDS = 2 ** 30;

/** `ready`: loaded ahead, on a slide not shown yet; it turns `live` when the slide is entered. */
export type PaneState = "idle" | "loading" | "ready" | "live" | "ended" | "closed" | "failed";

export class PaneFrame {
  readonly frame: HTMLIFrameElement;
  private channel: PaneChannel | null = null;
  private port: MessagePort | null = null;
  private hostRequests = new Map<number, (event: PaneEvent) => void>();
  private nextHostId = HOST_IDS;
  private generation = 0;
  state: PaneState = "idle";
  /** Told of every state change, with a sentence for the pane's notice. */
  onState: (state: PaneState, message: string) => void = () => {};
  /** Whether the pane is on screen (its slide shown): a page loaded while not is only `ready`. */
  visible: () => boolean = () => true;

  constructor(
    readonly url: string,
    private readonly title: string,
  ) {
    this.frame = document.createElement("iframe");
    this.frame.title = title;
    this.frame.className = "pane-frame";
  }

  private setState(state: PaneState, message = ""): void {
    this.state = state;
    this.frame.dataset.state = state;
    this.onState(state, message);
  }

  /**
   * Load (or reload) the page from `engine`: whatever the previous load had open is closed first.
   * `ahead`: from that program as the engine started it ahead (in-page), before its slide is shown.
   */
  async load(engine: Engine, ahead?: Program): Promise<void> {
    const generation = ++this.generation;
    this.close(false);
    this.setState("loading", "loading…");
    try {
      const target = new URL(this.url);
      if (engine.previewUrl) {
        const preview = engine.previewUrl(Number(target.port || 80));
        if (!preview) throw new Error(`nothing is listening on port ${target.port || 80}`);
        this.frame.removeAttribute("srcdoc");
        // A cross-origin preview: it cannot reach the deck whatever the sandbox allows.
        this.frame.setAttribute("sandbox", `${PANE_SANDBOX} allow-same-origin`);
        this.frame.src = new URL(target.pathname + target.search, preview).href;
        this.frame.onload = () => generation === this.generation && this.setState("live");
        return;
      }
      if (!engine.openPane) throw new Error(`the ${engine.kind} engine has no browser panes`);
      const channel = await engine.openPane(
        (event) => this.deliver(event),
        (end) => this.ended(generation, end),
        ahead,
      );
      if (generation !== this.generation) return channel.close();
      this.channel = channel;
      const { port1, port2 } = new MessageChannel();
      this.port = port1;
      port1.onmessage = (event) => {
        const request = validatePaneRequest(event.data);
        if (request && request.id < HOST_IDS) channel.send(request);
      };
      const page = await this.get(target.href, "text/html");
      if (generation !== this.generation) return;
      const doc = await this.document(page, target);
      if (generation !== this.generation) return;
      this.frame.removeAttribute("src");
      this.frame.setAttribute("sandbox", PANE_SANDBOX);
      let loads = 0;
      this.frame.onload = () => {
        if (generation !== this.generation) return;
        if (++loads > 1) {
          // The page reloaded or navigated itself: its shim is gone with the old document.
          void this.load(engine, ahead && !this.attached ? ahead : undefined);
          return;
        }
        const win = this.frame.contentWindow;
        if (!win) return;
        markPaneWindow(win);
        win.postMessage({ type: "tornado-pane-port" }, "*", [port2]);
        this.setState(this.visible() ? "live" : "ready");
      };
      this.frame.srcdoc = doc;
    } catch (error) {
      if (generation === this.generation) this.setState("failed", (error as Error).message);
    }
  }

  /** Whether the page shown (or loading) talks to the engine's running program. */
  get attached(): boolean {
    return this.channel?.running?.() ?? false;
  }

  /** The slide is shown: a page loaded ahead is on screen now. */
  reveal(): void {
    if (this.state === "ready") this.setState("live");
  }

  /** Close the pane's connections (the program sees its clients leave); `forget` leaves it closed. */
  close(forget = true): void {
    if (forget) {
      this.generation++;
      this.frame.removeAttribute("srcdoc");
      this.frame.src = "about:blank";
      this.setState("closed", "closed");
    }
    this.channel?.close();
    this.channel = null;
    this.port?.close();
    this.port = null;
    for (const settle of this.hostRequests.values()) settle({ t: "http-error", id: 0, message: "the pane was closed" });
    this.hostRequests.clear();
  }

  private ended(generation: number, end: PaneEnd): void {
    if (generation !== this.generation) return;
    this.channel = null;
    this.port?.close();
    this.port = null;
    this.setState("ended", end.message);
  }

  private deliver(event: PaneEvent): void {
    if (event.id >= HOST_IDS) {
      const settle = this.hostRequests.get(event.id);
      this.hostRequests.delete(event.id);
      settle?.(event);
    } else this.port?.postMessage(event);
  }

  /** GET `url` from the program for the deck itself (the page, a script, a style sheet). */
  private get(url: string, accept: string): Promise<{ status: number; body: string }> {
    const channel = this.channel;
    if (!channel) return Promise.reject(new Error("the pane is closed"));
    const id = this.nextHostId++;
    return new Promise((resolve, reject) => {
      this.hostRequests.set(id, (event) => {
        if (event.t === "http-response") resolve({ status: event.status, body: new TextDecoder().decode(event.body) });
        else reject(new Error(event.t === "http-error" ? `${url}: ${event.message}` : `${url}: unexpected ${event.t}`));
      });
      channel.send({ t: "http", id, method: "GET", url, headers: [["Accept", accept]], body: null });
    });
  }

  /** The page as the frame's document: the CSP, a base URL, the shim first, its own scripts and styles inlined. */
  private async document(page: { status: number; body: string }, target: URL): Promise<string> {
    const doc = new DOMParser().parseFromString(page.body, "text/html");
    const sameOrigin = (ref: string | null) => {
      if (!ref) return null;
      const url = new URL(ref, target);
      return url.origin === target.origin ? url.href : null;
    };
    for (const script of doc.querySelectorAll<HTMLScriptElement>("script[src]")) {
      const src = sameOrigin(script.getAttribute("src"));
      if (!src) continue;
      const got = await this.get(src, "*/*");
      script.removeAttribute("src");
      script.textContent = got.body;
    }
    for (const link of doc.querySelectorAll<HTMLLinkElement>('link[rel~="stylesheet"][href]')) {
      const href = sameOrigin(link.getAttribute("href"));
      if (!href) continue;
      const style = doc.createElement("style");
      style.textContent = (await this.get(href, "text/css")).body;
      link.replaceWith(style);
    }
    const csp = doc.createElement("meta");
    csp.httpEquiv = "Content-Security-Policy";
    csp.content = PANE_CSP;
    const base = doc.createElement("base");
    base.href = target.href;
    const shim = doc.createElement("script");
    shim.textContent = shimScript(target.href);
    doc.head.prepend(csp, base, shim);
    return `<!DOCTYPE html>\n${doc.documentElement.outerHTML}`;
  }
}
