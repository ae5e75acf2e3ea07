/**
 * A program for runtime/web_accesslog.test.ts: an Application on a port of the kernel's choice,
 * its access log on stderr as in a deployment (the Node platform's batched writer). Prints
 * `port <port>` once it serves. Routes:
 *   /cross/<id>   a slow, CPU-bound handler: runs (without yielding) until 5 ms past the next
 *                 second boundary, then answers; its Date header was set before it began
 *   /<anything>   answers "ok"
 */
import { HTTPServer } from "../httpserver.js";
import { IOLoop } from "../ioloop.js";
import { Application, RequestHandler } from "../web.js";

class CrossHandler extends RequestHandler {
  get() {
    const until = (Math.floor(Date.now() / 1000) + 1) * 1000 + 5;
    while (Date.now() < until) {
      // Busy: as a handler computing something, the IOLoop runs nothing else meanwhile.
    }
    this.write("crossed");
  }
}

class OkHandler extends RequestHandler {
  get() {
    this.write("ok");
  }
}

const server = new HTTPServer(
  new Application([
    ["/cross/.*", CrossHandler],
    ["/.*", OkHandler],
  ]),
);
await server.listen(0, "127.0.0.1");
process.stdout.write(`port ${server.port}\n`);
await IOLoop.current().start();
