/**
 * Each demo's Python twin (slides/demos/<name>/<name>.py, written for Tornado 6) really runs on
 * Debian's Tornado 6.2 and answers what our TypeScript program answers.
 *
 * The TypeScript side runs as the in-page engine runs it (the sandbox over the memory network,
 * our curl); the Python side runs under port_map.py (its fixed ports moved to free ones) and is
 * asked by the real curl. The transcripts (`curl -i` output of the demo's commands, in order)
 * must agree with Date, Server, the cookie signatures and measured times masked.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { demos, type Demo } from "../../slides/demos/catalog.js";
import { fillCommand } from "../../playground/demos/timeline.js";
import { cookiesSet, fillCommand as fillFromOutput } from "../../playground/demos/commands.js";
import { splitWords, staysConnected } from "../../playground/command.js";
import { Sandbox } from "../../playground/inpage/sandbox.js";
import { runtimeModules } from "../../playground/inpage/modules.js";
import { PYTHON, tornadoVersion } from "../real-tornado.js";
import { startPythonTwin, stopPythonTwin } from "./twin.js";

const SKIP = tornadoVersion ? "" : ` (SKIPPED: ${PYTHON} cannot import tornado)`;

/**
 * The commands a demo's slide runs; a timeline's runs are made small (3 requests, 0.2 s). A
 * session (wscat -c, which stays connected) has no transcript to compare: pages.test.ts meets
 * the websocket as clients do.
 */
export function transcriptCommands(demo: Demo): string[] {
  const commands = demo.manifest.commands.filter((c) => !staysConnected(c));
  const widget = demo.manifest.widget;
  if (widget?.kind === "timeline") {
    for (const mode of widget.modes) commands.push(fillCommand(widget.command, { ...widget.params, n: 3, wait: 0.2, mode }));
  }
  return commands;
}

/** What may differ between two correct servers (and two runs): masked. */
export function mask(transcript: string): string {
  return transcript
    .replace(/^Date: .*$/gm, "Date: <date>")
    .replace(/^Server: .*$/gm, "Server: <server>")
    .replace(/(Set-Cookie: \w+=)"?[^;\s"]+"?/g, "$1<signed>")
    .replace(/; expires=[^;]+;/g, "; expires=<date>;")
    .replace(/\b\d+ ms\b/g, "<n> ms")
    // Requests that finish together may be reported in either order: sorted once times are masked.
    .replace(/(?:^request \d+: .*\n)+/gm, (block) => block.split("\n").filter(Boolean).sort().join("\n") + "\n");
}


/** The command as the slide runs it: placeholders filled from what this side printed so far. */
function filled(command: string, earlier: string[]): string {
  const cookies = new Map<string, string>();
  for (const transcript of earlier) cookiesSet(transcript, cookies);
  const result = fillFromOutput(command, cookies);
  if (!result.ok) throw new Error(result.error);
  return result.command;
}

const argvOf = (command: string) => {
  const split = splitWords(command);
  if (!split.ok || split.words[0] !== "curl") throw new Error(`not a curl command: ${command}`);
  return split.words.slice(1);
};

async function typescriptTranscript(demo: Demo, commands: string[]): Promise<string[]> {
  let output = "";
  const sandbox = new Sandbox({ modules: runtimeModules, output: (source, _stream, text) => source === "command" && (output += text) });
  const started = await sandbox.start({ name: demo.name, main: demo.main, files: demo.files }, 4000);
  if (!started.ok) throw new Error(`${demo.name} did not start: ${started.message}`);
  const out: string[] = [];
  try {
    for (const command of commands) {
      output = "";
      await sandbox.run(argvOf(filled(command, out)));
      out.push(output);
    }
  } finally {
    sandbox.reset();
  }
  return out;
}

/** The real curl, in the twin's own folder (where `-c cookies.txt` writes). */
function realCurl(argv: string[], cwd: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn("/usr/bin/curl", argv, { cwd, stdio: ["ignore", "pipe", "ignore"] });
    const out: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.on("error", fail);
    child.on("close", () => done(Buffer.concat(out).toString("utf8")));
  });
}

async function pythonTranscript(demo: Demo, commands: string[]): Promise<{ transcripts: string[]; log: () => string }> {
  const dir = mkdtempSync(join(tmpdir(), "demo-twin-"));
  const wanted = new Set([...commands.join(" ").matchAll(/localhost:(\d+)/g)].map((m) => m[1]!));
  const transcripts: string[] = [];
  try {
    const { ports, log } = await startPythonTwin(demo, wanted, dir);
    for (const command of commands) {
      const argv = argvOf(filled(command, transcripts)).map((a) => a.replace(/localhost:(\d+)/g, (_, p: string) => `localhost:${ports.get(p) ?? p}`));
      transcripts.push(await realCurl(argv, dir));
    }
    return { transcripts, log };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

afterEach(stopPythonTwin);

describe.each(Object.values(demos).map((d) => [d.name, d] as const))(`demo %s: the Python twin on Tornado 6.2${SKIP}`, (_name, demo) => {
  it.skipIf(!tornadoVersion)("answers as our TypeScript program does (Date, Server, signatures, times masked)", async () => {
    const commands = transcriptCommands(demo);
    const ours = (await typescriptTranscript(demo, commands)).map(mask);
    const { transcripts } = await pythonTranscript(demo, commands);
    const theirs = transcripts.map(mask);
    expect(ours.length).toBe(commands.length);
    commands.forEach((command, i) => expect(ours[i], `${demo.name}: $ ${command}`).toBe(theirs[i]));
    if (demo.name === "secure_cookies") {
      // Both sides agree, and on the right thing: refused, greeted from the jar, refused when tampered.
      expect(ours.map((t) => t.split("\r\n")[0])).toEqual(["HTTP/1.1 403 Forbidden", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 403 Forbidden"]);
      expect(ours[2]).toMatch(/\r\n\r\nhello ben\n$/);
    }
  });
});

