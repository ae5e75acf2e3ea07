/**
 * The websocket bench server on `ws` 8 (the reference): same behaviour as ws-runtime.ts.
 */
import { WebSocketServer, type WebSocket } from "ws";

const wss = new WebSocketServer({ port: Number(process.argv[2] ?? 0), host: "127.0.0.1", path: "/ws" });
wss.on("connection", (ws: WebSocket) => {
  ws.on("message", (data, isBinary) => {
    if (!isBinary && data.toString("latin1", 0, 1) === "B") {
      const text = data.toString();
      for (const c of wss.clients) c.send(text);
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});
wss.on("listening", () => process.stdout.write(`listening ${(wss.address() as { port: number }).port}\n`));
