/**
 * Command lines typed on the commandline slides, parsed the way a POSIX shell splits words.
 *
 * The presenter edits the command live (`curl -i -H 'If-None-Match: "e02a..."' http://...`), so
 * quoting must behave as in a terminal. Neither engine has a shell, a real curl or a real wscat:
 * both run our `tornado/curl` or `tornado/wscat` with the parsed argv, so anything but a single
 * invocation of one of COMMANDS is refused with a message instead of being half-run.
 */

/** The commands the playground has: the runtime's twins of curl and npm's wscat. */
export const COMMANDS = ["curl", "wscat"] as const;
export type CommandName = (typeof COMMANDS)[number];

export type ParsedCommand = { ok: true; program: CommandName; argv: string[] } | { ok: false; error: string };

const OPERATORS = new Set(["|", ">", "<", ";", "&"]);

/** Split `line` into words: '...' is literal, "..." allows \" \\ \$ \`, \x escapes outside quotes. */
export function splitWords(line: string): { ok: true; words: string[] } | { ok: false; error: string } {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { ok: false, error: "unterminated single quote" };
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = line[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\\" && i + 1 < n && '"\\$`\n'.includes(line[i + 1]!)) {
          if (line[i + 1] !== "\n") word += line[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      if (!closed) return { ok: false, error: "unterminated double quote" };
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 < n) {
        if (line[i + 1] !== "\n") {
          word += line[i + 1];
          inWord = true;
        }
        i += 2;
      } else {
        i++;
      }
    } else if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (OPERATORS.has(c)) {
      return { ok: false, error: `shell operator '${c}' is not supported here: run one ${COMMANDS.join(" or ")} command` };
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { ok: true, words };
}

/** Parse a command line; accepts an optional leading `$ ` prompt, as the slides show it. */
export function parseCommand(line: string): ParsedCommand {
  const trimmed = line.trim().replace(/^\$\s+/, "");
  const split = splitWords(trimmed);
  if (!split.ok) return { ok: false, error: split.error };
  const [program, ...args] = split.words;
  if (!program) return { ok: false, error: "empty command" };
  if (!(COMMANDS as readonly string[]).includes(program)) {
    return { ok: false, error: `${program}: command not found (only ${COMMANDS.join(" and ")} are available in the playground)` };
  }
  return { ok: true, program: program as CommandName, argv: args };
}

/**
 * Whether `line` stays connected until it is stopped (a session): `wscat -c URL` without `-x`,
 * which would send and leave. Read from the words alone (wscat's options: runtime/wscat.ts), so
 * the deck's own bundle does not carry the runtime's wscat.
 */
export function staysConnected(line: string): boolean {
  const parsed = parseCommand(line);
  if (!parsed.ok || parsed.program !== "wscat") return false;
  const has = (short: string, long: string) => parsed.argv.some((a) => a === short || a === long || a.startsWith(`${long}=`));
  return has("-c", "--connect") && !has("-x", "--execute");
}
