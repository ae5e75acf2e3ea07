/**
 * Tornado's three loggers: `access` (one line per request), `app` (application errors,
 * uncaught exceptions with their stack) and `gen` (everything else: malformed requests,
 * connection problems).
 *
 * Records go to one replaceable sink, so the deck can show a server's access log beside its
 * output and tests can assert on it. The default sink formats lines as Tornado's
 * `LogFormatter` does (`[I 261125 00:34:39 web] 200 GET / (127.0.0.1) 0.45ms`) and writes
 * them through the platform.
 */
import { platform } from "./platform/index.js";
import type { LogLevel } from "./platform/types.js";

export type LoggerName = "tornado.access" | "tornado.application" | "tornado.general";

export interface LogRecord {
  logger: LoggerName;
  level: LogLevel;
  /** The module that logged, as Tornado's `%(module)s` ("web", "http1connection"...). */
  module: string;
  message: string;
  /** Wall-clock ms. */
  time: number;
}

export type LogSink = (record: LogRecord) => void;

const p2 = (n: number) => String(n).padStart(2, "0");

/** `[I 261125 00:34:39 web] message`, Tornado's default format (without line numbers). */
export function formatLogRecord(record: LogRecord): string {
  return formatLine(record.level, record.module, record.time, record.message);
}

function formatLine(level: LogLevel, module: string, time: number, message: string): string {
  return linePrefix(level, module, time) + message;
}

/** `[I 261125 00:34:39 web] `: the same string object for as long as the second, level and module repeat. */
function linePrefix(level: LogLevel, module: string, time: number): string {
  // One access-log line per request: the `[I 261125 00:34:39 web] ` part changes once a second.
  const second = Math.floor(time / 1000);
  if (second !== prefixSecond || level !== prefixLevel || module !== prefixModule) {
    const d = new Date(second * 1000);
    const stamp = `${p2(d.getUTCFullYear() % 100)}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    prefix = `[${level[0]!.toUpperCase()} ${stamp} ${module}] `;
    prefixSecond = second;
    prefixLevel = level;
    prefixModule = module;
  }
  return prefix;
}
let prefixSecond = Number.NaN;
let prefixLevel = "";
let prefixModule = "";
let prefix = "";

const defaultSink: LogSink = (record) => platform().log(record.level, formatLogRecord(record));
let sink: LogSink = defaultSink;

/** Route every log record to `next` (null restores the default); returns the previous sink. */
export function setLogSink(next: LogSink | null): LogSink {
  const previous = sink;
  sink = next ?? defaultSink;
  return previous;
}

export class Logger {
  constructor(readonly name: LoggerName) {}
  log(level: LogLevel, module: string, message: string): void {
    const time = platform().now();
    // Nobody observes records with the default sink: the line goes straight to the platform,
    // without a record object per line (one per request for the access log).
    if (sink === defaultSink) platform().log(level, formatLine(level, module, time, message));
    else sink({ logger: this.name, level, module, message, time });
  }
  /**
   * Logs `head + tail`, where `head` mostly repeats (the access line up to its duration): with
   * the default sink the platform may copy the bytes of the line's prefix and head, encoded
   * once, instead of building the line and encoding it (`Platform.logPieces`). `time`: the
   * wall clock (ms) if the caller holds a reading of this second already, which saves one; the
   * line shows whole seconds, so any time within the second gives the same line.
   */
  logPieces(level: LogLevel, module: string, head: string, tail: string, time?: number): void {
    const p = platform();
    if (sink !== defaultSink || p.logPieces === undefined) {
      this.log(level, module, head + tail);
      return;
    }
    p.logPieces(level, linePrefix(level, module, time ?? p.now()), head, tail);
  }
  debug(module: string, message: string): void {
    this.log("debug", module, message);
  }
  info(module: string, message: string): void {
    this.log("info", module, message);
  }
  warning(module: string, message: string): void {
    this.log("warning", module, message);
  }
  error(module: string, message: string): void {
    this.log("error", module, message);
  }
}

export const accessLog = new Logger("tornado.access");
export const appLog = new Logger("tornado.application");
export const genLog = new Logger("tornado.general");
