/**
 * A Node-backed implementation of the `Container` slice of the WebContainer API.
 *
 * StackBlitz's servers are unreachable here, so `WebContainer.boot()` cannot run. Everything
 * the engine does after the boot is exercised against this instead: files are written to a
 * real temporary directory, `spawn` starts real `node` processes (stdout and stderr merged
 * into one string stream, like the container's PTY), and 'port' events come from probing,
 * as the WebContainer reports servers: every few milliseconds the listening TCP sockets in
 * /proc/net/tcp{,6} are matched against the socket inodes the spawned processes hold.
 * Linux only (that is where the tests run).
 *
 * Each container has a localhost of its own, as a WebContainer has: a loopback address
 * (127.a.b.c) that `loopback.mjs`, preloaded into every spawned process, puts in place of
 * localhost and of "every interface" when programs listen and connect. The talk's programs keep
 * their port 8888, and containers can run side by side, and beside anything else on 8888.
 *
 * A port's URL is a local preview server standing in for WebContainer's server-ready URL (its
 * `https://<id>--<port>--<hash>.local-corp.webcontainer.io/`): another origin than the deck,
 * forwarding every connection byte for byte to the program's port (HTTP, websocket upgrades,
 * long polls alike), and closing the program's side when the browser's side closes, as the
 * real preview does when a preview frame goes away. How the real one treats a closed frame's
 * connections, its headers and its origin checks are not verified here (no StackBlitz).
 */
import { spawn as spawnChild, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer, connect, type Server, type Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import type {
  Container,
  ContainerProcess,
  ContainerSpawnOptions,
  ErrorListener,
  FileSystemTree,
  PortListener,
} from "./container.js";

/** Listening TCP ports by socket inode, from /proc/net/tcp and tcp6. */
function listeningInodes(): Map<string, number> {
  const out = new Map<string, number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== "0A") continue; // 0A = LISTEN
      const port = parseInt(cols[1]!.split(":")[1]!, 16);
      out.set(cols[9]!, port);
    }
  }
  return out;
}

function socketInodes(pid: number): string[] {
  try {
    const fds = readdirSync(`/proc/${pid}/fd`);
    const inodes: string[] = [];
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.push(m[1]!);
      } catch {
        // fd closed meanwhile
      }
    }
    return inodes;
  } catch {
    return [];
  }
}

export interface NodeContainer extends Container {
  /** The container's localhost: the loopback address its programs listen on and connect to. */
  readonly host: string;
  /** Kill every process and delete the workdir. */
  teardown(): Promise<void>;
}

export interface NodeContainerOptions {
  /** Probe interval for 'port' events, ms. */
  probeMs?: number;
}

/** Loopback addresses handed out by this process: 127.a.b.c, a.b from the pid, c counting. */
let containersBooted = 0;
function containerHost(): string {
  const n = containersBooted++ % 254;
  const id = process.pid % (254 * 254);
  return `127.${1 + Math.floor(id / 254)}.${1 + (id % 254)}.${1 + n}`;
}
const loopbackPreload = new URL("./loopback.mjs", import.meta.url).href;

export function bootNodeContainer(options: NodeContainerOptions = {}): NodeContainer {
  const workdir = mkdtempSync(join(tmpdir(), "webcontainer-"));
  const host = containerHost();
  const children = new Set<ChildProcess>();
  const portListeners = new Set<PortListener>();
  const errorListeners = new Set<ErrorListener>();
  let open = new Set<number>();
  const probeMs = options.probeMs ?? 10;

  const previews = new Map<number, { server: Server; sockets: Set<Socket>; url: Promise<string> }>();
  /** The preview server for `port`: each connection piped to the program's port. */
  const preview = (port: number) => {
    const sockets = new Set<Socket>();
    const server = createServer((browser) => {
      const program = connect(port, host);
      for (const s of [browser, program]) {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => {});
      }
      browser.pipe(program);
      program.pipe(browser);
      browser.on("close", () => program.destroy());
      program.on("close", () => browser.destroy());
    });
    const url = new Promise<string>((done) => server.listen(0, "127.0.0.1", () => done(`http://127.0.0.1:${(server.address() as { port: number }).port}/`)));
    server.unref();
    previews.set(port, { server, sockets, url });
    return url;
  };
  const closePreview = (port: number) => {
    const p = previews.get(port);
    if (!p) return;
    previews.delete(port);
    p.server.close();
    for (const s of p.sockets) s.destroy();
  };

  const probe = () => {
    const listening = listeningInodes();
    const now = new Set<number>();
    for (const child of children) {
      if (child.pid === undefined) continue;
      for (const inode of socketInodes(child.pid)) {
        const port = listening.get(inode);
        if (port !== undefined) now.add(port);
      }
    }
    for (const port of now) {
      if (open.has(port)) continue;
      // 'open' once the preview server listens, as WebContainer's comes with its URL.
      void preview(port).then((url) => {
        if (open.has(port) && previews.has(port)) for (const l of portListeners) l(port, "open", url);
      });
    }
    for (const port of open) {
      if (now.has(port)) continue;
      const url = previews.get(port)?.url;
      closePreview(port);
      const closed = (u: string) => {
        for (const l of portListeners) l(port, "close", u);
      };
      if (url) void url.then(closed);
      else closed(`http://${host}:${port}/`);
    }
    open = now;
  };
  const timer = setInterval(probe, probeMs);
  timer.unref();

  const inWorkdir = (path: string) => resolve(workdir, path.replace(/^\/+/, ""));
  // File operations still running when teardown starts (a caller that goes away mid-mount)
  // finish before the workdir is removed; later ones are refused.
  let tornDown = false;
  const pending = new Set<Promise<unknown>>();
  const track = <T>(op: () => Promise<T>): Promise<T> => {
    if (tornDown) return Promise.reject(new Error("node-backed container: torn down"));
    const p = op();
    pending.add(p);
    void p.then(
      () => pending.delete(p),
      () => pending.delete(p),
    );
    return p;
  };

  async function writeTree(tree: FileSystemTree, dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    for (const [name, node] of Object.entries(tree)) {
      const path = join(dir, name);
      if ("directory" in node) await writeTree(node.directory, path);
      else if ("file" in node && "contents" in node.file) await writeFile(path, node.file.contents);
      else throw new Error(`node-backed container: symlinks are not supported (${path})`);
    }
  }

  return {
    workdir,
    host,
    mount(tree, mountOptions) {
      return track(() => writeTree(tree, inWorkdir(mountOptions?.mountPoint ?? ".")));
    },
    async spawn(command: string, args: string[], spawnOptions: ContainerSpawnOptions = {}): Promise<ContainerProcess> {
      if (tornDown) throw new Error("node-backed container: torn down");
      const env: Record<string, string> = { ...(process.env as Record<string, string>) };
      for (const [k, v] of Object.entries(spawnOptions.env ?? {})) env[k] = String(v);
      env.NODE_CONTAINER_HOST = host;
      env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --import=${loopbackPreload}`.trim();
      const child = spawnChild(command === "node" ? process.execPath : command, args, {
        cwd: inWorkdir(spawnOptions.cwd ?? "."),
        env,
        stdio: ["pipe", "pipe", "pipe"],
      });
      // A process that exits before reading what was typed must not fail the writer.
      child.stdin!.on("error", () => {});
      children.add(child);
      const exit = new Promise<number>((resolveExit) => {
        child.on("error", (error) => {
          for (const l of errorListeners) l({ message: error.message });
          resolveExit(127);
        });
        child.on("close", (code, signal) => {
          children.delete(child);
          probe();
          resolveExit(code ?? (signal === "SIGKILL" ? 137 : 143));
        });
      });
      const output = new ReadableStream<string>({
        start(controller) {
          if (spawnOptions.output === false) {
            child.stdout!.resume();
            child.stderr!.resume();
          } else {
            child.stdout!.setEncoding("utf8").on("data", (d: string) => controller.enqueue(d));
            child.stderr!.setEncoding("utf8").on("data", (d: string) => controller.enqueue(d));
          }
          void exit.then(() => controller.close());
        },
      });
      const input = new WritableStream<string>({
        write: (chunk) => {
          if (child.stdin!.writable) child.stdin!.write(chunk);
        },
        close: () => void child.stdin!.end(),
      });
      return { exit, output, input, kill: () => void child.kill("SIGKILL") };
    },
    on(event: "port" | "error", listener: PortListener | ErrorListener): () => void {
      const set = (event === "port" ? portListeners : errorListeners) as Set<typeof listener>;
      set.add(listener);
      return () => void set.delete(listener);
    },
    fs: {
      mkdir(path, mkdirOptions) {
        return track(async () => {
          await mkdir(inWorkdir(path), mkdirOptions);
          return path;
        });
      },
      rm(path, rmOptions) {
        return track(() => rm(inWorkdir(path), rmOptions));
      },
      readFile(path, encoding) {
        return track(() => readFile(inWorkdir(path), encoding === "utf-8" ? "utf8" : encoding));
      },
      writeFile(path, data) {
        return track(async () => {
          await mkdir(dirname(inWorkdir(path)), { recursive: true });
          await writeFile(inWorkdir(path), data);
        });
      },
    },
    async teardown() {
      tornDown = true;
      clearInterval(timer);
      for (const port of [...previews.keys()]) closePreview(port);
      await Promise.allSettled([...pending]);
      const exits = [...children].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("close", r))));
      for (const c of children) c.kill("SIGKILL");
      await Promise.all(exits);
      await rm(workdir, { recursive: true, force: true });
    },
  } as NodeContainer;
}
