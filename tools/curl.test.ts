/**
 * `npm run curl -- ...` as a command (tools/curl.ts in its own process, stdout a pipe), next to
 * real curl with the same arguments against the canned server: same stdout, same stderr
 * (progress meter rows masked: their numbers are timings), same exit code.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCannedServer, type CannedServer } from "./curl-fixtures/server.js";
import { run } from "./talk-expectations.js";

const METER_ROW = /\r *\d+ +[\d.kMG]+ +\d+ +[\d.kMG]+ +\d+ +[\d.kMG]+ +[\d.kMG]+ +[\d.kMG]+ +[-:\d]{8} +[-:\d]{8} +[-:\d]{8} +[\d.kMG]+/g;
const mask = (s: string) => s.replace(METER_ROW, "\r{ROW}").replace(/after \d+ ms/g, "after N ms");

describe.skipIf(!existsSync("/usr/bin/curl"))("npm run curl", () => {
  let server: CannedServer;
  beforeAll(async () => {
    server = await startCannedServer();
  });
  afterAll(() => server.close());

  const cases = (port: number) => [
    ["-i", `http://localhost:${port}/`],
    ["-si", `http://localhost:${port}/json`],
    ["-sv", `http://localhost:${port}/unicode`],
    ["-v", "-d", "a=1", `http://localhost:${port}/echo`],
    [`http://localhost:${port}/nope`],
    ["-sS", "http://localhost:1/"],
    ["--nope"],
  ];

  it("prints what real curl prints, with its exit code", async () => {
    for (const argv of cases(server.port)) {
      const theirs = await run("/usr/bin/curl", argv);
      const ours = await run(process.execPath, ["--import", "tsx", "tools/curl.ts", ...argv]);
      expect(ours.stdout, argv.join(" ")).toBe(theirs.stdout);
      expect(mask(ours.stderr), argv.join(" ")).toBe(mask(theirs.stderr));
      expect(ours.code, argv.join(" ")).toBe(theirs.code);
    }
  });
});
