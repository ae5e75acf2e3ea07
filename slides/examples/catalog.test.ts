import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { basicsSource, examples, isProgram } from "./catalog.js";

const here = import.meta.dirname;

describe("examples catalog", () => {
  it("lists every runnable program in slides/examples, keyed by name", () => {
    const programs = readdirSync(here).filter(isProgram).map((f) => f.replace(/\.ts$/, "")).sort();
    expect(Object.keys(examples).sort()).toEqual(programs);
    for (const name of ["hello", "json", "templates"]) expect(examples[name], name).toBeDefined();
    expect(examples.basics).toBeUndefined();
    expect(examples.catalog).toBeUndefined();
    expect(Object.keys(examples).some((k) => k.endsWith(".test"))).toBe(false);
  });

  it("carries the files' own text: the main file and every template", () => {
    for (const example of Object.values(examples)) {
      expect(example.main).toBe(`${example.name}.ts`);
      expect(example.files[example.main]).toBe(readFileSync(resolve(here, example.main), "utf8"));
      expect(example.files["templates/index.html"]).toBe(readFileSync(resolve(here, "templates/index.html"), "utf8"));
    }
  });

  it("keeps the illustrative basics apart", () => {
    expect(basicsSource).toBe(readFileSync(resolve(here, "basics.ts"), "utf8"));
    expect(basicsSource).toMatch(/NOT runnable/);
  });

  it("recognises programs by name", () => {
    expect(isProgram("hello.ts")).toBe(true);
    expect(isProgram("hello.test.ts")).toBe(false);
    expect(isProgram("types.d.ts")).toBe(false);
    expect(isProgram("templates/index.html")).toBe(false);
    expect(isProgram("basics.ts")).toBe(false);
  });
});
