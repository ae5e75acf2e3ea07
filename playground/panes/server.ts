/**
 * The engine's side of browser panes: each pane's requests and websockets made on the network
 * the program listens on (the in-memory one in the in-page engine's worker), with the runtime's
 * own clients (`AsyncHTTPClient`, `websocketConnect`), so the program meets a pane as it would
 * meet a browser: a connection per request, a websocket handshake, a close when the pane goes.
 *
 * One `AsyncHTTPClient` per request: aborting the request (or closing the pane) closes exactly
 * that connection, which the program sees as its client leaving (`onConnectionClose`: a
 * long-poll handler drops its waiter).
 */
import { AsyncHTTPClient, HTTPRequest } from "tornado/httpclient";
import { websocketConnect, type WebSocketClientConnection } from "tornado/websocket";
import type { PaneEvent, PaneRequest } from "./protocol.js";

interface Socket {
  connection: WebSocketClientConnection | null;
  /** Closed by the pane before the handshake finished: close as soon as it does. */
  closing: { code: number | null; reason: string | null } | null;
  /** Sends the pane made before the handshake finished (a page may send in its open handler only, but be lenient). */
  queued: Array<string | Uint8Array>;
  ended: boolean;
}

interface Session {
  requests: Map<number, AsyncHTTPClient>;
  sockets: Map<number, Socket>;
}

export class PaneServer {
  private readonly sessions = new Map<number, Session>();

  constructor(private readonly emit: (session: number, event: PaneEvent) => void) {}

  private session(id: number): Session {
    let s = this.sessions.get(id);
    if (!s) this.sessions.set(id, (s = { requests: new Map(), sockets: new Map() }));
    return s;
  }

  handle(sessionId: number, request: PaneRequest): void {
    const session = this.session(sessionId);
    const emit = (event: PaneEvent) => {
      if (this.sessions.get(sessionId) === session) this.emit(sessionId, event);
    };
    switch (request.t) {
      case "http":
        void this.fetch(session, request, emit);
        return;
      case "abort":
        session.requests.get(request.id)?.close();
        session.requests.delete(request.id);
        return;
      case "ws-open":
        void this.open(session, request, emit);
        return;
      case "ws-send": {
        const socket = session.sockets.get(request.id);
        if (!socket || socket.ended) return;
        if (socket.connection) void socket.connection.writeMessage(request.data, typeof request.data !== "string").catch(() => {});
        else socket.queued.push(request.data);
        return;
      }
      case "ws-close": {
        const socket = session.sockets.get(request.id);
        if (!socket) return;
        if (socket.connection) socket.connection.close(request.code, request.reason);
        else socket.closing = { code: request.code, reason: request.reason };
        return;
      }
    }
  }

  private async fetch(session: Session, r: Extract<PaneRequest, { t: "http" }>, emit: (event: PaneEvent) => void): Promise<void> {
    const client = new AsyncHTTPClient();
    session.requests.set(r.id, client);
    try {
      const hasBody = r.body !== null && r.body.length > 0;
      const request = new HTTPRequest(r.url, {
        method: r.method,
        headers: r.headers,
        ...(hasBody ? { body: r.body! } : {}),
        allowNonstandardMethods: true,
        // A browser's request has no deadline; a long poll waits as long as the server makes it.
        requestTimeout: 0,
        // The pane gets the bytes as sent, as a browser's network stack would hand them on.
        decompressResponse: false,
      });
      const response = await client.fetch(request, { raiseError: false });
      if (!session.requests.has(r.id)) return; // aborted meanwhile
      if (response.code === 599) {
        emit({ t: "http-error", id: r.id, message: response.error?.message ?? "no response" });
        return;
      }
      emit({
        t: "http-response",
        id: r.id,
        status: response.code,
        statusText: response.reason,
        headers: [...response.headers.getAll()].map(([k, v]) => [k, v] as [string, string]),
        body: response.body,
        url: response.effectiveUrl,
      });
    } catch (error) {
      if (session.requests.has(r.id)) emit({ t: "http-error", id: r.id, message: (error as Error).message ?? String(error) });
    } finally {
      session.requests.delete(r.id);
      client.close();
    }
  }

  private async open(session: Session, r: Extract<PaneRequest, { t: "ws-open" }>, emit: (event: PaneEvent) => void): Promise<void> {
    const socket: Socket = { connection: null, closing: null, queued: [], ended: false };
    session.sockets.set(r.id, socket);
    const end = (code: number, reason: string, clean: boolean) => {
      if (socket.ended) return;
      socket.ended = true;
      session.sockets.delete(r.id);
      emit({ t: "ws-closed", id: r.id, code, reason, clean });
    };
    try {
      const connection = await websocketConnect(r.url.replace(/^http/, "ws"), {
        subprotocols: r.protocols.length ? r.protocols : null,
        onMessageCallback: (message) => {
          if (message !== null) emit({ t: "ws-message", id: r.id, data: message });
          else end(connection.closeCode ?? 1006, connection.closeReason ?? "", connection.closeCode !== null);
        },
      });
      socket.connection = connection;
      if (socket.ended) {
        connection.close();
        return;
      }
      emit({ t: "ws-opened", id: r.id, protocol: connection.selectedSubprotocol ?? "" });
      for (const data of socket.queued.splice(0)) void connection.writeMessage(data, typeof data !== "string").catch(() => {});
      if (socket.closing) connection.close(socket.closing.code, socket.closing.reason);
    } catch {
      end(1006, "", false);
    }
  }

  /** The pane went away: close every connection it had (the program sees its clients leave). */
  close(sessionId: number): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    for (const client of session.requests.values()) client.close();
    for (const socket of session.sockets.values()) {
      socket.ended = true;
      socket.connection?.close(1001, "the pane went away");
    }
  }

  /** How many panes have something open (for tests). */
  get openSessions(): number {
    return this.sessions.size;
  }
}
