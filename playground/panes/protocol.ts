/**
 * What a browser pane's network says, on its way to the program the engine runs.
 *
 * In the in-page engine a pane is a sandboxed frame whose `fetch`, `XMLHttpRequest` and
 * `WebSocket` are replaced by a shim (shim.ts) that sends these requests through a
 * MessagePort to the deck; the deck relays them to the engine's worker, where server.ts makes
 * them on the in-memory network with the runtime's own HTTP and websocket clients, and the
 * events travel back the same way. `id` names one exchange (a request, a websocket) of a pane.
 */

export type PaneRequest =
  | { t: "http"; id: number; method: string; url: string; headers: [string, string][]; body: Uint8Array | null }
  /** Drop an HTTP exchange (fetch's AbortSignal, XHR's abort()): its connection is closed. */
  | { t: "abort"; id: number }
  | { t: "ws-open"; id: number; url: string; protocols: string[] }
  | { t: "ws-send"; id: number; data: string | Uint8Array }
  | { t: "ws-close"; id: number; code: number | null; reason: string | null };

export type PaneEvent =
  | { t: "http-response"; id: number; status: number; statusText: string; headers: [string, string][]; body: Uint8Array; url: string }
  /** No response at all (connection refused, closed early): fetch rejects, XHR fires error. */
  | { t: "http-error"; id: number; message: string }
  | { t: "ws-opened"; id: number; protocol: string }
  | { t: "ws-message"; id: number; data: string | Uint8Array }
  | { t: "ws-closed"; id: number; code: number; reason: string; clean: boolean };

/** Why a pane's channel ended: its program was replaced or stopped, or the watchdog stopped it. */
export type PaneEnd = { kind: "stopped" | "watchdog"; message: string };

/** A pane's way to the engine's program. */
export interface PaneChannel {
  send(request: PaneRequest): void;
  /** The pane went away (closed, reloaded): everything it had open is closed. */
  close(): void;
  /** Whether the program this channel reaches is the engine's running one (not one started ahead). */
  running?(): boolean;
}

const isId = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isPairs = (v: unknown) =>
  Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string");

/**
 * A pane's message checked field by field (the page in the pane is anybody's code): the request,
 * or null for anything else, which the deck drops.
 */
export function validatePaneRequest(value: unknown): PaneRequest | null {
  if (!value || typeof value !== "object") return null;
  const m = value as Record<string, unknown>;
  if (!isId(m.id)) return null;
  switch (m.t) {
    case "http":
      if (typeof m.method !== "string" || !/^[A-Za-z]+$/.test(m.method) || typeof m.url !== "string" || !isPairs(m.headers)) return null;
      if (m.body !== null && !(m.body instanceof Uint8Array)) return null;
      return { t: "http", id: m.id as number, method: m.method.toUpperCase(), url: m.url, headers: m.headers as [string, string][], body: m.body as Uint8Array | null };
    case "abort":
      return { t: "abort", id: m.id as number };
    case "ws-open":
      if (typeof m.url !== "string" || !Array.isArray(m.protocols) || m.protocols.some((p) => typeof p !== "string")) return null;
      return { t: "ws-open", id: m.id as number, url: m.url, protocols: m.protocols as string[] };
    case "ws-send":
      if (typeof m.data !== "string" && !(m.data instanceof Uint8Array)) return null;
      return { t: "ws-send", id: m.id as number, data: m.data };
    case "ws-close":
      if ((m.code !== null && typeof m.code !== "number") || (m.reason !== null && typeof m.reason !== "string")) return null;
      return { t: "ws-close", id: m.id as number, code: m.code as number | null, reason: m.reason as string | null };
    default:
      return null;
  }
}
