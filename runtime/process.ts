/**
 * Utilities for working with multiple processes (`tornado.process`), and the bound sockets
 * they share (`tornado.netutil.bind_sockets`). Tornado's multi-process recipe reads the same:
 *
 *     const sockets = await bindSockets(8888);
 *     await forkProcesses(0);
 *     const server = new HTTPServer(app);
 *     await server.addSockets(sockets);
 *     IOLoop.current().start();
 *
 * Node cannot `fork()` a running program, so a child starts the program again from the top
 * (`platform().processes`): there `bindSockets` hands back the parent's addresses instead of
 * binding, and `forkProcesses` returns the child's task id at once; from then on the child runs
 * exactly as a forked Tornado child would, accepting from the socket the parent bound. In the
 * parent, `forkProcesses` never resolves: it supervises, restarting a child that dies, and ends
 * the process once every child has exited normally, as Tornado's does.
 */
import { genLog } from "./log.js";
import { platform } from "./platform/index.js";
import type { BoundAddress, PlatformProcesses } from "./platform/types.js";

export type { BoundAddress } from "./platform/types.js";

let currentTaskId: number | null = null;
/** Addresses this process bound: the children get them. */
const bound: BoundAddress[] = [];
/** In a child, how many of the parent's addresses `bindSockets` has handed back so far. */
let replayed = 0;

function processes(feature: string): PlatformProcesses {
  const p = platform().processes;
  if (!p) throw new Error(`${feature} needs a platform with processes (Node); the ${platform().name} platform has none`);
  return p;
}

/** The number of CPUs, as `forkProcesses(0)` counts them. */
export function cpuCount(): number {
  return processes("cpuCount").cpuCount();
}

/** This child's task id (0..n-1) once `forkProcesses` returned in it; null in a parent or a single process. */
export function taskId(): number | null {
  return currentTaskId;
}

/**
 * Reserves `port` (0 = a free one) on `address` ("" or omitted = every interface) for
 * `HTTPServer.addSockets`, failing at once if it is taken. Tornado returns one socket per
 * address family; Node's dual-stack listener serves both from one, so the list has one entry.
 * In a child, before `forkProcesses` returned, it hands back the parent's addresses in order.
 */
export async function bindSockets(port: number, address = ""): Promise<BoundAddress[]> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bindSockets: not a port number: ${port}`);
  const p = processes("bindSockets");
  const inherited = p.child?.sockets;
  if (inherited && currentTaskId === null && replayed < inherited.length) {
    const socket = inherited[replayed++]!;
    if ((port !== 0 && socket.port !== port) || socket.host !== address) {
      throw new Error(`bindSockets(${port}, ${JSON.stringify(address)}) in child: the parent bound ${socket.host || "*"}:${socket.port} here; a child must bind what its parent bound, in the same order`);
    }
    return [socket];
  }
  const socket = await p.bind(port, address);
  bound.push(socket);
  return [socket];
}

/**
 * Starts `numProcesses` children (0 or less: one per CPU) and resolves, in each child, with its
 * task id. In the parent it never resolves: a child that exits with an error or is killed is
 * started again under the same task id, up to `maxRestarts` restarts in all (then it rejects:
 * "Too many child restarts, giving up"); once every child has exited normally, the parent
 * exits with status 0.
 */
export function forkProcesses(numProcesses: number, maxRestarts = 100): Promise<number> {
  if (currentTaskId !== null) throw new Error("forkProcesses: this process is already a child");
  const p = processes("forkProcesses");
  if (p.child) {
    currentTaskId = p.child.taskId;
    return Promise.resolve(currentTaskId);
  }
  const count = numProcesses > 0 ? Math.floor(numProcesses) : p.cpuCount();
  genLog.info("process", `Starting ${count} processes`);
  return new Promise<number>((_resolve, reject) => {
    const children = new Map<number, number>();
    let numRestarts = 0;
    let gaveUp = false;
    const startChild = (id: number): void => {
      p.startChild(id, bound, (exit) => {
        if (!children.has(exit.pid) || gaveUp) return;
        children.delete(exit.pid);
        if (exit.signal !== null) {
          genLog.warning("process", `child ${id} (pid ${exit.pid}) killed by signal ${exit.signal}, restarting`);
        } else if (exit.code !== 0) {
          genLog.warning("process", `child ${id} (pid ${exit.pid}) exited with status ${exit.code}, restarting`);
        } else {
          genLog.info("process", `child ${id} (pid ${exit.pid}) exited normally`);
          // All children exited cleanly: end the parent rather than return into the program.
          if (children.size === 0) p.exit(0);
          return;
        }
        numRestarts++;
        if (numRestarts > maxRestarts) {
          gaveUp = true;
          reject(new Error("Too many child restarts, giving up"));
          return;
        }
        startChild(id);
      }).then(
        ({ pid }) => children.set(pid, id),
        (err: unknown) => {
          gaveUp = true;
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    };
    for (let i = 0; i < count; i++) startChild(i);
  });
}
