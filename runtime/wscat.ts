/**
 * wscat(argv, io): npm's `wscat` 6.1 (`-c URL`, `-x`, `-w`, `-s`, `-H`, ...) as a function, on
 * the runtime's websocket client (websocket.ts), so the deck's terminal can drive a websocket
 * as curl.ts drives HTTP, on Node sockets or on the in-memory network of the browser deck.
 *
 * What it prints is wscat's (node_modules/wscat/bin/wscat), held to it side by side by
 * runtime/wscat.test.ts:
 * - stdout not a terminal: each message that arrives is written as its text and "\n" (and each
 *   line of input sent is followed by readline's "> " prompt, as in wscat); errors go
 *   to stderr as "error: <message>" and end the command with 255; "Connected"/"Disconnected"
 *   notices are dropped;
 * - a terminal: every notice is a line of its own, coloured, after wscat's line-clearing
 *   sequence, followed by the "> " prompt (incoming messages start with "< ").
 * With `-x` the commands are sent once connected and the connection is closed `-w` seconds
 * later (2 by default, -1: stay open); without it, lines of input are sent as messages. Lines
 * typed before the connection is open are dropped and the end of input ends the command at
 * once, as wscat's readline does. A command that stays connected streams what arrives until
 * the server closes, the input ends or `io.signal` is aborted (Ctrl+C in the deck).
 *
 * Known differences: a URL without "ws://" whose host is followed by a port ("localhost:8888")
 * is taken as ws://, where wscat 6.1 mistakes the host for a scheme and crashes; options
 * about TLS, proxies, authentication and `--listen` are refused by name.
 */
import { IOLoop } from "./ioloop.js";
import { platform as currentPlatform, setPlatform, type Platform } from "./platform/index.js";
import { websocketConnect, type WebSocketClientConnection, type WebSocketMessage } from "./websocket.js";

/** The wscat we imitate. */
export const WSCAT_VERSION = "6.1.0";

export interface WscatIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout is a terminal (colours, notices, prompt). Default true: the deck's terminal. */
  isTTY?: boolean;
  /** Lines of input (without their newline); the iteration ending is the end of input. None: no input ever. */
  stdin?: AsyncIterable<string>;
  /** Aborted when the user stops the command (Ctrl+C): the connection is closed and wscat ends with 0. */
  signal?: AbortSignal;
  /** Which platform's network to use; default the runtime's current `platform()`. */
  platform?: Platform;
}

export interface WscatOptions {
  connect: string | null;
  execute: string[];
  wait: string | null;
  subprotocols: string[];
  headers: string[];
  showPingPong: boolean;
  slash: boolean;
  color: boolean;
  origin: string | null;
  host: string | null;
  help: boolean;
  version: boolean;
}

/** A command line wscat (commander) refuses, in its words; exit code 1. */
export class WscatUsageError extends Error {}

type Key = "connect" | "execute" | "wait" | "subprotocols" | "headers" | "origin" | "host";
/** Options with a value: their commander flags (as its errors name them) and where they go. */
const VALUED: Record<string, { key: Key; flags: string }> = {};
for (const [flags, key] of [
  ["-c, --connect <url>", "connect"],
  ["-x, --execute <command>", "execute"],
  ["-w, --wait <seconds>", "wait"],
  ["-s, --subprotocol <protocol>", "subprotocols"],
  ["-H, --header <header:value>", "headers"],
  ["-o, --origin <origin>", "origin"],
  ["--host <host>", "host"],
] as const) {
  for (const name of flags.split(" <")[0]!.split(", ")) VALUED[name] = { key, flags };
}
/** wscat options this one does not do (TLS, proxy, auth, server mode): refused by name. */
const UNSUPPORTED = new Set([
  "-l", "--listen", "--auth", "--ca", "--cert", "--key", "--passphrase", "--proxy", "-n", "--no-check",
  "-p", "--protocol", "-L", "--location", "--max-redirects",
]);

export const WSCAT_HELP = `Usage: wscat [options] (--connect <url>)

Options:
  -V, --version                 output the version number
  --host <host>                 optional host
  --no-color                    run without color
  --slash                       enable slash commands for control frames (/ping [data], /close [code [, reason]])
  -c, --connect <url>           connect to a WebSocket server
  -H, --header <header:value>   set an HTTP header. Repeat to set multiple
  -o, --origin <origin>         optional origin
  -P, --show-ping-pong          print a notification when a ping or pong is received
  -s, --subprotocol <protocol>  optional subprotocol. Repeat to specify more than one
  -w, --wait <seconds>          wait given seconds after executing command (-1 to hold open)
  -x, --execute <command>       execute command after connecting. Repeat to execute more than one
  -h, --help                    display help for command
`;

/** Parse argv as wscat's commander program does (`-cURL`, `--connect=URL`, repeatable options). */
export function parseWscatArgs(argv: readonly string[]): WscatOptions {
  const o: WscatOptions = {
    connect: null, execute: [], wait: null, subprotocols: [], headers: [], showPingPong: false, slash: false,
    color: true, origin: null, host: null, help: false, version: false,
  };
  const set = (key: Key, value: string) => {
    if (key === "execute" || key === "subprotocols" || key === "headers") o[key].push(value);
    else o[key] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") continue; // commander lets extra arguments through
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg.startsWith("--") ? arg : arg.slice(0, 2);
    const inline = eq > 0 ? arg.slice(eq + 1) : !arg.startsWith("--") && arg.length > 2 ? arg.slice(2) : null;
    const valued = VALUED[name];
    if (valued) {
      let value = inline;
      if (value === null) {
        const next = argv[i + 1];
        // commander takes the next argument unless it looks like an option.
        if (next === undefined || (next.startsWith("-") && next !== "-" && !/^-\d/.test(next))) {
          throw new WscatUsageError(`error: option '${valued.flags}' argument missing`);
        }
        value = next;
        i++;
      }
      set(valued.key, value);
      continue;
    }
    if (inline !== null && !arg.startsWith("--")) {
      // A cluster of short flags, e.g. -Ph.
      for (const letter of arg.slice(1)) applyFlag(`-${letter}`, o, arg);
      continue;
    }
    applyFlag(name, o, arg);
  }
  return o;
}

function applyFlag(flag: string, o: WscatOptions, arg: string): void {
  switch (flag) {
    case "-P": case "--show-ping-pong": o.showPingPong = true; return;
    case "--slash": o.slash = true; return;
    case "--no-color": o.color = false; return;
    case "-h": case "--help": o.help = true; return;
    case "-V": case "--version": o.version = true; return;
  }
  if (UNSUPPORTED.has(flag)) throw new WscatUsageError(`error: option '${flag}' is not supported by this wscat (it does -c -x -w -s -H -o -P --host --slash --no-color)`);
  throw new WscatUsageError(`error: unknown option '${arg}'`);
}

const COLORS = { red: "\u001b[31m", green: "\u001b[32m", yellow: "\u001b[33m", blue: "\u001b[34m", default: "\u001b[39m" };

/** How a message's bytes read as text (wscat prints a Buffer, which Node decodes as UTF-8). */
function text(message: WebSocketMessage): string {
  return typeof message === "string" ? message : new TextDecoder().decode(message);
}

/** The message of a failed connect, in the words of the `ws` package. */
function connectError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === "number" && code !== 599) return `Unexpected server response: ${code}`;
  return message.replace(/^HTTP 599: /, "");
}

/** Run wscat; resolves to its exit code (0 when the connection ended, 255 on an error, 1 for usage). */
export async function wscat(argv: string[], io: WscatIO): Promise<number> {
  const isTTY = io.isTTY ?? true;
  let o: WscatOptions;
  try {
    o = parseWscatArgs(argv);
  } catch (err) {
    if (!(err instanceof WscatUsageError)) throw err;
    io.stderr(`${err.message}\n`);
    return 1;
  }
  if (o.version) {
    io.stdout(`${WSCAT_VERSION}\n`);
    return 0;
  }
  if (o.help || o.connect === null) {
    io.stdout(WSCAT_HELP);
    return 0;
  }
  const executing = o.execute.length > 0;
  const clear = () => {
    if (isTTY) io.stdout("\r\u001b[2K\u001b[3D");
  };
  // readline's prompt: written after each line sent, terminal or not (a pipe gets "> " too).
  const prompt = () => io.stdout("> ");
  const print = (kind: "incoming" | "control" | "error", msg: string, color: string) => {
    const type = kind === "incoming" ? "< " : kind === "error" ? "error: " : "";
    if (isTTY) {
      clear();
      const plain = executing;
      const shownColor = plain || !o.color ? "" : color;
      io.stdout(`${shownColor}${plain ? "" : type}${msg}${COLORS.default}\n`);
      prompt();
    } else if (kind === "incoming") io.stdout(`${msg}\n`);
    else if (kind === "error") io.stderr(`${type}${msg}\n`);
  };

  let url = o.connect;
  // wscat's test for a scheme; "localhost:8888" passes it there (and crashes ws), not here.
  if (!/^[a-z][a-z0-9.+-]*:\/\//i.test(url)) url = `ws://${url}`;
  if (/^wss:/i.test(url)) {
    print("error", "wss:// is not supported by this wscat (the runtime's client speaks ws:// only)", COLORS.yellow);
    return 255;
  }
  const headers: Array<[string, string]> = o.headers.map((h) => {
    const i = h.indexOf(":");
    return [h.slice(0, i), h.slice(i + 1).trim()];
  });
  if (o.host !== null) headers.push(["Host", o.host]);
  if (o.origin !== null) headers.push(["Origin", o.origin]);

  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));
  let ended = false;
  const end = (code: number) => {
    if (ended) return;
    ended = true;
    finish(code);
  };
  let conn: WebSocketClientConnection | null = null;
  let opened = false;

  // The input is read from the start, like wscat's readline: lines before the connection is open are lost.
  const readInput = async () => {
    if (!io.stdin) return;
    for await (const line of io.stdin) {
      if (ended) return;
      if (!opened || executing || conn === null) continue;
      if (o.slash && line.startsWith("/")) runSlash(line);
      else void conn.writeMessage(line).catch(() => {});
      prompt();
    }
    // End of input: wscat closes the socket and exits at once.
    conn?.close();
    end(0);
  };
  const runSlash = (line: string) => {
    const toks = line.split(/\s+/);
    switch (toks[0]!.slice(1)) {
      case "ping":
        conn!.ping(toks[1] ?? "");
        break;
      case "close": {
        const code = toks.length >= 2 ? Number.parseInt(toks[1]!, 10) : 1000;
        const reason = toks.slice(2).join(" ");
        conn!.close(code, reason.length > 0 ? reason : undefined);
        break;
      }
      default:
        print("error", "Unrecognized slash command.", COLORS.yellow);
    }
  };
  const abort = () => {
    conn?.close();
    end(0);
  };
  if (io.signal?.aborted) return 0;
  io.signal?.addEventListener("abort", abort, { once: true });
  void readInput();

  // ws emits "open" before any message: what arrives with the handshake waits for it.
  let early: Array<WebSocketMessage | null> | null = [];
  const onMessage = (message: WebSocketMessage | null) => {
    // After the end of input or Ctrl+C, wscat has exited: nothing more is shown.
    if (ended) return;
    if (early !== null) {
      early.push(message);
      return;
    }
    if (message !== null) {
      print("incoming", text(message), COLORS.blue);
      return;
    }
    // Closed (by either side, or the connection dropped).
    if (!executing) {
      const code = conn?.closeCode ?? 1005;
      print("control", `Disconnected (code: ${code}, reason: "${conn?.closeReason ?? ""}")`, COLORS.green);
    }
    clear();
    end(0);
  };
  try {
    // websocketConnect opens its socket on the current platform, synchronously in this call.
    const plat = io.platform ?? currentPlatform();
    const previous = setPlatform(plat);
    let connecting: Promise<WebSocketClientConnection>;
    try {
      connecting = websocketConnect(url, {
        subprotocols: o.subprotocols.length > 0 ? o.subprotocols : null,
        headers,
        // ws offers permessage-deflate by default; so do we where the platform can deflate.
        compressionOptions: {},
        onMessageCallback: (m) => onMessage(m),
      });
    } finally {
      setPlatform(previous);
    }
    conn = await connecting;
  } catch (err) {
    print("error", connectError(err), COLORS.yellow);
    end(255);
    return done;
  }
  if (ended) {
    conn.close();
    return done;
  }
  // ws fails a handshake whose subprotocol answer does not fit the offer.
  if (o.subprotocols.length > 0 && conn.selectedSubprotocol === null) {
    conn.close();
    print("error", "Server sent no subprotocol", COLORS.yellow);
    end(255);
    return done;
  }
  opened = true;
  if (o.showPingPong) {
    conn.onPing = (data: Uint8Array) => print("incoming", `Received ping (data: "${text(data)}")`, COLORS.blue);
    conn.onPong = (data: Uint8Array) => print("incoming", `Received pong (data: "${text(data)}")`, COLORS.blue);
  }
  if (executing) {
    for (const command of o.execute) void conn.writeMessage(command).catch(() => {});
    if (o.wait !== "-1") {
      const seconds = o.wait !== null ? Number(o.wait) : 2;
      const handle = IOLoop.current().callLater(Number.isFinite(seconds) ? seconds : 0, () => conn!.close());
      void done.then(() => IOLoop.current().removeTimeout(handle));
    }
  } else {
    print("control", "Connected (press CTRL+C to quit)", COLORS.green);
  }
  const arrived = early;
  early = null;
  for (const message of arrived) onMessage(message);
  const code = await done;
  io.signal?.removeEventListener("abort", abort);
  return code;
}
