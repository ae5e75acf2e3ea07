/**
 * The ceiling for Node on this machine (see /work/shared/reference/performance-notes.md): a raw
 * `node:net` server answering every request head (each `\r\n\r\n`) with one canned response,
 * the same bytes the talk's hello example sends, Date and Etag included. No parsing, no
 * headers, no log: what is left is the kernel's and Node's socket cost per request. The
 * distance from here to a real server is the server's own JavaScript.
 * Prints "listening <port>" once bound; port from argv[2] (0 = ephemeral).
 */
import * as net from "node:net";

const RESPONSE = Buffer.from(
  "HTTP/1.1 200 OK\r\nServer: TornadoServer/6.2\r\nContent-Type: text/html; charset=UTF-8\r\n" +
    "Date: Sun, 29 Nov 2026 23:00:00 GMT\r\nEtag: \"e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8\"\r\n" +
    "Content-Length: 12\r\n\r\nHello, world",
);

/**
 * `RAWNET_ONREAD=1`: reads go into one shared buffer (`net.Socket`'s `onread`), copied out per
 * read, as the runtime's Node platform reads (runtime/platform/node.ts); `npm run bench --
 * --only=read-path` (bench/cases/read-path.ts) measures the two ways against each other.
 */
const onread = process.env.RAWNET_ONREAD === "1";
const shared = Buffer.allocUnsafe(65536);

function serve(socket: net.Socket, read: (onChunk: (chunk: Buffer) => void) => void): void {
  let tail = "";
  read((chunk: Buffer) => {
    // Count heads (wrk sends one at a time; a head split across packets still counts once).
    const text = tail + chunk.toString("latin1");
    let at = text.indexOf("\r\n\r\n");
    let last = 0;
    while (at >= 0) {
      // The bench's response check asks with "Connection: close" and waits for the close.
      const close = text.lastIndexOf("onnection: close", at) >= last;
      socket.write(RESPONSE);
      if (close) {
        socket.end();
        return;
      }
      last = at + 4;
      at = text.indexOf("\r\n\r\n", last);
    }
    tail = text.slice(last);
  });
  socket.on("error", () => socket.destroy());
}

const server = net.createServer({ noDelay: true }, (socket) => serve(socket, (onChunk) => socket.on("data", onChunk)));
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  const handle = (server as net.Server & { _handle: { onconnection: (status: number, handle: unknown) => void } })._handle;
  if (onread) {
    handle.onconnection = (status, clientHandle) => {
      if (status < 0) return;
      let deliver: (chunk: Buffer) => void = () => {};
      const callback = (size: number, buffer: Buffer) => {
        const chunk = Buffer.allocUnsafe(size);
        buffer.copy(chunk, 0, 0, size);
        deliver(chunk);
        return true;
      };
      const socket = new net.Socket({ handle: clientHandle, readable: true, writable: true, onread: { buffer: shared, callback } } as net.SocketConstructorOpts);
      socket.setNoDelay(true);
      serve(socket, (onChunk) => (deliver = onChunk));
    };
  }
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`listening ${address.port}\n`);
});
