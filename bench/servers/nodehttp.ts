/**
 * The baseline: the smallest node:http hello world (no Etag, no Date beyond Node's own).
 * Prints "listening <port>" once bound; port from argv[2] (0 = ephemeral).
 */
import * as http from "node:http";

const body = Buffer.from("Hello, world");
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "Content-Type": "text/html; charset=UTF-8", "Content-Length": body.length });
  res.end(body);
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  const address = server.address() as { port: number };
  process.stdout.write(`listening ${address.port}\n`);
});
