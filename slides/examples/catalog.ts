/**
 * The talk's runnable programs, as the deck and the playground see them.
 *
 * The source text comes straight from the files that run (Vite `?raw` globs), so the slides
 * never carry a second copy that could drift from the code the engines execute. Python
 * originals are not here: they come from the talk's Showoff source.
 */

export interface Example {
  /** Key in `examples`: the file name without `.ts` ("hello", "json", "templates"...). */
  name: string;
  /** Path of the program, relative to slides/examples ("hello.ts"). */
  main: string;
  /** Every file the program needs, path relative to slides/examples → source text. */
  files: Record<string, string>;
}

const programs = import.meta.glob<string>("./*.ts", { query: "?raw", import: "default", eager: true });
const templates = import.meta.glob<string>("./templates/**/*", { query: "?raw", import: "default", eager: true });

/** Files in the folder that are not talk programs: the illustrative pseudo-code and this module. */
const notPrograms = new Set(["basics.ts", "catalog.ts"]);

function relative(key: string): string {
  return key.replace(/^\.\//, "");
}

/** A file is a program when it is a top-level .ts that is not a test, a declaration or excluded. */
export function isProgram(path: string): boolean {
  return (
    path.endsWith(".ts") &&
    !path.includes("/") &&
    !path.endsWith(".test.ts") &&
    !path.endsWith(".d.ts") &&
    !notPrograms.has(path)
  );
}

function buildCatalog(): Record<string, Example> {
  const shared: Record<string, string> = {};
  for (const [key, text] of Object.entries(templates)) shared[relative(key)] = text;
  const out: Record<string, Example> = {};
  for (const [key, text] of Object.entries(programs).sort(([a], [b]) => a.localeCompare(b))) {
    const main = relative(key);
    if (!isProgram(main)) continue;
    const name = main.replace(/\.ts$/, "");
    out[name] = { name, main, files: { [main]: text, ...shared } };
  }
  return out;
}

export const examples: Record<string, Example> = buildCatalog();

/**
 * The illustrative "basics" event loop (slides/examples/basics.ts). It is shown on a slide but
 * never run, so it is kept out of `examples`.
 */
export const basicsSource: string | undefined = Object.entries(programs).find(([k]) => relative(k) === "basics.ts")?.[1];
