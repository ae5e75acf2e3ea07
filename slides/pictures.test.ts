import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { files, steps } from "../assets/aldea.js";
import { releasesByMonth, tagMonth, type CommitHistory } from "./chart.js";

const assets = resolve(import.meta.dirname, "../assets");

describe("the village pictures (assets/aldea-*.svg)", () => {
  it("are the generator's current output (run npx tsx assets/aldea.ts after editing it)", () => {
    for (const [name, svg] of Object.entries(files)) expect(readFileSync(resolve(assets, name), "utf8"), name).toBe(svg);
  });
  it("tell four steps, each with a title for screen readers", () => {
    expect(Object.keys(files)).toEqual(["aldea-1.svg", "aldea-2.svg", "aldea-3.svg", "aldea-4.svg"]);
    Object.values(files).forEach((svg, i) => {
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 960 540"/);
      expect(svg).toContain(`<title id="t${i + 1}">aldea ${i + 1}/4: ${steps[(i + 1) as 1 | 2 | 3 | 4].title.replace(/'/g, "'")}</title>`);
    });
  });
});

describe("the commit history chart data", () => {
  const history = JSON.parse(readFileSync(resolve(assets, "tornado-commits-2009-2011.json"), "utf8")) as CommitHistory;
  it("is the shared data set, unchanged", () => {
    expect(readFileSync(resolve(assets, "tornado-commits-2009-2011.json"), "utf8")).toBe(readFileSync("/work/shared/data/tornado-commits-2009-2011.json", "utf8"));
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
});
