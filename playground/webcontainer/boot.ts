/**
 * Booting the real WebContainer: once per page, ever.
 *
 * `WebContainer.boot()` may only succeed once per page (a second call throws, and under hot
 * reload it leaves "Proxy has been released"), so the boot promise lives on `globalThis`,
 * which survives module re-evaluation. The deck never calls this in print mode or in the
 * speaker view's receiver frames (slides/main.ts does not load the playground there).
 *
 * NOT RUN HERE: boot needs StackBlitz's servers (stackblitz.com/headless, *.staticblitz.com),
 * unreachable from the machines this was built on. Everything after the boot is exercised
 * against node-backed.ts.
 */
import type { Container } from "./container.js";

const KEY = Symbol.for("tornado-deck.webcontainer-boot");
type Holder = { [KEY]?: Promise<Container> };

/** Why the WebContainer cannot be used in this page, or null if it may be tried. */
export function webContainerUnavailable(): string | null {
  if (typeof window === "undefined") return "not in a browser page";
  if (!window.crossOriginIsolated) return "page is not cross-origin isolated (no COOP/COEP)";
  if (typeof SharedArrayBuffer === "undefined") return "SharedArrayBuffer is unavailable";
  return null;
}

/**
 * Set by browser tests (before the page's scripts run) to stand in for StackBlitz: the deck
 * then drives a Node-backed container through the page, so everything but the boot call is
 * exercised in the built deck too (e2e/playground-webcontainer.test.ts).
 */
const TEST_BOOT = "__playgroundBootContainer";

/** The page's one boot, started on first call (coep must match the page: require-corp). */
export function bootWebContainer(): Promise<Container> {
  const holder = globalThis as Holder & { [TEST_BOOT]?: () => Promise<Container> };
  const standIn = holder[TEST_BOOT];
  holder[KEY] ??= standIn
    ? standIn()
    : import("@webcontainer/api").then(({ WebContainer }) => WebContainer.boot({ coep: "require-corp", workdirName: "tornado" }));
  return holder[KEY];
}
