/**
 * curl(argv, io): the `curl` the talk types, as a function that prints what real curl 7.88.1
 * prints, byte for byte, on whichever platform the runtime runs (Node sockets or the
 * in-memory network of the browser deck).
 *
 * The deck's terminal has no real curl (a WebContainer's shell has none, and the in-page
 * engine has no sockets at all), so the slides' `$ curl -i http://localhost:8888` run this.
 * Real curl's output was recorded into tools/curl-fixtures/transcripts.json and the tests
 * hold this module to it.
 *
 * The request goes out through the runtime's own HTTP client (httpclient.ts) with curl's exact
 * header list and order and no defaults of the client's; the response's status and header
 * lines come back raw through the client's `headerCallback`, so -i and -v print them exactly
 * as received, and -v's `> ` lines are the request bytes actually written.
 *
 * Known differences from real curl (each pinned by runtime/curl.test.ts): the client always
 * sends a Host header and writes headers as `Name: value` (so `-H 'Host:'` and `-H 'X;'` /
 * `-H 'X:v'` differ); -v's `{ [N bytes data]` lines group what arrives in one event-loop
 * turn, which matches curl's socket reads for small bodies; the progress meter (drawn when stdout is not a terminal, without -s)
 * has its first and last rows only; one URL per command; "Trying" shows a host name as given
 * for names other than localhost (curl shows the resolved address). With -L, each request of
 * the chain goes out on a new connection (the runtime's client does not keep connections
 * alive), so -v shows "Trying"/"Connected (#1)" where curl says "Re-using existing connection".
 *
 * Cookies (-b, -c) are curl's cookie engine, in cookiejar.ts. The jar is a file on the
 * platform's file system: `Platform.fs.writeFile` (the real disk on Node, the virtual file
 * system of the in-page engine); the runtime itself never writes files.
 */
import { platform as currentPlatform, type Platform } from "./platform/index.js";
import { AsyncHTTPClient, HTTPRequest } from "./httpclient.js";
import { IOLoop } from "./ioloop.js";
import { CookieJar, isSecureContext } from "./cookiejar.js";

/** The curl we imitate: Debian 12's. Its version is in the default User-Agent. */
export const CURL_VERSION = "7.88.1";

const TRY_HELP = "curl: try 'curl --help' or 'curl --manual' for more information\n";

export interface CurlIO {
  stdout: (chunk: string | Uint8Array) => void;
  stderr: (text: string) => void;
  /** Which platform's sockets to use; default: the runtime's current `platform()`. */
  platform?: Platform;
  /**
   * Whether stdout is a terminal. Real curl drops the `{ [N bytes data]` lines of -v when it
   * is (they would interleave with the body). Default true: the deck's terminal.
   */
  isTTY?: boolean;
}

/** What the command line asked for, after parsing. */
export interface CurlOptions {
  silent: boolean;
  showError: boolean;
  include: boolean;
  head: boolean;
  verbose: boolean;
  http10: boolean;
  fail: boolean;
  method: string | null;
  /** -H arguments, verbatim, in order. */
  headers: string[];
  /** -d family arguments, in order. */
  data: Array<{ kind: "ascii" | "binary" | "raw"; value: string }>;
  userAgent: string | null;
  maxTimeSeconds: number | null;
  urls: string[];
  /** -L: follow redirects, at most `maxRedirs` of them (-1: no limit). */
  location: boolean;
  maxRedirs: number;
  /** -b arguments without "=": cookie files to load (the cookie engine is on). */
  cookieFiles: string[];
  /** -b arguments with "=": sent as they are, after the jar's cookies. */
  cookieLiterals: string[];
  /** -c: where to write the cookie jar when done ("-": stdout). */
  cookieJar: string | null;
}

/** A command line curl refuses: message (already in curl's words) and exit code. */
export class CurlError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    /** Usage errors always print; transfer errors are silenced by -s unless -S. */
    readonly usage = false,
  ) {
    super(message);
  }
}

type Flag = "silent" | "showError" | "include" | "head" | "verbose" | "http10" | "fail" | "location";
type Param =
  | "method" | "header" | "data" | "data-binary" | "data-raw" | "user-agent" | "max-time" | "url" | "cookie" | "cookie-jar" | "max-redirs";

const SHORT_FLAGS: Record<string, Flag> = {
  s: "silent", S: "showError", i: "include", I: "head", v: "verbose", "0": "http10", f: "fail", L: "location",
};
const SHORT_PARAMS: Record<string, Param> = { X: "method", H: "header", d: "data", A: "user-agent", m: "max-time", b: "cookie", c: "cookie-jar" };
const LONG_FLAGS: Record<string, Flag | "noop"> = {
  silent: "silent",
  "show-error": "showError",
  include: "include",
  head: "head",
  verbose: "verbose",
  "http1.0": "http10",
  fail: "fail",
  location: "location",
  "http1.1": "noop",
  "no-progress-meter": "noop",
  "no-buffer": "noop",
};
const LONG_PARAMS: Record<string, Param> = {
  request: "method",
  header: "header",
  data: "data",
  "data-ascii": "data",
  "data-binary": "data-binary",
  "data-raw": "data-raw",
  "user-agent": "user-agent",
  "max-time": "max-time",
  url: "url",
  cookie: "cookie",
  "cookie-jar": "cookie-jar",
  "max-redirs": "max-redirs",
};
/**
 * Real curl options people type that this curl does not do: refused by name, not as "unknown".
 * Every other letter real curl 7.88 knows (anything else is "unknown", as curl says).
 */
const UNSUPPORTED_SHORT = "12346:#aBCeEFgGhjJkKlMnNoOpPqQrRtTuUVwxyYzZ";
/** What the refusal says this curl does. */
export const SUPPORTED = "-i -I -v -s -S -f -L -X -H -d -A -b -c -m -0";
const UNSUPPORTED_LONG = new Set([
  "output", "remote-name", "location-trusted", "insecure", "user", "form", "junk-session-cookies", "compressed",
  "json", "write-out", "proxy", "upload-file", "range", "referer", "get", "http2", "http3", "data-urlencode",
  "connect-timeout", "retry", "trace", "trace-ascii", "dump-header", "config", "next", "parallel", "cacert",
  "tlsv1.2", "ssl", "progress-bar", "ipv4", "ipv6", "resolve", "unix-socket", "raw", "globoff", "form-string",
]);

function usage(message: string): CurlError {
  return new CurlError(2, `curl: ${message}\n${TRY_HELP}`, true);
}

/** Parse argv the way curl's getparameter does: clustered short flags, `-XPUT`, `--`, one parameter per option. */
export function parseCurlArgs(argv: readonly string[]): CurlOptions {
  const o: CurlOptions = {
    silent: false, showError: false, include: false, head: false, verbose: false, http10: false, fail: false,
    method: null, headers: [], data: [], userAgent: null, maxTimeSeconds: null, urls: [],
    location: false, maxRedirs: 50, cookieFiles: [], cookieLiterals: [], cookieJar: null,
  };
  if (argv.length === 0) throw new CurlError(2, TRY_HELP, true);
  const setParam = (param: Param, value: string, shown: string): void => {
    switch (param) {
      case "method": o.method = value; break;
      case "header": o.headers.push(value); break;
      case "data": o.data.push({ kind: "ascii", value }); break;
      case "data-binary": o.data.push({ kind: "binary", value }); break;
      case "data-raw": o.data.push({ kind: "raw", value }); break;
      case "user-agent": o.userAgent = value; break;
      case "url": o.urls.push(value); break;
      // curl's tool: an argument with "=" is cookie data, anything else a file to read.
      case "cookie": (value.includes("=") ? o.cookieLiterals : o.cookieFiles).push(value); break;
      case "cookie-jar": o.cookieJar = value; break;
      case "max-redirs": {
        if (!/^-?\d+$/.test(value.trim())) throw usage(`option ${shown}: expected a proper numerical parameter`);
        o.maxRedirs = Number(value);
        break;
      }
      case "max-time": {
        const seconds = Number(value);
        if (value.trim() === "" || !Number.isFinite(seconds) || seconds < 0) {
          throw usage(`option ${shown}: expected a proper numerical parameter`);
        }
        o.maxTimeSeconds = seconds;
        break;
      }
    }
  };
  let i = 0;
  let optionsDone = false;
  while (i < argv.length) {
    const arg = argv[i++]!;
    if (optionsDone || !arg.startsWith("-") || arg === "-") {
      o.urls.push(arg);
      continue;
    }
    if (arg === "--") {
      optionsDone = true;
      continue;
    }
    if (arg.startsWith("--")) {
      const name = arg.slice(2);
      const flag = LONG_FLAGS[name];
      if (flag) {
        if (flag !== "noop") o[flag] = true;
        continue;
      }
      const param = LONG_PARAMS[name];
      if (param) {
        if (i >= argv.length) throw usage(`option ${arg}: requires parameter`);
        setParam(param, argv[i++]!, arg);
        continue;
      }
      if (UNSUPPORTED_LONG.has(name)) throw usage(`option ${arg}: is not supported by this curl (it does ${SUPPORTED})`);
      throw usage(`option ${arg}: is unknown`);
    }
    // A cluster of short options: flags until one that takes a parameter eats the rest.
    for (let k = 1; k < arg.length; k++) {
      const letter = arg[k]!;
      const flag = SHORT_FLAGS[letter];
      if (flag) {
        o[flag] = true;
        continue;
      }
      const param = SHORT_PARAMS[letter];
      if (param) {
        const rest = arg.slice(k + 1);
        if (rest !== "") setParam(param, rest, `-${letter}`);
        else if (i < argv.length) setParam(param, argv[i++]!, `-${letter}`);
        else throw usage(`option -${letter}: requires parameter`);
        break;
      }
      if (UNSUPPORTED_SHORT.includes(letter)) {
        throw usage(`option -${letter}: is not supported by this curl (it does ${SUPPORTED})`);
      }
      throw usage(`option -${letter}: is unknown`);
    }
  }
  if (o.urls.length === 0) throw usage("no URL specified!");
  if (o.urls.length > 1) throw usage(`this curl fetches one URL at a time (got ${o.urls.length})`);
  if (o.head && o.data.length > 0) {
    // Real curl's exact words; like its other warnings, -s silences them.
    throw new CurlError(
      2,
      "Warning: You can only select one HTTP request method! You asked for both POST \nWarning: (-d, --data) and HEAD (-I, --head).\n",
    );
  }
  return o;
}

/** The parts of an http:// URL curl needs, normalised as curl's URL parser does. */
export interface CurlURL {
  host: string;
  port: number;
  /** Path and query, dot segments removed, fragment dropped: the request-target. */
  target: string;
  /** What goes in the Host header: host, plus `:port` unless it is 80. */
  hostHeader: string;
}

const BAD_URL = "curl: (3) URL using bad/illegal format or missing URL\n";

/** Parse a URL as curl 7.88 would for http; exit 1 for another scheme, 3 for a malformed URL. */
export function parseCurlURL(raw: string): CurlURL {
  let rest = raw;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (name !== "http") throw new CurlError(1, `curl: (1) Protocol "${scheme[1]}" not supported or disabled in libcurl\n`);
    rest = rest.slice(scheme[0].length);
  }
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  let pathAndQuery = end < 0 ? "" : rest.slice(end);
  if (authority.includes("@")) throw new CurlError(2, "curl: credentials in the URL are not supported by this curl\n", true);
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(.*))?$/.exec(authority);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const colon = authority.indexOf(":");
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
    if (!/^[a-zA-Z0-9._-]+$/.test(host)) throw new CurlError(3, BAD_URL);
    host = host.toLowerCase();
  }
  let port = 80;
  if (portText !== undefined && portText !== "") {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new CurlError(3, BAD_URL);
    port = Number(portText);
  }
  if (host === "") throw new CurlError(3, BAD_URL);
  const hash = pathAndQuery.indexOf("#");
  if (hash >= 0) pathAndQuery = pathAndQuery.slice(0, hash);
  // curl 7.88 refuses spaces and control characters in a URL rather than encoding them.
  if (/[\x00-\x20\x7f]/.test(pathAndQuery)) throw new CurlError(3, BAD_URL);
  // Anything else non-ASCII goes out percent-encoded, as UTF-8.
  pathAndQuery = pathAndQuery.replace(/[^\x21-\x7e]/gu, (c) =>
    Array.from(new TextEncoder().encode(c), (b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join(""),
  );
  const q = pathAndQuery.indexOf("?");
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const query = q < 0 ? "" : pathAndQuery.slice(q);
  const target = removeDotSegments(path === "" ? "/" : path) + query;
  const hostForHeader = v6 ? `[${host}]` : host;
  return { host, port, target, hostHeader: port === 80 ? hostForHeader : `${hostForHeader}:${port}` };
}

/** RFC 3986 section 5.2.4, which curl applies to every URL path. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split("/");
  for (let k = 1; k < segments.length; k++) {
    const seg = segments[k]!;
    const last = k === segments.length - 1;
    if (seg === ".") {
      if (last) out.push("");
    } else if (seg === "..") {
      out.pop();
      if (last) out.push("");
    } else out.push(seg);
  }
  return "/" + out.join("/");
}

/** The request curl would send: method, target, header lines in curl's order, and body. */
export interface CurlRequestPlan {
  method: string;
  url: CurlURL;
  version: "HTTP/1.1" | "HTTP/1.0";
  /** Header lines without their CRLF, exactly as they go on the wire. */
  headers: string[];
  body: Uint8Array | null;
  /** Warnings curl prints on stderr unless -s (e.g. an unreadable -d @file). */
  warnings: string[];
}

/** What changes from one request of a command to the next (-L follows a redirect; cookies). */
export interface CurlHop {
  /** Where this request goes (default: the command's URL). */
  url?: CurlURL;
  /** After a redirect that switched POST to GET: no body, no Content-* headers. */
  dropBody?: boolean;
  /** Cookies from the cookie engine for this URL ("a=1; b=2"), sent before -b literals. */
  jarCookies?: string | null;
}

/**
 * Build the request as curl's http.c does: Host, User-Agent, Accept (each unless the user
 * supplied that header), Cookie (the jar's matches, then -b literals, unless -H gives one),
 * then the user's -H headers in order ("Name:" removes, "Name;" sends an empty value), then
 * Content-Length and Content-Type for a body unless supplied.
 */
export function planRequest(o: CurlOptions, readFile: (path: string) => Uint8Array | null, hop: CurlHop = {}): CurlRequestPlan {
  const url = hop.url ?? parseCurlURL(o.urls[0]!);
  const warnings: string[] = [];
  // Header lines are kept as the user typed them: curl sends "X-Foo:bar" without adding a space.
  const custom: string[] = [];
  const mentioned = new Set<string>();
  for (const h of o.headers) {
    const colon = h.indexOf(":");
    const semi = h.indexOf(";");
    if (colon > 0) {
      mentioned.add(h.slice(0, colon).toLowerCase());
      // "Name:" with nothing after it removes the header, including curl's own defaults.
      if (h.slice(colon + 1).trim() !== "") custom.push(h);
    } else if (semi > 0 && h.slice(semi + 1).trim() === "") {
      // "Name;" sends the header with an empty value.
      mentioned.add(h.slice(0, semi).toLowerCase());
      custom.push(`${h.slice(0, semi)}:`);
    }
    // Anything else (no colon, no trailing semicolon) is ignored, as curl does.
  }
  let body: Uint8Array | null = null;
  if (o.data.length > 0 && !hop.dropBody) {
    const parts: Uint8Array[] = [];
    const encoder = new TextEncoder();
    for (const d of o.data) {
      if (d.kind !== "raw" && d.value.startsWith("@")) {
        const path = d.value.slice(1);
        let bytes = path === "-" ? null : readFile(path);
        if (bytes === null) {
          warnings.push(`Warning: Couldn't read data from file "${path}", this makes an empty POST.\n`);
          bytes = new Uint8Array(0);
        }
        // -d strips carriage returns and newlines from files; --data-binary keeps every byte.
        if (d.kind === "ascii") bytes = bytes.filter((b) => b !== 0x0a && b !== 0x0d);
        parts.push(bytes);
      } else {
        parts.push(encoder.encode(d.value));
      }
    }
    const total = parts.reduce((n, p, k) => n + p.length + (k > 0 ? 1 : 0), 0);
    body = new Uint8Array(total);
    let at = 0;
    parts.forEach((p, k) => {
      if (k > 0) body![at++] = 0x26; // '&'
      body!.set(p, at);
      at += p.length;
    });
  }
  const method = o.method ?? (o.head ? "HEAD" : body ? "POST" : "GET");
  const headers: string[] = [];
  const hostOverride = custom.find((h) => /^host:/i.test(h));
  if (hostOverride !== undefined) headers.push(hostOverride);
  else if (!mentioned.has("host")) headers.push(`Host: ${url.hostHeader}`);
  if (!mentioned.has("user-agent")) headers.push(`User-Agent: ${o.userAgent ?? `curl/${CURL_VERSION}`}`);
  if (!mentioned.has("accept")) headers.push("Accept: */*");
  // Several -b literals are joined with a bare ";", as curl's tool does.
  const cookies = [hop.jarCookies ?? null, mentioned.has("cookie") ? null : o.cookieLiterals.join(";") || null].filter((c) => c !== null);
  if (cookies.length > 0) headers.push(`Cookie: ${cookies.join("; ")}`);
  for (const line of custom) if (line !== hostOverride) headers.push(line);
  if (body) {
    if (!mentioned.has("content-length")) headers.push(`Content-Length: ${body.length}`);
    if (!mentioned.has("content-type")) headers.push("Content-Type: application/x-www-form-urlencoded");
  }
  return { method, url, version: o.http10 ? "HTTP/1.0" : "HTTP/1.1", headers, body, warnings };
}

/** The request head bytes as curl writes them (and as -v echoes them with "> "). */
export function formatRequestHead(plan: CurlRequestPlan): string[] {
  return [`${plan.method} ${plan.url.target} ${plan.version}\r\n`, ...plan.headers.map((h) => `${h}\r\n`), "\r\n"];
}

/** Node-style socket error codes mapped to curl's exit codes. */
function connectErrorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  const message = err instanceof Error ? err.message : String(err);
  return /ENOTFOUND|EAI_AGAIN/.test(message) ? "ENOTFOUND" : /ECONNREFUSED/.test(message) ? "ECONNREFUSED" : "EOTHER";
}

/** curl's 5-column number format (lib/progress.c max5data). */
function max5(n: number): string {
  n = Math.max(0, Math.floor(n));
  if (n < 100_000) return String(n).padStart(5);
  if (n < 10_000 * 1024) return `${String(Math.floor(n / 1024)).padStart(4)}k`;
  if (n < 100 * 1024 * 1024) {
    const mb = n / (1024 * 1024);
    return `${String(Math.floor(mb)).padStart(2)}.${Math.floor((mb % 1) * 10)}M`;
  }
  return `${String(Math.floor(n / (1024 * 1024))).padStart(4)}M`;
}

/** "HH:MM:SS", or "--:--:--" for nothing to tell (curl's time2str). */
function clock(seconds: number): string {
  if (!(seconds >= 1)) return "--:--:--";
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  if (h > 99) return "--:--:--";
  return `${String(h).padStart(2, "0")}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * The progress meter real curl draws on stderr when stdout is not a terminal and -s is not
 * given: a header and a first row when the transfer starts, a last row and a newline when it
 * ends. Only those two rows (curl adds one per second of a long transfer); the speeds and
 * times are this run's own, as they are for curl.
 */
class ProgressMeter {
  private started = 0;
  expectedDown = 0;
  expectedUp = 0;
  downloaded = 0;
  uploaded = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly now: () => number,
  ) {}

  start(): void {
    this.started = this.now();
    this.write(
      "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n" +
        "                                 Dload  Upload   Total   Spent    Left  Speed\n",
    );
    this.row();
  }

  done(): void {
    this.row();
    this.write("\n");
  }

  private row(): void {
    const seconds = (this.now() - this.started) / 1000;
    const percent = (part: number, whole: number) => String(whole > 0 ? Math.floor((part * 100) / whole) : 0).padStart(3);
    const total = this.expectedDown + this.expectedUp;
    const speed = (bytes: number) => (seconds > 0 ? bytes / seconds : 0);
    this.write(
      `\r${percent(this.downloaded + this.uploaded, total)} ${max5(total)}  ${percent(this.downloaded, this.expectedDown)} ${max5(this.downloaded)}  ` +
        `${percent(this.uploaded, this.expectedUp)} ${max5(this.uploaded)}  ${max5(speed(this.downloaded))}  ${max5(speed(this.uploaded))} ` +
        `${clock(0)} ${clock(seconds)} ${clock(0)} ${max5(speed(this.downloaded + this.uploaded))}`,
    );
  }
}

/** What one request of a command ended with: an exit code (it failed), or the response's outcome. */
type Exchange = number | { status: number; follow: string | null; closeAfter: boolean };

/**
 * Run curl. Resolves to curl's exit code: 0 ok, 1 unsupported protocol, 2 usage, 3 bad URL,
 * 6 unresolvable host, 7 connection refused, 22 HTTP error with -f, 28 timeout,
 * 47 too many redirects, 52 empty reply, 56 receive failure.
 *
 * With -L each redirect is a new request of the same command (curl's "follow"); with -b FILE or
 * -c the cookie engine keeps the cookies the responses set and sends the matching ones, and
 * -c writes the jar when the command ends, whatever its outcome. Files are read and written
 * through the platform's file system (the real one on Node, the virtual one in the browser).
 */
export async function curl(argv: string[], io: CurlIO): Promise<number> {
  const plat = io.platform ?? currentPlatform();
  const isTTY = io.isTTY ?? true;
  let options: CurlOptions;
  try {
    options = parseCurlArgs(argv);
  } catch (err) {
    if (!(err instanceof CurlError)) throw err;
    // Usage errors always show; the -I/-d clash is a warning, which -s hides.
    const quiet = argv.some((a) => /^-[^-]*s/.test(a) || a === "--silent");
    if (err.usage || !quiet) io.stderr(err.message);
    return err.exitCode;
  }
  const o = options;
  const showErrors = !o.silent || o.showError;
  const info = (line: string) => {
    if (o.verbose) io.stderr(`* ${line}\n`);
  };
  const readFile = (path: string) => plat.fs.readFile(path);
  const nowSeconds = () => Math.floor(plat.now() / 1000);

  // The cookie engine is on with -b FILE or -c (a -b literal alone only sends its text).
  const jar = o.cookieFiles.length > 0 || o.cookieJar !== null ? new CookieJar() : null;
  const loadCookieFiles = (warn: boolean) => {
    for (const path of o.cookieFiles) {
      const bytes = readFile(path);
      if (bytes !== null) jar!.load(new TextDecoder().decode(bytes));
      else if (warn) info(`WARNING: failed to open cookie file "${path}"`);
    }
  };
  loadCookieFiles(true);
  const jarCookies = (url: CurlURL) => jar?.header(url.host, url.target, isSecureContext(url.host), nowSeconds()) ?? null;
  // curl writes the jar when the handle is cleaned up: after any outcome but a usage error.
  const saveJar = () => {
    if (!jar || o.cookieJar === null) return;
    // curl reads its cookie files once more before it writes the jar.
    loadCookieFiles(false);
    const text = jar.serialize(nowSeconds());
    if (o.cookieJar === "-") return io.stdout(text);
    try {
      if (!plat.fs.writeFile) throw new Error("read-only file system");
      plat.fs.writeFile(o.cookieJar, new TextEncoder().encode(text));
    } catch {
      info(`WARNING: failed to save cookies in ${o.cookieJar}: Failed writing received data to disk/application`);
    }
  };

  let plan: CurlRequestPlan;
  try {
    const url = parseCurlURL(o.urls[0]!);
    plan = planRequest(o, readFile, { url, jarCookies: jarCookies(url) });
  } catch (err) {
    if (!(err instanceof CurlError)) throw err;
    if (err.usage || showErrors) io.stderr(err.message);
    saveJar();
    return err.exitCode;
  }
  if (!o.silent) for (const w of plan.warnings) io.stderr(w);
  const meter = !o.silent && !isTTY ? new ProgressMeter(io.stderr, () => plat.monotonic()) : null;
  const fail = (code: number, message: string, closing: number | null = 0): number => {
    meter?.done();
    if (closing !== null) info(`Closing connection ${closing}`);
    if (showErrors) io.stderr(`curl: (${code}) ${message}\n`);
    return code;
  };
  // curl's "after N ms" counts from the start of the request that failed (a redirect starts anew).
  let started = plat.monotonic();
  const elapsed = () => Math.floor(plat.monotonic() - started);
  const client = new AsyncHTTPClient();

  /** One request and its response, printed as curl prints them; `n` is curl's connection number. */
  const exchange = async (plan: CurlRequestPlan, n: number): Promise<Exchange> => {
    const { url } = plan;
    const encoder = new TextEncoder();
    // The client writes header text as latin-1; hand it the UTF-8 bytes curl would send.
    const wireText = (text: string) => String.fromCharCode(...encoder.encode(text));
    const pairs: Array<[string, string]> = plan.headers.map((line) => {
      const colon = line.indexOf(":");
      const value = line.slice(colon + 1);
      return [line.slice(0, colon), wireText(value.startsWith(" ") ? value.slice(1) : value)];
    });
    // curl resolves "localhost" itself to 127.0.0.1 and ::1 and tries them in that order.
    const candidates = url.host === "localhost" ? ["127.0.0.1", "::1"] : [url.host];
    if (meter) meter.downloaded = meter.expectedDown = meter.uploaded = meter.expectedUp = 0;
    started = plat.monotonic();
    let status = 0;
    let sawStatus = false;
    let closeAfter = false;
    let received = 0;
    let fromHTTP10 = false;
    let chunked = false;
    let location: string | null = null;
    // -L decides at the end of the head whether this response is followed (its body is then not shown).
    let follow = false;
    // -v's "{ [N bytes data]" lines count what curl read from the socket in one go: the body
    // pieces that arrive in one event-loop turn, with their chunked framing (curl reads at most
    // 16 KiB at a time).
    let pendingRaw = 0;
    const flushData = () => {
      for (let left = pendingRaw; left > 0; left -= 16_384) io.stderr(`{ [${Math.min(left, 16_384)} bytes data]\n`);
      pendingRaw = 0;
    };
    const noteData = (raw: number) => {
      if (!o.verbose || isTTY || raw === 0) return;
      if (pendingRaw === 0) IOLoop.current().addCallback(flushData);
      pendingRaw += raw;
    };
    for (const address of candidates) {
      const shown = address.includes(":") ? `[${address}]` : address;
      info(`  Trying ${shown}:${url.port}...`);
      let connected = false;
      const request = new HTTPRequest(`http://${shown}:${url.port}${url.target}`, {
        method: plan.method,
        headers: pairs,
        body: plan.body ?? undefined,
        version: plan.version,
        platform: plat,
        // curl's exact header list goes out as given: no Tornado defaults, no gzip; curl follows redirects itself.
        defaultHeaders: false,
        decompressResponse: false,
        followRedirects: false,
        allowNonstandardMethods: true,
        connectTimeout: o.maxTimeSeconds ?? 300,
        requestTimeout: o.maxTimeSeconds ?? 86_400,
        onRequestSent: (head) => {
          connected = true;
          if (meter) meter.uploaded = meter.expectedUp = plan.body?.length ?? 0;
          info(`Connected to ${url.host} (${address}) port ${url.port} (#${n})`);
          if (!o.verbose) return;
          // Echo the bytes actually written, as curl -v does.
          const text = String.fromCharCode(...head);
          for (const line of text.split("\r\n").slice(0, -1)) io.stderr(`> ${line}\r\n`);
          if (plan.body && plan.body.length > 0 && !isTTY) io.stderr(`} [${plan.body.length} bytes data]\n`);
        },
        headerCallback: (line) => {
          const statusLine = !sawStatus;
          if (statusLine) {
            sawStatus = true;
            const m = /^HTTP\/(\d\.\d) (\d{3})/.exec(line);
            status = m ? Number(m[2]) : 0;
            fromHTTP10 = m?.[1] === "1.0";
            if (fromHTTP10) {
              closeAfter = true;
              info("HTTP 1.0, assume close after body");
            }
          } else if (/^transfer-encoding:[ \t]*chunked[ \t]*\r?\n$/i.test(line)) {
            chunked = true;
          } else if (meter && /^content-length:/i.test(line)) {
            meter.expectedDown = Number(line.slice(15).trim()) || 0;
          } else if (/^location:/i.test(line) && status >= 300 && status < 400 && location === null) {
            location = line.slice(9).trim();
          } else if (jar && /^set-cookie:/i.test(line) && status >= 200) {
            // curl -v tells what its cookie engine did before it shows the header line.
            const note = jar.setCookie(line.slice(11).trim(), url.host, url.target, isSecureContext(url.host), nowSeconds());
            if (note !== null) info(note);
          }
          if (/^connection:[ \t]*close[ \t]*\r?\n$/i.test(line)) {
            closeAfter = true;
          } else if (fromHTTP10 && /^connection:[ \t]*keep-alive[ \t]*\r?\n$/i.test(line)) {
            closeAfter = false;
          }
          if (o.verbose) io.stderr(`< ${line}`);
          // After the status line of a redirect of an upload that will be followed.
          if (statusLine && o.location && status >= 300 && status < 400 && plan.body !== null) info("Please rewind output before next send");
          if ((o.include || o.head) && !(o.fail && status >= 400)) io.stdout(line);
          const blank = line === "\r\n" || line === "\n";
          // A 1xx interim response: curl prints it too, then reads the real head.
          if (blank && status >= 100 && status < 200) sawStatus = false;
          if (blank && o.location && location !== null && location !== "" && status !== 304 && status >= 300 && status < 400) {
            follow = true;
            if (!o.head) info("Ignoring the response-body");
          }
        },
        streamingCallback: (chunk) => {
          received += chunk.length;
          if (meter) meter.downloaded = received;
          noteData(chunked ? chunk.length + chunk.length.toString(16).length + 4 : chunk.length);
          if (o.head || follow || (o.fail && status >= 400)) return;
          io.stdout(chunk);
        },
      });
      const response = await client.fetch(request, { raiseError: false });
      // The last chunk ("0\r\n\r\n") ends a chunked body in the same read as its data.
      if (chunked && !o.head && response.code !== 599) noteData(5);
      flushData();
      const error = response.code === 599 ? response.error : null;
      if (error === null) break;
      const message = error.message.replace(/^HTTP 599: /, "");
      if (!connected) {
        const cause = (error as { cause?: unknown }).cause;
        const code = connectErrorCode(cause ?? message);
        if (code === "ENOTFOUND") {
          info(`Could not resolve host: ${url.host}`);
          info(`Closing connection ${n}`);
          // curl gives up before drawing the meter's last row here.
          if (showErrors) io.stderr(`curl: (6) Could not resolve host: ${url.host}\n`);
          return 6;
        }
        if (/timeout/i.test(message)) {
          const text = `Failed to connect to ${url.host} port ${url.port} after ${elapsed()} ms: Timeout was reached`;
          info(text);
          return fail(28, text, n);
        }
        info(`connect to ${address} port ${url.port} failed: ${code === "ECONNREFUSED" ? "Connection refused" : message}`);
        if (address !== candidates[candidates.length - 1]) continue;
        const text = `Failed to connect to ${url.host} port ${url.port} after ${elapsed()} ms: Couldn't connect to server`;
        info(text);
        return fail(7, text, n);
      }
      if (/timeout/i.test(message)) {
        const ms = Math.round((o.maxTimeSeconds ?? 0) * 1000);
        const text = `Operation timed out after ${ms} milliseconds with ${received} bytes received`;
        info(text);
        return fail(28, text, n);
      }
      if (!sawStatus) {
        info("Empty reply from server");
        return fail(52, "Empty reply from server", n);
      }
      info(`Recv failure: ${message}`);
      return fail(56, `Recv failure: ${message}`, n);
    }
    return { status, follow: follow ? location : null, closeAfter };
  };

  try {
    meter?.start();
    // curl's request kind, which a redirect may switch to GET (-X still names the method).
    let post = plan.body !== null;
    for (let n = 0; ; n++) {
      const outcome = await exchange(plan, n);
      if (typeof outcome === "number") return outcome;
      const { url } = plan;
      if (outcome.follow === null) {
        if (o.fail && outcome.status >= 400) return fail(22, `The requested URL returned error: ${outcome.status}`, n);
        meter?.done();
        if (outcome.closeAfter) info(`Closing connection ${n}`);
        else info(`Connection #${n} to host ${url.host} left intact`);
        return 0;
      }
      meter?.done();
      if (outcome.closeAfter) info(`Closing connection ${n}`);
      else info(`Connection #${n} to host ${url.host} left intact`);
      if (o.maxRedirs >= 0 && n >= o.maxRedirs) {
        const text = `Maximum (${o.maxRedirs}) redirects followed`;
        info(text);
        if (showErrors) io.stderr(`curl: (47) ${text}\n`);
        return 47;
      }
      const base = `http://${url.hostHeader}${url.target}`;
      let nextText: string;
      try {
        nextText = new URL(outcome.follow, base).href;
      } catch {
        return fail(3, "URL using bad/illegal format or missing URL", null);
      }
      info(`Issue another request to this URL: '${nextText}'`);
      const code = outcome.status;
      if ((code === 301 || code === 302) && post) {
        info("Switch from POST to GET");
        post = false;
      } else if (code === 303 && (post || o.head)) {
        info(`Switch to ${o.head ? "HEAD" : "GET"}`);
        post = false;
      }
      try {
        const next = parseCurlURL(nextText);
        plan = planRequest(o, readFile, { url: next, dropBody: !post, jarCookies: jarCookies(next) });
      } catch (err) {
        if (!(err instanceof CurlError)) throw err;
        if (showErrors) io.stderr(err.message);
        return err.exitCode;
      }
    }
  } finally {
    client.close();
    saveJar();
  }
}
