/**
 * The read-path bench (`npm run bench -- --only=read-path`) runs correctly, in small: the four
 * servers up at once, one cycle of 1 s slices, and the table and its ratio lines carry a finite
 * number for each. The numbers themselves are not checked (other work loads the machine).
 */
import { describe, expect, it } from "vitest";
import { canPin } from "../lib.js";
import { READ_PATH_SERVERS, readPathOptions, runReadPath } from "./read-path.js";

const number = String.raw`\d+\.\d+`;

describe("npm run bench -- --only=read-path, in small", () => {
  it("measures each server beside its stream-reading twin: CPU per request, cycle by cycle", { timeout: 120_000 }, async () => {
    const ctx = { seconds: 1, warmupSeconds: 1, rounds: 1, quick: true, pinned: canPin() };
    const table = await runReadPath(ctx, { ...readPathOptions(ctx), cycles: 1 });
    expect(table.rows.map((r) => r[0])).toEqual(READ_PATH_SERVERS.map((s) => s.name));
    for (const [i, row] of table.rows.entries()) {
      expect(Number(String(row[1]).replace(/,/g, ""))).toBeGreaterThan(0);
      expect(row[2]).toMatch(new RegExp(`^${number} µs$`));
      // Odd rows read through streams: the ratio against themselves.
      expect(row[3]).toMatch(i % 2 ? /^1\.00x$/ : new RegExp(`^${number}x$`));
      expect(row[4]).toMatch(new RegExp(`^${number} - ${number}$`));
      expect(row[5]).toMatch(new RegExp(`^${number} ms$`));
      expect(row[6]).toBe("0");
      expect(row[7]).toBe("200 Hello, world");
    }
    const notes = table.notes!;
    const spread = (label: string) => `median ${number}x \\(p10 ${number}, p90 ${number}; ${label} in \\d+% of 1\\)`;
    expect(notes[0]).toMatch(new RegExp(`^ceiling \\(raw node:net\\), onread / data events, CPU per request, cycle by cycle: ${spread("onread cheaper")}$`));
    expect(notes[1]).toMatch(new RegExp(`^  req/s, cycle by cycle: ${spread("onread faster")}$`));
    expect(notes[2]).toMatch(new RegExp(`^hello example, onread / stream reads, CPU per request, cycle by cycle: ${spread("onread cheaper")}$`));
    expect(notes.at(-1)).toMatch(/^load average \(1, 5, 15 min\) before and after: [\d. ]+ \| [\d. ]+ \(about 2/);
  });
});
