/**
 * The talk's exact commands on the talk's exact port: `npm run example -- hello` (no port
 * option: 8888, as `python hello.py` did), then `curl -i http://localhost:8888` with real curl.
 * In the "serial" vitest project because it binds the fixed port 8888.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { serverHeader } from "tornado/web";
import { parseCurlInclude, run, slideFor, startExample } from "./talk-expectations.js";

describe.skipIf(!existsSync("/usr/bin/curl"))("the talk's commands on port 8888", () => {
  for (const name of ["hello", "json"] as const) {
    it(`npm run example -- ${name}; ${slideFor(name).command}`, async () => {
      const slide = slideFor(name);
      const example = await startExample(name, null);
      try {
        expect(example.port).toBe(8888);
        const r = await run("/usr/bin/curl", ["-s", ...slide.command.split(" ").slice(1)]);
        expect(r.code).toBe(0);
        const got = parseCurlInclude(r.stdout);
        expect(got.statusLine).toBe(slide.statusLine);
        expect(got.body).toBe(slide.body);
        // Slide headers, less Server, in Tornado 6's order with its Date; then our Server.
        const expected = slide.headers.filter(([k]) => k !== "Server");
        const ours = got.headers.filter(([k]) => k !== "Server" && k !== "Date");
        expect(new Map(ours)).toEqual(new Map(expected));
        expect(got.headers.find(([k]) => k === "Server")?.[1]).toBe(serverHeader);
      } finally {
        await example.stop();
      }
    });
  }
});
