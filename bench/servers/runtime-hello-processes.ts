/**
 * The talk's hello example served from two processes with Tornado's recipe (tornado/process):
 * the port in argv[2] (0 = a free one) is bound here, `forkProcesses(2)` starts the children,
 * and each child runs the unchanged example, whose `listen(8888)` lands on the shared socket.
 * Prints "listening <port>" from the parent once every child accepts.
 */
import { platform } from "tornado/platform/index";
import { bindSockets, forkProcesses } from "tornado/process";
import { redirectTalkPort } from "./port.js";

const COUNT = 2;
const [socket] = await bindSockets(Number(process.argv[2] ?? 0));
if (platform().processes?.child) {
  const id = await forkProcesses(COUNT);
  // The parent reports once all children listen: each tells it through the IPC channel.
  redirectTalkPort(socket!.port, () => process.send?.({ ready: id }));
  await import("../../slides/examples/hello.js");
} else {
  const cluster = (await import("node:cluster")).default;
  const ready = new Set<number>();
  cluster.on("message", (_worker, message: { ready?: number }) => {
    if (typeof message?.ready === "number" && !ready.has(message.ready)) {
      ready.add(message.ready);
      if (ready.size === COUNT) process.stdout.write(`listening ${socket!.port}\n`);
    }
  });
  await forkProcesses(COUNT);
}
