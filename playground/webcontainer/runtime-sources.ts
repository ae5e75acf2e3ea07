/**
 * The runtime's sources as text, for mounting in a container, plus the npm packages it imports.
 *
 * Vite globs, so the deck's build carries them as strings (lazily, in their own chunks) and
 * vitest resolves the same globs on Node. Tests, fixtures and test programs (testdata/) are
 * excluded. The container gets
 * no `npm install`, so third-party modules the runtime imports (`@noble/hashes/...`) are mounted
 * from the deck's own copy: only the files those imports reach. A runtime import of a package
 * not globbed here fails loudly (files.test.ts checks the whole runtime).
 */
const modules = import.meta.glob<string>(["../../runtime/**/*.ts", "../../runtime/package.json", "!../../runtime/**/*.test.ts", "!../../runtime/**/fixtures/**", "!../../runtime/**/testdata/**"], {
  query: "?raw",
  import: "default",
});

const vendored = import.meta.glob<string>(["../../node_modules/@noble/hashes/*.js", "../../node_modules/@noble/hashes/package.json"], {
  query: "?raw",
  import: "default",
});

const NODE_MODULES = "../../node_modules/";

/** Bare specifiers (`@noble/hashes/sha2.js`) imported by a module's text. */
export function bareImports(source: string): string[] {
  const out = new Set<string>();
  for (const m of source.matchAll(/(?:^|[\s;])(?:import|export)\s[^"']*?from\s*["']([^"'./#][^"']*)["']/g)) {
    if (!m[1]!.startsWith("node:")) out.add(m[1]!);
  }
  return [...out];
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/**
 * Files under node_modules reached from `sources`' bare imports, keyed "node_modules/<path>".
 * Each package brings its package.json; relative imports inside a package are followed.
 */
export async function loadVendorSources(sources: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const queue: string[] = [];
  for (const [path, text] of Object.entries(sources)) if (path.endsWith(".ts")) queue.push(...bareImports(text));
  const seen = new Set<string>();
  while (queue.length > 0) {
    let file = queue.shift()!;
    if (!/\.(m?js|json)$/.test(file)) file += ".js";
    if (seen.has(file)) continue;
    seen.add(file);
    const load = vendored[NODE_MODULES + file];
    if (!load) throw new Error(`the runtime imports ${file}, which is not vendored for the container (playground/webcontainer/runtime-sources.ts)`);
    const text = await load();
    out[`node_modules/${file}`] = text;
    const pkgJson = `${packageName(file)}/package.json`;
    if (!seen.has(pkgJson)) queue.push(pkgJson);
    if (!file.endsWith(".json")) {
      const dir = file.slice(0, file.lastIndexOf("/"));
      for (const m of text.matchAll(/(?:import|export)\s[^"']*?from\s*["'](\.\/[^"']+)["']/g)) queue.push(`${dir}/${m[1]!.slice(2)}`);
    }
  }
  return out;
}

/**
 * path relative to runtime/ ("web.ts", "platform/node.ts", "package.json") → source text, plus
 * "node_modules/<package>/<file>" for the third-party files the runtime needs.
 */
export async function loadRuntimeSources(): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(modules).map(async ([key, load]) => [key.replace(/^\.\.\/\.\.\/runtime\//, ""), await load()] as const),
  );
  const runtime = Object.fromEntries(entries);
  return { ...runtime, ...(await loadVendorSources(runtime)) };
}
