/**
 * The deck's one service worker: offline after one visit, and cross-origin isolation on hosts
 * that send no COOP/COEP (what coi-serviceworker did before; a scope has one worker).
 *
 * Built by build.ts into `sw.js` beside index.html, with the precache manifest of that build
 * (every file Vite wrote, each with a content hash) prepended as PRECACHE and its hash as BUILD.
 * A classic script: no imports, nothing exported at run time.
 *
 * - precache: fill the build's own cache `tornado-deck-<BUILD>`. A file whose revision an older
 *   build's cache already holds is copied from there, the rest is fetched (bypassing the HTTP
 *   cache) and its bytes checked against the revision, so a half-deployed host cannot poison
 *   the cache. An update (an older build's cache exists) precaches during install, so a failed
 *   one leaves the old build serving; the first install does not wait for it (the page's one
 *   reload for isolation comes at once, as coi-serviceworker's did): the page asks for it with
 *   a "precache" message once controlled and hears "precached" when the deck works offline.
 *   Then skipWaiting.
 * - activate: delete the deck's caches except this build's and the one before it (a page still
 *   open on the previous build loads its lazy chunks from there), claim the open pages.
 * - fetch: the build's files from the cache (a navigation anywhere in the scope is index.html),
 *   anything else from the network, then from an older build's cache. Every response gets
 *   COOP same-origin and COEP require-corp (`set`, so a host's own headers are not doubled),
 *   except a `?no-coi` navigation; CORP cross-origin only where the host sent none.
 */

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}
interface ExtendableMessageEvent extends ExtendableEvent {
  readonly data: unknown;
  readonly source: { postMessage(message: unknown): void } | null;
}
interface WorkerScope {
  readonly registration: { readonly scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
  addEventListener(type: "message", listener: (event: ExtendableMessageEvent) => void): void;
}
declare const self: WorkerScope;
/** Prepended by build.ts: the build's files (relative to the scope) and their content hashes. */
declare const PRECACHE: ReadonlyArray<{ url: string; revision: string }>;
/** Prepended by build.ts: a hash of PRECACHE, naming this build's cache. */
declare const BUILD: string;

const PREFIX = "tornado-deck-";
const CACHE = PREFIX + BUILD;
const scope = self.registration.scope;
const index = new URL("index.html", scope).href;
/** Absolute URL (no query) → revision. */
const revisions = new Map(PRECACHE.map((e) => [new URL(e.url, scope).href, e.revision]));

/** The cache key of one revision of a file: an older build's cache may hold the same one. */
const keyOf = (url: string, revision: string) => `${url}?__rev=${revision}`;

async function sha256(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function precache(): Promise<void> {
  const cache = await caches.open(CACHE);
  await Promise.all(
    [...revisions].map(async ([url, revision]) => {
      const key = keyOf(url, revision);
      if (await cache.match(key)) return;
      const known = await caches.match(key);
      if (known) return cache.put(key, known);
      const response = await fetch(url, { cache: "reload", credentials: "same-origin" });
      if (!response.ok) throw new Error(`precache: ${url} answered ${response.status}`);
      const body = await response.arrayBuffer();
      const hash = await sha256(body);
      if (!hash.startsWith(revision)) throw new Error(`precache: ${url} is not the file of this build (a deploy in progress?)`);
      // A fresh Response: no `redirected` flag, which navigations refuse.
      await cache.put(key, new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers }));
    }),
  );
}

async function cleanUp(): Promise<void> {
  const older = (await caches.keys()).filter((k) => k.startsWith(PREFIX) && k !== CACHE);
  // caches.keys() lists in creation order: keep the newest older one for pages still open on it.
  await Promise.all(older.slice(0, -1).map((k) => caches.delete(k)));
}

async function install(): Promise<void> {
  const update = (await caches.keys()).some((k) => k.startsWith(PREFIX) && k !== CACHE);
  if (update) await precache();
  await self.skipWaiting();
}

self.addEventListener("install", (event) => event.waitUntil(install()));
self.addEventListener("activate", (event) => event.waitUntil(cleanUp().then(() => self.clients.claim())));
self.addEventListener("message", (event) => {
  if ((event.data as { type?: string } | null)?.type !== "precache") return;
  const reply = (message: unknown) => event.source?.postMessage(message);
  event.waitUntil(
    precache().then(
      () => reply({ type: "precached", build: BUILD }),
      (error: unknown) => reply({ type: "precache-failed", message: String(error) }),
    ),
  );
});

/** COOP/COEP on a response, as a host with the right headers would send them. */
function isolated(response: Response): Response {
  if (response.status === 0) return response; // opaque: its headers cannot be read or set
  const headers = new Headers(response.headers);
  headers.set("Cross-Origin-Embedder-Policy", "require-corp");
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  if (!headers.has("Cross-Origin-Resource-Policy")) headers.set("Cross-Origin-Resource-Policy", "cross-origin");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

async function respond(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const path = url.origin + url.pathname;
  const navigation = request.mode === "navigate";
  let response: Response | undefined;
  if (path.startsWith(scope)) {
    const target = navigation && (path === scope || path === index) ? index : path;
    const revision = revisions.get(target);
    if (revision) response = await (await caches.open(CACHE)).match(keyOf(target, revision));
  }
  if (!response) {
    try {
      response = await fetch(request);
    } catch (error) {
      // Offline: a file of an older build (a page opened before the update loads a lazy chunk).
      response = path.startsWith(scope) ? await caches.match(path, { ignoreSearch: true }) : undefined;
      if (!response) throw error;
    }
    if (response.status === 404 && path.startsWith(scope)) response = (await caches.match(path, { ignoreSearch: true })) ?? response;
  }
  if (navigation && /[?&]no-coi\b/.test(url.search)) return response;
  return isolated(response);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  if (request.cache === "only-if-cached" && request.mode !== "same-origin") return;
  event.respondWith(respond(request));
});

export {};
