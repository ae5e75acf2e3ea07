import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { coiSource, coiTarget } from "./copy-coi.js";

describe("coi-serviceworker", () => {
  it("slides/public holds the installed package's file, unchanged", () => {
    expect(readFileSync(coiTarget, "utf8")).toBe(readFileSync(coiSource, "utf8"));
  });

  it("index.html loads it as a classic script, configured for require-corp, before any module", () => {
    const html = readFileSync(resolve(import.meta.dirname, "../slides/index.html"), "utf8");
    const config = html.indexOf("window.coi");
    const script = html.indexOf('<script src="./coi-serviceworker.js"></script>');
    const firstModule = html.indexOf('type="module"');
    expect(config).toBeGreaterThan(0);
    expect(script).toBeGreaterThan(config);
    expect(firstModule).toBeGreaterThan(script);
    expect(html).toMatch(/coepCredentialless:\s*\(\)\s*=>\s*false/);
  });
});
