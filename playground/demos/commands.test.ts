import { describe, expect, it } from "vitest";
import { cookiesSet, fillCommand, needsFilling, tamper } from "./commands.js";

describe("demo commands filled from earlier output", () => {
  const transcript = 'HTTP/1.1 200 OK\r\nSet-Cookie: user="2|1:0|10:1764448000|4:user|4:YmVu|ab12"; expires=Tue, 29 Dec 2026 20:37:03 GMT; Path=/\r\n\r\nlogged in as ben\n';

  it("remember the last value each cookie was set to, quotes kept", () => {
    const cookies = cookiesSet(transcript);
    expect(cookies.get("user")).toBe('"2|1:0|10:1764448000|4:user|4:YmVu|ab12"');
    cookiesSet("Set-Cookie: user=plain; Path=/\r\n", cookies);
    expect(cookies.get("user")).toBe("plain");
  });

  it("change one character of the signature, inside the quotes", () => {
    expect(tamper('"2|1:0|4:YmVu|ab12"')).toBe('"2|1:0|4:YmVu|ab10"');
    expect(tamper("x|ab10")).toBe("x|ab11");
  });

  it("fill the placeholder, or say which cookie is missing", () => {
    const command = "curl -i -b 'user={set-cookie:user:tampered}' http://localhost:8888/";
    expect(needsFilling(command)).toBe(true);
    expect(needsFilling("curl -i http://localhost:8888/")).toBe(false);
    expect(fillCommand(command, cookiesSet(transcript))).toEqual({ ok: true, command: `curl -i -b 'user="2|1:0|10:1764448000|4:user|4:YmVu|ab10"' http://localhost:8888/` });
    expect(fillCommand(command, new Map())).toEqual({ ok: false, error: 'no "user" cookie set yet: run the command that sets it first' });
  });
});
