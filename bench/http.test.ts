/**
 * The paired HTTP bench (`npm run bench -- --only=http`) runs correctly, in small: ours and
 * node:http up at once, a few 1 s wrk slices alternating between them, and the table and its
 * ratio lines carry a finite number for each. The numbers themselves are not checked (other
 * work loads the machine).
 */
import { describe, expect, it } from "vitest";
import { canPin } from "./lib.js";
import { cycleOrder, pairedHttp, SERVERS } from "./http.js";

const number = String.raw`\d+\.\d+`;

describe("npm run bench -- --only=http, paired, in small", () => {
  it("gives every server every place in turn, a pair's two side by side", () => {
    const pairs = [
      [0, 1],
      [2, 3],
    ];
    expect([0, 1, 2, 3, 4].map((k) => cycleOrder(pairs, k))).toEqual([
      [0, 1, 2, 3],
      [1, 0, 3, 2],
      [2, 3, 0, 1],
      [3, 2, 1, 0],
      [0, 1, 2, 3],
    ]);
    expect([0, 1, 2].map((k) => cycleOrder([[0, 1]], k))).toEqual([
      [0, 1],
      [1, 0],
      [0, 1],
    ]);
  });

  it("measures ours against node:http cycle by cycle: req/s, CPU per request, p99", { timeout: 120_000 }, async () => {
    const { table, rpsRatios, cpuRatios } = await pairedHttp(
      { seconds: 1, warmupSeconds: 1, rounds: 1, quick: true, pinned: canPin() },
      { cycles: 3, sliceSeconds: 1, warmupSeconds: 1, pairs: [[0, 1]] },
    );
    for (const rs of [rpsRatios, cpuRatios]) {
      expect(rs).toHaveLength(3);
      for (const r of rs) expect(r).toBeGreaterThan(0);
    }
    expect(table.rows.map((r) => r[0])).toEqual([SERVERS[0]!.name, SERVERS[1]!.name]);
    for (const row of table.rows) {
      expect(Number(String(row[1]).replace(/,/g, ""))).toBeGreaterThan(0);
      expect(row[2]).toMatch(new RegExp(`^${number}x$`));
      expect(row[3]).toMatch(new RegExp(`^${number} - ${number}$`));
      expect(row[4]).toMatch(new RegExp(`^${number} µs$`));
      expect(row[5]).toMatch(new RegExp(`^${number}x$`));
      expect(row[6]).toMatch(new RegExp(`^${number} ms$`));
      expect(row[7]).toBe("0");
      expect(row[8]).toBe("200 Hello, world");
    }
    // node:http against itself, cycle by cycle.
    expect(table.rows[1]![2]).toBe("1.00x");
    const notes = table.notes!;
    expect(notes[0]).toMatch(new RegExp(`^target: runtime >= 1\\.30x node:http \\(paired, the median of per-cycle ratios\\) \\.\\.\\. (MET|MISSED) \\(${number}x\\)$`));
    const spread = `median ${number}x \\(p10 ${number}, p90 ${number}; ours >= 1\\.3x in \\d+% of 3\\)`;
    expect(notes[1]).toMatch(new RegExp(`^  req/s, cycle by cycle: ${spread}$`));
    expect(notes[2]).toMatch(new RegExp(`^  per server CPU-second, cycle by cycle: ${spread}$`));
    expect(notes[3]).toMatch(new RegExp(`^target: runtime p99 <= node:http p99 \\(paired, slice by slice\\) \\.\\.\\. (MET|MISSED) \\(median ${number}x .* of 3\\)\\)$`));
    expect(notes.some((n) => n.startsWith("THE FIGURE TO TRUST"))).toBe(true);
  });
});
