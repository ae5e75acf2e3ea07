/**
 * Commands of a demo that use what an earlier command printed. `{set-cookie:NAME:tampered}` is
 * the value of the last `Set-Cookie: NAME=...` seen in the demo's terminal, with the last
 * character of its signature changed (so the command shows exactly what is sent).
 */

const placeholder = /\{set-cookie:(\w+):tampered\}/g;

/** The last value each cookie was set to in `transcript` (quotes kept, as curl would send it). */
export function cookiesSet(transcript: string, into: Map<string, string> = new Map()): Map<string, string> {
  for (const m of transcript.matchAll(/^Set-Cookie: (\w+)=("[^"]*"|[^;\s]*)/gim)) into.set(m[1]!, m[2]!);
  return into;
}

/** `value` with its last signature character changed (hex: 0 ↔ 1, anything else → 0). */
export function tamper(value: string): string {
  const quoted = value.endsWith('"');
  const body = quoted ? value.slice(0, -1) : value;
  const last = body.slice(-1);
  const changed = last === "0" ? "1" : "0";
  return body.slice(0, -1) + changed + (quoted ? '"' : "");
}

export function needsFilling(command: string): boolean {
  return new RegExp(placeholder.source).test(command);
}

/** Fill the placeholders from the cookies seen so far; an error says which command to run first. */
export function fillCommand(command: string, cookies: Map<string, string>): { ok: true; command: string } | { ok: false; error: string } {
  let missing: string | null = null;
  const filled = command.replace(placeholder, (_, name: string) => {
    const value = cookies.get(name);
    if (value === undefined) {
      missing = name;
      return "";
    }
    return tamper(value);
  });
  if (missing !== null) return { ok: false, error: `no "${missing}" cookie set yet: run the command that sets it first` };
  return { ok: true, command: filled };
}
