/**
 * What the talk's `$ curl -i http://localhost:8888...` slides print, read from the talk's own
 * Showoff source, plus helpers to run an example the way a person does (a real process) and
 * to hold its real-curl output to the slide. Shared by tools/example.test.ts (ephemeral port)
 * and tools/example.serial.test.ts (the talk's port 8888).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface SlideResponse {
  /** The command as typed on the slide. */
  command: string;
  url: string;
  statusLine: string;
  headers: Array<[string, string]>;
  /** Body lines as shown (a slide cannot show a final newline). */
  body: string;
}

/** Every `$ curl -i ...` commandline slide, in talk order. */
export function slideResponses(): SlideResponse[] {
  const text = readFileSync(resolve(ROOT, "slides/talk.showoff.md"), "utf8");
  const out: SlideResponse[] = [];
  for (const slide of text.split(/^!SLIDE/m).slice(1)) {
    const m = /^ {4}\$ (curl -i (\S+))\n\n((?: {4}.*\n|\n)+)/m.exec(slide);
    if (!m) continue;
    const lines = m[3]!.replace(/\n+$/, "").split("\n").map((l) => l.replace(/^ {4}/, ""));
    const blank = lines.indexOf("");
    const head = lines.slice(0, blank);
    out.push({
      command: m[1]!,
      url: m[2]!,
      statusLine: head[0]!,
      headers: head.slice(1).map((h) => {
        const colon = h.indexOf(":");
        return [h.slice(0, colon), h.slice(colon + 1).trim()] as [string, string];
      }),
      body: lines.slice(blank + 1).join("\n"),
    });
  }
  return out;
}

/** The slide each example's curl belongs to: hello and templates fetch `/`, json fetches `/json`. */
export function slideFor(example: "hello" | "json" | "templates"): SlideResponse {
  const all = slideResponses();
  const root = all.filter((s) => s.url === "http://localhost:8888");
  const found = example === "json" ? all.find((s) => s.url === "http://localhost:8888/json") : root[example === "hello" ? 0 : 1];
  if (!found) throw new Error(`no curl slide for ${example} in slides/talk.showoff.md`);
  return found;
}

export interface ParsedResponse {
  statusLine: string;
  headers: Array<[string, string]>;
  body: string;
}

/** Split `curl -i` output (CRLF head, blank line, body). */
export function parseCurlInclude(output: string): ParsedResponse {
  const split = output.indexOf("\r\n\r\n");
  if (split < 0) throw new Error(`not an HTTP response: ${JSON.stringify(output.slice(0, 200))}`);
  const head = output.slice(0, split).split("\r\n");
  return {
    statusLine: head[0]!,
    headers: head.slice(1).map((h) => {
      const colon = h.indexOf(":");
      return [h.slice(0, colon), h.slice(colon + 1).trim()] as [string, string];
    }),
    body: output.slice(split + 4),
  };
}

/** Run a command to completion (asynchronously), capturing bytes as UTF-8 text. */
export function run(command: string, args: string[], encoding: BufferEncoding = "utf8"): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolveP, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const so: Buffer[] = [];
    const se: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => so.push(c));
    child.stderr.on("data", (c: Buffer) => se.push(c));
    child.on("error", reject);
    child.on("close", (code) => resolveP({ stdout: Buffer.concat(so).toString(encoding), stderr: Buffer.concat(se).toString("utf8"), code: code ?? -1 }));
  });
}

export interface RunningExample {
  port: number;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/**
 * Start `tools/example.ts <name>` as a real process (node + tsx, as `npm run example` does)
 * and wait for the port it announces. `port` null means the talk's own 8888.
 */
export function startExample(name: string, port: number | null, extraArgs: string[] = []): Promise<RunningExample> {
  const args = ["--import", "tsx", "tools/example.ts", name, ...(port === null ? [] : ["--port", String(port)]), ...extraArgs];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PORT: "" } });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout!.on("data", () => {});
  const stop = () =>
    new Promise<void>((resolveP) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolveP();
      child.once("exit", () => resolveP());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
  return new Promise((resolveP, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`example ${name} did not announce a port within 20 s:\n${stderr}`));
    }, 20_000);
    const onData = () => {
      const m = /serving \S+ on http:\/\/localhost:(\d+)\//.exec(stderr);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off("data", onData);
        resolveP({ port: Number(m[1]), child, stderr: () => stderr, stop });
      }
    };
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`example ${name} exited with ${code} before listening:\n${stderr}`));
    });
  });
}
