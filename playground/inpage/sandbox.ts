/**
 * What runs inside the in-page engine's worker: the user's program and our curl and wscat, on the
 * runtime over the in-memory network.
 *
 * The program is transpiled to CommonJS and evaluated with a `require` that maps
 * `tornado/<module>` to the runtime modules this bundle already holds, so it runs against
 * exactly the code the WebContainer would load from node_modules. Its files (templates...)
 * live in the memory platform's virtual file system, with the program's directory as cwd, as
 * Node would have it. Kept free of worker globals so Node tests can drive it directly.
 */
import type { OutputSource, Program, StartFailure } from "../engine.js";
import { formatCompileError, transpile } from "../transpile.js";
import { curl } from "tornado/curl";
import { wscat } from "tornado/wscat";
import type { CommandName } from "../command.js";
import { IOLoop } from "tornado/ioloop";
import { formatLogRecord, setLogSink } from "tornado/log";
import { setPlatform, type Platform } from "tornado/platform/index";
import { createMemoryPlatform, type MemoryPlatform } from "tornado/platform/memory";
import helloSource from "../../slides/examples/hello.ts?raw";

/** Where the program's files live in the virtual file system (its cwd). */
export const PROGRAM_DIR = "/app";

export interface SandboxHost {
  /** Modules `require("tornado/<name>")` may load, by name ("web", "ioloop", "platform/index"). */
  modules: Record<string, unknown>;
  output(source: OutputSource, stream: "stdout" | "stderr" | "log", text: string): void;
}

/** One command's run: which command, its terminal, input and Ctrl+C, where its output goes. */
export interface SandboxRun {
  command?: CommandName;
  /** Lines typed while it runs; none: nothing is ever typed. */
  stdin?: AsyncIterable<string>;
  /** Ctrl+C. */
  signal?: AbortSignal;
  /** Its output goes to a terminal (wscat then prints its notices and prompt). */
  tty?: boolean;
  /** Where this run's output goes; default the host's output, as "command". */
  output?: (stream: "stdout" | "stderr", text: string) => void;
}

export type SandboxStart = { ok: true; ports: number[] } | ({ ok: false } & StartFailure);

export class Sandbox {
  private platform: MemoryPlatform | null = null;
  private previousPlatform: Platform | null = null;
  private listening: Array<(port: number) => void> = [];
  private ports: number[] = [];
  /** While warming up: what the warm-up program and its curl print goes nowhere. */
  private muted = false;

  constructor(private readonly host: SandboxHost) {}

  private output(source: OutputSource, stream: "stdout" | "stderr" | "log", text: string): void {
    if (!this.muted) this.host.output(source, stream, text);
  }

  /**
   * Serve one request of the talk's hello example with curl, then forget it, so that the
   * first request a user's program serves does not pay for compiling the runtime. V8 compiles
   * each function when it is first called, and every prepared program runs in a fresh worker:
   * in Chromium's worker the talk's hello took 6.6 ms to start and 7.8 ms to its first curl
   * output, 1.8 and 2.4 ms once this has run (ARCHITECTURE.md, eleventh round). A worker is
   * loaded ahead of the start that uses it, so this runs off the critical path. Resolves with
   * whether it served (it cannot fail a user's program either way).
   */
  async warm(): Promise<boolean> {
    this.muted = true;
    try {
      const started = await this.start(WARMUP_PROGRAM, 2000);
      if (!started.ok) return false;
      let answer = "";
      const exitCode = await this.run(["-i", `http://localhost:${started.ports[0]}/`], { output: (_stream, text) => void (answer += text) });
      return exitCode === 0 && answer.startsWith("HTTP/1.1 200 OK");
    } catch {
      return false;
    } finally {
      this.reset();
      this.muted = false;
    }
  }

  /** A console for the program: its output joins the server log, as a terminal would show it. */
  private programConsole(): Console {
    const out = (stream: "stdout" | "stderr") => (...args: unknown[]) =>
      this.output("server", stream, args.map((a) => (typeof a === "string" ? a : formatValue(a))).join(" ") + "\n");
    return { ...console, log: out("stdout"), info: out("stdout"), debug: out("stdout"), warn: out("stderr"), error: out("stderr") };
  }

  /** Start `program`; resolves when it listens, or with why it could not. */
  async start(program: Program, timeoutMs: number): Promise<SandboxStart> {
    this.reset();
    const source = program.files[program.main];
    if (source === undefined) return { ok: false, kind: "engine", message: `${program.main} is not among the program's files` };
    const compiled = transpile(source, program.main, "cjs");
    if (!compiled.ok) return { ok: false, kind: "compile", message: formatCompileError(compiled), file: compiled.file, line: compiled.line, column: compiled.column };

    const files: Record<string, string> = {};
    for (const [path, text] of Object.entries(program.files)) files[`${PROGRAM_DIR}/${path}`] = text;
    const memory = createMemoryPlatform({
      files,
      cwd: PROGRAM_DIR,
      log: (_level, message) => this.output("server", "log", message + "\n"),
    });
    const listen = memory.listen;
    memory.listen = async (options) => {
      const listener = await listen(options);
      this.ports.push(listener.port);
      for (const l of this.listening.splice(0)) l(listener.port);
      return listener;
    };
    this.platform = memory;
    this.previousPlatform = setPlatform(memory);
    IOLoop.setInstance(null);
    setLogSink((record) => this.output("server", "log", formatLogRecord(record) + "\n"));

    const listened = new Promise<number>((resolve) => this.listening.push(resolve));
    let failed: (error: unknown) => void;
    const failure = new Promise<never>((_, reject) => (failed = reject));
    try {
      const module = { exports: {} as Record<string, unknown> };
      const require = (id: string): unknown => {
        const m = /^tornado\/(.+?)(\.js|\.ts)?$/.exec(id);
        const found = m ? this.host.modules[m[1]!] : undefined;
        if (found === undefined) {
          const error = new Error(`Cannot find module '${id}'`) as Error & { code?: string };
          error.code = "MODULE_NOT_FOUND";
          throw error;
        }
        return found;
      };
      // Everything on the first line, so the program's line numbers are the editor's.
      const wrapped = `(async function (require, module, exports, console) {${compiled.code}\n})\n//# sourceURL=${program.main}`;
      const fn = (0, eval)(wrapped) as (...args: unknown[]) => Promise<void>;
      fn(require, module, module.exports, this.programConsole()).catch((e: unknown) => failed(e));
    } catch (error) {
      // A SyntaxError sucrase let through (e.g. `await` misuse) or a synchronous throw.
      return { ok: false, kind: "crash", message: describeError(error) };
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    try {
      const outcome = await Promise.race([listened, failure, timeout]);
      if (outcome === "timeout") return { ok: false, kind: "timeout", message: `the program did not listen within ${timeoutMs / 1000} s` };
      // Let any other listen() in the same turn register too.
      await Promise.resolve();
      return { ok: true, ports: [...this.ports] };
    } catch (error) {
      return { ok: false, kind: "crash", message: describeError(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Run our curl (or wscat) with `argv` in this sandbox's network; resolves to its exit code. */
  async run(argv: string[], options: SandboxRun = {}): Promise<number> {
    const plat = this.platform ?? createMemoryPlatform({ cwd: PROGRAM_DIR });
    const out = options.output ?? ((stream, text) => this.output("command", stream, text));
    if (options.command === "wscat") {
      return wscat(argv, {
        platform: plat,
        stdout: (text) => out("stdout", text),
        stderr: (text) => out("stderr", text),
        isTTY: options.tty ?? false,
        ...(options.stdin ? { stdin: options.stdin } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }
    const decoder = new TextDecoder();
    return curl(argv, {
      platform: plat,
      stdout: (chunk) => out("stdout", typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true })),
      stderr: (text) => out("stderr", text),
    });
  }

  /** Close the program's listeners and forget its state (the worker is normally discarded instead). */
  reset(): void {
    this.platform?.reset();
    this.platform = null;
    this.ports = [];
    this.listening = [];
    IOLoop.instance().stop();
    IOLoop.setInstance(null);
    setLogSink(null);
    if (this.previousPlatform) setPlatform(this.previousPlatform);
    this.previousPlatform = null;
  }
}

/** What `Sandbox.warm` serves: the talk's first example, the program most slides run first. */
const WARMUP_PROGRAM: Program = { name: "warmup", main: "hello.ts", files: { "hello.ts": helloSource } };

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return `Uncaught ${formatValue(error)}`;
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return value.stack ?? String(value);
  try {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}
