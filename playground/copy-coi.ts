/**
 * Refresh slides/public/coi-serviceworker.js from the installed coi-serviceworker package:
 * `npx tsx playground/copy-coi.ts`. The file must be served as its own classic script from the
 * deck's origin (it registers itself as the service worker), so it is committed, not bundled;
 * coi.test.ts fails if the copy drifts from the installed version.
 */
import { copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";

export const coiSource = createRequire(import.meta.url).resolve("coi-serviceworker/coi-serviceworker.js");
export const coiTarget = resolve(import.meta.dirname, "../slides/public/coi-serviceworker.js");

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  copyFileSync(coiSource, coiTarget);
  console.log(`copied ${coiSource} → ${coiTarget}`);
}
