/**
 * Files from `shared/`, the team's reference material, which sits beside the repository on
 * every engineer's machine and in CI (`../shared` from the repository root).
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const sharedDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "shared");

/** Absolute path of `shared/<relative>`; throws with the path it looked at if it is missing. */
export function sharedFile(relative: string): string {
  const path = resolve(sharedDir, relative);
  if (!existsSync(path)) throw new Error(`shared/${relative} not found at ${path}: shared/ must sit beside the repository`);
  return path;
}
