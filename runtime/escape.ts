/**
 * Escaping and encoding, as `tornado.escape` does it (6.x behaviour).
 *
 * The point of matching Python byte for byte is the Etag: `write({msg: "hello!"})` must produce
 * `{"msg": "hello!"}` (Python's `json.dumps` separators), or the talk's Etag changes.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** Tornado's `utf8()`: strings become UTF-8 bytes; bytes pass through; null stays null. */
export function utf8(value: string | Uint8Array): Uint8Array;
export function utf8(value: string | Uint8Array | null): Uint8Array | null;
export function utf8(value: string | Uint8Array | null): Uint8Array | null {
  if (value === null || value instanceof Uint8Array) return value;
  if (typeof value !== "string") throw new TypeError(`Expected bytes, string, or null; got ${typeof value}`);
  return encoder.encode(value);
}

/** Tornado's `to_unicode()`: bytes are decoded as UTF-8 (throwing on invalid input, like Python's strict decode). */
export function toUnicode(value: string | Uint8Array): string;
export function toUnicode(value: string | Uint8Array | null): string | null;
export function toUnicode(value: string | Uint8Array | null): string | null {
  if (value === null || typeof value === "string") return value;
  if (!(value instanceof Uint8Array)) throw new TypeError(`Expected bytes, string, or null; got ${typeof value}`);
  return strictDecoder.decode(value);
}
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Decode bytes as latin-1 (one char per byte), as Python's `.decode("latin1")`. */
export function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

/** Encode a string whose chars are all < 256 as latin-1 bytes. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

const XHTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#x27;",
};

/** Escapes `&<>"'` (Tornado 6 uses `html.escape`, so `'` becomes `&#x27;`). */
export function xhtmlEscape(value: string | Uint8Array): string {
  return toUnicode(value).replace(/[&<>"']/g, (c) => XHTML_ESCAPES[c]!);
}

/** Python's `json.dumps` default float repr: shortest round-trip digits, Python's exponent style. */
function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (Number.isInteger(x) && Math.abs(x) < 1e21) {
    // A JS integer-valued number is written as Python writes an int.
    return Object.is(x, -0) ? "-0.0" : BigInt(x).toString();
  }
  const [mantissa, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  let body: string;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
      const frac = digits.slice(exp + 1) || "0";
      body = `${intPart}.${frac}`;
    } else {
      body = `0.${"0".repeat(-exp - 1)}${digits}`;
    }
  } else {
    const rest = digits.slice(1);
    body = `${digits[0]}${rest ? "." + rest : ""}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return negative ? `-${body}` : body;
}

function jsonString(s: string): string {
  // json.dumps(ensure_ascii=True): escape `"` `\\`, and every char outside printable ASCII.
  return (
    '"' +
    s.replace(/[\\"]|[^ -~]/g, (c) => {
      switch (c) {
        case '"':
          return '\\"';
        case "\\":
          return "\\\\";
        case "\n":
          return "\\n";
        case "\r":
          return "\\r";
        case "\t":
          return "\\t";
        case "\b":
          return "\\b";
        case "\f":
          return "\\f";
        default:
          return "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");
      }
    }) +
    '"'
  );
}

function pythonJsonDumps(value: unknown, seen: Set<object>): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return jsonString(value);
    case "number":
      return pythonFloatRepr(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    case "object":
      break;
    default:
      throw new TypeError(`Object of type ${typeof value} is not JSON serializable`);
  }
  const obj = value as { toJSON?: () => unknown };
  if (typeof obj.toJSON === "function") return pythonJsonDumps(obj.toJSON(), seen);
  if (seen.has(obj)) throw new TypeError("Circular reference detected");
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return "[" + obj.map((v) => pythonJsonDumps(v, seen)).join(", ") + "]";
    if (obj instanceof Uint8Array) throw new TypeError("Object of type bytes is not JSON serializable");
    const parts: string[] = [];
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined || typeof v === "function") continue; // as JSON.stringify skips them
      parts.push(`${jsonString(k)}: ${pythonJsonDumps(v, seen)}`);
    }
    return "{" + parts.join(", ") + "}";
  } finally {
    seen.delete(obj);
  }
}

/**
 * JSON-encodes the value exactly as Tornado's `json_encode` (Python's `json.dumps` defaults:
 * `", "` and `": "` separators, `ensure_ascii`), then escapes `</` as `<\/` so the result is
 * safe inside a `<script>` tag.
 */
export function jsonEncode(value: unknown): string {
  return pythonJsonDumps(value, new Set()).replace(/<\//g, "<\\/");
}

/** Parses JSON from a string or UTF-8 bytes. */
export function jsonDecode(value: string | Uint8Array): unknown {
  return JSON.parse(toUnicode(value));
}

/** Replaces every run of whitespace/control chars with a single space, then trims. */
export function squeeze(value: string): string {
  return value.replace(/[\x00-\x20]+/g, " ").trim();
}

const hex = (b: number) => "%" + b.toString(16).toUpperCase().padStart(2, "0");

/**
 * URL-encodes a value (Python's `quote_plus` when `plus`, else `quote` which keeps `/`).
 */
export function urlEscape(value: string | Uint8Array, plus = true): string {
  const bytes = utf8(value);
  const safe = plus ? /[A-Za-z0-9_.\-~]/ : /[A-Za-z0-9_.\-~/]/;
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (b < 128 && safe.test(c)) out += c;
    else if (plus && b === 0x20) out += "+";
    else out += hex(b);
  }
  return out;
}

/** Percent-decodes to bytes (invalid escapes are kept literally, as Python's `unquote_to_bytes`). */
export function percentDecode(value: string | Uint8Array): Uint8Array {
  const bytes = utf8(value);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out[n++] = parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16);
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  return out.slice(0, n);
}
function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102));
}

/**
 * Decodes a URL-encoded value. With `encoding: null` returns bytes (Tornado's `encoding=None`);
 * otherwise a string, with invalid UTF-8 replaced (Python's `errors="replace"`).
 */
export function urlUnescape(value: string | Uint8Array, options?: { plus?: boolean; encoding?: "utf-8" }): string;
export function urlUnescape(value: string | Uint8Array, options: { plus?: boolean; encoding: null }): Uint8Array;
export function urlUnescape(
  value: string | Uint8Array,
  options: { plus?: boolean; encoding?: "utf-8" | null } = {},
): string | Uint8Array {
  let raw = utf8(value);
  if (options.plus ?? true) raw = raw.map((b) => (b === 0x2b ? 0x20 : b));
  const bytes = percentDecode(raw);
  return options.encoding === null ? bytes : decoder.decode(bytes);
}
