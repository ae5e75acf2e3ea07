import { describe, expect, it } from "vitest";
import { parseCommand, splitWords, staysConnected } from "./command.js";

describe("parseCommand", () => {
  it("splits the talk's commands", () => {
    expect(parseCommand("curl -i http://localhost:8888")).toEqual({ ok: true, program: "curl", argv: ["-i", "http://localhost:8888"] });
    expect(parseCommand("$ curl -i http://localhost:8888/json")).toEqual({
      ok: true,
      program: "curl",
      argv: ["-i", "http://localhost:8888/json"],
    });
  });

  it("keeps quoted header values whole, as a shell does", () => {
    const r = parseCommand(`curl -i -H 'If-None-Match: "e02a"' http://localhost:8888`);
    expect(r).toEqual({ ok: true, program: "curl", argv: ["-i", "-H", 'If-None-Match: "e02a"', "http://localhost:8888"] });
    expect(splitWords(`a "b \\"c\\" d" e\\ f 'g'h`)).toEqual({ ok: true, words: ["a", 'b "c" d', "e f", "gh"] });
    expect(splitWords("curl \\\n  -i")).toEqual({ ok: true, words: ["curl", "-i"] });
    expect(splitWords(`""`)).toEqual({ ok: true, words: [""] });
  });

  it("knows wscat, npm's websocket client, beside curl", () => {
    expect(parseCommand("wscat -c ws://localhost:8888/echo -x 'hi there'")).toEqual({
      ok: true,
      program: "wscat",
      argv: ["-c", "ws://localhost:8888/echo", "-x", "hi there"],
    });
  });

  it("refuses what it cannot run, with a reason", () => {
    expect(parseCommand("curl 'oops")).toEqual({ ok: false, error: "unterminated single quote" });
    expect(parseCommand(`curl "oops`)).toEqual({ ok: false, error: "unterminated double quote" });
    const piped = parseCommand("curl http://localhost:8888/api | python -m json.tool");
    expect(piped.ok).toBe(false);
    expect(!piped.ok && piped.error).toMatch(/operator '\|'/);
    const other = parseCommand("wget http://localhost:8888");
    expect(!other.ok && other.error).toBe("wget: command not found (only curl and wscat are available in the playground)");
    expect(parseCommand("   ")).toEqual({ ok: false, error: "empty command" });
    expect(parseCommand(`curl -d 'a|b' http://x`)).toEqual({ ok: true, program: "curl", argv: ["-d", "a|b", "http://x"] });
  });
});

describe("staysConnected", () => {
  it("is wscat -c without -x: a session the pre-flight checks by what arrives", () => {
    expect(staysConnected("wscat -c ws://localhost:8888/websocket")).toBe(true);
    expect(staysConnected("$ wscat --connect=ws://localhost:8888/websocket")).toBe(true);
    expect(staysConnected("wscat -c ws://localhost:8888/echo -x hi -w 1")).toBe(false);
    expect(staysConnected("wscat --help")).toBe(false);
    expect(staysConnected("curl -i http://localhost:8888")).toBe(false);
    expect(staysConnected("wscat -c ws://x | cat")).toBe(false);
  });
});
