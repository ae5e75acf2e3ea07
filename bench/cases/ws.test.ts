/**
 * The websocket bench runs correctly, in small: every server (our runtime, ws 8, the real
 * Tornado 6.2) echoes, broadcasts to every client and holds its idle connections, and the table
 * has a number for each. The numbers themselves are not checked (other work loads the machine).
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { canPin } from "../lib.js";
import { runWs, WS_SERVERS } from "./ws.js";

describe.skipIf(!existsSync("/usr/bin/python3"))("npm run bench -- --only=ws, in small", () => {
  it("measures echo, broadcast and idle memory for every server", { timeout: 240_000 }, async () => {
    const [table] = await runWs(
      { seconds: 0.5, warmupSeconds: 0.2, rounds: 1, quick: true, pinned: canPin() },
      { echoConnections: 20, broadcastClients: 50, broadcasts: 3, idleConnections: 100, loaders: 1, settleMs: 200 },
    );
    expect(table!.notes!.filter((n) => n.startsWith("FAILED"))).toEqual([]);
    expect(table!.rows.map((r) => r[0])).toEqual(WS_SERVERS.map((s) => s.name));
    // The paired broadcasts: ours against ws broadcast by broadcast, time and CPU.
    expect(table!.notes!.filter((n) => /paired, broadcast by broadcast: median [\d.]+x \(p10/.test(n))).toHaveLength(2);
    expect(table!.notes!.filter((n) => /paired, slice by slice: median [\d.]+x \(p10/.test(n))).toHaveLength(2);
    for (const row of table!.rows) {
      expect(Number(String(row[1]).replace(/,/g, ""))).toBeGreaterThan(0);
      expect(row[3]).toMatch(/^[\d.,]+ ms$/);
      expect(row[5]).toMatch(/^[\d.,]+ ms \([\d.,]+ \+ [\d.,]+\)$/);
      expect(row[6]).toMatch(/^[\d.,]+ ms$/);
      expect(row[7]).toMatch(/\(100\)$/);
      expect(row[8]).toMatch(/^-?[\d.,]+ KiB$/);
    }
  });
});
