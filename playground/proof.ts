/**
 * An engine proves itself before it runs the talk: it serves the hello program, our curl asks
 * it for `/` with `-i`, and the transcript must equal the in-page engine's byte for byte, the
 * Date value aside (the only thing that may differ between two correct runs). A container that
 * boots but runs another Node, another runtime or a PTY that rewrites bytes would show the
 * audience output the talk does not claim; this catches it before the switch.
 */
import type { Engine, Program } from "./engine.js";

/** What both engines are asked; the same line the hello slide runs. */
export const PROOF_COMMAND = "curl -i http://localhost:8888";

/** The transcript with each header section's Date value replaced by a placeholder. */
export function maskDate(transcript: string): string {
  let inHead = false;
  return transcript
    .split("\n")
    .map((line) => {
      if (/^HTTP\/[\d.]+ \d{3}/.test(line)) inHead = true;
      else if (line === "" || line === "\r") inHead = false;
      else if (inHead) return line.replace(/^(Date:[ \t]*)[^\r]*/i, "$1<date>");
      return line;
    })
    .join("\n");
}

/** Show control characters so a difference in line endings is visible on one line. */
function visible(text: string): string {
  return JSON.stringify(text);
}

/**
 * Null when the two transcripts are the same (Date value aside), else where they first differ,
 * in one line fit for the badge.
 */
export function transcriptDifference(expected: string, actual: string): string | null {
  const a = maskDate(expected);
  const b = maskDate(actual);
  if (a === b) return null;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const lineStart = a.lastIndexOf("\n", i - 1) + 1;
  const line = a.slice(0, i).split("\n").length;
  const cut = (s: string) => {
    const end = s.indexOf("\n", i);
    return s.slice(lineStart, end < 0 ? s.length : end + 1);
  };
  if (i === a.length) return `line ${line}: extra output ${visible(b.slice(i, i + 60))}`;
  if (i === b.length) return `line ${line}: output ends early, missing ${visible(a.slice(i, i + 60))}`;
  return `line ${line}: expected ${visible(cut(a))}, got ${visible(cut(b))}`;
}

export type Proof = { ok: true; transcript: string } | { ok: false; reason: string };

/** Run `program` and PROOF_COMMAND in one engine; the transcript or why there is none. */
async function transcriptOf(engine: Engine, program: Program): Promise<{ ok: true; transcript: string } | { ok: false; reason: string }> {
  const started = await engine.start(program);
  if (!started.ok) return { ok: false, reason: `${program.name} did not start (${started.kind}: ${started.message.split("\n")[0]})` };
  try {
    const result = await engine.run(PROOF_COMMAND);
    if (result.exitCode !== 0) return { ok: false, reason: `curl exited ${result.exitCode}${result.stderr ? ` (${result.stderr.trim().split("\n")[0]})` : ""}` };
    return { ok: true, transcript: result.stdout };
  } finally {
    await engine.stop().catch(() => {});
  }
}

/**
 * Run `program` in `candidate` and in `reference` (one after the other, so neither steals the
 * other's time limit) and compare the `curl -i` transcripts. Both engines are left stopped.
 */
export async function proveEngine(candidate: Engine, reference: Engine, program: Program): Promise<Proof> {
  const expected = await transcriptOf(reference, program);
  if (!expected.ok) return { ok: false, reason: `the in-page reference failed: ${expected.reason}` };
  const actual = await transcriptOf(candidate, program);
  if (!actual.ok) return actual;
  const difference = transcriptDifference(expected.transcript, actual.transcript);
  if (difference) return { ok: false, reason: `${program.name} answers differently, ${difference}` };
  return { ok: true, transcript: actual.transcript };
}
