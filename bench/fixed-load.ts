/**
 * A fixed number of requests, for counts that must not depend on time (callgrind's instructions
 * per request of a real server, bench/server-instructions.sh): `connections` keep-alive
 * connections each send wrk's request, one at a time, until `total` responses have come back
 * (each is counted by its "Hello, world" body). Exits 0 when all are answered.
 *
 *   tsx bench/fixed-load.ts <port> <total> [connections=50]
 */
import * as net from "node:net";

const [port, total, connections] = [Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4] ?? 50)];
if (!(port > 0) || !(total > 0)) throw new Error("usage: fixed-load.ts <port> <total> [connections]");
const REQUEST = Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
const BODY = "Hello, world";
let sent = 0;
let answered = 0;
for (let c = 0; c < connections; c++) {
  const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
  let tail = "";
  const next = () => {
    if (sent < total) {
      sent++;
      socket.write(REQUEST);
    } else socket.end();
  };
  socket.on("connect", next);
  socket.on("data", (chunk: Buffer) => {
    const text = tail + chunk.toString("latin1");
    let from = 0;
    for (let at = text.indexOf(BODY); at >= 0; at = text.indexOf(BODY, from)) {
      from = at + BODY.length;
      answered++;
      next();
    }
    tail = text.slice(from);
    if (answered === total) process.exit(0);
  });
  socket.on("error", (err) => {
    process.stderr.write(`fixed-load: ${err.message}\n`);
    process.exit(1);
  });
}
