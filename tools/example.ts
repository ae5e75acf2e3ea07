/**
 * npm run example -- <name>: run one of the talk's programs (slides/examples/<name>.ts) as the
 * talk does: `python hello.py`, then `curl -i http://localhost:8888` in another terminal.
 *
 * The program runs unchanged, in this process, with slides/examples as the working directory
 * so its relative template paths resolve. It hard-codes port 8888 like the talk; `PORT=<n>`
 * (or `--port <n>`, 0 = any free port) serves it elsewhere by swapping the runtime's platform
 * for one whose `listen` maps 8888 to that port (the runtime's own `setPlatform` hook: nothing
 * in the runtime or the example knows about it). Where it listens is announced on stderr.
 *
 * `--processes <n>` serves it from n processes (0 = one per CPU) with Tornado's recipe: the
 * port is bound here (`bindSockets`), `forkProcesses(n)` starts the children, and each child
 * runs the program, whose `listen(8888)` lands on the shared socket.
 *
 *   npm run example -- hello
 *   PORT=0 npm run example -- json
 *   npm run example -- hello --processes 2
 */
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { platform } from "tornado/platform/index";
import { bindSockets, cpuCount, forkProcesses } from "tornado/process";
import { redirectTalkPort, TALK_PORT } from "../bench/servers/port.js";

const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), "../slides/examples");

/** The talk's programs: top-level .ts files, as slides/examples/catalog.ts's isProgram decides. */
export function availableExamples(dir = EXAMPLES): string[] {
  const notPrograms = new Set(["basics.ts", "catalog.ts"]);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts") && !notPrograms.has(f))
    .map((f) => f.replace(/\.ts$/, ""))
    .sort();
}

interface Options {
  name: string | null;
  port: number | null;
  /** null: serve from this process alone. */
  processes: number | null;
  error: string | null;
}

function parse(argv: string[]): Options {
  let name: string | null = null;
  let port: number | null = null;
  let processes: number | null = null;
  let error: string | null = null;
  const setProcesses = (text: string | undefined) => {
    if (text === undefined || !/^\d+$/.test(text) || Number(text) > 256) error = `not a number of processes (0-256, 0 = one per CPU): ${text ?? "(missing)"}`;
    else processes = Number(text);
  };
  const setPort = (text: string | undefined) => {
    const n = Number(text);
    if (text === undefined || !/^\d+$/.test(text) || n > 65535) error = `not a port number: ${text ?? "(missing)"}`;
    else port = n;
  };
  if (process.env.PORT !== undefined && process.env.PORT !== "") setPort(process.env.PORT);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--port") setPort(argv[++i]);
    else if (arg.startsWith("--port=")) setPort(arg.slice(7));
    else if (arg === "--processes") setProcesses(argv[++i]);
    else if (arg.startsWith("--processes=")) setProcesses(arg.slice(12));
    else if (arg.startsWith("-")) error = `unknown option ${arg}`;
    else if (name === null) name = arg;
    else error = `one example at a time (got ${name} and ${arg})`;
  }
  return { name, port, processes, error };
}

function whyNotListening(err: unknown, port: number): string {
  const code = (err as { code?: string }).code;
  return code === "EADDRINUSE" ? `port ${port} is in use; stop the other server or pass --port <another port>` : `cannot listen on port ${port}: ${String(err)}`;
}

async function main(): Promise<number | null> {
  const { name, port, processes, error } = parse(process.argv.slice(2));
  const available = availableExamples();
  const usage = `usage: npm run example -- <name> [--port N] [--processes N]   (PORT=N also works; default ${TALK_PORT})\navailable examples: ${available.join(", ")}\n`;
  if (error) {
    process.stderr.write(`example: ${error}\n${usage}`);
    return 2;
  }
  if (name === null || !available.includes(name)) {
    process.stderr.write(name === null ? usage : `example: no example named "${name}"\n${usage}`);
    return 2;
  }
  const announce = (p: number, how = "") => process.stderr.write(`example ${name}: serving slides/examples/${name}.ts on http://localhost:${p}/${how} (Ctrl+C stops it)\n`);
  const fail = (err: unknown, p: number) => {
    process.stderr.write(`example ${name}: ${whyNotListening(err, p)}\n`);
    process.exit(1);
  };
  let listenPort = port ?? TALK_PORT;
  let onListen = (listener: { port: number }) => announce(listener.port);
  if (processes !== null) {
    // In a child, bindSockets hands back the parent's port and forkProcesses its task id.
    const [socket] = await bindSockets(listenPort).catch((err: unknown) => fail(err, listenPort) as never);
    listenPort = socket!.port;
    if (!platform().processes?.child) announce(listenPort, ` from ${processes || `${cpuCount()} (one per CPU)`} processes`);
    const child = await forkProcesses(processes).then(
      (id) => id,
      (err: unknown) => {
        process.stderr.write(`example ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
    onListen = () => process.stderr.write(`example ${name}: process ${child} (pid ${process.pid}) accepting on port ${listenPort}\n`);
  }
  // Without an override this maps 8888 to itself, only to announce where the program listens.
  redirectTalkPort(listenPort, onListen, fail);
  process.chdir(EXAMPLES);
  process.on("SIGINT", () => process.exit(130));
  process.on("SIGTERM", () => process.exit(143));
  await import(pathToFileURL(join(EXAMPLES, `${name}.ts`)).href);
  return null;
}

const code = await main();
if (code !== null) process.exit(code);
