/**
 * The page's side of the deck's service worker (sw.ts), inlined by build.ts into the built
 * index.html's head as a classic script: it runs while the page parses, before the deck's
 * modules, so the one reload it may need comes early.
 *
 * - Registers `./sw.js` (its scope is the deck's folder), not in print (`?print-pdf`), speaker
 *   view receivers (`?receiver`) or with `?no-coi`, as `window.coi.shouldRegister` did.
 * - Not in a deck served by `npm run serve` (its index.html carries the room's meta, put before
 *   this script): that server sends the isolation headers itself, runs on the presenter's own
 *   laptop (nothing to be offline from), and writes each browser's index.html (its role in the
 *   room), which a cached copy would lose; the precache's check of index.html's bytes fails
 *   there too. A worker left from an earlier deck on the same origin is unregistered.
 * - First visit on a host without COOP/COEP: once the worker (with the whole deck cached) has
 *   claimed the page, reload once so it is cross-origin isolated. A page that is isolated
 *   already (the host sends the headers) is not reloaded.
 * - A controlled page asks the worker to make sure the whole build is cached ("precache"); once
 *   it is, `<html data-deck-offline="ready">` (the deck now works without the host).
 * - Each load of a controlled page asks the host for a new build (`registration.update()`).
 * - A new build's worker taking over an open page does not reload it mid-talk: a small notice
 *   offers the reload (`<html data-deck-update="ready">`); the next load shows the new build.
 */
(() => {
  const container = navigator.serviceWorker;
  if (!container || !window.isSecureContext) return;
  if (/[?&](no-coi|print-pdf|receiver)\b/.test(location.search)) return;
  if (document.querySelector('meta[name="tornado-room"]')) {
    void container.getRegistration().then((r) => r?.unregister());
    return;
  }
  const hadController = container.controller !== null;
  const reloadKey = "tornado-deck:sw-reloaded";
  const precache = () => container.controller?.postMessage({ type: "precache" });
  container.addEventListener("message", (event: MessageEvent<{ type?: string; message?: string }>) => {
    if (event.data?.type === "precached") document.documentElement.dataset.deckOffline = "ready";
    if (event.data?.type === "precache-failed") {
      document.documentElement.dataset.deckOffline = "failed";
      console.warn("the deck could not be cached for offline use:", event.data.message);
    }
  });

  container.addEventListener("controllerchange", () => {
    if (!hadController) {
      // sessionStorage guards against a loop in a browser where the worker cannot isolate.
      if (window.crossOriginIsolated === false && !sessionStorage.getItem(reloadKey)) {
        sessionStorage.setItem(reloadKey, "1");
        location.reload();
      } else precache();
      return;
    }
    document.documentElement.dataset.deckUpdate = "ready";
    const notice = document.createElement("button");
    notice.type = "button";
    notice.className = "deck-update";
    notice.textContent = "A new version of the deck is ready: reload";
    notice.style.cssText =
      "position:fixed;left:50%;bottom:12px;transform:translateX(-50%);z-index:1000;font:14px/1.4 system-ui,sans-serif;" +
      "padding:6px 12px;border:1px solid #888;border-radius:6px;background:#fff;color:#222;cursor:pointer";
    notice.addEventListener("click", () => location.reload());
    document.body.append(notice);
  });
  if (window.crossOriginIsolated) sessionStorage.removeItem(reloadKey);
  precache();
  const registered = container.register("./sw.js", { updateViaCache: "none" });
  registered.catch((error: unknown) => console.warn("the deck's service worker failed to register", error));
  // register() does not look for a new build when the worker is already installed: browsers do
  // after a navigation, on a timer and heuristics of their own. A controlled page asks at once,
  // so each load of the deck checks the host for a new build (offline, the check just fails).
  if (hadController) void registered.then((r) => r.update()).catch(() => {});
})();

export {};
