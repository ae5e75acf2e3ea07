import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { files, steps, wrap } from "../assets/aldea.js";
import { sharedFile } from "../tools/shared.js";
import { releasesByMonth, stackLabels, tagMonth, type CommitHistory } from "./chart.js";

const assets = resolve(import.meta.dirname, "../assets");

describe("the village pictures (assets/aldea-*.svg)", () => {
  it("are the generator's current output (run npx tsx assets/aldea.ts after editing it)", () => {
    for (const [name, svg] of Object.entries(files)) expect(readFileSync(resolve(assets, name), "utf8"), name).toBe(svg);
  });
  it("tell four steps, wide and tall (phones), each with a title for screen readers", () => {
    expect(Object.keys(files).sort()).toEqual(["aldea-1-tall.svg", "aldea-1.svg", "aldea-2-tall.svg", "aldea-2.svg", "aldea-3-tall.svg", "aldea-3.svg", "aldea-4-tall.svg", "aldea-4.svg"]);
    for (const step of [1, 2, 3, 4] as const) {
      const wide = files[`aldea-${step}.svg`]!;
      const tall = files[`aldea-${step}-tall.svg`]!;
      expect(wide).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 960 540"/);
      const height = Number(/viewBox="0 0 960 (\d+)"/.exec(tall)![1]);
      expect(height).toBeGreaterThan(960);
      for (const svg of [wide, tall]) {
        expect(svg).toContain(`<title id="t${step}">aldea ${step}/4: ${steps[step].title}</title>`);
        for (const line of steps[step].board) expect(svg).toContain(line);
      }
    }
  });

  it("wrap long words into lines for the tall layout", () => {
    expect(wrap("one baker, the whole village at the door", 20)).toEqual(["one baker, the whole", "village at the door"]);
    expect(wrap("short", 20)).toEqual(["short"]);
  });
});

describe("the commit history chart data", () => {
  const history = JSON.parse(readFileSync(resolve(assets, "tornado-commits-2009-2011.json"), "utf8")) as CommitHistory;
  it("is the shared data set, unchanged", () => {
    expect(readFileSync(resolve(assets, "tornado-commits-2009-2011.json"), "utf8")).toBe(readFileSync(sharedFile("data/tornado-commits-2009-2011.json"), "utf8"));
    expect(history.months.reduce((n, m) => n + m.commits, 0)).toBe(history.total_commits);
  });
  it("places each release in its UTC month, on a month of the chart", () => {
    expect(tagMonth("2010-07-22T16:56:38-07:00")).toBe("2010-07");
    expect(tagMonth("2011-02-28T20:00:00-08:00")).toBe("2011-03");
    const months = new Set(history.months.map((m) => m.month));
    const releases = releasesByMonth(history);
    expect([...releases.values()].flat()).toHaveLength(history.tags.length);
    for (const month of releases.keys()) expect(months.has(month), month).toBe(true);
    expect(releases.get("2010-07")).toEqual(["v1.0.0"]);
  });

  it("stacks release labels in rows so they never overlap", () => {
    expect(stackLabels([{ x: 100, width: 60 }, { x: 120, width: 60 }, { x: 140, width: 60 }, { x: 200, width: 40 }])).toEqual([0, 1, 2, 0]);
  });
});
