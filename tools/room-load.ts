/**
 * Simulated room members for tests and the bench (tools/room.test.ts, bench/room.ts): `ws`
 * clients of `/follow`, a presenter with the cookie its secret link sets, delivery times of a
 * slide change, and the floods a room must survive. Loopback only.
 */
import { connect as tcpConnect, type Socket } from "node:net";
import WebSocket from "ws";

export interface Member {
  ws: WebSocket;
  /** Parsed messages, oldest first. */
  messages: Record<string, unknown>[];
  /** performance.now() when each "move" to slide h arrived. */
  movedAt: Map<number, number>;
  closed: Promise<number>;
  next(predicate: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** The cookies a GET of `path` sets (the role and attendee cookies), as a Cookie header. */
export async function cookiesFrom(base: string, path: string): Promise<string> {
  const response = await fetch(new URL(path, base), { redirect: "manual" });
  await response.arrayBuffer();
  return response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

export function join(base: string, cookie = ""): Promise<Member> {
  const url = new URL("/follow", base);
  url.protocol = "ws:";
  const origin = new URL(base).origin;
  const ws = new WebSocket(url, { headers: cookie ? { Cookie: cookie } : {}, origin, perMessageDeflate: false });
  const messages: Record<string, unknown>[] = [];
  const movedAt = new Map<number, number>();
  const waiters = new Set<() => void>();
  ws.on("message", (data) => {
    const m = JSON.parse(String(data)) as Record<string, unknown>;
    if (m.type === "move") movedAt.set((m.position as { h: number }).h, performance.now());
    messages.push(m);
    for (const w of waiters) w();
  });
  const closed = new Promise<number>((done) => ws.on("close", (code) => done(code)));
  const next: Member["next"] = (predicate, timeoutMs = 10_000) =>
    new Promise((done, fail) => {
      let seen = 0;
      const check = () => {
        for (; seen < messages.length; seen++) {
          if (predicate(messages[seen]!)) {
            waiters.delete(check);
            clearTimeout(timer);
            return done(messages[seen]!);
          }
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        fail(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.slice(-3))}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return new Promise((done, fail) => {
    ws.once("open", () => done({ ws, messages, movedAt, closed, next }));
    ws.once("error", fail);
  });
}

/** `n` attendees, connected `batch` at a time (a thousand handshakes at once would only measure the accept queue). */
export async function joinMany(base: string, n: number, batch = 100): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 0; i < n; i += batch) members.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => join(base)))));
  return members;
}

export interface Delivery {
  delivered: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

/** The presenter moves to slide h; how long until each attendee had the move. */
export async function moveAndMeasure(presenter: Member, attendees: Member[], h: number, timeoutMs = 20_000): Promise<Delivery> {
  const sent = performance.now();
  presenter.ws.send(JSON.stringify({ type: "move", position: { h, v: 0, f: null, slide: h + 1 } }));
  const deadline = sent + timeoutMs;
  while (attendees.some((a) => !a.movedAt.has(h)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const times = attendees
    .map((a) => a.movedAt.get(h))
    .filter((t): t is number => t !== undefined)
    .map((t) => t - sent)
    .sort((a, b) => a - b);
  return { delivered: times.length, medianMs: percentile(times, 0.5), p99Ms: percentile(times, 0.99), maxMs: times.at(-1) ?? NaN };
}

/** A websocket client that completes the handshake and then never reads another byte. */
export function slowReader(base: string): Promise<Socket> {
  const { hostname, port, host } = new URL(base);
  return new Promise((done, fail) => {
    const socket = tcpConnect(Number(port), hostname, () => {
      socket.write(
        `GET /follow HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      socket.once("data", (head) => {
        if (!head.toString("latin1").startsWith("HTTP/1.1 101")) return fail(new Error(`handshake refused: ${head.toString("latin1").slice(0, 40)}`));
        socket.pause(); // never read again: the kernel's buffers fill, then the server's
        done(socket);
      });
    });
    socket.on("error", () => {});
  });
}

/** A masked client text frame (what a raw socket must send). */
export function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([head, mask, body]);
}

/**
 * Floods that must be refused or dropped: an oversized message (closed with 1009), malformed
 * JSON (refused), `questionsPerSecond` questions for a second from one attendee (one accepted),
 * and a reader that never reads while sending requests that each get an answer (dropped).
 */
export async function flood(
  base: string,
  options: { slowReaderFrames: number; questionsPerSecond: number; dropped: () => boolean | Promise<boolean> },
): Promise<Record<string, unknown>> {
  const oversized = await join(base);
  oversized.ws.send("x".repeat(64 * 1024));
  const oversizedCode = await oversized.closed;

  const malformed = await join(base);
  malformed.ws.send("{not json");
  const malformedAnswer = await malformed.next((m) => m.type === "refused");
  malformed.ws.close();

  const asker = await join(base, await cookiesFrom(base, "/"));
  const start = performance.now();
  for (let i = 0; i < options.questionsPerSecond; i++) {
    asker.ws.send(JSON.stringify({ type: "question", text: `question ${i}` }));
    await new Promise((r) => setTimeout(r, 1000 / options.questionsPerSecond));
  }
  await asker.next((m) => m.type === "refused" && asker.messages.filter((x) => x.type === "refused" || x.type === "asked").length >= options.questionsPerSecond);
  const asked = asker.messages.filter((m) => m.type === "asked").length;
  const refused = asker.messages.filter((m) => m.type === "refused").length;
  const floodMs = performance.now() - start;
  asker.ws.close();

  const slow = await slowReader(base);
  const frames = Buffer.concat(Array.from({ length: options.slowReaderFrames }, () => clientFrame("{")));
  slow.write(frames);
  // The server says so (its counter or its log): a paused socket does not see its own close.
  const deadline = performance.now() + 20_000;
  let slowDropped = false;
  while (!(slowDropped = await options.dropped()) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  slow.destroy();
  return { oversizedCode, malformed: malformedAnswer.reason, questionsSent: options.questionsPerSecond, asked, refused, floodMs: Math.round(floodMs), slowDropped };
}
