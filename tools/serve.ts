/**
 * npm run serve: the built deck served by its own framework, for a room on one network.
 *
 * Builds the deck when dist/ is missing or older than its sources, then serves dist/ with the
 * runtime's StaticFileHandler (no node:http, no vite): the isolation headers a WebContainer
 * needs (COOP/COEP/CORP), Etags and 304s, ranges, a year's immutable caching for Vite's
 * content-hashed assets (index.html and the rest revalidate), and gzip for text through the
 * `compressResponse` setting. Prints the URL for this machine and for the local network, with a
 * QR code of the latter for phones, and the room's secret presenter and remote links: the room's
 * handlers (follow along, questions, the remote) are tools/room.ts.
 *
 *   npm run serve                         # all interfaces, port 8000
 *   npm run serve -- --port 9000 --host 127.0.0.1
 *   npm run serve -- --dist some/dir --no-build
 *   npm run serve -- --name laptop.local       # attendees reach this machine by that name
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import QRCode from "qrcode";
import { HTTPServer } from "tornado/httpserver";
import { IOLoop } from "tornado/ioloop";
import { Application, StaticFileHandler, type InitArgs } from "tornado/web";
import { Room, roomApplication } from "./room.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_PORT = 8000;
/** What the build reads: a change to any of these makes dist/ stale. */
const SOURCES = ["slides", "playground", "runtime", "assets", "vite.config.ts", "package.json", "package-lock.json"];

/** Newest modification time (ms) under `path`, skipping tests and node_modules. */
function newestMtime(path: string): number {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry.startsWith(".") || /\.test\.ts$/.test(entry)) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/**
 * True when `dist` has no index.html or one not newer than every source of the build. A tie
 * counts as stale: file times tick coarsely (a few ms), so a source saved in the same tick
 * as the build finished may not be in it.
 */
export function needsBuild(dist: string, sources = SOURCES.map((s) => join(ROOT, s))): boolean {
  const index = join(dist, "index.html");
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return sources.some((s) => newestMtime(s) >= built);
}

/** `assets/name-<hash>.ext`, as Vite names what it emits: its content never changes under that name. */
export function isHashedAsset(path: string): boolean {
  return /^assets\/(?:.*\/)?[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(path);
}

const EXTRA_TYPES: Record<string, string> = { map: "application/json", ttf: "font/ttf", ts: "text/plain" };

/**
 * dist/ as the deck needs it: isolated (so `crossOriginIsolated` is true and a WebContainer can
 * boot), hashed assets cached for a year, everything else revalidated by its Etag.
 */
export class DeckHandler extends StaticFileHandler {
  static IMMUTABLE_MAX_AGE = 31536000;

  override initialize(args: InitArgs): void {
    super.initialize({ defaultFilename: "index.html", ...args });
  }

  override setDefaultHeaders(): void {
    this.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    this.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    this.setHeader("Cross-Origin-Resource-Policy", "same-origin");
  }

  override getCacheTime(): number {
    return isHashedAsset(this.path) ? DeckHandler.IMMUTABLE_MAX_AGE : 0;
  }

  override setHeaders(): void {
    super.setHeaders();
    // A name that changes with the content never needs asking again; any other file is asked
    // about each time (a 304 when its Etag still matches), so a rebuilt deck shows at once.
    this.setHeader("Cache-Control", this.getCacheTime() > 0 ? `max-age=${DeckHandler.IMMUTABLE_MAX_AGE}, immutable` : "no-cache");
  }

  override getContentType(): string {
    const ext = /\.([a-z0-9]+)$/i.exec(this.absolutePath)?.[1]?.toLowerCase() ?? "";
    return EXTRA_TYPES[ext] ?? super.getContentType();
  }
}

export function deckApplication(dist: string): Application {
  return new Application([["/(.*)", DeckHandler, { path: dist }]], { compressResponse: true });
}

/** The URLs attendees can open: this machine's, then one per non-internal IPv4 address. */
export function deckUrls(port: number): { local: string; network: string[] } {
  const network: string[] = [];
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) network.push(`http://${a.address}:${port}/`);
  }
  return { local: `http://localhost:${port}/`, network };
}

interface Options {
  port: number;
  host: string;
  dist: string;
  build: boolean;
  /** The name attendees reach this machine by (e.g. its mDNS name), for their URL and QR code. */
  name: string;
}

function parse(argv: string[]): Options | string {
  const options: Options = { port: DEFAULT_PORT, host: "", dist: join(ROOT, "dist"), build: true, name: "" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => argv[++i];
    if (arg === "--port") {
      const text = value();
      if (text === undefined || !/^\d+$/.test(text) || Number(text) > 65535) return `not a port number: ${text ?? "(missing)"}`;
      options.port = Number(text);
    } else if (arg === "--host") options.host = value() ?? "";
    else if (arg === "--dist") options.dist = resolve(value() ?? "dist");
    else if (arg === "--no-build") options.build = false;
    else if (arg === "--name") {
      const name = value();
      if (name === undefined || !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(name)) return `not a host name: ${name ?? "(missing)"}`;
      options.name = name;
    }
    else return `unknown option ${arg}`;
  }
  return options;
}

async function main(): Promise<number | null> {
  const options = parse(process.argv.slice(2));
  if (typeof options === "string") {
    process.stderr.write(`serve: ${options}\nusage: npm run serve -- [--port N] [--host ADDRESS] [--name HOSTNAME] [--dist DIR] [--no-build]\n`);
    return 2;
  }
  if (options.build && needsBuild(options.dist)) {
    process.stderr.write(`serve: building the deck into ${options.dist} (it is missing or older than its sources)...\n`);
    const vite = join(ROOT, "node_modules", "vite", "bin", "vite.js");
    const built = spawnSync(process.execPath, [vite, "build", "--outDir", options.dist, "--emptyOutDir", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
    if (built.status !== 0) {
      process.stderr.write(`serve: the build failed (exit ${built.status})\n`);
      return 1;
    }
  }
  if (!existsSync(join(options.dist, "index.html"))) {
    process.stderr.write(`serve: ${options.dist}/index.html does not exist (run npm run build, or drop --no-build)\n`);
    return 1;
  }
  const room = new Room({ attendeeUrl: "" });
  const server = new HTTPServer(roomApplication(options.dist, room));
  let port: number;
  try {
    port = await server.listen(options.port, options.host || undefined);
  } catch (err) {
    const code = (err as { code?: string }).code;
    process.stderr.write(`serve: ${code === "EADDRINUSE" ? `port ${options.port} is in use; pass --port <another port>` : `cannot listen: ${String(err)}`}\n`);
    return 1;
  }
  const urls = deckUrls(port);
  const loopbackOnly = /^(127\.|::1$|localhost$)/.test(options.host);
  const network = loopbackOnly ? [] : urls.network;
  const local = options.host && !loopbackOnly ? `http://${options.host}:${port}/` : urls.local;
  let text = `serving ${options.dist} with TornadoTS (Ctrl+C stops it)\n  this machine:  ${local}\n`;
  for (const url of network) text += `  local network: ${url}\n`;
  if (options.name) text += `  by name:       http://${options.name}:${port}/\n`;
  // What attendees open: the machine's name when given, else its first network address.
  const attendee = options.name ? `http://${options.name}:${port}/` : network[0];
  room.attendeeUrl = attendee ?? local;
  if (attendee) text += `\nattendees on this network can scan ${attendee}:\n${await QRCode.toString(attendee, { type: "terminal", small: true })}`;
  else if (!loopbackOnly) text += "  local network: none found (no network interface with an IPv4 address)\n";
  // The secrets go to this terminal only (last, away from the QR code people scan): the
  // projected deck never shows them. The presenter opens this machine's own URL: localhost is a
  // secure context, so the projected deck is cross-origin isolated (the WebContainer engine)
  // where a network address would not be.
  text += `\n  presenter (open it on the projecting laptop; keep it secret): ${local}?presenter=${room.presenterKey}\n`;
  text += `  remote (a phone of yours: next/previous, notes, timer; keep it secret): ${room.attendeeUrl}remote?key=${room.remoteKey}\n`;
  process.stdout.write(text);
  process.on("SIGINT", () => process.exit(130));
  process.on("SIGTERM", () => process.exit(143));
  await IOLoop.current().start();
  return null;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await main();
  if (code !== null) process.exit(code);
}
