/**
 * node:http doing what Tornado does for every 200: a SHA-1 Etag of the body (and a Date
 * header, which node:http adds itself). The fair "framework work" baseline for our runtime.
 * Prints "listening <port>" once bound.
 */
import { createHash } from "node:crypto";
import * as http from "node:http";

const server = http.createServer((_req, res) => {
  const body = Buffer.from("Hello, world");
  res.writeHead(200, {
    Server: "node",
    "Content-Type": "text/html; charset=UTF-8",
    Etag: `"${createHash("sha1").update(body).digest("hex")}"`,
    "Content-Length": body.length,
  });
  res.end(body);
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  const address = server.address() as { port: number };
  process.stdout.write(`listening ${address.port}\n`);
});
