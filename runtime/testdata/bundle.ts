/**
 * A TypeScript entry point bundled once to plain JavaScript, for tests that start it as real
 * processes many times: through `--import tsx` every process (and every child it forks)
 * transpiles the whole runtime again, seconds apiece on a loaded machine. The bundle is the
 * same code, run by plain `node`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { build } from "esbuild";

export interface Bundle {
  /** The bundled program, an .mjs file to give to `node`. */
  file: string;
  dispose(): void;
}

export async function bundleForTest(entry: string): Promise<Bundle> {
  const dir = mkdtempSync(join(tmpdir(), "tornado-test-bundle-"));
  const file = join(dir, basename(entry).replace(/\.ts$/, ".mjs"));
  await build({ entryPoints: [entry], bundle: true, platform: "node", format: "esm", outfile: file, logLevel: "error" });
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
