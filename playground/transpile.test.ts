import { describe, expect, it } from "vitest";
import { formatCompileError, transpile } from "./transpile.js";

describe("transpile", () => {
  it("strips types, keeps lines, and emits the requested module format", () => {
    const src = 'import { IOLoop } from "tornado/ioloop";\nimport type { X } from "y";\nconst a: number = 1;\nclass A { b!: X; c = 2 }\nIOLoop.instance();\n';
    const esm = transpile(src, "a.ts", "esm");
    expect(esm.ok).toBe(true);
    if (!esm.ok) return;
    expect(esm.code).toContain('import { IOLoop } from "tornado/ioloop"');
    expect(esm.code).not.toContain('from "y"');
    expect(esm.code.split("\n")[2]).toBe("const a = 1;");
    const cjs = transpile(src, "a.ts", "cjs");
    expect(cjs.ok && cjs.code).toContain("require('tornado/ioloop')");
  });

  it("reports a syntax error with its 1-based line and column", () => {
    const r = transpile('class A {\n  get() {\n    this.write("x"\n  }\n}\n', "hello.ts", "cjs");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect([r.line, r.column]).toEqual([4, 3]);
    expect(formatCompileError(r)).toBe('hello.ts:4:3: SyntaxError: Unexpected token, expected ","');
  });
});
