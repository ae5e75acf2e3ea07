/**
 * The web framework (`tornado.web`): `Application` routes a request to a `RequestHandler`
 * subclass, whose `get()`/`post()`/... build the response.
 *
 * What a user writes is what they wrote in 2011:
 *
 * ```ts
 * class MainHandler extends RequestHandler { get() { this.write("Hello, world"); } }
 * new Application([["/", MainHandler]]).listen(8888);
 * ```
 *
 * Responses are byte-for-byte Tornado 6's (header names, order, the Etag rule, the error
 * pages), except that `Server` names this runtime. The only deliberate shape changes are the
 * ones TypeScript forces:
 *
 * - Python keyword arguments become one options object (`setCookie(name, value, {path})`).
 * - A route's unnamed groups reach the method as positional strings (`get(year, slug)`);
 *   named groups (`(?<id>\d+)` or Python's `(?P<id>\d+)`) reach it as ONE object
 *   (`get({ id })`), because Tornado passes named groups as keyword arguments. An optional
 *   group that did not match arrives as `undefined` (Python's None), so defaults apply.
 * - The HTTP verb methods (`get`, `post`, ...) and `initialize` are not declared on the base
 *   class, so a subclass writes `get() {...}` without `override` under `noImplicitOverride`
 *   (a missing verb is a 405, as in Tornado). Hooks that are declared (`prepare`, `onFinish`,
 *   `getCurrentUser`, `computeEtag`, `writeError`...) take `override`.
 * - `initialize` receives the route's third element as one object, and is called right after
 *   construction (not from the constructor), so subclass field initialisers never overwrite
 *   what it stored.
 * - Template loaders are cached per application, not per process.
 *
 * Per request the work is kept to what Tornado's rules need: no regex compiled, the Date header
 * rebuilt at most once a second, the body concatenated once and hashed once (the Etag), head and
 * body handed to the connection in one `writeHeaders` call, and no promise unless `prepare` or
 * the method returns one.
 */
import runtimePackage from "./package.json" with { type: "json" };
import { jsonEncode, latin1, latin1Bytes, linkify, percentDecode, toUnicode, urlEscape, utf8, utf8Length, xhtmlEscape } from "./escape.js";
import {
  formatTimestamp,
  HTTPHeaders,
  HTTPInputError,
  HTTPServerRequest,
  parseQsBytes,
  responses,
  type HTTPConnection,
  type HTTPMessageDelegate,
  type HTTPServerConnectionDelegate,
  type RequestStartLine,
  type ResponseStartLine,
} from "./httputil.js";
import { HTTPServer, type HTTPServerOptions } from "./httpserver.js";
import { IOLoop } from "./ioloop.js";
import { WRITTEN } from "./iostream.js";
import { accessLog, appLog, genLog } from "./log.js";
import { Loader, type LoaderOptions } from "./template.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { platform } from "./platform/index.js";
import type { Platform, PlatformGzip } from "./platform/types.js";

/** This runtime's version, from runtime/package.json: the one place it is kept. */
export const version: string = runtimePackage.version;
/** The `Server` header every response starts with (Tornado's is `TornadoServer/<version>`). */
export const serverHeader = `TornadoTS/${version}`;

// ---------------------------------------------------------------------------------------------
// Small Python-isms: %-formatting for log messages, repr() for values in messages.

/** Python's `repr()` of a str or bytes, for messages that quote Tornado's. */
export function pyRepr(value: unknown): string {
  if (value instanceof Uint8Array) {
    let out = "";
    for (const b of value) {
      if (b === 0x5c) out += "\\\\";
      else if (b === 0x27) out += "\\'";
      else if (b === 0x0a) out += "\\n";
      else if (b === 0x0d) out += "\\r";
      else if (b === 0x09) out += "\\t";
      else if (b < 0x20 || b >= 0x7f) out += "\\x" + b.toString(16).padStart(2, "0");
      else out += String.fromCharCode(b);
    }
    return `b'${out}'`;
  }
  if (typeof value === "string") {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    let out = "";
    for (const c of value) {
      const code = c.codePointAt(0)!;
      if (c === "\\") out += "\\\\";
      else if (c === quote) out += "\\" + c;
      else if (c === "\n") out += "\\n";
      else if (c === "\r") out += "\\r";
      else if (c === "\t") out += "\\t";
      else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
      else out += c;
    }
    return quote + out + quote;
  }
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  return String(value);
}

/** `"%d %s: %r" % args`, the subset of Python's %-formatting Tornado's messages use. */
export function pyFormat(format: string, args: readonly unknown[]): string {
  let i = 0;
  return format.replace(/%(%|s|r|d|i|(?:\.(\d+))?f)/g, (_m, spec: string, digits?: string) => {
    if (spec === "%") return "%";
    const arg = args[i++];
    if (spec === "s") return typeof arg === "string" ? arg : pyRepr(arg);
    if (spec === "r") return pyRepr(arg);
    if (spec === "d" || spec === "i") return String(Math.trunc(Number(arg)));
    return Number(arg).toFixed(digits === undefined ? 6 : Number(digits));
  });
}

/** The text a traceback shows for any thrown value (the JS stack stands in for Python's traceback). */
function formatException(e: unknown): string {
  if (e instanceof Error) return (e.stack ?? `${e.name}: ${e.message}`) + "\n";
  return `Error: ${String(e)}\n`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as PromiseLike<unknown>).then === "function";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const noop = () => {};

// ---------------------------------------------------------------------------------------------
// Exceptions

/**
 * An exception that turns into an HTTP error response (`HTTPError(404)`).
 *
 * `logMessage` (with %-style `args`) goes to the log, never to the client; `reason` replaces the
 * standard reason phrase. Options go last: `new HTTPError(418, "brewing %s", tea, { reason: "Teapot" })`.
 */
export class HTTPError extends Error {
  override name = "HTTPError";
  readonly statusCode: number;
  /** The message for the log, already formatted with its args; null if none. */
  readonly logMessage: string | null;
  readonly args: unknown[];
  readonly reason: string | null;

  constructor(statusCode = 500, logMessage?: string | null, ...args: unknown[]) {
    let reason: string | null = null;
    const last = args[args.length - 1];
    if (isPlainObject(last) && Object.keys(last).every((k) => k === "reason")) {
      args.pop();
      reason = typeof last["reason"] === "string" ? last["reason"] : null;
    }
    const formatted = logMessage ? (args.length ? pyFormat(logMessage, args) : logMessage) : null;
    const head = `HTTP ${statusCode}: ${reason ?? responses[statusCode] ?? "Unknown"}`;
    super(formatted ? `${head} (${formatted})` : head);
    this.statusCode = statusCode;
    this.logMessage = formatted;
    this.args = args;
    this.reason = reason;
  }
}

/**
 * Ends the request without an error page: `throw new Finish()` sends what was written so far,
 * `throw new Finish(chunk)` is `finish(chunk)`.
 */
export class Finish extends Error {
  override name = "Finish";
  readonly chunk: string | Uint8Array | Record<string, unknown> | undefined;
  constructor(chunk?: string | Uint8Array | Record<string, unknown>) {
    super("Finish");
    this.chunk = chunk;
  }
}

/** `getArgument()` of a required argument that is missing: a 400 (logged without a stack). */
export class MissingArgumentError extends HTTPError {
  override name = "MissingArgumentError";
  readonly argName: string;
  constructor(argName: string) {
    super(400, `Missing argument ${argName}`);
    this.argName = argName;
  }
}

// ---------------------------------------------------------------------------------------------
// Routing

/** A handler class: what a route points at. */
export type HandlerClass<H extends RequestHandler = RequestHandler> = new (application: Application, request: HTTPServerRequest) => H;

export type InitArgs = Record<string, unknown>;

/** `[pattern, Handler, initArgs?, name?]`, as Tornado's `(r"/", MainHandler)` tuples. */
export type RouteTuple =
  | readonly [string | RegExp, HandlerClass<any>]
  | readonly [string | RegExp, HandlerClass<any>, InitArgs | null | undefined]
  | readonly [string | RegExp, HandlerClass<any>, InitArgs | null | undefined, string | null | undefined];

export type Route = RouteTuple | URLSpec;

/** Python's `re_unescape`: `\.` → `.`; an escaped letter or digit (`\d`) cannot be reversed. */
function reUnescape(text: string): string | null {
  let failed = false;
  const out = text.replace(/\\([\s\S])/g, (_m, c: string) => {
    if (/[A-Za-z0-9]/.test(c)) failed = true;
    return c;
  });
  return failed ? null : out;
}

/**
 * One route: a path regex, the handler class, the handler's `initialize` arguments and an
 * optional name for `reverseUrl` (`URLSpec` / `url()`).
 *
 * The pattern is anchored as Tornado anchors it: `$` is appended if missing, and matching starts
 * at the beginning of the path (Python's `re.match`). Python's `(?P<name>...)` is accepted.
 */
export class URLSpec {
  readonly regex: RegExp;
  /** The pattern's source as written (after `(?P<` translation and the appended `$`). */
  readonly pattern: string;
  readonly handlerClass: HandlerClass<any>;
  readonly kwargs: InitArgs;
  readonly name: string | null;
  readonly groupCount: number;
  /** Names of the named groups, in order; empty when the groups are positional. */
  readonly groupNames: readonly string[];
  private readonly reversePieces: readonly (string | null)[] | null;
  /** The one path a pattern without regex syntax (`/`, `/about`) matches: compared, not executed. */
  private readonly literal: string | null;
  /** What `findHandler` answers for a match without groups: made once, not per request. @internal */
  readonly route: FoundRoute;

  constructor(pattern: string | RegExp, handlerClass: HandlerClass<any>, kwargs?: InitArgs | null, name?: string | null) {
    if (typeof handlerClass !== "function" || !(handlerClass === RequestHandler || handlerClass.prototype instanceof RequestHandler)) {
      const what = typeof handlerClass === "function" ? handlerClass.name || "an anonymous function" : typeof handlerClass;
      throw new TypeError(`Route ${String(pattern)}: the handler must be a RequestHandler subclass, got ${what}`);
    }
    let source: string;
    let flags = "";
    if (typeof pattern === "string") {
      source = pattern.replace(/\(\?P</g, "(?<").replace(/\(\?P=(\w+)\)/g, "\\k<$1>");
      if (!source.endsWith("$")) source += "$";
    } else {
      source = pattern.source;
      flags = pattern.flags.replace(/[gy]/g, "");
    }
    this.pattern = source;
    try {
      this.regex = new RegExp(`^(?:${source})`, flags);
    } catch (e) {
      throw new SyntaxError(`Invalid route pattern ${pyRepr(String(pattern))}: ${(e as Error).message}`);
    }
    const probe = new RegExp(`(?:${source})|`, flags).exec("")!;
    this.groupCount = probe.length - 1;
    this.groupNames = probe.groups ? Object.keys(probe.groups) : [];
    if (this.groupNames.length !== 0 && this.groupNames.length !== this.groupCount) {
      throw new Error(`groups in url regexes must either be all named or all positional: ${pyRepr(source)}`);
    }
    this.handlerClass = handlerClass;
    this.kwargs = kwargs ?? {};
    this.name = name ?? null;
    this.reversePieces = this.findGroups();
    this.route = { handlerClass, kwargs: this.kwargs, args: NO_GROUPS.args, pathKwargs: null };
    const body = source.replace(/^\^/, "").replace(/\$$/, "");
    this.literal = flags === "" && !/[\\^$.|?*+()[\]{}]/.test(body) ? body : null;
  }

  /** Tornado's `_find_groups`: the literal pieces between groups, or null if not reversible. */
  private findGroups(): (string | null)[] | null {
    let pattern = this.pattern;
    if (pattern.startsWith("^")) pattern = pattern.slice(1);
    if (pattern.endsWith("$")) pattern = pattern.slice(0, -1);
    if (this.groupCount !== pattern.split("(").length - 1) return null;
    const pieces: (string | null)[] = [];
    for (const fragment of pattern.split("(")) {
      const paren = fragment.indexOf(")");
      const literal = reUnescape(paren >= 0 ? fragment.slice(paren + 1) : fragment);
      if (literal === null) return null;
      if (paren >= 0) pieces.push(null);
      pieces.push(literal);
    }
    return pieces;
  }

  /** Matches a request path; null if it does not match. */
  match(path: string): { args: (string | undefined)[]; kwargs: Record<string, string | undefined> | null } | null {
    if (this.literal !== null) return path === this.literal ? NO_GROUPS : null;
    const m = this.regex.exec(path);
    if (m === null) return null;
    if (this.groupCount === 0) return NO_GROUPS;
    if (this.groupNames.length) {
      const kwargs: Record<string, string | undefined> = {};
      for (const name of this.groupNames) kwargs[name] = m.groups![name];
      return { args: [], kwargs };
    }
    return { args: m.slice(1), kwargs: null };
  }

  /** The path for these group values (url-escaped), as `reverse_url` builds it. */
  reverse(...args: unknown[]): string {
    if (this.reversePieces === null) throw new Error(`Cannot reverse url regex ${this.pattern}`);
    if (args.length !== this.groupCount) {
      throw new Error(`required number of arguments not found: ${this.pattern} takes ${this.groupCount}, got ${args.length}`);
    }
    let i = 0;
    let out = "";
    for (const piece of this.reversePieces) {
      if (piece !== null) out += piece;
      else {
        const a = args[i++];
        out += urlEscape(a instanceof Uint8Array ? a : String(a), false);
      }
    }
    return out;
  }
}

const NO_GROUPS = Object.freeze({ args: [] as (string | undefined)[], kwargs: null });

/** `url(pattern, Handler, initArgs?, name?)`: a `URLSpec`, as Tornado's `tornado.web.url`. */
export function url(pattern: string | RegExp, handlerClass: HandlerClass<any>, kwargs?: InitArgs | null, name?: string | null): URLSpec {
  return new URLSpec(pattern, handlerClass, kwargs, name);
}

function toSpec(route: Route): URLSpec {
  if (route instanceof URLSpec) return route;
  if (!Array.isArray(route) || route.length < 2 || route.length > 4) {
    throw new TypeError(`A route is [pattern, Handler, initArgs?, name?] or url(...); got ${pyRepr(String(route))}`);
  }
  const [pattern, handler, kwargs, name] = route as [string | RegExp, HandlerClass<any>, InitArgs?, string?];
  return new URLSpec(pattern, handler, kwargs, name);
}

// ---------------------------------------------------------------------------------------------
// Application

/** Application settings (Tornado's keyword arguments, in camelCase). Unknown keys are kept. */
/** A request's route: the handler, its `initialize` arguments and the path groups. */
export interface FoundRoute {
  handlerClass: HandlerClass<any>;
  kwargs: InitArgs;
  args: (string | undefined)[];
  pathKwargs: Record<string, string | undefined> | null;
}

export interface Settings {
  /** Implies `serveTraceback`, and `compiledTemplateCache: false` / `staticHashCache: false`. */
  debug?: boolean;
  /** Error pages for uncaught exceptions show the stack as text/plain. */
  serveTraceback?: boolean;
  templatePath?: string;
  /** Name of the escape function for templates ("xhtml_escape"), or null for none. */
  autoescape?: string | null;
  templateWhitespace?: "all" | "single" | "oneline";
  compiledTemplateCache?: boolean;
  templateLoader?: TemplateLoaderLike;
  uiModules?: UIModuleRegistry | UIModuleRegistry[];
  uiMethods?: Record<string, (handler: RequestHandler, ...args: any[]) => unknown> | Record<string, (handler: RequestHandler, ...args: any[]) => unknown>[];
  cookieSecret?: string | Uint8Array | Record<number, string | Uint8Array>;
  keyVersion?: number;
  xsrfCookies?: boolean;
  xsrfCookieVersion?: 1 | 2;
  xsrfCookieKwargs?: CookieOptions;
  defaultHandlerClass?: HandlerClass<any>;
  defaultHandlerArgs?: InitArgs;
  staticPath?: string;
  staticUrlPrefix?: string;
  staticHashCache?: boolean;
  /** Gzip text responses for clients that accept it (`GZipContentEncoding`); `gzip` is its old name. */
  compressResponse?: boolean;
  gzip?: boolean;
  loginUrl?: string;
  /** Replaces the access log line (`logRequest`). */
  logFunction?: (handler: RequestHandler) => void;
  [key: string]: unknown;
}

interface HostRules {
  host: RegExp | null;
  specs: URLSpec[];
}

/**
 * A collection of routes and settings; the `HTTPServerConnectionDelegate` an `HTTPServer` serves.
 */
export class Application implements HTTPServerConnectionDelegate {
  readonly settings: Settings;
  readonly uiModules: Record<string, UIModuleClass>;
  readonly uiMethods: Record<string, (handler: RequestHandler, ...args: any[]) => unknown>;
  /**
   * Template loaders by template path, shared by this application's handlers. Tornado keeps one
   * process-wide cache (`RequestHandler._template_loaders`); ours is per application, so two
   * apps in one page (the playground) never see each other's templates. `clear()` it to re-read.
   */
  readonly templateLoaders = new Map<string, TemplateLoaderLike>();
  /** Host-specific route lists (from `addHandlers`) first, the wildcard list last. */
  private readonly hosts: HostRules[];
  /** Output transforms applied to every response (`GZipContentEncoding` with `compressResponse`). */
  readonly transforms: OutputTransformClass[] = [];

  constructor(handlers: readonly Route[] = [], settings: Settings = {}) {
    this.settings = settings;
    this.uiModules = { linkify: LinkifyModule, xsrf_form_html: XsrfFormHtmlModule, Template: TemplateModule };
    this.uiMethods = {};
    for (const registry of ([] as UIModuleRegistry[]).concat(settings.uiModules ?? [])) {
      for (const [name, cls] of Object.entries(registry)) {
        if (typeof cls === "function" && cls.prototype instanceof UIModule) this.uiModules[name] = cls as UIModuleClass;
      }
    }
    for (const registry of ([] as Record<string, (h: RequestHandler, ...a: any[]) => unknown>[]).concat(settings.uiMethods ?? [])) {
      for (const [name, fn] of Object.entries(registry)) {
        if (!name.startsWith("_") && typeof fn === "function" && name[0]!.toLowerCase() === name[0]) this.uiMethods[name] = fn;
      }
    }
    const specs = handlers.map(toSpec);
    if (settings.staticPath) {
      const prefix = settings.staticUrlPrefix ?? "/static/";
      const handlerClass = (settings["staticHandlerClass"] as HandlerClass | undefined) ?? StaticFileHandler;
      const args = { ...((settings["staticHandlerArgs"] as InitArgs | undefined) ?? {}), path: settings.staticPath };
      for (const pattern of [escapeRegExp(prefix) + "(.*)", "/(favicon\\.ico)", "/(robots\\.txt)"]) {
        specs.unshift(new URLSpec(pattern, handlerClass, args));
      }
    }
    if (settings.debug) {
      settings.compiledTemplateCache ??= false;
      settings.staticHashCache ??= false;
      settings.serveTraceback ??= true;
    }
    this.hosts = [{ host: null, specs }];
    if (settings.compressResponse || settings.gzip) this.addTransform(GZipContentEncoding);
  }

  /** Adds an output transform for every later response (Tornado's `add_transform`). */
  addTransform(transformClass: OutputTransformClass): void {
    (transformClass as { check?: () => void }).check?.();
    this.transforms.push(transformClass);
  }

  /**
   * Starts an `HTTPServer` for this application on `port` and returns it at once, as Tornado's
   * `listen` does; the socket binds in the background (`await server.listen(...)` yourself to
   * wait for it). A failure to bind is logged.
   */
  listen(port: number, address?: string, serverOptions?: HTTPServerOptions): HTTPServer {
    const server = new HTTPServer(this, serverOptions);
    server.listen(port, address).catch((e: unknown) => {
      appLog.error("web", `Could not listen on ${address ?? ""}:${port}: ${e instanceof Error ? e.message : String(e)}`);
    });
    return server;
  }

  /** Adds routes served only when the Host (without port) matches `hostPattern`; they take precedence over the constructor's. */
  addHandlers(hostPattern: string, handlers: readonly Route[]): void {
    const source = hostPattern.endsWith("$") ? hostPattern : hostPattern + "$";
    this.hosts.splice(this.hosts.length - 1, 0, { host: new RegExp(`^(?:${source})`), specs: handlers.map(toSpec) });
  }

  /** The route for a request, or the default handler / 404 `ErrorHandler`. */
  findHandler(request: HTTPServerRequest): FoundRoute {
    for (const host of this.hosts) {
      if (host.host !== null && !host.host.test(request.hostName)) continue;
      for (const spec of host.specs) {
        const m = spec.match(request.path);
        if (m === NO_GROUPS) return spec.route;
        if (m !== null) return { handlerClass: spec.handlerClass, kwargs: spec.kwargs, args: m.args, pathKwargs: m.kwargs };
      }
    }
    if (this.settings.defaultHandlerClass) {
      return { handlerClass: this.settings.defaultHandlerClass, kwargs: this.settings.defaultHandlerArgs ?? {}, args: [], pathKwargs: null };
    }
    return { handlerClass: ErrorHandler, kwargs: { statusCode: 404 }, args: [], pathKwargs: null };
  }

  /** The path of the route named `name`, with `args` substituted for its groups. */
  reverseUrl(name: string, ...args: unknown[]): string {
    for (const host of this.hosts) {
      for (const spec of host.specs) if (spec.name === name) return spec.reverse(...args);
    }
    throw new Error(`${name} not found in named urls`);
  }

  /** Writes the access-log line: `200 GET / (127.0.0.1) 0.45ms` (info < 400, warning < 500, else error). */
  logRequest(handler: RequestHandler): void {
    if (this.settings.logFunction) {
      this.settings.logFunction(handler);
      return;
    }
    const status = handler.getStatus();
    const head = accessLineHead(status, handler);
    const tail = formatMsSuffix(platform().monotonic() - handler.request.startTime);
    // The line's timestamp is the second this response's Date header shows, while that is
    // current (the timer that ends it is the Date header's): no clock read for it.
    const second = dateText !== null && datePlatform === platform() ? dateSecond : undefined;
    accessLog.logPieces(status < 400 ? "info" : status < 500 ? "warning" : "error", "web", head, tail, second);
  }

  /** `HTTPServerConnectionDelegate`: one dispatcher per request. */
  startRequest(serverConnection: object, requestConnection: HTTPConnection): HTTPMessageDelegate {
    return new RequestDispatcher(this, serverConnection, requestConnection);
  }

  /** Serves an already-built request (Tornado's legacy `application(request)` interface). */
  handleRequest(request: HTTPServerRequest): void {
    const route = this.findHandler(request);
    executeHandler(this, request, route.handlerClass, route.kwargs, route.args, route.pathKwargs);
  }
}

/** `.00ms` ... `.99ms`: the fraction and unit of an access-log duration, made once. */
const CENTS_MS = Array.from({ length: 100 }, (_, c) => `.${c < 10 ? "0" : ""}${c}ms`);
/** `0.00ms` ... `9.99ms`, whole: most requests take less than 10 ms, and then the duration is one flat string. */
const SHORT_MS = Array.from({ length: 1000 }, (_, h) => `${Math.floor(h / 100)}${CENTS_MS[h % 100]!}`);

/**
 * `%.2fms` of a duration in ms, as Tornado's access log prints it: a prepared string under 10
 * ms, else the whole part and one of the 100 prepared tails, so a line's duration is a short
 * string (toFixed costs three times more; a template of four pieces made a rope).
 */
function formatMsSuffix(ms: number): string {
  const hundredths = Math.round(ms * 100);
  if (hundredths >= 0 && hundredths < 1000) return SHORT_MS[hundredths]!;
  if (!(hundredths >= 0 && hundredths < 1e15)) return ms.toFixed(2) + "ms";
  const cents = hundredths % 100;
  return String((hundredths - cents) / 100) + CENTS_MS[cents]!;
}

/*
 * `200 GET / (127.0.0.1) `, the access line up to its duration, for the last request logged: a
 * server mostly logs the same status, method, URI and client again, and then the line is that
 * one flat string and the duration (two pieces, not a rope of ten made per request). A handler
 * that overrides `_requestSummary` is asked every time.
 */
let lastLineStatus = 0;
let lastLineMethod = "";
let lastLineUri = "";
let lastLineIp = "";
let lastLineHead = "";
function accessLineHead(status: number, handler: RequestHandler): string {
  const request = handler.request;
  if (handler._requestSummary !== defaultRequestSummary) return `${status} ${handler._requestSummary()} `;
  const { method, uri, remoteIp } = request;
  if (status !== lastLineStatus || method !== lastLineMethod || uri !== lastLineUri || remoteIp !== lastLineIp) {
    // Flattened once here (`flat`), so every later line shares a flat head.
    lastLineHead = flat(`${status} ${method} ${uri} (${remoteIp}) `);
    lastLineStatus = status;
    lastLineMethod = method;
    lastLineUri = uri;
    lastLineIp = remoteIp;
  }
  return lastLineHead;
}

/** `text` as one flat string: V8 flattens a rope when it is used as a property key. */
function flat(text: string): string {
  flatKey[text] = 0;
  delete flatKey[text];
  return text;
}
const flatKey: Record<string, number> = Object.create(null) as Record<string, number>;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

interface ConnectionContext {
  remoteIp?: string;
  remote_ip?: string;
  protocol?: string;
}

/** Builds the request from the parsed head, collects the body, then runs the handler. */
class RequestDispatcher implements HTTPMessageDelegate {
  private request: HTTPServerRequest | null = null;
  /** Body pieces; made by the first one (a GET has none). */
  private chunks: Uint8Array[] | null = null;
  private closed = false;

  constructor(
    private readonly application: Application,
    private readonly serverConnection: object,
    private readonly connection: HTTPConnection,
  ) {}

  headersReceived(startLine: RequestStartLine | ResponseStartLine, headers: HTTPHeaders): void {
    if (startLine.kind !== "request") throw new HTTPInputError("expected a request start line");
    const context = ((this.connection as { context?: ConnectionContext }).context ??
      (this.serverConnection as { context?: ConnectionContext }).context ??
      {}) as ConnectionContext;
    const remoteIp = context.remoteIp ?? context.remote_ip;
    this.request = new HTTPServerRequest({
      method: startLine.method,
      uri: startLine.path,
      version: startLine.version,
      headers,
      connection: this.connection,
      startTime: platform().monotonic(),
      body: EMPTY,
      remoteIp: typeof remoteIp === "string" ? remoteIp : undefined,
      protocol: typeof context.protocol === "string" ? context.protocol : undefined,
    });
  }

  dataReceived(chunk: Uint8Array): void {
    if (this.closed) return;
    if (this.chunks === null) this.chunks = [chunk];
    else this.chunks.push(chunk);
  }

  finish(): void {
    const request = this.request!;
    const chunks = this.chunks;
    request.body = chunks === null ? EMPTY : chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
    this.chunks = null;
    this.application.handleRequest(request);
  }

  onConnectionClose(): void {
    this.closed = true;
    this.chunks = null;
  }
}

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 0) return EMPTY;
  if (chunks.length === 1) return chunks[0]!;
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
const EMPTY = new Uint8Array(0);

/** Construct, `initialize`, and run a handler (Tornado's `_HandlerDelegate.execute`). */
function executeHandler(
  application: Application,
  request: HTTPServerRequest,
  handlerClass: HandlerClass<any>,
  kwargs: InitArgs,
  args: (string | undefined)[],
  pathKwargs: Record<string, string | undefined> | null,
): RequestHandler | null {
  if (application.settings.compiledTemplateCache === false) {
    for (const loader of application.templateLoaders.values()) loader.reset?.();
  }
  if (application.settings.staticHashCache === false) StaticFileHandler.reset();
  let handler: RequestHandler;
  try {
    handler = new handlerClass(application, request);
    handler._start(kwargs);
    if (application.transforms.length) handler._transforms = application.transforms.map((t) => new t(request));
  } catch (e) {
    // A broken constructor/initialize: answer 500 with a bare handler so the client is not left hanging.
    appLog.error("web", `Uncaught exception ${request.method} ${request.uri} (${request.remoteIp})\n${requestRepr(request)}\n${formatException(e).trimEnd()}`);
    const fallback = new RequestHandler(application, request);
    fallback._start({});
    fallback.sendError(500, { exc: e });
    return null;
  }
  handler._execute(args, pathKwargs);
  return handler;
}

function requestRepr(request: HTTPServerRequest): string {
  const attrs: [string, string][] = [
    ["protocol", request.protocol],
    ["host", request.host],
    ["method", request.method],
    ["uri", request.uri],
    ["version", request.version],
    ["remote_ip", request.remoteIp],
  ];
  return `HTTPServerRequest(${attrs.map(([k, v]) => `${k}=${pyRepr(v)}`).join(", ")})`;
}

// ---------------------------------------------------------------------------------------------
// RequestHandler

/** What a header value may be: a string, bytes (latin-1), an integer, or a Date (HTTP date). */
export type HeaderValue = string | number | Date | Uint8Array;

export interface CookieOptions {
  domain?: string | null;
  /** A Date, or seconds since the epoch (as Python's `time.time()`). */
  expires?: Date | number | null;
  /** Defaults to "/"; null or "" omits the attribute. */
  path?: string | null;
  expiresDays?: number | null;
  maxAge?: number | string | null;
  httponly?: boolean;
  httpOnly?: boolean;
  secure?: boolean;
  samesite?: string | null;
  sameSite?: string | null;
  comment?: string | null;
  version?: string | number | null;
}

export interface SendErrorOptions {
  reason?: string;
  /** The exception that caused the error (Tornado's `exc_info`). */
  exc?: unknown;
  [key: string]: unknown;
}

const REASON_PHRASE = /^(?:[\t ]|[\x21-\x7e]|[\x80-\xff])+$/;
const INVALID_HEADER_CHAR = /[\x00-\x1f]/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CONTROL_CHARS = /[\x00-\x08\x0e-\x1f]/g;
const COOKIE_LEGAL = /^[A-Za-z0-9!#$%&'*+\-.^_`|~:]+$/;
const ETAG_TOKENS = /\*|(?:W\/)?"[^"]*"/g;
const NO_ARGS: (string | undefined)[] = Object.freeze([]) as unknown as (string | undefined)[];
const NO_KWARGS: Record<string, string | undefined> = Object.freeze({}) as Record<string, string | undefined>;
/**
 * The empty output buffer, shared: nothing pushes onto an empty buffer (`_output` replaces it
 * with a one-chunk array), so a response that writes nothing or writes text makes no array.
 */
const NO_CHUNKS: Uint8Array[] = [];
/** The last response's start line (read-only, as a connection keeps it): the next with the same status shares it. */
let lastStartLine: ResponseStartLine = { kind: "response", version: "", code: 200, reason: "OK" };
const LOWER_METHODS: Record<string, string> = {
  GET: "get", HEAD: "head", POST: "post", DELETE: "delete", PATCH: "patch", PUT: "put", OPTIONS: "options",
};

/**
 * The Date header text, kept until the next second boundary (it has one-second resolution). A
 * timer clears it then, as node:http does, so a response reads no clock for it.
 */
let dateText: string | null = null;
/** The wall-clock ms of the second that `dateText` shows (the access log's timestamp reads it too). */
let dateSecond = 0;
/** The platform the text was read from: a test that swaps in another clock gets its own Date. */
let datePlatform: Platform | null = null;
const clearDateText = () => {
  dateText = null;
};
function currentDateHeader(): string {
  if (dateText === null || datePlatform !== platform()) {
    datePlatform = platform();
    const now = datePlatform.now();
    dateSecond = Math.floor(now / 1000) * 1000;
    dateText = formatTimestamp(dateSecond);
    IOLoop.current().callLater((1000 - (now % 1000)) / 1000, clearDateText);
  }
  return dateText;
}

/** Python's `http.cookies._quote`: legal values as is, others double-quoted with octal escapes. */
function quoteCookieValue(value: string): string {
  if (COOKIE_LEGAL.test(value)) return value;
  let out = '"';
  for (const c of value) {
    const code = c.codePointAt(0)!;
    if (c === '"') out += '\\"';
    else if (c === "\\") out += "\\\\";
    else if (code < 256 && (code < 0x20 || code >= 0x7f || c === "," || c === ";")) out += "\\" + code.toString(8).padStart(3, "0");
    else out += c;
  }
  return out + '"';
}

function cookieExpiry(expires: Date | number): string {
  return formatTimestamp(expires instanceof Date ? expires.getTime() : expires * 1000);
}

/**
 * UTF-8 bytes of `text`. Short ASCII strings (most handler writes) are copied by hand into a
 * heap-allocated array: cheaper than TextEncoder's native call and off-heap buffer.
 */
function encodeText(text: string): Uint8Array {
  const n = text.length;
  if (n <= 64) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return utf8(text);
      out[i] = c;
    }
    return out;
  }
  return utf8(text);
}

/** Tornado's `_websocket_mask`: XOR `data` with the 4-byte `mask` repeated. */
function xorMask(mask: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ mask[i % 4]!;
  return out;
}
function hexEncode(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
function hexDecode(text: string): Uint8Array {
  if (text.length % 2 !== 0 || /[^0-9a-fA-F]/.test(text)) throw new Error("Non-hexadecimal digit found");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
/** Constant-time equality (Python's `hmac.compare_digest`): the time depends on the length only. */
function compareDigest(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = utf8(a);
  const y = utf8(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ (y[i % (y.length || 1)] ?? 0);
  return diff === 0;
}

/**
 * A handler's close callback: `onConnectionClose` looked up when the connection closes, as the
 * arrow function it replaces did. One function for all handlers, where an arrow was a closure
 * and its context per request.
 */
function callOnConnectionClose(this: RequestHandler): void {
  this.onConnectionClose();
}

/**
 * Base class for HTTP request handlers. Subclasses define `get`, `post`, ... (any of
 * `SUPPORTED_METHODS`), sync or async; the request is finished automatically when the method
 * (and the promise it returns) completes.
 */
export class RequestHandler {
  static SUPPORTED_METHODS: readonly string[] = ["GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"];

  readonly application: Application;
  readonly request: HTTPServerRequest;
  /** Decoded positional path groups, once `_execute` ran. */
  pathArgs: (string | undefined)[] = NO_ARGS;
  /** Decoded named path groups, once `_execute` ran. */
  pathKwargs: Record<string, string | undefined> = NO_KWARGS;
  private _ui: Record<string, unknown> | null = null;

  /** @internal */ _headers!: HTTPHeaders;
  /** @internal */ _writeBuffer!: Uint8Array[];
  /**
   * Output written as text and not encoded yet, or null. While it is set `_writeBuffer` is
   * empty: it is the whole buffered output. Most responses are one `write(string)` (or a
   * template): their text is hashed for the Etag and encoded straight into the response's
   * buffer, with no bytes of its own in between. @internal
   */
  _writeText: string | null = null;
  /** @internal */ _statusCode = 200;
  /** @internal */ _reason = "OK";
  /** @internal */ _headersWritten = false;
  /** @internal */ _finished = false;
  /** Set false to keep the request open after the method returns (call `finish()` yourself). */
  _autoFinish = true;
  private _newCookies: Map<string, string> | null = null;
  private _currentUser: unknown = undefined;
  private _hasCurrentUser = false;
  private _xsrfTokenValue: string | null = null;
  private _rawXsrf: { version: number | null; token: Uint8Array; timestamp: number } | null = null;
  /** @internal */ _activeModules: Map<string, UIModule> | null = null;
  /** The route had named groups: the method gets `pathKwargs` as one object. */
  private _namedPath = false;
  /** The application's output transforms for this request; null when it has none (the usual case). @internal */
  _transforms: OutputTransform[] | null = null;

  constructor(application: Application, request: HTTPServerRequest) {
    this.application = application;
    this.request = request;
  }

  /**
   * UI methods bound to this handler, plus `modules`/`_tt_modules` (for templates). Built on
   * first use: most responses never render a template, and this is the hot path.
   */
  get ui(): Record<string, unknown> {
    if (this._ui === null) {
      const ui: Record<string, unknown> = {};
      for (const [name, fn] of Object.entries(this.application.uiMethods)) {
        ui[name] = (...args: unknown[]) => fn(this, ...args);
      }
      const modules = new UIModuleNamespace(this, this.application.uiModules);
      ui["_tt_modules"] = modules;
      ui["modules"] = modules;
      this._ui = ui;
    }
    return this._ui;
  }

  /**
   * Tornado's constructor tail: `clear()`, the close callback, then `initialize(initArgs)`. Run
   * by the application right after construction, so subclass field initialisers come first.
   * @internal
   */
  _start(initArgs: InitArgs): void {
    this.clear();
    this.request.connection?.setCloseCallback(callOnConnectionClose, this);
    const initialize = (this as unknown as { initialize?: (args: InitArgs) => void }).initialize;
    if (typeof initialize === "function") initialize.call(this, initArgs);
  }

  get settings(): Settings {
    return this.application.settings;
  }

  /** Called before the HTTP method; may be async (the method waits for it). */
  prepare(): void | Promise<void> {}

  /** Called after the response was sent (cleanup, logging); may not produce output. */
  onFinish(): void {}

  /** Called if the client closed the connection before the response finished. */
  onConnectionClose(): void {}

  // -- Output --------------------------------------------------------------------------------

  /** Resets headers and content: `Server`, `Content-Type: text/html; charset=UTF-8`, `Date`, then `setDefaultHeaders()`. */
  clear(): void {
    // Five slots, three used: finish() adds the Etag and Content-Length without growing them.
    // Two pops, not `length = 3`: optimised code inlines a pop, while a length store calls the
    // runtime's accessor (0.12 µs a request in a profile of the real server; 2x28 ns alone).
    const names = ["Server", "Content-Type", "Date", "", ""];
    const values = [serverHeader, "text/html; charset=UTF-8", currentDateHeader(), "", ""];
    names.pop();
    names.pop();
    values.pop();
    values.pop();
    this._headers = HTTPHeaders.adopt(names, values);
    this.setDefaultHeaders();
    this._writeBuffer = NO_CHUNKS;
    this._writeText = null;
    this._statusCode = 200;
    this._reason = "OK";
  }

  /** Override to set headers at the start of every response (they survive `sendError`). */
  setDefaultHeaders(): void {}

  /** Sets the status; a `reason` that is not a valid reason phrase (or contains `<`) becomes "Unknown". */
  setStatus(statusCode: number, reason?: string | null): void {
    this._statusCode = statusCode;
    if (reason !== undefined && reason !== null) {
      this._reason = reason.includes("<") || !REASON_PHRASE.test(reason) ? "Unknown" : reason;
    } else {
      this._reason = responses[statusCode] ?? "Unknown";
    }
  }

  getStatus(): number {
    return this._statusCode;
  }

  setHeader(name: string, value: HeaderValue): void {
    this._headers.set(this._checkHeaderName(name), this._convertHeaderValue(value));
  }

  /** Adds another value for `name` (e.g. several `Link` headers). */
  addHeader(name: string, value: HeaderValue): void {
    this._headers.add(this._checkHeaderName(name), this._convertHeaderValue(value));
  }

  clearHeader(name: string): void {
    this._headers.delete(name);
  }

  /** The response headers as they stand (read-only view for tests and tools). */
  get responseHeaders(): HTTPHeaders {
    return this._headers;
  }

  private _checkHeaderName(name: string): string {
    if (!HEADER_NAME.test(name)) throw new Error(`Invalid header name ${pyRepr(name)}`);
    return name;
  }

  /** Tornado's `_convert_header_value`: refuses control characters, so no header can be injected. */
  _convertHeaderValue(value: HeaderValue): string {
    let text: string;
    if (typeof value === "string") text = value;
    else if (value instanceof Uint8Array) text = latin1(value);
    else if (typeof value === "number") {
      if (!Number.isInteger(value)) throw new TypeError(`Unsupported header value ${value}`);
      return String(value);
    } else if (value instanceof Date) return formatTimestamp(value.getTime());
    else throw new TypeError(`Unsupported header value ${pyRepr(String(value))}`);
    if (INVALID_HEADER_CHAR.test(text)) throw new Error(`Unsafe header value ${pyRepr(text)}`);
    return text;
  }

  /**
   * Appends to the output buffer. A plain object is written as JSON (Tornado's exact bytes) and
   * sets `Content-Type: application/json; charset=UTF-8`; arrays are refused (JSON hijacking).
   */
  write(chunk: string | Uint8Array | Record<string, unknown>): void {
    if (this._finished) throw new Error("Cannot write() after finish()");
    if (typeof chunk === "string") {
      this._outputText(chunk);
      return;
    }
    if (chunk instanceof Uint8Array) {
      this._output(chunk);
      return;
    }
    if (isPlainObject(chunk)) {
      this._outputText(jsonEncode(chunk));
      this.setHeader("Content-Type", "application/json; charset=UTF-8");
      return;
    }
    let message = "write() only accepts bytes, unicode, and dict objects";
    if (Array.isArray(chunk)) {
      message +=
        ". Lists not accepted for security reasons; see http://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.write";
    }
    throw new TypeError(message);
  }

  /**
   * Buffers one chunk. A response is mostly one write: the first chunk makes a one-slot array,
   * where a push onto the empty one would allocate a backing store of 17.
   */
  private _output(bytes: Uint8Array): void {
    const text = this._writeText;
    if (text !== null) {
      this._writeText = null;
      this._writeBuffer = [encodeText(text), bytes];
      return;
    }
    const buffer = this._writeBuffer;
    if (buffer.length === 0) this._writeBuffer = [bytes];
    else buffer.push(bytes);
  }

  /** Buffers text: kept as text while all the output is text, encoded once bytes were written before it. */
  private _outputText(text: string): void {
    if (this._writeBuffer.length !== 0) this._output(encodeText(text));
    else this._writeText = this._writeText === null ? text : this._writeText + text;
  }

  /** Collapses the buffer to at most one chunk of bytes and returns it (the body is concatenated or encoded once). */
  protected _bufferedBody(): Uint8Array {
    const text = this._writeText;
    if (text !== null) {
      const bytes = encodeText(text);
      this._writeText = null;
      this._writeBuffer = [bytes];
      return bytes;
    }
    const buffer = this._writeBuffer;
    if (buffer.length === 0) return EMPTY;
    if (buffer.length === 1) return buffer[0]!;
    const body = concatBytes(buffer);
    this._writeBuffer = [body];
    return body;
  }

  /** The buffered output as one chunk: the text itself while all of it is text, else its bytes. @internal */
  _bufferedOutput(): Uint8Array | string {
    return this._writeText ?? this._bufferedBody();
  }

  /**
   * Sends the buffered output. The first flush sends the headers (without Content-Length, so
   * HTTP/1.1 answers go out chunked); HEAD responses never carry a body.
   */
  flush(_includeFooters = false): Promise<void> {
    const connection = this.request.connection;
    if (!connection) throw new Error("flush() on a request without a connection");
    let result: Promise<void>;
    const transforms = this._transforms;
    if (!this._headersWritten) {
      this._headersWritten = true;
      // Text goes to the connection as text (encoded into the response's buffer there), unless
      // a transform wants the bytes.
      let first: Uint8Array | string;
      if (transforms !== null) {
        let chunk = this._bufferedBody();
        for (const t of transforms) [this._statusCode, this._headers, chunk] = t.transformFirstChunk(this._statusCode, this._headers, chunk, _includeFooters);
        first = chunk;
      } else first = this._bufferedOutput();
      this._writeBuffer = NO_CHUNKS;
      this._writeText = null;
      if (this.request.method === "HEAD") first = EMPTY;
      if (this._newCookies) {
        for (const cookie of this._newCookies.values()) this._headers.add("Set-Cookie", cookie);
      }
      let startLine = lastStartLine;
      if (startLine.code !== this._statusCode || startLine.reason !== this._reason) {
        startLine = lastStartLine = { kind: "response", version: "", code: this._statusCode, reason: this._reason };
      }
      result = connection.writeHeaders(startLine, this._headers, first.length ? first : undefined);
    } else {
      let chunk = this._bufferedBody();
      this._writeBuffer = NO_CHUNKS;
      if (this.request.method !== "HEAD") {
        if (transforms !== null) for (const t of transforms) chunk = t.transformChunk(chunk, _includeFooters);
        result = connection.write(chunk);
      } else {
        result = WRITTEN;
      }
    }
    // Nobody has to await this (auto-finish does not): keep a closed connection from becoming an
    // unhandled rejection. The shared already-written promise cannot reject: skip the catch (a
    // promise and a microtask per response).
    if (result !== WRITTEN) result.catch(noop);
    return result;
  }

  /**
   * Finishes the response. Before anything was flushed it adds the Etag (GET/HEAD 200), answers
   * 304 when `If-None-Match` matches, and sets Content-Length (not for 1xx/204/304).
   */
  finish(chunk?: string | Uint8Array | Record<string, unknown> | null): Promise<void> {
    if (this._finished) throw new Error("finish() called twice");
    if (chunk !== undefined && chunk !== null) this.write(chunk);
    if (!this._headersWritten) {
      const method = this.request.method;
      if (this._statusCode === 200 && (method === "GET" || method === "HEAD") && !this._headers.hasNormalized("Etag")) {
        this.setEtagHeader();
        if (this.checkEtagHeader()) {
          this._writeBuffer = NO_CHUNKS;
          this._writeText = null;
          this.setStatus(304);
        }
      }
      const status = this._statusCode;
      if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
        if (this._writeBuffer.length || this._writeText !== null) throw new Error(`Cannot send body with ${status}`);
        this._clearRepresentationHeaders();
      } else if (!this._headers.hasNormalized("Content-Length")) {
        const text = this._writeText;
        this._headers.setNormalized("Content-Length", String(text !== null ? utf8Length(text) : this._bufferedBody().length));
      }
    }
    const connection = this.request.connection;
    if (!connection) throw new Error("finish() on a request without a connection");
    connection.setCloseCallback(null);
    const future = this.flush(true);
    connection.finish();
    this._log();
    this._finished = true;
    this.onFinish();
    return future;
  }

  /** True once `finish()` ran. */
  get finished(): boolean {
    return this._finished;
  }

  /** Take over the connection (websockets); no more HTTP processing happens for it. */
  detach(): unknown {
    this._finished = true;
    const connection = this.request.connection;
    if (!connection?.detach) throw new Error("This connection cannot be detached");
    return connection.detach();
  }

  /** Redirects with 302 (301 if `permanent`, or `status` in 300..399) to `url`, as is. */
  redirect(url: string, permanent = false, status?: number): void {
    if (this._headersWritten) throw new Error("Cannot redirect after headers have been written");
    if (status === undefined) status = permanent ? 301 : 302;
    else if (!Number.isInteger(status) || status < 300 || status > 399) {
      throw new Error(`redirect status must be 300..399, got ${status}`);
    }
    this.setStatus(status);
    this.setHeader("Location", url);
    this.finish();
  }

  // -- Errors --------------------------------------------------------------------------------

  /**
   * Sends an error page for `statusCode` (what was written but not flushed is discarded; headers
   * from `setDefaultHeaders` survive). Override `writeError` to change the page.
   */
  sendError(statusCode = 500, options: SendErrorOptions = {}): void {
    if (this._headersWritten) {
      genLog.error("web", "Cannot send error response after headers written");
      if (!this._finished) {
        try {
          this.finish();
        } catch (e) {
          genLog.error("web", `Failed to flush partial response\n${formatException(e).trimEnd()}`);
        }
      }
      return;
    }
    this.clear();
    let reason = options.reason;
    if (options.exc instanceof HTTPError && options.exc.reason) reason = options.exc.reason;
    this.setStatus(statusCode, reason);
    try {
      if (statusCode !== 304) this.writeError(statusCode, options);
    } catch (e) {
      appLog.error("web", `Uncaught exception in write_error\n${formatException(e).trimEnd()}`);
    }
    if (!this._finished) this.finish();
  }

  /** The error page: `<html><title>404: Not Found</title><body>404: Not Found</body></html>`, or the stack with `serveTraceback`. */
  writeError(statusCode: number, options: SendErrorOptions = {}): void {
    if (this.settings.serveTraceback && "exc" in options) {
      this.setHeader("Content-Type", "text/plain");
      this.write(formatException(options.exc));
      this.finish();
    } else {
      const message = xhtmlEscape(this._reason);
      this.finish(`<html><title>${statusCode}: ${message}</title><body>${statusCode}: ${message}</body></html>`);
    }
  }

  /** `GET / (127.0.0.1)`, as the access log and error logs name a request. */
  _requestSummary(): string {
    return `${this.request.method} ${this.request.uri} (${this.request.remoteIp})`;
  }

  /** Logs an exception from the handler: HTTPErrors with a log message as warnings, others with their stack. */
  logException(e: unknown): void {
    if (e instanceof HTTPError) {
      if (e.logMessage) genLog.warning("web", `${e.statusCode} ${this._requestSummary()}: ${e.logMessage}`);
    } else {
      appLog.error("web", `Uncaught exception ${this._requestSummary()}\n${requestRepr(this.request)}\n${formatException(e).trimEnd()}`);
    }
  }

  /** @internal */
  _handleRequestException(e: unknown): void {
    if (e instanceof Finish) {
      if (!this._finished) this.finish(e.chunk);
      return;
    }
    try {
      this.logException(e);
    } catch (logError) {
      appLog.error("web", `Error in exception logger\n${formatException(logError).trimEnd()}`);
    }
    if (this._finished) return;
    if (e instanceof HTTPError) this.sendError(e.statusCode, { exc: e });
    else this.sendError(500, { exc: e });
  }

  private _handleSafely(e: unknown): void {
    try {
      this._handleRequestException(e);
    } catch (inner) {
      appLog.error("web", `Exception in exception handler\n${formatException(inner).trimEnd()}`);
    }
  }

  _log(): void {
    this.application.logRequest(this);
  }

  // -- Execution -----------------------------------------------------------------------------

  /**
   * Runs the request: method check, body parsing, path-argument decoding, XSRF check, `prepare`,
   * the HTTP method, auto-finish. Synchronous end to end unless `prepare` or the method returns
   * a promise (as Tornado only awaits awaitables).
   * @internal
   */
  _execute(args: (string | undefined)[], kwargs: Record<string, string | undefined> | null): void {
    try {
      const method = this.request.method;
      if (!(this.constructor as typeof RequestHandler).SUPPORTED_METHODS.includes(method)) throw new HTTPError(405);
      try {
        // An empty body without Content-Type/Content-Encoding parses to nothing: skip the work.
        const request = this.request;
        if (request.body.length || request.headers.hasNormalized("Content-Type") || request.headers.hasNormalized("Content-Encoding")) request.parseBody();
      } catch (e) {
        if (e instanceof HTTPInputError) throw new HTTPError(400, `Invalid body: ${e.message}`);
        throw e;
      }
      if (args.length) this.pathArgs = args.map((a) => (a === undefined ? undefined : this.decodeArgument(percentDecode(a))));
      if (kwargs) {
        const pathKwargs: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(kwargs)) pathKwargs[k] = v === undefined ? undefined : this.decodeArgument(percentDecode(v), k);
        this.pathKwargs = pathKwargs;
        this._namedPath = true;
      }
      if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS" && this.settings.xsrfCookies) this.checkXsrfCookie();
      const prepared = this.prepare();
      if (isThenable(prepared)) {
        Promise.resolve(prepared).then(
          () => this._runMethod(),
          (e: unknown) => this._handleSafely(e),
        );
        return;
      }
      this._runMethod();
    } catch (e) {
      this._handleSafely(e);
    }
  }

  private _runMethod(): void {
    try {
      if (this._finished) return;
      const name = LOWER_METHODS[this.request.method] ?? this.request.method.toLowerCase();
      const fn = (this as unknown as Record<string, unknown>)[name];
      if (typeof fn !== "function") throw new HTTPError(405);
      // No path arguments (most routes): a plain call, which optimised code inlines; `apply`
      // goes through the generic array-like call builtin on every request.
      const args = this.pathArgs;
      const result: unknown = this._namedPath ? fn.call(this, this.pathKwargs) : args.length === 0 ? fn.call(this) : fn.apply(this, args);
      if (isThenable(result)) {
        Promise.resolve(result).then(
          () => this._autoFinishNow(),
          (e: unknown) => this._handleSafely(e),
        );
        return;
      }
      if (this._autoFinish && !this._finished) this.finish();
    } catch (e) {
      this._handleSafely(e);
    }
  }

  private _autoFinishNow(): void {
    try {
      if (this._autoFinish && !this._finished) this.finish();
    } catch (e) {
      this._handleSafely(e);
    }
  }

  // -- Arguments -----------------------------------------------------------------------------

  /**
   * The last value of argument `name` (query and body), control characters replaced and stripped.
   * Without a default (`undefined`), a missing argument is a `MissingArgumentError` (400).
   */
  getArgument(name: string): string;
  getArgument<D extends string | null>(name: string, defaultValue: D, strip?: boolean): string | D;
  getArgument(name: string, defaultValue?: string | null, strip = true): string | null {
    return this._getArgument(name, defaultValue, this.request.arguments, strip);
  }

  getArguments(name: string, strip = true): string[] {
    return this._getArguments(name, this.request.arguments, strip);
  }

  getBodyArgument(name: string): string;
  getBodyArgument<D extends string | null>(name: string, defaultValue: D, strip?: boolean): string | D;
  getBodyArgument(name: string, defaultValue?: string | null, strip = true): string | null {
    return this._getArgument(name, defaultValue, this.request.bodyArguments, strip);
  }

  getBodyArguments(name: string, strip = true): string[] {
    return this._getArguments(name, this.request.bodyArguments, strip);
  }

  getQueryArgument(name: string): string;
  getQueryArgument<D extends string | null>(name: string, defaultValue: D, strip?: boolean): string | D;
  getQueryArgument(name: string, defaultValue?: string | null, strip = true): string | null {
    return this._getArgument(name, defaultValue, this.request.queryArguments, strip);
  }

  getQueryArguments(name: string, strip = true): string[] {
    return this._getArguments(name, this.request.queryArguments, strip);
  }

  private _getArgument(name: string, defaultValue: string | null | undefined, source: Record<string, Uint8Array[]>, strip: boolean): string | null {
    const values = this._getArguments(name, source, strip);
    if (values.length === 0) {
      if (defaultValue === undefined) throw new MissingArgumentError(name);
      return defaultValue;
    }
    return values[values.length - 1]!;
  }

  private _getArguments(name: string, source: Record<string, Uint8Array[]>, strip: boolean): string[] {
    const raw = Object.prototype.hasOwnProperty.call(source, name) ? source[name]! : [];
    return raw.map((v) => {
      let s = this.decodeArgument(v, name).replace(CONTROL_CHARS, " ");
      if (strip) s = s.trim();
      return s;
    });
  }

  /** Decodes an argument's bytes as UTF-8; invalid UTF-8 is a 400. Override for other encodings. */
  decodeArgument(value: Uint8Array, name?: string): string {
    try {
      return toUnicode(value);
    } catch {
      throw new HTTPError(400, `Invalid unicode in ${name ?? "url"}: ${pyRepr(value.subarray(0, 40))}`);
    }
  }

  // -- Cookies -------------------------------------------------------------------------------

  /** Cookies the client sent (`request.cookies`). */
  get cookies(): Record<string, string> {
    return this.request.cookies;
  }

  getCookie(name: string): string | null;
  getCookie<D extends string | null>(name: string, defaultValue: D): string | D;
  getCookie(name: string, defaultValue: string | null = null): string | null {
    const cookies = this.request.cookies;
    return Object.prototype.hasOwnProperty.call(cookies, name) ? cookies[name]! : defaultValue;
  }

  /** Sets an outgoing cookie, formatted as Python's `SimpleCookie` (attributes in its order). */
  setCookie(name: string, value: string | Uint8Array, options: CookieOptions = {}): void {
    const text = typeof value === "string" ? value : latin1(value);
    if (/[\x00-\x20]/.test(name + text)) throw new Error(`Invalid cookie ${pyRepr(name)}: ${pyRepr(text)}`);
    if (!COOKIE_LEGAL.test(name)) throw new Error(`Illegal key ${pyRepr(name)}`);
    const { domain, path = "/", expiresDays } = options;
    let expires = options.expires;
    if (expiresDays !== undefined && expiresDays !== null && !expires) expires = new Date(platform().now() + expiresDays * 86400_000);
    const attrs: Record<string, string | number | boolean> = {};
    if (options.comment) attrs["comment"] = options.comment;
    if (domain) attrs["domain"] = domain;
    if (expires) attrs["expires"] = cookieExpiry(expires);
    const httponly = options.httponly ?? options.httpOnly;
    if (httponly) attrs["httponly"] = true;
    if (options.maxAge !== undefined && options.maxAge !== null && options.maxAge !== "") attrs["max-age"] = options.maxAge;
    if (path) attrs["path"] = path;
    const samesite = options.samesite ?? options.sameSite;
    if (samesite) attrs["samesite"] = samesite;
    if (options.secure) attrs["secure"] = true;
    if (options.version !== undefined && options.version !== null && options.version !== "") attrs["version"] = options.version;
    const names: Record<string, string> = {
      comment: "Comment", domain: "Domain", expires: "expires", httponly: "HttpOnly", "max-age": "Max-Age",
      path: "Path", samesite: "SameSite", secure: "Secure", version: "Version",
    };
    let out = `${name}=${quoteCookieValue(text)}`;
    for (const key of Object.keys(names)) {
      if (!(key in attrs)) continue;
      const v = attrs[key]!;
      if (v === true) out += `; ${names[key]}`;
      else if (key === "max-age" && typeof v === "number") out += `; Max-Age=${Math.trunc(v)}`;
      else if (key === "comment") out += `; Comment=${quoteCookieValue(String(v))}`;
      else out += `; ${names[key]}=${v}`;
    }
    this._newCookies ??= new Map();
    this._newCookies.delete(name);
    this._newCookies.set(name, out);
  }

  /** Deletes a cookie by setting it empty and expired a year ago (same path/domain as it was set with). */
  clearCookie(name: string, options: { path?: string; domain?: string | null } = {}): void {
    const expires = new Date(platform().now() - 365 * 86400_000);
    this.setCookie(name, "", { path: options.path ?? "/", expires, domain: options.domain ?? null });
  }

  /** Deletes every cookie the client sent. */
  clearAllCookies(options: { path?: string; domain?: string | null } = {}): void {
    for (const name of Object.keys(this.request.cookies)) this.clearCookie(name, options);
  }

  /** Signs and timestamps a cookie (v2: HMAC-SHA256) so it cannot be forged; needs the `cookieSecret` setting. */
  setSecureCookie(name: string, value: string | Uint8Array, options: CookieOptions & { version?: number } = {}): void {
    const { version: signVersion, expiresDays = 30, ...rest } = options;
    const signed = this.createSignedValue(name, value, signVersion);
    this.setCookie(name, signed, { ...rest, expiresDays });
  }

  /** `createSignedValue` with the application's secret (and `keyVersion` for a dict of secrets). */
  createSignedValue(name: string, value: string | Uint8Array, signVersion?: number): string {
    this.requireSetting("cookieSecret", "secure cookies");
    const secret = this.settings.cookieSecret!;
    let keyVersion: number | undefined;
    if (!(typeof secret === "string" || secret instanceof Uint8Array)) {
      if (this.settings.keyVersion === undefined || this.settings.keyVersion === null) {
        throw new Error("key_version setting must be used for secret_key dicts");
      }
      keyVersion = this.settings.keyVersion;
    }
    return createSignedValue(secret, name, value, { version: signVersion, keyVersion });
  }

  /** The cookie's value if its signature is valid and it is not too old, else null (bytes, as Tornado). */
  getSecureCookie(name: string, options: { value?: string | null; maxAgeDays?: number; minVersion?: number } = {}): Uint8Array | null {
    this.requireSetting("cookieSecret", "secure cookies");
    const value = options.value ?? this.getCookie(name);
    return decodeSignedValue(this.settings.cookieSecret!, name, value, { maxAgeDays: options.maxAgeDays, minVersion: options.minVersion });
  }

  /** The signing key version of a secure cookie (v2 only), or null. */
  getSecureCookieKeyVersion(name: string, value?: string | null): number | null {
    this.requireSetting("cookieSecret", "secure cookies");
    const v = value ?? this.getCookie(name);
    return v === null ? null : getSignatureKeyVersion(v);
  }

  /** Tornado 6.3's names for the secure-cookie methods. */
  setSignedCookie(name: string, value: string | Uint8Array, options: CookieOptions & { version?: number } = {}): void {
    this.setSecureCookie(name, value, options);
  }
  getSignedCookie(name: string, options: { value?: string | null; maxAgeDays?: number; minVersion?: number } = {}): Uint8Array | null {
    return this.getSecureCookie(name, options);
  }

  // -- Users, XSRF, URLs ---------------------------------------------------------------------

  /** The user for this request: `getCurrentUser()` on first access (cached), or whatever was assigned. */
  get currentUser(): unknown {
    if (!this._hasCurrentUser) {
      this._currentUser = this.getCurrentUser();
      this._hasCurrentUser = true;
    }
    return this._currentUser;
  }
  set currentUser(value: unknown) {
    this._currentUser = value;
    this._hasCurrentUser = true;
  }

  /** Override to determine the user (e.g. from a secure cookie). Not async: set `currentUser` in an async `prepare` instead. */
  getCurrentUser(): unknown {
    return null;
  }

  getLoginUrl(): string {
    this.requireSetting("loginUrl", "authenticated");
    return this.settings.loginUrl!;
  }

  getTemplatePath(): string | null {
    return this.settings.templatePath ?? null;
  }

  requireSetting(name: string, feature = "this feature"): void {
    if (!this.settings[name]) throw new Error(`You must define the '${name}' setting in your application to use ${feature}`);
  }

  reverseUrl(name: string, ...args: unknown[]): string {
    return this.application.reverseUrl(name, ...args);
  }

  /**
   * The XSRF token for this session (masked per request, version 2), setting the `_xsrf` cookie
   * if the client has none.
   */
  get xsrfToken(): string {
    if (this._xsrfTokenValue === null) {
      const { version, token, timestamp } = this._getRawXsrfToken();
      const outputVersion = this.settings.xsrfCookieVersion ?? 2;
      const cookieOptions: CookieOptions = { ...(this.settings.xsrfCookieKwargs ?? {}) };
      if (outputVersion === 1) this._xsrfTokenValue = hexEncode(token);
      else if (outputVersion === 2) {
        const mask = platform().randomBytes(4);
        this._xsrfTokenValue = ["2", hexEncode(mask), hexEncode(xorMask(mask, token)), String(Math.trunc(timestamp))].join("|");
      } else throw new Error(`unknown xsrf cookie version ${String(outputVersion)}`);
      if (version === null) {
        if (this.currentUser && cookieOptions.expiresDays === undefined) cookieOptions.expiresDays = 30;
        this.setCookie("_xsrf", this._xsrfTokenValue, cookieOptions);
      }
    }
    return this._xsrfTokenValue;
  }

  private _getRawXsrfToken(): { version: number | null; token: Uint8Array; timestamp: number } {
    if (this._rawXsrf === null) {
      const cookie = this.getCookie("_xsrf");
      let decoded: { version: number | null; token: Uint8Array | null; timestamp: number | null } = { version: null, token: null, timestamp: null };
      if (cookie) decoded = this._decodeXsrfToken(cookie);
      if (decoded.token === null) {
        this._rawXsrf = { version: null, token: platform().randomBytes(16), timestamp: platform().now() / 1000 };
      } else {
        this._rawXsrf = { version: decoded.version, token: decoded.token, timestamp: decoded.timestamp ?? platform().now() / 1000 };
      }
    }
    return this._rawXsrf;
  }

  private _decodeXsrfToken(cookie: string): { version: number | null; token: Uint8Array | null; timestamp: number | null } {
    try {
      const m = /^([1-9][0-9]*)\|/.exec(cookie);
      if (m) {
        if (Number(m[1]) !== 2) throw new Error("Unknown xsrf cookie version");
        const parts = cookie.split("|");
        if (parts.length !== 4) throw new Error("malformed xsrf token");
        const mask = hexDecode(parts[1]!);
        const token = xorMask(mask, hexDecode(parts[2]!));
        const timestamp = Number(parts[3]);
        if (!/^-?\d+$/.test(parts[3]!)) throw new Error("bad timestamp");
        return { version: 2, token, timestamp };
      }
      let token: Uint8Array;
      try {
        token = hexDecode(cookie);
      } catch {
        token = utf8(cookie);
      }
      return { version: 1, token, timestamp: Math.trunc(platform().now() / 1000) };
    } catch {
      return { version: null, token: null, timestamp: null };
    }
  }

  /** Rejects (403) a POST/PUT/... whose `_xsrf` argument or `X-Xsrftoken` header does not match the `_xsrf` cookie. */
  checkXsrfCookie(): void {
    const token = this.getArgument("_xsrf", null) || this.request.headers.get("X-Xsrftoken") || this.request.headers.get("X-Csrftoken");
    if (!token) throw new HTTPError(403, "'_xsrf' argument missing from POST");
    const { token: given } = this._decodeXsrfToken(token);
    const { token: expected } = this._getRawXsrfToken();
    if (!given) throw new HTTPError(403, "'_xsrf' argument has invalid format");
    if (!compareDigest(given, expected)) throw new HTTPError(403, "XSRF cookie does not match POST argument");
  }

  /** `<input type="hidden" name="_xsrf" value="..."/>` for forms. */
  xsrfFormHtml(): string {
    return `<input type="hidden" name="_xsrf" value="${xhtmlEscape(this.xsrfToken)}"/>`;
  }

  /** `/static/<path>?v=<hash>` for a file under the `staticPath` setting. */
  staticUrl(path: string, options: { includeHost?: boolean; includeVersion?: boolean } = {}): string {
    this.requireSetting("staticPath", "static_url");
    const handlerClass = (this.settings["staticHandlerClass"] as typeof StaticFileHandler | undefined) ?? StaticFileHandler;
    const includeHost = options.includeHost ?? (this as { includeHost?: boolean }).includeHost ?? false;
    const base = includeHost ? `${this.request.protocol}://${this.request.host}` : "";
    return base + handlerClass.makeStaticUrl(this.settings, path, options.includeVersion ?? true);
  }

  // -- Etags ---------------------------------------------------------------------------------

  /** `"<sha1 of the buffered body>"`; override to change it, return null to send no Etag. */
  computeEtag(): string | null {
    // Text is hashed as its UTF-8 bytes, without making them.
    const hex = platform().sha1Hex(this._bufferedOutput());
    // Every body is hashed; only the quoted string is reused when the digest repeats, so the
    // head cache compares one string object with itself instead of flattening a new rope.
    if (hex !== lastEtagHex) {
      lastEtagHex = hex;
      lastEtag = `"${hex}"`;
    }
    return lastEtag;
  }

  setEtagHeader(): void {
    const etag = this.computeEtag();
    if (etag === null || etag === undefined) return;
    // Our own sha1 Etag needs no checking; an overridden computeEtag's value is checked like any header.
    this._headers.setNormalized("Etag", this.computeEtag === defaultComputeEtag ? etag : this._convertHeaderValue(etag));
  }

  /**
   * True if the request's `If-None-Match` matches our Etag: `*` matches anything, otherwise any
   * listed tag compared weakly (`W/` ignored on both sides).
   */
  checkEtagHeader(): boolean {
    const header = this.request.headers.getNormalized("If-None-Match");
    if (!header) return false;
    const computed = this._headers.getNormalized("Etag");
    if (!computed) return false;
    const etags = header.match(ETAG_TOKENS);
    if (!etags) return false;
    if (etags[0] === "*") return true;
    const val = (x: string) => (x.startsWith("W/") ? x.slice(2) : x);
    const mine = val(computed);
    return etags.some((e) => val(e) === mine);
  }

  /** @internal */
  _clearRepresentationHeaders(): void {
    for (const h of ["Content-Encoding", "Content-Language", "Content-Type"]) this.clearHeader(h);
  }

  // -- Templates -----------------------------------------------------------------------------

  /** The default namespace for templates: handler, request, currentUser, helpers, UI methods and modules. */
  getTemplateNamespace(): Record<string, unknown> {
    const namespace: Record<string, unknown> = {
      handler: this,
      request: this.request,
      current_user: this.currentUser,
      currentUser: this.currentUser,
      static_url: (path: string, options?: { includeHost?: boolean; includeVersion?: boolean }) => this.staticUrl(path, options),
      staticUrl: (path: string, options?: { includeHost?: boolean; includeVersion?: boolean }) => this.staticUrl(path, options),
      xsrf_form_html: () => this.xsrfFormHtml(),
      xsrfFormHtml: () => this.xsrfFormHtml(),
      reverse_url: (name: string, ...args: unknown[]) => this.reverseUrl(name, ...args),
      reverseUrl: (name: string, ...args: unknown[]) => this.reverseUrl(name, ...args),
      _: (message: string) => message,
    };
    Object.assign(namespace, this.ui);
    return namespace;
  }

  /** A loader for `templatePath` (the `templateLoader` setting wins); override to customise. */
  createTemplateLoader(templatePath: string): TemplateLoaderLike {
    const settings = this.settings;
    if (settings.templateLoader) return settings.templateLoader;
    const options: LoaderOptions = {};
    // autoescape: null means "no escaping", so it is passed only when the setting exists.
    if ("autoescape" in settings) options.autoescape = settings.autoescape ?? null;
    if (settings.templateWhitespace) options.whitespace = settings.templateWhitespace;
    return new Loader(templatePath, options);
  }

  /** Renders template `templateName` with the handler's namespace plus `kwargs`, as a string. */
  renderString(templateName: string, kwargs: Record<string, unknown> = {}): string {
    const templatePath = this.getTemplatePath() ?? ".";
    const loaders = this.application.templateLoaders;
    let loader = loaders.get(templatePath);
    if (!loader) {
      loader = this.createTemplateLoader(templatePath);
      loaders.set(templatePath, loader);
    }
    const template = loader.load(templateName);
    const namespace = this.getTemplateNamespace();
    Object.assign(namespace, kwargs);
    return template.generate(namespace);
  }

  /**
   * Renders a template as the response and finishes it, splicing in the JavaScript/CSS that the
   * page's UI modules asked for.
   */
  render(templateName: string, kwargs: Record<string, unknown> = {}): Promise<void> {
    if (this._finished) throw new Error("Cannot render() after finish()");
    let html = this.renderString(templateName, kwargs);
    const jsEmbed: string[] = [];
    const jsFiles: string[] = [];
    const cssEmbed: string[] = [];
    const cssFiles: string[] = [];
    const htmlHeads: string[] = [];
    const htmlBodies: string[] = [];
    for (const module of this._activeModules?.values() ?? []) {
      const embedJs = module.embeddedJavascript();
      if (embedJs) jsEmbed.push(embedJs);
      const js = module.javascriptFiles();
      if (js) typeof js === "string" ? jsFiles.push(js) : jsFiles.push(...js);
      const embedCss = module.embeddedCss();
      if (embedCss) cssEmbed.push(embedCss);
      const css = module.cssFiles();
      if (css) typeof css === "string" ? cssFiles.push(css) : cssFiles.push(...css);
      const head = module.htmlHead();
      if (head) htmlHeads.push(head);
      const body = module.htmlBody();
      if (body) htmlBodies.push(body);
    }
    const insertAt = (at: number, what: string, marker: string) => {
      if (at < 0) throw new Error(`render(): the page has no ${marker} to insert module resources before`);
      html = html.slice(0, at) + what + "\n" + html.slice(at);
    };
    if (jsFiles.length) insertAt(html.lastIndexOf("</body>"), this.renderLinkedJs(jsFiles), "</body>");
    if (jsEmbed.length) insertAt(html.lastIndexOf("</body>"), this.renderEmbedJs(jsEmbed), "</body>");
    if (cssFiles.length) insertAt(html.indexOf("</head>"), this.renderLinkedCss(cssFiles), "</head>");
    if (cssEmbed.length) insertAt(html.indexOf("</head>"), this.renderEmbedCss(cssEmbed), "</head>");
    if (htmlHeads.length) insertAt(html.indexOf("</head>"), htmlHeads.join(""), "</head>");
    if (htmlBodies.length) insertAt(html.indexOf("</body>"), htmlBodies.join(""), "</body>");
    return this.finish(html);
  }

  private _resourcePaths(files: readonly string[]): string[] {
    const seen = new Set<string>();
    const paths: string[] = [];
    for (let path of files) {
      if (!isAbsolute(path)) path = this.staticUrl(path);
      if (!seen.has(path)) {
        seen.add(path);
        paths.push(path);
      }
    }
    return paths;
  }

  renderLinkedJs(jsFiles: readonly string[]): string {
    return this._resourcePaths(jsFiles).map((p) => `<script src="${xhtmlEscape(p)}" type="text/javascript"></script>`).join("");
  }

  renderEmbedJs(jsEmbed: readonly string[]): string {
    return `<script type="text/javascript">\n//<![CDATA[\n${jsEmbed.join("\n")}\n//]]>\n</script>`;
  }

  renderLinkedCss(cssFiles: readonly string[]): string {
    return this._resourcePaths(cssFiles).map((p) => `<link href="${xhtmlEscape(p)}" type="text/css" rel="stylesheet"/>`).join("");
  }

  renderEmbedCss(cssEmbed: readonly string[]): string {
    return `<style type="text/css">\n${cssEmbed.join("\n")}\n</style>`;
  }
}

const defaultComputeEtag = RequestHandler.prototype.computeEtag;
/** The last digest `computeEtag` made and its quoted form. */
let lastEtagHex = "";
let lastEtag = '""';

const defaultRequestSummary = RequestHandler.prototype._requestSummary;

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || path.startsWith("http:") || path.startsWith("https:");
}

// ---------------------------------------------------------------------------------------------
// Templates

/** What `render` needs from a loader: a template.ts `Loader`/`DictLoader`, or your own (`templateLoader` setting). */
export interface TemplateLoaderLike {
  load(name: string, parentPath?: string): { generate(namespace: Record<string, unknown>): string };
  reset?(): void;
}


// ---------------------------------------------------------------------------------------------
// UI modules

export type UIModuleClass = new (handler: RequestHandler) => UIModule;
export type UIModuleRegistry = Record<string, UIModuleClass | unknown>;

/**
 * A reusable piece of a page: `{% module Entry(entry) %}` calls `render(entry)` (once instance
 * per name per request); the JavaScript/CSS it declares is added to the page by `render()`.
 */
export class UIModule {
  readonly handler: RequestHandler;
  readonly request: HTTPServerRequest;
  readonly ui: Record<string, unknown>;
  readonly locale: unknown = null;

  constructor(handler: RequestHandler) {
    this.handler = handler;
    this.request = handler.request;
    this.ui = handler.ui;
  }

  get currentUser(): unknown {
    return this.handler.currentUser;
  }

  render(..._args: any[]): string {
    throw new Error("UIModule subclasses must implement render()");
  }
  embeddedJavascript(): string | null {
    return null;
  }
  javascriptFiles(): string | readonly string[] | null {
    return null;
  }
  embeddedCss(): string | null {
    return null;
  }
  cssFiles(): string | readonly string[] | null {
    return null;
  }
  htmlHead(): string | null {
    return null;
  }
  htmlBody(): string | null {
    return null;
  }
  renderString(path: string, kwargs: Record<string, unknown> = {}): string {
    return this.handler.renderString(path, kwargs);
  }
}

class LinkifyModule extends UIModule {
  override render(text: string, options: Record<string, unknown> = {}): string {
    return linkify(text, options);
  }
}

class XsrfFormHtmlModule extends UIModule {
  override render(): string {
    return this.handler.xsrfFormHtml();
  }
}

/**
 * `{% module Template("foo.html", arg=42) %}`: renders another template with its own namespace;
 * inside it `set_resources(embedded_css=..., javascript_files=...)` registers resources (once per path).
 */
class TemplateModule extends UIModule {
  private readonly resourceList: Record<string, unknown>[] = [];
  private readonly resourceDict = new Map<string, Record<string, unknown>>();

  override render(path: string, kwargs: Record<string, unknown> = {}): string {
    const setResources = (resources: Record<string, unknown>): string => {
      const previous = this.resourceDict.get(path);
      if (previous === undefined) {
        this.resourceList.push(resources);
        this.resourceDict.set(path, resources);
      } else if (jsonEncode(previous) !== jsonEncode(resources)) {
        throw new Error("set_resources called with different resources for the same template");
      }
      return "";
    };
    return this.renderString(path, { ...kwargs, set_resources: setResources, setResources });
  }

  private _get(key: string): unknown[] {
    return this.resourceList.map((r) => r[key] ?? r[key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())]).filter((v) => v);
  }
  override embeddedJavascript(): string {
    return this._get("embedded_javascript").join("\n");
  }
  override javascriptFiles(): string[] {
    return this._get("javascript_files").flatMap((f) => (typeof f === "string" ? [f] : (f as string[])));
  }
  override embeddedCss(): string {
    return this._get("embedded_css").join("\n");
  }
  override cssFiles(): string[] {
    return this._get("css_files").flatMap((f) => (typeof f === "string" ? [f] : (f as string[])));
  }
  override htmlHead(): string {
    return this._get("html_head").join("");
  }
  override htmlBody(): string {
    return this._get("html_body").join("");
  }
}

/** `modules.Foo(...)` in templates: one instance of each module per request, `render(...)` inserted unescaped. */
class UIModuleNamespace {
  [name: string]: unknown;
  constructor(handler: RequestHandler, modules: Record<string, UIModuleClass>) {
    for (const [name, cls] of Object.entries(modules)) {
      Object.defineProperty(this, name, {
        enumerable: true,
        value: (...args: unknown[]) => {
          handler._activeModules ??= new Map();
          let instance = handler._activeModules.get(name);
          if (!instance) {
            instance = new cls(handler);
            handler._activeModules.set(name, instance);
          }
          return instance.render(...args);
        },
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Built-in handlers

/** Answers every request with `statusCode` (404 for unmatched routes); skips the XSRF check. */
export class ErrorHandler extends RequestHandler {
  initialize(args: InitArgs): void {
    this.setStatus(Number(args["statusCode"] ?? args["status_code"] ?? 404));
  }
  override prepare(): void {
    throw new HTTPError(this._statusCode);
  }
  override checkXsrfCookie(): void {}
}

/**
 * Redirects every GET to `url` (301 unless `permanent: false`); `{0}`-style placeholders are
 * filled with the path groups, and the query string is kept.
 */
export class RedirectHandler extends RequestHandler {
  private target = "";
  private permanent = true;
  initialize(args: InitArgs): void {
    this.target = String(args["url"]);
    this.permanent = args["permanent"] !== false;
  }
  get(...args: unknown[]): void {
    const named = args.length === 1 && args[0] !== null && typeof args[0] === "object" ? (args[0] as Record<string, string | undefined>) : null;
    let to = formatBraces(this.target, named ? [] : (args as (string | undefined)[]), named ?? {});
    const pairs: [string, Uint8Array][] = [];
    for (const [name, values] of Object.entries(this.request.queryArguments)) for (const v of values) pairs.push([name, v]);
    if (pairs.length) to = urlConcat(to, pairs);
    this.redirect(to, this.permanent);
  }
}

/** Python's `str.format` for `{}`, `{0}`, `{name}` and `{{ }}`; a missing field is an error (500), None prints as "None". */
function formatBraces(template: string, args: readonly (string | undefined)[], named: Record<string, string | undefined>): string {
  let auto = 0;
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field: string | undefined) => {
    if (m === "{{") return "{";
    if (m === "}}") return "}";
    let present: boolean;
    let value: string | undefined;
    if (field === "" || /^\d+$/.test(field!)) {
      const i = field === "" ? auto++ : Number(field);
      present = i < args.length;
      value = args[i];
    } else {
      present = Object.prototype.hasOwnProperty.call(named, field!);
      value = named[field!];
    }
    if (!present) throw new Error(`RedirectHandler: no value for {${field}} in ${pyRepr(template)}`);
    return value === undefined ? "None" : value;
  });
}

/** Tornado's `url_concat`: the URL's own query and `pairs`, re-encoded as `urlencode` does, before any fragment. */
function urlConcat(url: string, pairs: readonly [string, Uint8Array][]): string {
  const hash = url.indexOf("#");
  const fragment = hash < 0 ? "" : url.slice(hash);
  let base = hash < 0 ? url : url.slice(0, hash);
  const q = base.indexOf("?");
  const all: [string, Uint8Array | string][] = [];
  if (q >= 0) {
    for (const [name, values] of Object.entries(parseQsBytes(base.slice(q + 1), true))) for (const v of values) all.push([name, v]);
    base = base.slice(0, q);
  }
  all.push(...pairs);
  const query = all.map(([k, v]) => `${urlEscape(k)}=${urlEscape(v)}`).join("&");
  return `${base}${query ? "?" + query : ""}${fragment}`;
}

// ---------------------------------------------------------------------------------------------
// Output transforms

/**
 * Rewrites a response on its way out (Tornado's `OutputTransform`): one instance per request,
 * given the status, headers and first chunk as the headers are written, then each later chunk.
 * `finishing` is true for the last chunk.
 */
export class OutputTransform {
  constructor(_request: HTTPServerRequest) {}

  transformFirstChunk(statusCode: number, headers: HTTPHeaders, chunk: Uint8Array, _finishing: boolean): [number, HTTPHeaders, Uint8Array] {
    return [statusCode, headers, chunk];
  }

  transformChunk(chunk: Uint8Array, _finishing: boolean): Uint8Array {
    return chunk;
  }
}

export type OutputTransformClass = new (request: HTTPServerRequest) => OutputTransform;

/**
 * `Content-Encoding: gzip` for clients that send `Accept-Encoding: gzip` (Tornado's
 * `GZipContentEncoding`, installed by the `compressResponse` setting): text types and the
 * listed others, when the response is at least `MIN_LENGTH` bytes or streamed in several
 * chunks; every response gets `Vary: Accept-Encoding`. The Etag stays that of the uncompressed
 * body; Content-Length becomes the compressed length (or goes, for a streamed response).
 * One difference from Tornado 6.2: a 206 (a byte range) is never compressed, since its
 * Content-Range counts bytes of the uncompressed file.
 */
export class GZipContentEncoding extends OutputTransform {
  static CONTENT_TYPES = new Set([
    "application/javascript",
    "application/x-javascript",
    "application/xml",
    "application/atom+xml",
    "application/json",
    "application/xhtml+xml",
    "image/svg+xml",
  ]);
  /** zlib's and gzip(1)'s default; Python's GzipFile would use 9. */
  static GZIP_LEVEL = 6;
  /** Shorter single-chunk responses do not win back the header and gzip framing. */
  static MIN_LENGTH = 1024;
  private gzipping: boolean;
  private gzip: PlatformGzip | null = null;

  /** Refuses, when the application is built, a platform that cannot gzip. */
  static check(): void {
    if (!platform().createGzip) throw new Error(`compressResponse needs a platform with gzip (Node); the ${platform().name} platform has none`);
  }

  constructor(request: HTTPServerRequest) {
    super(request);
    this.gzipping = (request.headers.get("Accept-Encoding") ?? "").includes("gzip");
  }

  private compressibleType(contentType: string): boolean {
    return contentType.startsWith("text/") || GZipContentEncoding.CONTENT_TYPES.has(contentType);
  }

  override transformFirstChunk(statusCode: number, headers: HTTPHeaders, chunk: Uint8Array, finishing: boolean): [number, HTTPHeaders, Uint8Array] {
    const vary = headers.get("Vary");
    headers.set("Vary", vary === undefined ? "Accept-Encoding" : `${vary}, Accept-Encoding`);
    if (this.gzipping) {
      const contentType = (headers.get("Content-Type") ?? "").split(";")[0]!;
      this.gzipping =
        this.compressibleType(contentType) &&
        (!finishing || chunk.length >= GZipContentEncoding.MIN_LENGTH) &&
        !headers.has("Content-Encoding") &&
        statusCode !== 206;
    }
    if (this.gzipping) {
      headers.set("Content-Encoding", "gzip");
      GZipContentEncoding.check();
      this.gzip = platform().createGzip!(GZipContentEncoding.GZIP_LEVEL);
      chunk = this.transformChunk(chunk, finishing);
      if (headers.has("Content-Length")) {
        // The only chunk: its compressed length; otherwise the response goes out chunked.
        if (finishing) headers.set("Content-Length", String(chunk.length));
        else headers.delete("Content-Length");
      }
    }
    return [statusCode, headers, chunk];
  }

  override transformChunk(chunk: Uint8Array, finishing: boolean): Uint8Array {
    return this.gzip === null ? chunk : this.gzip.write(chunk, finishing);
  }
}

/**
 * Serves files under the `path` init argument (installed at `/static/` by the `staticPath`
 * setting), as Tornado 6's handler does: traversal refused (403), missing → 404, a directory →
 * 403 (or its `defaultFilename`), Etag = SHA-512 of the content, `?v=` → cached for 10 years,
 * `If-None-Match` / `If-Modified-Since` → 304, one `Range` → 206 (or 416). Files are read
 * through `platform().fs`.
 */
export class StaticFileHandler extends RequestHandler {
  static CACHE_MAX_AGE = 86400 * 365 * 10;
  static CHUNK_SIZE = 64 * 1024;
  private static versions = new Map<string, string | null>();
  root = "";
  defaultFilename: string | null = null;
  /** The URL path asked for, then the file's absolute path, once `get` validated it. */
  path = "";
  absolutePath = "";
  /** Modification time in ms, whole seconds (as Tornado's). */
  modified: number | null = null;

  /** Forgets the cached content versions (done per request when `staticHashCache` is false). */
  static reset(): void {
    StaticFileHandler.versions.clear();
  }

  initialize(args: InitArgs): void {
    this.root = String(args["path"]);
    this.defaultFilename = (args["defaultFilename"] ?? args["default_filename"] ?? null) as string | null;
  }

  head(path: string): void {
    this.get(path, false);
  }

  get(path: string, includeBody = true): void {
    this.path = this.parseUrlPath(path ?? "");
    const absolute = this.validateAbsolutePath(this.root, StaticFileHandler.getAbsolutePath(this.root, this.path));
    if (absolute === null) return;
    this.absolutePath = absolute;
    const mtime = platform().fs.mtime(absolute);
    this.modified = mtime === null ? null : Math.floor(mtime / 1000) * 1000;
    this.setHeaders();
    if (this.shouldReturn304()) {
      this.setStatus(304);
      return;
    }
    const content = platform().fs.readFile(absolute);
    if (content === null) throw new HTTPError(404);
    const size = content.length;
    // An invalid Range header is ignored (RFC 2616 14.16); only one range is supported.
    const range = parseRequestRange(this.request.headers.get("Range"));
    let start: number | null = null;
    let end: number | null = null;
    if (range) {
      [start, end] = range;
      if (start !== null && start < 0) start = Math.max(start + size, 0);
      if ((start !== null && (start >= size || (end !== null && start >= end))) || end === 0) {
        this.setStatus(416);
        this.setHeader("Content-Type", "text/plain");
        this.setHeader("Content-Range", `bytes */${size}`);
        return;
      }
      if (end !== null && end > size) end = size;
      // 206 only when less than the whole file was asked for (Chrome refuses a 206 for bytes=0-).
      if (size !== (end || size) - (start || 0)) {
        this.setStatus(206);
        this.setHeader("Content-Range", `bytes ${start || 0}-${(end || size) - 1}/${size}`);
      }
    }
    const from = start ?? 0;
    const to = end ?? size;
    this.setHeader("Content-Length", to - from);
    if (!includeBody) return;
    // Written and flushed 64 KiB at a time, as Tornado's get_content chunks are: the head goes
    // out before the body is complete, so an output transform (gzip) sees a streamed response.
    for (let at = from; at < to; at += StaticFileHandler.CHUNK_SIZE) {
      this.write(content.subarray(at, Math.min(at + StaticFileHandler.CHUNK_SIZE, to)));
      void this.flush();
    }
  }

  /** Accept-Ranges, Etag, Last-Modified, Content-Type, then the cache headers, in Tornado's order. */
  setHeaders(): void {
    this.setHeader("Accept-Ranges", "bytes");
    this.setEtagHeader();
    if (this.modified !== null) this.setHeader("Last-Modified", new Date(this.modified));
    const contentType = this.getContentType();
    if (contentType) this.setHeader("Content-Type", contentType);
    const cacheTime = this.getCacheTime();
    if (cacheTime > 0) {
      this.setHeader("Expires", new Date(platform().now() + cacheTime * 1000));
      this.setHeader("Cache-Control", `max-age=${cacheTime}`);
    }
  }

  /** If-None-Match wins over If-Modified-Since, as in Tornado. */
  shouldReturn304(): boolean {
    if (this.request.headers.get("If-None-Match")) return this.checkEtagHeader();
    const since = this.request.headers.get("If-Modified-Since");
    if (since !== undefined && this.modified !== null) {
      const when = Date.parse(since);
      if (!Number.isNaN(when) && when >= this.modified) return true;
    }
    return false;
  }

  /** 10 years for versioned URLs (`?v=`), else 0 (no cache headers). */
  getCacheTime(): number {
    return this.request.queryArguments["v"] ? StaticFileHandler.CACHE_MAX_AGE : 0;
  }

  getContentType(): string {
    return guessContentType(this.absolutePath);
  }

  static getAbsolutePath(root: string, path: string): string {
    return joinPath(root, path);
  }

  /** Refuses paths outside the root (403), missing files (404) and directories (403, or redirect/default file). */
  validateAbsolutePath(root: string, absolutePath: string): string | null {
    const fs = platform().fs;
    let rootDir = normalizePath(root);
    if (!rootDir.endsWith("/")) rootDir += "/";
    if (!(absolutePath + "/").startsWith(rootDir)) throw new HTTPError(403, "%s is not in root static directory", this.path);
    if (fs.isDirectory(absolutePath) && this.defaultFilename !== null) {
      if (!this.request.path.endsWith("/")) {
        if (this.request.path.startsWith("//")) throw new HTTPError(403, "cannot redirect path with two initial slashes");
        this.redirect(this.request.path + "/", true);
        return null;
      }
      absolutePath = joinPath(absolutePath, this.defaultFilename);
    }
    if (fs.isDirectory(absolutePath)) throw new HTTPError(403, "%s is not a file", this.path);
    if (fs.mtime(absolutePath) === null) throw new HTTPError(404);
    return absolutePath;
  }

  /** `"<sha512 of the file>"`, cached per path like the `?v=` version. */
  override computeEtag(): string | null {
    const version = StaticFileHandler.getCachedVersion(this.absolutePath);
    return version === null ? null : `"${version}"`;
  }

  /** Maps the URL path to a file path (identity); override to rewrite. */
  parseUrlPath(urlPath: string): string {
    return urlPath;
  }

  /** SHA-512 hex of a file's content (Tornado's `get_content_version`). */
  static getContentVersion(content: Uint8Array): string {
    return hexEncode(sha512(content));
  }

  private static getCachedVersion(absolutePath: string): string | null {
    const cached = StaticFileHandler.versions.get(absolutePath);
    if (cached !== undefined) return cached;
    const content = platform().fs.readFile(absolutePath);
    if (content === null) {
      genLog.error("web", `Could not open static file ${pyRepr(absolutePath)}`);
      return null;
    }
    const version = StaticFileHandler.getContentVersion(content);
    StaticFileHandler.versions.set(absolutePath, version);
    return version;
  }

  /** `/static/<path>?v=<sha512>`; without a readable file the URL has no version (an error is logged). */
  static makeStaticUrl(settings: Settings, path: string, includeVersion = true): string {
    const url = (settings.staticUrlPrefix ?? "/static/") + path;
    if (!includeVersion) return url;
    const version = this.getVersion(settings, path);
    return version ? `${url}?v=${version}` : url;
  }

  static getVersion(settings: Settings, path: string): string | null {
    return StaticFileHandler.getCachedVersion(StaticFileHandler.getAbsolutePath(String(settings.staticPath), path));
  }
}

/**
 * Tornado's `_parse_request_range`: `bytes=1-2` → [1, 3] (slice indexes), `bytes=6-` → [6, null],
 * `bytes=-6` → [-6, null], `bytes=-0` → [null, 0]; null for anything else (other units, lists).
 */
function parseRequestRange(header: string | undefined): [number | null, number | null] | null {
  if (!header) return null;
  const eq = header.indexOf("=");
  const unit = (eq < 0 ? header : header.slice(0, eq)).trim();
  const value = eq < 0 ? "" : header.slice(eq + 1).trim();
  if (unit !== "bytes") return null;
  const dash = value.indexOf("-");
  const intOrNull = (text: string): number | null | undefined => {
    const t = text.trim();
    if (t === "") return null;
    return /^[+-]?\d+$/.test(t) ? Number(t) : undefined;
  };
  let start = intOrNull(dash < 0 ? value : value.slice(0, dash));
  let end = intOrNull(dash < 0 ? "" : value.slice(dash + 1));
  if (start === undefined || end === undefined) return null;
  if (end !== null) {
    if (start === null) {
      if (end !== 0) {
        start = -end;
        end = null;
      }
    } else end += 1;
  }
  return [start, end];
}

function normalizePath(path: string): string {
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
    } else parts.push(part);
  }
  const joined = parts.join("/");
  return absolute ? "/" + joined : joined || ".";
}

function joinPath(root: string, path: string): string {
  return normalizePath(path.startsWith("/") ? path : `${root}/${path}`);
}

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html", htm: "text/html", css: "text/css", js: "text/javascript", mjs: "text/javascript",
  json: "application/json", txt: "text/plain", md: "text/markdown", svg: "image/svg+xml", png: "image/png",
  jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", ico: "image/vnd.microsoft.icon", webp: "image/webp",
  woff: "font/woff", woff2: "font/woff2", wasm: "application/wasm", xml: "application/xml", pdf: "application/pdf", gz: "application/gzip",
};

function guessContentType(path: string): string {
  const dot = path.lastIndexOf(".");
  const type = dot < 0 ? undefined : CONTENT_TYPES[path.slice(dot + 1).toLowerCase()];
  return type ?? "application/octet-stream";
}

// ---------------------------------------------------------------------------------------------
// Signed values (secure cookies)

export type CookieSecret = string | Uint8Array | Record<number, string | Uint8Array>;

function b64encode(bytes: Uint8Array): string {
  return btoa(latin1(bytes));
}
function b64decode(text: string): Uint8Array {
  return latin1Bytes(atob(text));
}
function signV1(secret: string | Uint8Array, ...parts: (string | Uint8Array)[]): string {
  return platform().hmacHex("sha1", utf8(secret), concatBytes(parts.map((p) => utf8(p))));
}
function signV2(secret: string | Uint8Array, text: string): string {
  return platform().hmacHex("sha256", utf8(secret), utf8(text));
}

/**
 * Signs and timestamps `value` (Tornado's `create_signed_value`). Version 2 (default):
 * `2|1:0|10:<ts>|<len>:<name>|<len>:<base64>|<hex HMAC-SHA256>`; version 1: `<base64>|<ts>|<hex HMAC-SHA1>`.
 */
export function createSignedValue(
  secret: CookieSecret,
  name: string,
  value: string | Uint8Array,
  options: { version?: number; clock?: () => number; keyVersion?: number } = {},
): string {
  const signVersion = options.version ?? 2;
  const now = options.clock ? options.clock() : platform().now() / 1000;
  const timestamp = String(Math.trunc(now));
  const encoded = b64encode(utf8(value));
  if (signVersion === 1) {
    if (!(typeof secret === "string" || secret instanceof Uint8Array)) throw new Error("version 1 signed values need a single secret");
    return [encoded, timestamp, signV1(secret, name, encoded, timestamp)].join("|");
  }
  if (signVersion === 2) {
    const field = (s: string) => `${utf8(s).length}:${s}`;
    const toSign = ["2", field(String(options.keyVersion ?? 0)), field(timestamp), field(name), field(encoded), ""].join("|");
    let key: string | Uint8Array;
    if (typeof secret === "string" || secret instanceof Uint8Array) key = secret;
    else {
      if (options.keyVersion === undefined) throw new Error("Key version must be set when sign key dict is used");
      const k = secret[options.keyVersion];
      if (k === undefined) throw new Error(`No secret for key version ${options.keyVersion}`);
      key = k;
    }
    return toSign + signV2(key, toSign);
  }
  throw new Error(`Unsupported version ${signVersion}`);
}

function signedValueVersion(value: string): number {
  const m = /^([1-9][0-9]*)\|/.exec(value);
  if (!m) return 1;
  const n = Number(m[1]);
  return n > 999 ? 1 : n;
}

function decodeFieldsV2(value: string): { keyVersion: number; timestamp: string; name: string; value: string; signature: string } {
  let rest = value.slice(2);
  const consume = (): string => {
    const colon = rest.indexOf(":");
    if (colon < 0) throw new Error("malformed v2 signed value field");
    const lengthText = rest.slice(0, colon);
    if (!/^\s*[+-]?\d+\s*$/.test(lengthText)) throw new Error("malformed v2 signed value field");
    const n = Number(lengthText);
    const after = rest.slice(colon + 1);
    const field = after.slice(0, n);
    if (after.slice(n, n + 1) !== "|") throw new Error("malformed v2 signed value field");
    rest = after.slice(n + 1);
    return field;
  };
  const keyVersion = consume();
  const timestamp = consume();
  const name = consume();
  const val = consume();
  if (!/^\s*[+-]?\d+\s*$/.test(keyVersion)) throw new Error("malformed key version");
  return { keyVersion: Number(keyVersion), timestamp, name, value: val, signature: rest };
}

/**
 * Verifies a signed value and returns its bytes, or null if it is missing, forged, for another
 * name, or older than `maxAgeDays` (Tornado's `decode_signed_value`).
 */
export function decodeSignedValue(
  secret: CookieSecret,
  name: string,
  value: string | Uint8Array | null | undefined,
  options: { maxAgeDays?: number; clock?: () => number; minVersion?: number } = {},
): Uint8Array | null {
  const maxAgeDays = options.maxAgeDays ?? 31;
  const minVersion = options.minVersion ?? 1;
  if (minVersion > 2) throw new Error(`Unsupported min_version ${minVersion}`);
  if (!value || value.length === 0) return null;
  const text = typeof value === "string" ? value : latin1(value);
  const now = options.clock ? options.clock() : platform().now() / 1000;
  const signVersion = signedValueVersion(text);
  if (signVersion < minVersion) return null;
  if (signVersion === 1) {
    if (!(typeof secret === "string" || secret instanceof Uint8Array)) return null;
    const parts = text.split("|");
    if (parts.length !== 3) return null;
    const signature = signV1(secret, name, parts[0]!, parts[1]!);
    if (!compareDigest(parts[2]!, signature)) {
      genLog.warning("web", `Invalid cookie signature ${pyRepr(text)}`);
      return null;
    }
    if (!/^\d+$/.test(parts[1]!)) return null;
    const timestamp = Number(parts[1]);
    if (timestamp < now - maxAgeDays * 86400) {
      genLog.warning("web", `Expired cookie ${pyRepr(text)}`);
      return null;
    }
    if (timestamp > now + 31 * 86400) {
      genLog.warning("web", `Cookie timestamp in future; possible tampering ${pyRepr(text)}`);
      return null;
    }
    if (parts[1]!.startsWith("0")) {
      genLog.warning("web", `Tampered cookie ${pyRepr(text)}`);
      return null;
    }
    try {
      return b64decode(parts[0]!);
    } catch {
      return null;
    }
  }
  if (signVersion === 2) {
    let fields: ReturnType<typeof decodeFieldsV2>;
    try {
      fields = decodeFieldsV2(text);
    } catch {
      return null;
    }
    const signed = text.slice(0, text.length - fields.signature.length);
    let key: string | Uint8Array;
    if (typeof secret === "string" || secret instanceof Uint8Array) key = secret;
    else {
      const k = secret[fields.keyVersion];
      if (k === undefined) return null;
      key = k;
    }
    if (!compareDigest(fields.signature, signV2(key, signed))) return null;
    if (fields.name !== name) return null;
    if (!/^\s*[+-]?\d+\s*$/.test(fields.timestamp)) return null;
    if (Number(fields.timestamp) < now - maxAgeDays * 86400) return null;
    try {
      return b64decode(fields.value);
    } catch {
      return null;
    }
  }
  return null;
}

/** The key version a v2 signed value was signed with; null for v1 or malformed values. */
export function getSignatureKeyVersion(value: string | Uint8Array): number | null {
  const text = typeof value === "string" ? value : latin1(value);
  if (signedValueVersion(text) < 2) return null;
  try {
    return decodeFieldsV2(text).keyVersion;
  } catch {
    return null;
  }
}

/** Decorator-free `@authenticated`: call at the top of a method; redirects GET/HEAD to the login URL, else 403. */
export function authenticated(handler: RequestHandler): boolean {
  if (handler.currentUser) return true;
  const method = handler.request.method;
  if (method === "GET" || method === "HEAD") {
    let loginUrl = handler.getLoginUrl();
    if (loginUrl.includes("?")) {
      handler.redirect(loginUrl);
    } else {
      const next = /^https?:\/\//.test(loginUrl) ? handler.request.fullUrl() : handler.request.uri;
      loginUrl += "?" + "next=" + urlEscape(next);
      handler.redirect(loginUrl);
    }
    throw new Finish();
  }
  throw new HTTPError(403);
}

/**
 * Decorator-free `@removeslash`: call at the top of a method. GET/HEAD of `/path/` redirect
 * permanently to `/path` (query kept); other methods get 404; `/` itself is left alone.
 */
export function removeslash(handler: RequestHandler): void {
  const { path, method, query } = handler.request;
  if (!path.endsWith("/")) return;
  if (method !== "GET" && method !== "HEAD") throw new HTTPError(404);
  let uri = path.replace(/\/+$/, "");
  if (!uri) return;
  if (query) uri += "?" + query;
  handler.redirect(uri, true);
  throw new Finish();
}

/** Decorator-free `@addslash`: GET/HEAD of `/path` redirect permanently to `/path/`; other methods get 404. */
export function addslash(handler: RequestHandler): void {
  const { path, method, query } = handler.request;
  if (path.endsWith("/")) return;
  if (method !== "GET" && method !== "HEAD") throw new HTTPError(404);
  let uri = path + "/";
  if (query) uri += "?" + query;
  handler.redirect(uri, true);
  throw new Finish();
}
