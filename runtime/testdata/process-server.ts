/**
 * A program for runtime/process.test.ts: Tornado's multi-process recipe, run as a real process.
 *
 *   node --import tsx runtime/testdata/process-server.ts <recipe|start> <processes> <maxRestarts> <dir>
 *   (the test runs it bundled by esbuild, the same code without a transpiler per process)
 *
 * `recipe` is bindSockets + forkProcesses + addSockets; `start` is HTTPServer.bind + start(n).
 * Each child prints `task <id> pid <pid> port <port>` on stdout once it serves. Routes:
 *   /        {"taskId": .., "pid": ..}
 *   /hold    blocks this process (no accept, no I/O) until <dir>/release exists, after
 *            writing <dir>/held: the other children must serve meanwhile
 *   /exit?code=N   answers, then exits with status N
 *   /reads   (POST) {"taskId", "pid", "bodyBytes", "memory"}: the size of the request body and
 *            of the memory it lives in. A request read whole in one read gives a body that is a
 *            view of the chunk the socket delivered (iostream.ts, web.ts keep one chunk as it
 *            is), so `memory` tells the read paths apart (runtime/platform/node.ts): Node's
 *            stream reads give every read an ArrayBuffer of exactly its size, the shared-buffer
 *            path (`onread`) copies each read into a slice of Node's 8 KiB pool
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HTTPServer } from "../httpserver.js";
import { IOLoop } from "../ioloop.js";
import { bindSockets, forkProcesses, taskId } from "../process.js";
import { Application, RequestHandler } from "../web.js";

const [mode = "recipe", processes = "2", maxRestarts = "100", dir = "."] = process.argv.slice(2);

class WhoHandler extends RequestHandler {
  get() {
    this.write({ taskId: taskId(), pid: process.pid });
  }
}

class HoldHandler extends RequestHandler {
  get() {
    writeFileSync(join(dir, "held"), String(process.pid));
    const nap = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 6000 && !existsSync(join(dir, "release")); i++) Atomics.wait(nap, 0, 0, 5);
    this.write({ taskId: taskId(), pid: process.pid });
  }
}

class ExitHandler extends RequestHandler {
  get() {
    this.write("bye");
    const code = Number(this.getArgument("code", "0"));
    setTimeout(() => process.exit(code), 20);
  }
}

class ReadsHandler extends RequestHandler {
  post() {
    const body = this.request.body;
    this.write({ taskId: taskId(), pid: process.pid, bodyBytes: body.byteLength, memory: body.buffer.byteLength });
  }
}

const app = new Application([
  ["/", WhoHandler],
  ["/hold", HoldHandler],
  ["/exit", ExitHandler],
  ["/reads", ReadsHandler],
]);

let server: HTTPServer;
if (mode === "start") {
  server = new HTTPServer(app);
  await server.bind(0, "127.0.0.1");
  await server.start(Number(processes), Number(maxRestarts));
} else {
  const sockets = await bindSockets(0, "127.0.0.1");
  await forkProcesses(Number(processes), Number(maxRestarts));
  server = new HTTPServer(app);
  await server.addSockets(sockets);
}
process.stdout.write(`task ${taskId()} pid ${process.pid} port ${server.port}\n`);
await IOLoop.current().start();
