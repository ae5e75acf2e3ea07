import { describe, expect, it } from "vitest";
import type { CommandResult, Engine, Program, StartResult } from "./engine.js";
import { maskDate, PROOF_COMMAND, proveEngine, transcriptDifference } from "./proof.js";

const hello = (date: string, extra = "") =>
  `HTTP/1.1 200 OK\r\nServer: TornadoTS/0.1.0\r\nContent-Type: text/html; charset=UTF-8\r\nDate: ${date}\r\n${extra}` +
  'Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"\r\nContent-Length: 12\r\n\r\nHello, world';

describe("transcriptDifference", () => {
  it("ignores only the Date value", () => {
    expect(transcriptDifference(hello("Sun, 29 Nov 2026 20:00:00 GMT"), hello("Mon, 30 Nov 2026 08:01:02 GMT"))).toBeNull();
  });

  it("reports a changed header with the line and both versions", () => {
    const other = hello("Sun, 29 Nov 2026 20:00:00 GMT").replace("TornadoTS/0.1.0", "TornadoTS/0.2.0");
    expect(transcriptDifference(hello("x"), other)).toBe('line 2: expected "Server: TornadoTS/0.1.0\\r\\n", got "Server: TornadoTS/0.2.0\\r\\n"');
  });

  it("sees line endings, extra headers and short output", () => {
    const lf = hello("d").replaceAll("\r\n", "\n");
    expect(transcriptDifference(hello("d"), lf)).toBe('line 1: expected "HTTP/1.1 200 OK\\r\\n", got "HTTP/1.1 200 OK\\n"');
    expect(transcriptDifference(hello("d"), hello("d", "X-Extra: 1\r\n"))).toMatch(/^line 5: expected "Etag: .*", got "X-Extra: 1\\r\\n"$/);
    expect(transcriptDifference(hello("d"), hello("d").slice(0, -5))).toBe('line 8: output ends early, missing "world"');
    expect(transcriptDifference(hello("d"), hello("d") + "\n")).toBe('line 8: extra output "\\n"');
  });

  it("does not let a Date in the body or a different Date header name pass", () => {
    const body = (d: string) => `HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nDate: ${d}\r\n`;
    expect(transcriptDifference(body("a"), body("b"))).not.toBeNull();
    expect(maskDate(body("a"))).toBe(body("a"));
    expect(transcriptDifference(hello("a"), hello("a").replace("Date:", "X-Date:"))).not.toBeNull();
  });

  it("masks the Date of every response in the transcript", () => {
    const two = hello("a") + "\r\n" + hello("b");
    expect(maskDate(two)).toBe(hello("<date>") + "\r\n" + hello("<date>"));
  });
});

/** An engine that answers PROOF_COMMAND with a fixed transcript and records what it was asked. */
function scripted(kind: Engine["kind"], answer: { start?: StartResult; result?: Partial<CommandResult> }) {
  const calls: string[] = [];
  const engine: Engine = {
    kind,
    async start(program) {
      calls.push(`start ${program.name}`);
      return answer.start ?? { ok: true, ports: [8888], ms: 1 };
    },
    async run(command) {
      calls.push(`run ${command}`);
      return { exitCode: 0, stdout: "", stderr: "", timedOut: false, ms: 1, ...answer.result };
    },
    async stop() {
      calls.push("stop");
    },
    async dispose() {},
  };
  return { engine, calls };
}

const program: Program = { name: "hello", main: "hello.ts", files: { "hello.ts": "" } };

describe("proveEngine", () => {
  it("passes when the candidate's transcript equals the reference's, and leaves both stopped", async () => {
    const reference = scripted("inpage", { result: { stdout: hello("a") } });
    const candidate = scripted("webcontainer", { result: { stdout: hello("b") } });
    expect(await proveEngine(candidate.engine, reference.engine, program)).toEqual({ ok: true, transcript: hello("b") });
    for (const { calls } of [reference, candidate]) expect(calls).toEqual(["start hello", `run ${PROOF_COMMAND}`, "stop"]);
  });

  it("refuses a different answer and says where", async () => {
    const reference = scripted("inpage", { result: { stdout: hello("a") } });
    const candidate = scripted("webcontainer", { result: { stdout: hello("a").replace("12\r\n", "13\r\n") } });
    expect(await proveEngine(candidate.engine, reference.engine, program)).toEqual({
      ok: false,
      reason: 'hello answers differently, line 6: expected "Content-Length: 12\\r\\n", got "Content-Length: 13\\r\\n"',
    });
  });

  it("refuses a candidate that cannot start the program or whose curl fails", async () => {
    const reference = scripted("inpage", { result: { stdout: hello("a") } });
    const crashed = scripted("webcontainer", { start: { ok: false, ms: 1, kind: "crash", message: "exited with code 1\nSyntaxError" } });
    expect(await proveEngine(crashed.engine, reference.engine, program)).toEqual({ ok: false, reason: "hello did not start (crash: exited with code 1)" });
    const refused = scripted("webcontainer", { result: { exitCode: 7, stderr: "curl: (7) Failed to connect\n" } });
    expect(await proveEngine(refused.engine, reference.engine, program)).toEqual({ ok: false, reason: "curl exited 7 (curl: (7) Failed to connect)" });
    expect(refused.calls.at(-1)).toBe("stop");
  });

  it("does not blame the candidate when the reference itself fails", async () => {
    const reference = scripted("inpage", { start: { ok: false, ms: 1, kind: "engine", message: "worker failed to load" } });
    const candidate = scripted("webcontainer", { result: { stdout: hello("a") } });
    const proof = await proveEngine(candidate.engine, reference.engine, program);
    expect(proof).toEqual({ ok: false, reason: "the in-page reference failed: hello did not start (engine: worker failed to load)" });
    expect(candidate.calls).toEqual([]);
  });
});
