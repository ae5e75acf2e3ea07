/**
 * The demos that serve pages (websocket, longpoll) met as browser panes meet them, on both
 * sides: our program in the in-page sandbox (the runtime's own HTTP and websocket clients over
 * the memory network, as the panes' bridge makes them) and its Python twin on Debian's
 * Tornado 6.2 (Node's fetch and the \`ws\` package over real sockets). The page, every message
 * and every answer must be the same, times masked.
 *
 * A file of its own: a program's timers outlive the sandbox's reset on Node (the browser
 * discards the worker instead), so the curl transcripts' websocket program must not poll
 * beside these.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AsyncHTTPClient, HTTPRequest } from "tornado/httpclient";
import { websocketConnect } from "tornado/websocket";
import { WebSocket } from "ws";
import { demos } from "../../slides/demos/catalog.js";
import { Sandbox } from "../../playground/inpage/sandbox.js";
import { runtimeModules } from "../../playground/inpage/modules.js";
import { PYTHON, tornadoVersion } from "../real-tornado.js";
import { startPythonTwin, stopPythonTwin } from "./twin.js";

const SKIP = tornadoVersion ? "" : ` (SKIPPED: ${PYTHON} cannot import tornado)`;
afterEach(stopPythonTwin);

/**
 * What a browser does with a demo's page, done to either side: HTTP requests (abortable, as a
 * closed page's are) and websockets. Ours go over the memory network with the runtime's own
 * clients (as the in-page engine's panes do); the twin's over real sockets with Node's fetch and
 * the `ws` package.
 */
interface Browser {
  request(method: string, path: string, body?: string, signal?: AbortSignal): Promise<{ status: number; body: string }>;
  websocket(path: string): Promise<{ next(): Promise<string>; send(text: string): void; close(): void }>;
}

function oursBrowser(): Browser {
  return {
    async request(method, path, body, signal) {
      const client = new AsyncHTTPClient();
      signal?.addEventListener("abort", () => client.close());
      const request = new HTTPRequest(`http://localhost:8888${path}`, { method, requestTimeout: 0, ...(body === undefined ? {} : { body, headers: { "Content-Type": "application/x-www-form-urlencoded" } }) });
      const response = await client.fetch(request, { raiseError: false });
      if (response.code === 599) throw new Error(response.error?.message ?? "no response");
      return { status: response.code, body: response.text };
    },
    async websocket(path) {
      const connection = await websocketConnect(`ws://localhost:8888${path}`);
      return {
        next: async () => String(await connection.readMessage()),
        send: (text) => void connection.writeMessage(text),
        close: () => connection.close(),
      };
    },
  };
}

function twinBrowser(port: string): Browser {
  return {
    async request(method, path, body, signal) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...(body === undefined ? {} : { body, headers: { "Content-Type": "application/x-www-form-urlencoded" } }), ...(signal ? { signal } : {}) });
      return { status: response.status, body: await response.text() };
    },
    async websocket(path) {
      const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`);
      const queue: string[] = [];
      const waiters: ((m: string) => void)[] = [];
      socket.on("message", (data) => {
        const text = String(data);
        const waiter = waiters.shift();
        if (waiter) waiter(text);
        else queue.push(text);
      });
      await new Promise((done, fail) => (socket.once("open", done), socket.once("error", fail)));
      return {
        next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise<string>((r) => waiters.push(r))),
        send: (text) => socket.send(text),
        close: () => socket.close(),
      };
    },
  };
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const maskTimes = (message: string) => message.replace(/"time": "\d\d:\d\d:\d\d"/g, '"time": "<time>"').replace(/"sent": \d{13}\b/g, '"sent": "<ms>"');

/** The websocket demo as pages meet it: the page, a broadcast, a late page, what one client says. */
async function websocketScenario(b: Browser): Promise<string[]> {
  const seen: string[] = [];
  const page = await b.request("GET", "/");
  seen.push(`${page.status} ${page.body}`);
  const first = await b.websocket("/websocket");
  const broadcast = await first.next(); // the PeriodicCallback's first poll, 3 s in
  seen.push(broadcast);
  const second = await b.websocket("/websocket");
  seen.push(await second.next()); // a page that connects late gets the last broadcast at once
  second.send("hello from a pane");
  seen.push(await first.next(), await second.next());
  first.close();
  second.close();
  return seen.map(maskTimes);
}

/** The long-poll chat as pages meet it: a waiting poll woken by a message, a closed page's waiter dropped. */
async function longpollScenario(b: Browser): Promise<string[]> {
  const seen: string[] = [];
  const waitingIs = async (n: number) => JSON.parse((await b.request("GET", "/a/waiting")).body).waiting === n;
  const page = await b.request("GET", "/");
  seen.push(`${page.status} ${page.body}`);
  const poll = b.request("POST", "/a/message/updates", "");
  await until(() => waitingIs(1), "the first poll to wait");
  seen.push((await b.request("POST", "/a/message/new", "body=hello")).body);
  seen.push((await poll).body);
  const leaving = new AbortController();
  const left = b.request("POST", "/a/message/updates", "cursor=1", leaving.signal).catch((e: Error) => `aborted: ${e.name}`);
  await until(() => waitingIs(1), "the second poll to wait");
  leaving.abort();
  await left;
  await until(() => waitingIs(0), "the closed page's waiter to be dropped");
  seen.push((await b.request("GET", "/a/waiting")).body);
  seen.push((await b.request("POST", "/a/message/updates", "")).body);
  return seen;
}

// The long poll first: the websocket program's PeriodicCallback keeps running after its test.
const scenarios: Record<string, (b: Browser) => Promise<string[]>> = { longpoll: longpollScenario, websocket: websocketScenario };

describe.each(Object.entries(scenarios))(`demo %s in pages: the Python twin on Tornado 6.2${SKIP}`, (name, scenario) => {
  it.skipIf(!tornadoVersion)("pages get the same page, messages and answers from ours and from the twin (times masked)", async () => {
    const demo = demos[name]!;
    const sandbox = new Sandbox({ modules: runtimeModules, output: () => {} });
    const started = await sandbox.start({ name: demo.name, main: demo.main, files: demo.files }, 4000);
    if (!started.ok) throw new Error(`${demo.name} did not start: ${started.message}`);
    let ours: string[];
    try {
      ours = await scenario(oursBrowser());
    } finally {
      sandbox.reset();
    }
    const dir = mkdtempSync(join(tmpdir(), "demo-twin-"));
    try {
      const { ports, log } = await startPythonTwin(demo, new Set(["8888"]), dir);
      const theirs = await scenario(twinBrowser(ports.get("8888")!));
      ours.forEach((seen, i) => expect(seen, `${name}: observation ${i + 1}`).toBe(theirs[i]));
      expect(ours).toHaveLength(theirs.length);
      if (name === "websocket") {
        expect(JSON.parse(ours[1]!)).toMatchObject({ sent: "<ms>", broadcast: 1, twits: ["tornado 2.1 is out", "async python at bcndevconf", "non-blocking I/O, one thread"] });
        expect(JSON.parse(ours[3]!)).toEqual({ time: "<time>", said: "hello from a pane" });
        expect(log()).toMatch(/broadcast 1 to 1 page\(s\)/);
      } else {
        expect(JSON.parse(ours[2]!)).toEqual({ messages: [{ id: "1", body: "hello" }] });
        expect(ours[3]).toBe('{"waiting": 0}');
        expect(log()).toMatch(/a page left: 0 waiting/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
