/**
 * The platform the runtime uses right now.
 *
 * `#platform` is a package.json subpath import with conditions: Node (tsx, vitest, a
 * WebContainer) gets `platform/node.ts`; bundlers targeting the browser get
 * `platform/memory.ts`. Tests and the in-page engine may swap it with `setPlatform` (for
 * example to serve hello world over the in-memory network on Node).
 */
import { defaultPlatform } from "#platform";
import type { Platform } from "./types.js";

export type * from "./types.js";

let current: Platform = defaultPlatform;

export function platform(): Platform {
  return current;
}

/** Replace the platform; returns the previous one so a test can restore it. */
export function setPlatform(next: Platform): Platform {
  const previous = current;
  current = next;
  return previous;
}
