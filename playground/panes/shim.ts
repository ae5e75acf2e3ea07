/**
 * The script a browser pane runs before the page's own: `fetch`, `XMLHttpRequest` and
 * `WebSocket` replaced by versions that go to the engine's program through the MessagePort the
 * deck hands the frame (protocol.ts), instead of to the network.
 *
 * `installPaneShim` is injected as its source text (`String(installPaneShim)`), so it must be
 * self-contained: no imports, nothing from this module's scope. Requests made before the port
 * arrives (a page's first script runs before the frame's load event) wait for it.
 */
import type { PaneEvent, PaneRequest } from "./protocol.js";

/** The window the shim replaces things in (a frame's `window`; a stand-in in unit tests). */
export interface ShimWindow {
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  parent: unknown;
  fetch?: unknown;
  XMLHttpRequest?: unknown;
  WebSocket?: unknown;
}

export function installPaneShim(w: ShimWindow, base: string): void {
  let port: MessagePort | null = null;
  const queue: PaneRequest[] = [];
  const handlers = new Map<number, (event: PaneEvent) => void>();
  let nextId = 1;
  const send = (message: PaneRequest) => {
    if (port) port.postMessage(message);
    else queue.push(message);
  };
  w.addEventListener("message", (event: MessageEvent) => {
    // Only the deck (the frame's parent) hands out the port, once.
    if (port || event.source !== w.parent || !event.data || event.data.type !== "tornado-pane-port" || !event.ports[0]) return;
    port = event.ports[0];
    port.onmessage = (e: MessageEvent<PaneEvent>) => handlers.get(e.data.id)?.(e.data);
    for (const message of queue.splice(0)) port.postMessage(message);
  });
  const resolve = (url: string | URL) => new URL(String(url), base).href;
  const makeEvent = (type: string, init: Record<string, unknown>) => {
    const event = new Event(type);
    for (const key of Object.keys(init)) Object.defineProperty(event, key, { value: init[key] });
    return event;
  };
  /** `onX` properties that behave as the DOM's: one listener, replaced on assignment. */
  const eventHandlerProperties = (proto: object, names: string[]) => {
    for (const name of names) {
      const key = Symbol(name);
      Object.defineProperty(proto, "on" + name, {
        configurable: true,
        get(this: Record<symbol, unknown>) {
          return this[key] ?? null;
        },
        set(this: EventTarget & Record<symbol, EventListener | null>, fn: EventListener | null) {
          if (this[key]) this.removeEventListener(name, this[key]!);
          this[key] = typeof fn === "function" ? fn : null;
          if (this[key]) this.addEventListener(name, this[key]!);
        },
      });
    }
  };
  const nullBody = (status: number) => status === 101 || status === 204 || status === 205 || status === 304;

  // ---- fetch ------------------------------------------------------------------------------
  w.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? new Request(input, init) : new Request(resolve(input), init);
    const body = request.method === "GET" || request.method === "HEAD" ? null : new Uint8Array(await request.arrayBuffer());
    const id = nextId++;
    return new Promise<Response>((done, fail) => {
      const signal = init?.signal ?? (input instanceof Request ? input.signal : null);
      const abort = () => {
        handlers.delete(id);
        send({ t: "abort", id });
        fail(new DOMException("The operation was aborted.", "AbortError"));
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      handlers.set(id, (event) => {
        handlers.delete(id);
        signal?.removeEventListener("abort", abort);
        if (event.t === "http-error") return fail(new TypeError(`Failed to fetch (${event.message})`));
        if (event.t !== "http-response") return;
        const response = new Response(nullBody(event.status) ? null : (event.body as BodyInit), {
          status: event.status,
          statusText: event.statusText,
          headers: event.headers,
        });
        Object.defineProperty(response, "url", { value: event.url });
        done(response);
      });
      send({ t: "http", id, method: request.method, url: request.url, headers: [...request.headers], body });
    });
  };

  // ---- XMLHttpRequest ---------------------------------------------------------------------
  class PaneXMLHttpRequest extends EventTarget {
    static readonly UNSENT = 0;
    static readonly OPENED = 1;
    static readonly HEADERS_RECEIVED = 2;
    static readonly LOADING = 3;
    static readonly DONE = 4;
    readyState = 0;
    status = 0;
    statusText = "";
    responseType: XMLHttpRequestResponseType = "";
    response: unknown = "";
    responseText = "";
    responseURL = "";
    timeout = 0;
    withCredentials = false;
    upload = new EventTarget();
    private method = "GET";
    private url = "";
    private headers: [string, string][] = [];
    private responseHeaders: [string, string][] = [];
    private id = 0;

    open(method: string, url: string | URL): void {
      this.method = method.toUpperCase();
      this.url = resolve(url);
      this.headers = [];
      this.setState(1);
    }
    setRequestHeader(name: string, value: string): void {
      this.headers.push([name, value]);
    }
    overrideMimeType(): void {}
    getResponseHeader(name: string): string | null {
      const values = this.responseHeaders.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
      return values.length ? values.join(", ") : null;
    }
    getAllResponseHeaders(): string {
      return this.responseHeaders.map(([k, v]) => `${k.toLowerCase()}: ${v}\r\n`).join("");
    }
    send(body?: Document | XMLHttpRequestBodyInit | null): void {
      const id = (this.id = nextId++);
      const request = new Request(this.url, {
        method: this.method,
        headers: this.headers,
        ...(body != null && this.method !== "GET" && this.method !== "HEAD" ? { body: body as BodyInit } : {}),
      });
      handlers.set(id, (event) => {
        handlers.delete(id);
        if (event.t === "http-error") {
          this.setState(4);
          this.fire("error");
          this.fire("loadend");
          return;
        }
        if (event.t !== "http-response") return;
        this.status = event.status;
        this.statusText = event.statusText;
        this.responseHeaders = event.headers;
        this.responseURL = event.url;
        this.setState(2);
        this.setState(3);
        const text = new TextDecoder().decode(event.body);
        this.responseText = this.responseType === "" || this.responseType === "text" ? text : "";
        this.response =
          this.responseType === "json" ? safeJson(text)
          : this.responseType === "arraybuffer" ? event.body.slice().buffer
          : this.responseType === "blob" ? new Blob([event.body.slice()])
          : text;
        this.setState(4);
        this.fire("load");
        this.fire("loadend");
      });
      void request.arrayBuffer().then((bytes) =>
        send({ t: "http", id, method: request.method, url: request.url, headers: [...request.headers], body: bytes.byteLength || (this.method !== "GET" && this.method !== "HEAD") ? new Uint8Array(bytes) : null }),
      );
    }
    abort(): void {
      if (!handlers.delete(this.id)) return;
      send({ t: "abort", id: this.id });
      this.setState(4);
      this.fire("abort");
      this.fire("loadend");
      this.readyState = 0;
    }
    private setState(state: number): void {
      this.readyState = state;
      this.fire("readystatechange");
    }
    private fire(type: string): void {
      this.dispatchEvent(makeEvent(type, {}));
    }
  }
  const safeJson = (text: string) => {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  };
  eventHandlerProperties(PaneXMLHttpRequest.prototype, ["readystatechange", "load", "error", "abort", "loadend", "loadstart", "progress", "timeout"]);
  w.XMLHttpRequest = PaneXMLHttpRequest;

  // ---- WebSocket --------------------------------------------------------------------------
  class PaneWebSocket extends EventTarget {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    readonly CONNECTING = 0;
    readonly OPEN = 1;
    readonly CLOSING = 2;
    readonly CLOSED = 3;
    readonly url: string;
    readyState = 0;
    protocol = "";
    extensions = "";
    bufferedAmount = 0;
    binaryType: BinaryType = "blob";
    private readonly id: number;

    constructor(url: string | URL, protocols?: string | string[]) {
      super();
      const u = new URL(String(url), base.replace(/^http/, "ws"));
      if (u.protocol === "http:" || u.protocol === "https:") u.protocol = u.protocol === "http:" ? "ws:" : "wss:";
      if (u.protocol !== "ws:" && u.protocol !== "wss:") throw new DOMException(`The URL's scheme must be either 'ws' or 'wss'. '${u.protocol}' is not allowed.`, "SyntaxError");
      this.url = u.href;
      const id = (this.id = nextId++);
      handlers.set(id, (event) => {
        if (event.t === "ws-opened") {
          this.readyState = 1;
          this.protocol = event.protocol;
          this.dispatchEvent(makeEvent("open", {}));
        } else if (event.t === "ws-message") {
          if (this.readyState !== 1) return;
          const data =
            typeof event.data === "string" ? event.data
            : this.binaryType === "arraybuffer" ? event.data.slice().buffer
            : new Blob([event.data.slice()]);
          this.dispatchEvent(makeEvent("message", { data, origin: new URL(this.url).origin, lastEventId: "", source: null, ports: [] }));
        } else if (event.t === "ws-closed") {
          handlers.delete(id);
          const wasOpen = this.readyState === 1 || this.readyState === 2;
          this.readyState = 3;
          if (!event.clean || !wasOpen) this.dispatchEvent(makeEvent("error", {}));
          this.dispatchEvent(makeEvent("close", { code: event.code, reason: event.reason, wasClean: event.clean }));
        }
      });
      send({ t: "ws-open", id, url: this.url, protocols: protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols] });
    }
    send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (this.readyState === 0) throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", "InvalidStateError");
      if (this.readyState !== 1) return;
      if (typeof data === "string") send({ t: "ws-send", id: this.id, data });
      else if (data instanceof Blob) void data.arrayBuffer().then((b) => send({ t: "ws-send", id: this.id, data: new Uint8Array(b) }));
      else if (ArrayBuffer.isView(data)) send({ t: "ws-send", id: this.id, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
      else send({ t: "ws-send", id: this.id, data: new Uint8Array(data as ArrayBuffer).slice() });
    }
    close(code?: number, reason?: string): void {
      if (this.readyState >= 2) return;
      this.readyState = 2;
      send({ t: "ws-close", id: this.id, code: code ?? null, reason: reason ?? null });
    }
  }
  eventHandlerProperties(PaneWebSocket.prototype, ["open", "message", "error", "close"]);
  w.WebSocket = PaneWebSocket;
}

/** The shim as a script for the pane's document, bound to the page's URL. */
export function shimScript(base: string): string {
  return `(${String(installPaneShim)})(window, ${JSON.stringify(base).replace(/</g, "\\u003c")});`;
}
