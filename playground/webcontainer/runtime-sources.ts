/**
 * The runtime's TypeScript sources as text, for mounting in a container.
 *
 * A Vite glob, so the deck's build carries them as strings (lazily, in their own chunks) and
 * vitest resolves the same glob on Node. Tests and fixtures are excluded.
 */
const modules = import.meta.glob<string>(["../../runtime/**/*.ts", "../../runtime/package.json", "!../../runtime/**/*.test.ts", "!../../runtime/**/fixtures/**"], {
  query: "?raw",
  import: "default",
});

/** path relative to runtime/ ("web.ts", "platform/node.ts", "package.json") → source text. */
export async function loadRuntimeSources(): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(modules).map(async ([key, load]) => [key.replace(/^\.\.\/\.\.\/runtime\//, ""), await load()] as const),
  );
  return Object.fromEntries(entries);
}
