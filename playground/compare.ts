/**
 * Compare a live `curl -i` output with the text printed on the 2011 slide.
 *
 * The point of the comparison is to show the audience what changed since the talk, and why,
 * not merely that something differs. Known, explained differences: Tornado 3.0 added the
 * `Date` header; our server names itself differently; Tornado 3+ (on Python 3's ordered dicts)
 * sends headers in insertion order where 2.1.1 printed CPython 2's hash order. Anything else
 * (a different body after an edit, a different status) is listed line by line.
 */

export type DiffKind = "changed" | "added" | "missing" | "order" | "status" | "body";

export interface DiffLine {
  kind: DiffKind;
  /** The line as it came live (absent for "missing"). */
  live?: string;
  /** The line as printed in 2011 (absent for "added"). */
  talk?: string;
  /** Why it differs, when the reason is known. */
  reason?: string;
}

export interface Comparison {
  matches: boolean;
  differences: DiffLine[];
}

export const REASONS = {
  date: "the Date header: Tornado sends it since 3.0",
  server: "our Server name (the 2011 slide ran TornadoServer/2.1.1)",
  order: "header order: Tornado 3+ keeps insertion order (Python 3 dicts); 2.1.1 printed CPython 2's hash order",
  etag: "the Etag is the SHA-1 of the body, so it follows the body",
  length: "Content-Length follows the body",
  body: "the body differs from the 2011 program's",
} as const;

interface Parsed {
  status: string;
  headers: Array<{ name: string; value: string; line: string }>;
  body: string[];
}

function trimBlank(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start]!.trim() === "") start++;
  while (end > start && lines[end - 1]!.trim() === "") end--;
  return lines.slice(start, end);
}

function parse(text: string): Parsed {
  const lines = trimBlank(text.replace(/\r\n?/g, "\n").split("\n").map((l) => l.replace(/\s+$/, "")));
  const status = lines[0] ?? "";
  const headers: Parsed["headers"] = [];
  let i = 1;
  if (!/^HTTP\/\d/.test(status)) return { status: "", headers, body: lines };
  for (; i < lines.length && lines[i] !== ""; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon < 0) break;
    headers.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim(), line });
  }
  return { status, headers, body: trimBlank(lines.slice(i)) };
}

/** Compare live curl output with the talk's text; see the module comment for the known reasons. */
export function compareWithTalk(live: string, talk: string): Comparison {
  const a = parse(live);
  const b = parse(talk);
  const differences: DiffLine[] = [];
  const bodyDiffers = a.body.join("\n") !== b.body.join("\n");

  if (a.status !== b.status) differences.push({ kind: "status", live: a.status, talk: b.status });

  const liveByName = new Map(a.headers.map((h) => [h.name, h]));
  const talkByName = new Map(b.headers.map((h) => [h.name, h]));
  for (const h of b.headers) {
    const mine = liveByName.get(h.name);
    if (!mine) {
      differences.push({ kind: "missing", talk: h.line });
    } else if (mine.value !== h.value || mine.line !== h.line) {
      const reason =
        h.name === "server"
          ? REASONS.server
          : h.name === "etag" && bodyDiffers
            ? REASONS.etag
            : h.name === "content-length" && bodyDiffers
              ? REASONS.length
              : undefined;
      differences.push({ kind: "changed", live: mine.line, talk: h.line, ...(reason ? { reason } : {}) });
    }
  }
  for (const h of a.headers) {
    if (!talkByName.has(h.name)) {
      differences.push({ kind: "added", live: h.line, ...(h.name === "date" ? { reason: REASONS.date } : {}) });
    }
  }
  // Order: compare the sequence of the headers both sides have.
  const common = (list: Parsed["headers"], other: Map<string, unknown>) =>
    list.filter((h) => other.has(h.name)).map((h) => h.name);
  const liveOrder = common(a.headers, talkByName);
  const talkOrder = common(b.headers, liveByName);
  if (liveOrder.join("\n") !== talkOrder.join("\n")) {
    differences.push({
      kind: "order",
      live: a.headers.map((h) => h.line.split(":")[0]).join(", "),
      talk: b.headers.map((h) => h.line.split(":")[0]).join(", "),
      reason: REASONS.order,
    });
  }
  if (bodyDiffers) {
    const n = Math.max(a.body.length, b.body.length);
    for (let i = 0; i < n; i++) {
      if (a.body[i] !== b.body[i]) {
        differences.push({
          kind: "body",
          ...(a.body[i] !== undefined ? { live: a.body[i] } : {}),
          ...(b.body[i] !== undefined ? { talk: b.body[i] } : {}),
          reason: REASONS.body,
        });
      }
    }
  }
  return { matches: differences.length === 0, differences };
}

/** One line per difference, for the slide and for tests. */
export function describeComparison(c: Comparison): string[] {
  if (c.matches) return ["matches the 2011 slide"];
  return c.differences.map((d) => {
    const why = d.reason ? ` (${d.reason})` : "";
    switch (d.kind) {
      case "added":
        return `+ ${d.live}${why}`;
      case "missing":
        return `- ${d.talk}${why}`;
      case "order":
        return `order: now ${d.live}; 2011 ${d.talk}${why}`;
      default:
        return `~ ${d.live ?? "(nothing)"}  [2011: ${d.talk ?? "(nothing)"}]${why}`;
    }
  });
}
