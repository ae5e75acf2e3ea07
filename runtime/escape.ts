/**
 * Escaping and encoding, as `tornado.escape` does it (6.x behaviour).
 *
 * The point of matching Python byte for byte is the Etag: `write({msg: "hello!"})` must produce
 * `{"msg": "hello!"}` (Python's `json.dumps` separators), or the talk's Etag changes.
 */
import { platform } from "./platform/index.js";

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

/**
 * The length of `text` in UTF-8, as `utf8(text).length` without making the bytes (a lone
 * surrogate counts 3, the U+FFFD that TextEncoder writes for it).
 */
export function utf8Length(text: string): number {
  // The platform's count when it has one: a JavaScript loop costs about 25 instructions a
  // character (callgrind), Node's Buffer.byteLength about 90 in all for a short string.
  const native = platform().utf8Length;
  if (native !== undefined) return native(text);
  const n = text.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: two units, four bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Writes `utf8(text)` into `target` at `offset` (room for `utf8Length(text)` bytes); returns the
 * bytes written. Short ASCII text is copied by hand: measured under callgrind, the loop costs
 * about 25 instructions a character and Node's Buffer#utf8Write about 690 whatever the length,
 * so the loop is cheaper up to some 27 characters. The cut is at 32: from 28 to 32 characters
 * the loop costs at most about 100 instructions more than the native writer.
 */
export function utf8Into(text: string, target: Uint8Array, offset: number): number {
  const n = text.length;
  if (n <= 32) {
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) break;
      target[offset + i] = c;
    }
    if (i === n) return n;
  }
  const native = platform().utf8Into;
  if (native !== undefined) return native(text, target, offset);
  return encoder.encodeInto(text, offset === 0 ? target : target.subarray(offset)).written;
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
  const native = platform().latin1;
  if (native !== undefined) return native(bytes);
  // TextDecoder's "latin1" is really windows-1252, which differs only for 0x80-0x9F: those come
  // out above U+00FF, and then we decode byte by byte. Four times faster than fromCharCode alone.
  const text = cp1252.decode(bytes);
  if (!BEYOND_LATIN1.test(text)) return text;
  let out = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return out;
}
const cp1252 = new TextDecoder("latin1");
const BEYOND_LATIN1 = /[^\x00-\xff]/;

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

/**
 * Escapes `&<>"'` (Tornado 6 uses `html.escape`, so `'` becomes `&#x27;`). A char loop rather
 * than a regex replace: templates call this for every `{{ }}`, and the loop is twice as fast.
 */
export function xhtmlEscape(value: string | Uint8Array): string {
  const text = typeof value === "string" ? value : toUnicode(value);
  let out = "";
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 38 && c !== 60 && c !== 62 && c !== 34 && c !== 39) continue;
    if (last !== i) out += text.slice(last, i);
    out += XHTML_ESCAPES[text[i]!]!;
    last = i + 1;
  }
  if (last === 0) return text;
  return last === text.length ? out : out + text.slice(last);
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
export function urlUnescape(value: string | Uint8Array, options?: { plus?: boolean; encoding?: "utf-8" | "latin1" }): string;
export function urlUnescape(value: string | Uint8Array, options: { plus?: boolean; encoding: null }): Uint8Array;
export function urlUnescape(
  value: string | Uint8Array,
  options: { plus?: boolean; encoding?: "utf-8" | "latin1" | null } = {},
): string | Uint8Array {
  let raw = utf8(value);
  if (options.plus ?? true) raw = raw.map((b) => (b === 0x2b ? 0x20 : b));
  const bytes = percentDecode(raw);
  if (options.encoding === "latin1") return latin1(bytes);
  return options.encoding === null ? bytes : decoder.decode(bytes);
}

/*
 * Un-escaping, linkify and recursiveUnicode (tornado.escape 6.x), added for templates and escape_test.
 * Python's `\w`, `\s` and `\b` are Unicode-aware, JavaScript's are not, so the regexes below spell
 * Python's classes out.
 */

/** Python's `\w` for str patterns: Unicode letters, digits and `_`. */
const PY_WORD = String.raw`[\p{L}\p{N}\p{Mn}\p{Mc}_]`;
/** Python's `\s` for str patterns (str.isspace), as the inside of a class: JS `\s` minus U+FEFF, plus U+001C..U+001F and U+0085. */
const PY_NOT_SPACE_INNER = String.raw`\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;

/** HTML 4 named entities (Python's `html.entities.name2codepoint`, which Tornado uses), name:hex. */
const ENTITY_TABLE =
  "quot:22 amp:26 lt:3c gt:3e nbsp:a0 iexcl:a1 cent:a2 pound:a3 curren:a4 yen:a5 brvbar:a6 sect:a7 uml:a8 copy:a9 ordf:aa laquo:ab not:ac shy:ad reg:ae macr:af deg:b0 plusmn:b1 sup2:b2 sup3:b3 acute:b4 micro:b5 para:b6 middot:b7 cedil:b8 sup1:b9 ordm:ba raquo:bb frac14:bc frac12:bd frac34:be iquest:bf Agrave:c0 Aacute:c1 Acirc:c2 Atilde:c3 Auml:c4 Aring:c5 AElig:c6 Ccedil:c7 Egrave:c8 Eacute:c9 Ecirc:ca Euml:cb Igrave:cc Iacute:cd Icirc:ce Iuml:cf ETH:d0 Ntilde:d1 Ograve:d2 Oacute:d3 Ocirc:d4 Otilde:d5 Ouml:d6 times:d7 Oslash:d8 Ugrave:d9 Uacute:da Ucirc:db Uuml:dc Yacute:dd THORN:de szlig:df agrave:e0 aacute:e1 acirc:e2 atilde:e3 auml:e4 aring:e5 aelig:e6 ccedil:e7 egrave:e8 eacute:e9 ecirc:ea euml:eb igrave:ec iacute:ed icirc:ee iuml:ef eth:f0 ntilde:f1 ograve:f2 oacute:f3 ocirc:f4 otilde:f5 ouml:f6 divide:f7 oslash:f8 ugrave:f9 uacute:fa ucirc:fb uuml:fc yacute:fd thorn:fe yuml:ff OElig:152 oelig:153 Scaron:160 scaron:161 Yuml:178 fnof:192 circ:2c6 tilde:2dc Alpha:391 Beta:392 Gamma:393 Delta:394 Epsilon:395 Zeta:396 Eta:397 Theta:398 Iota:399 Kappa:39a Lambda:39b Mu:39c Nu:39d Xi:39e Omicron:39f Pi:3a0 Rho:3a1 Sigma:3a3 Tau:3a4 Upsilon:3a5 Phi:3a6 Chi:3a7 Psi:3a8 Omega:3a9 alpha:3b1 beta:3b2 gamma:3b3 delta:3b4 epsilon:3b5 zeta:3b6 eta:3b7 theta:3b8 iota:3b9 kappa:3ba lambda:3bb mu:3bc nu:3bd xi:3be omicron:3bf pi:3c0 rho:3c1 sigmaf:3c2 sigma:3c3 tau:3c4 upsilon:3c5 phi:3c6 chi:3c7 psi:3c8 omega:3c9 thetasym:3d1 upsih:3d2 piv:3d6 ensp:2002 emsp:2003 thinsp:2009 zwnj:200c zwj:200d lrm:200e rlm:200f ndash:2013 mdash:2014 lsquo:2018 rsquo:2019 sbquo:201a ldquo:201c rdquo:201d bdquo:201e dagger:2020 Dagger:2021 bull:2022 hellip:2026 permil:2030 prime:2032 Prime:2033 lsaquo:2039 rsaquo:203a oline:203e frasl:2044 euro:20ac image:2111 weierp:2118 real:211c trade:2122 alefsym:2135 larr:2190 uarr:2191 rarr:2192 darr:2193 harr:2194 crarr:21b5 lArr:21d0 uArr:21d1 rArr:21d2 dArr:21d3 hArr:21d4 forall:2200 part:2202 exist:2203 empty:2205 nabla:2207 isin:2208 notin:2209 ni:220b prod:220f sum:2211 minus:2212 lowast:2217 radic:221a prop:221d infin:221e ang:2220 and:2227 or:2228 cap:2229 cup:222a int:222b there4:2234 sim:223c cong:2245 asymp:2248 ne:2260 equiv:2261 le:2264 ge:2265 sub:2282 sup:2283 nsub:2284 sube:2286 supe:2287 oplus:2295 otimes:2297 perp:22a5 sdot:22c5 lceil:2308 rceil:2309 lfloor:230a rfloor:230b lang:2329 rang:232a loz:25ca spades:2660 clubs:2663 hearts:2665 diams:2666";
let entityMap: Map<string, string> | null = null;
function entities(): Map<string, string> {
  if (!entityMap) {
    entityMap = new Map(
      ENTITY_TABLE.split(" ").map((pair) => {
        const [name, code] = pair.split(":") as [string, string];
        return [name, String.fromCodePoint(parseInt(code, 16))];
      }),
    );
  }
  return entityMap;
}

/** Python's `int(text, base)` for the digits `\w` can match (underscores between digits allowed); NaN if invalid. */
function pythonInt(text: string, base: 10 | 16): number {
  const digits = base === 16 ? "[0-9a-fA-F]" : "[0-9]";
  if (!new RegExp(`^${digits}+(?:_${digits}+)*$`).test(text)) return NaN;
  return parseInt(text.replace(/_/g, ""), base);
}

const UNESCAPE_RE = new RegExp(`&(#?)(${PY_WORD}+?);`, "gu");

/** Tornado's `xhtml_unescape`: named (HTML 4) and numeric entities; unknown or invalid ones are kept. */
export function xhtmlUnescape(value: string | Uint8Array): string {
  return toUnicode(value).replace(UNESCAPE_RE, (whole, hash: string, body: string) => {
    if (hash === "#") {
      const code = body.slice(0, 1).toLowerCase() === "x" ? pythonInt(body.slice(1), 16) : pythonInt(body, 10);
      return Number.isNaN(code) || code > 0x10ffff ? `&#${body};` : String.fromCodePoint(code);
    }
    return entities().get(body) ?? `&${body};`;
  });
}

/** Options of `linkify` (Tornado's keyword arguments, camelCased). */
export interface LinkifyOptions {
  /** Shorten long URLs for display (the full URL goes in `title`). */
  shorten?: boolean;
  /** Extra attributes for the `<a>` tag, or a function of the href returning them. */
  extraParams?: string | ((href: string) => string);
  /** Only link text that has a protocol (so `www.x.com` stays text). */
  requireProtocol?: boolean;
  /** Protocols that may be linked; default http and https. Never add `javascript`. */
  permittedProtocols?: readonly string[];
}

// Tornado's _URL_RE, with Python's Unicode `\b`, `\w` and `\s` spelled out.
const PY_BOUNDARY = `(?:(?<=${PY_WORD})(?!${PY_WORD})|(?<!${PY_WORD})(?=${PY_WORD}))`;
const URL_CHAR = `(?:[^${PY_NOT_SPACE_INNER}&()]|&amp;|&quot;)`;
const URL_RE = new RegExp(
  PY_BOUNDARY +
    `((?:((?:${PY_WORD}|-)+):(/{1,3})|www[.])` +
    `(?:(?:${URL_CHAR}*(?:[^!"#$%&'()*+,.:;<=>?@\\[\\]^\`{|}~${PY_NOT_SPACE_INNER}]))|(?:\\(${URL_CHAR}*\\)))+)`,
  "gu",
);

/**
 * Converts plain text into HTML with links (Tornado's `linkify`). The text is HTML-escaped first,
 * so the result is safe to output unescaped (`{% raw linkify(text) %}`).
 */
export function linkify(text: string | Uint8Array, options: LinkifyOptions = {}): string {
  const { shorten = false, requireProtocol = false, permittedProtocols = ["http", "https"] } = options;
  let extraParams = options.extraParams ?? "";
  if (extraParams && typeof extraParams !== "function") extraParams = " " + extraParams.trim();
  const makeLink = (whole: string, url: string, proto: string | undefined, slashes: string | undefined): string => {
    if (requireProtocol && !proto) return url;
    if (proto && !permittedProtocols.includes(proto)) return url;
    const href = proto ? url : "http://" + url;
    let params = typeof extraParams === "function" ? " " + extraParams(href).trim() : extraParams;
    if (shorten) {
      // Python counts code points, so the clipping works on arrays of them.
      const maxLen = 30;
      const beforeClip = [...url];
      let clipped = beforeClip;
      if (beforeClip.length > maxLen) {
        const protoLen = proto ? [...proto].length + 1 + [...(slashes ?? "")].length : 0;
        const parts = beforeClip.slice(protoLen).join("").split("/");
        if (parts.length > 1) {
          const first = [...parts[1]!].slice(0, 8).join("").split("?")[0]!.split(".")[0]!;
          clipped = [...beforeClip.slice(0, protoLen), ...parts[0]!, "/", ...first];
        }
        if (clipped.length > maxLen * 1.5) clipped = clipped.slice(0, maxLen);
        if (clipped.join("") !== url) {
          const amp = clipped.lastIndexOf("&");
          if (amp > maxLen - 5) clipped = clipped.slice(0, amp);
          clipped = [...clipped, ".", ".", "."];
          if (clipped.length >= beforeClip.length) clipped = beforeClip;
          else params += ` title="${href}"`;
        }
        url = clipped.join("");
      }
    }
    return `<a href="${href}"${params}>${url}</a>`;
  };
  return xhtmlEscape(text).replace(URL_RE, makeLink as (substring: string, ...args: any[]) => string);
}

/** Tornado's `recursive_unicode`: bytes become strings inside arrays, plain objects and Maps. */
export function recursiveUnicode(value: unknown): unknown {
  if (value instanceof Uint8Array) return toUnicode(value);
  if (Array.isArray(value)) return value.map(recursiveUnicode);
  if (value instanceof Map) {
    return new Map([...value].map(([k, v]) => [recursiveUnicode(k), recursiveUnicode(v)]));
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, recursiveUnicode(v)]));
  }
  return value;
}
