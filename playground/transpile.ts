/**
 * TypeScript → JavaScript in the page, with sucrase.
 *
 * Neither engine can run .ts: the in-page worker evaluates CommonJS it builds itself, and the
 * WebContainer's Node is not known to strip types (live-deck-notes §1.11). Sucrase only removes
 * types (no checking; Monaco shows type errors as markers) and keeps line numbers, so a stack
 * trace or a syntax error points at the line the presenter sees. Class fields are left native
 * (`disableESTransforms`), matching the ES2022 semantics the runtime is built with.
 */
import { transform } from "sucrase";

export type ModuleFormat = "esm" | "cjs";

export type TranspileResult =
  | { ok: true; code: string }
  | { ok: false; file: string; line: number; column: number; message: string };

/** Transpile one module. `file` only names the source in errors and source maps. */
export function transpile(source: string, file: string, format: ModuleFormat): TranspileResult {
  try {
    const { code } = transform(source, {
      transforms: format === "cjs" ? ["typescript", "imports"] : ["typescript"],
      disableESTransforms: true,
      filePath: file,
      production: true,
    });
    return { ok: true, code };
  } catch (error) {
    const e = error as Error & { loc?: { line: number; column: number } };
    const line = e.loc?.line ?? 1;
    const column = e.loc?.column ?? 1; // sucrase columns are already 1-based
    const message = String(e.message ?? error)
      .replace(/^Error transforming [^:]*: /, "")
      .replace(/\s*\(\d+:\d+\)$/, "");
    return { ok: false, file, line, column, message };
  }
}

/** `hello.ts:4:3: SyntaxError: Unexpected token, expected ","`: how compile errors are shown. */
export function formatCompileError(r: { file: string; line: number; column: number; message: string }): string {
  return `${r.file}:${r.line}:${r.column}: SyntaxError: ${r.message}`;
}
