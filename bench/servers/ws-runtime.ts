/**
 * The websocket bench server on our runtime: /ws echoes every message to its sender, except a
 * message starting with "B", which is broadcast to every open connection (the sender too).
 * Port from argv[2] (0: ephemeral); prints "listening <port>" once bound.
 */
import { HTTPServer } from "tornado/httpserver";
import { setLogSink } from "tornado/log";
import { Application } from "tornado/web";
import { WebSocketHandler } from "tornado/websocket";

const clients = new Set<Bench>();

class Bench extends WebSocketHandler {
  override open(): void {
    clients.add(this);
  }
  override onMessage(message: string | Uint8Array): void {
    // writeMessage's promise needs no catch: a write to a closed connection is pre-handled
    // (as ws's send without a callback, and Tornado's unawaited write_message).
    if (typeof message === "string" && message.startsWith("B")) {
      for (const c of clients) void c.writeMessage(message);
    } else {
      void this.writeMessage(message, typeof message !== "string");
    }
  }
  override onClose(): void {
    clients.delete(this);
  }
}

// No access log: one line per handshake would be all the bench measures while connecting.
setLogSink(() => {});
const server = new HTTPServer(new Application([["/ws", Bench]]));
const port = await server.listen(Number(process.argv[2] ?? 0), "127.0.0.1");
process.stdout.write(`listening ${port}\n`);
