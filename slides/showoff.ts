/**
 * A parser for Showoff slide files (the 2011 format of the talk, schacon/puppetlabs lineage).
 *
 * It follows what Showoff itself did rather than CommonMark, so the talk renders as it did on
 * the day: a slide starts at any `!SLIDE` (or `<!SLIDE ...>`) line and its words become classes,
 * `transition=` and `#id` excepted; code is an indented block whose first line is `@@@ lang`;
 * on `commandline` slides an indented block is a run of `$`/`#` commands, each followed by its
 * output. The result is a plain data structure (no HTML), so it can be tested on its own and
 * rendered by slides/render.ts.
 */

/** Inline markdown text (emphasis, code spans, entities) kept raw; the renderer formats it. */
export type Inline = string;

export type Block =
  | { kind: "heading"; level: number; text: Inline }
  | { kind: "paragraph"; text: Inline }
  | { kind: "list"; ordered: boolean; items: Inline[] }
  | { kind: "image"; alt: string; src: string; title?: string }
  | { kind: "code"; lang: string | null; code: string }
  | { kind: "commandline"; commands: Command[] };

export interface Command {
  /** The prompt that introduced it: Showoff accepts `$` and `#`. */
  prompt: "$" | "#";
  /** The command text without the prompt; continuation lines (trailing `\`) joined with "\n". */
  input: string;
  /** The lines that followed, up to the next prompt, without leading/trailing blank lines. */
  output: string;
}

export interface Slide {
  /** 1-based position in the deck. */
  number: number;
  /** 1-based line of the `!SLIDE` marker in the source (0 when the file had no markers). */
  line: number;
  /** Every class token of the `!SLIDE` line, in order, unknown ones included. */
  classes: string[];
  id?: string;
  transition?: string;
  blocks: Block[];
  /** The slide's own source text, after the marker line. */
  source: string;
}

export class ShowoffParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = "ShowoffParseError";
  }
}

const slideMarker = /^<?!SLIDE(.*?)>?\s*$/;

/** Split `!SLIDE` tokens into classes, `#id` and `transition=name`, as showoff.rb does. */
export function parseSlideTokens(rest: string): Pick<Slide, "classes" | "id" | "transition"> {
  const out: Pick<Slide, "classes" | "id" | "transition"> = { classes: [] };
  for (const raw of rest.trim().split(/\s+/)) {
    const token = raw.replace(/>$/, "");
    if (!token) continue;
    if (token.startsWith("transition=")) out.transition = token.slice("transition=".length);
    else if (token.startsWith("#") && token.length > 1) out.id = token.slice(1);
    else out.classes.push(token);
  }
  return out;
}

/** Parse a whole Showoff markdown file into slides. Empty slides are dropped, as Showoff did. */
export function parseShowoff(source: string): Slide[] {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  type Raw = { line: number; tokens: string; body: string[] };
  const raws: Raw[] = [];
  const hasMarkers = lines.some((l) => slideMarker.test(l));
  if (hasMarkers) {
    let current: Raw | null = null;
    lines.forEach((text, i) => {
      const m = slideMarker.exec(text);
      if (m) {
        current = { line: i + 1, tokens: m[1] ?? "", body: [] };
        raws.push(current);
      } else if (current) {
        current.body.push(text);
      }
      // Text before the first marker belongs to no slide (Showoff ignored it too).
    });
  } else {
    // Without markers, Showoff made one slide per top-level "# " heading.
    let current: Raw | null = null;
    for (const text of lines) {
      if (/^#\s/.test(text) || !current) {
        current = { line: 0, tokens: "", body: [] };
        raws.push(current);
      }
      current.body.push(text);
    }
  }
  const slides: Slide[] = [];
  for (const raw of raws) {
    const tokens = parseSlideTokens(raw.tokens);
    const blocks = parseBlocks(raw.body, tokens.classes.includes("commandline"), raw.line + 1);
    if (blocks.length === 0) continue;
    slides.push({
      number: slides.length + 1,
      line: raw.line,
      ...tokens,
      blocks,
      source: raw.body.join("\n").replace(/\s+$/, ""),
    });
  }
  return slides;
}

const isBlank = (l: string) => l.trim() === "";
const indentOf = (l: string) => (/^[ ]*/.exec(l.replace(/\t/g, "    "))?.[0].length ?? 0);
const listItem = /^ {0,3}([-*+]|\d+[.)])\s+(.*)$/;
const imageOnly = /^\s*!\[([^\]]*)\]\(\s*([^)\s]+)(?:\s+"([^"]*)")?\s*\)\s*$/;
/** ATX heading, written `# x #`, `#x`, `##x##` (2011 markdown needed no space after `#`). */
const heading = /^ {0,3}(#{1,6})(.*?)(?:#+)?\s*$/;

/** Parse a slide's body lines into blocks. `firstLine` is the source line of `body[0]`. */
export function parseBlocks(body: string[], commandline: boolean, firstLine = 1): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  let paragraph: string[] = [];
  let list: { ordered: boolean; items: string[] } | null = null;
  const flush = () => {
    if (paragraph.length) blocks.push({ kind: "paragraph", text: paragraph.map((l) => l.trim()).join("\n") });
    paragraph = [];
    if (list) blocks.push({ kind: "list", ...list });
    list = null;
  };
  while (i < body.length) {
    const text = body[i]!;
    if (isBlank(text)) {
      // A blank line ends a paragraph; a list survives blank lines between its items.
      if (paragraph.length) flush();
      i++;
      continue;
    }
    // An indented block (4+ spaces) not continuing a paragraph or list item is code.
    if (indentOf(text) >= 4 && paragraph.length === 0 && (list === null || isBlank(body[i - 1] ?? ""))) {
      flush();
      const start = i;
      const chunk: string[] = [];
      while (i < body.length && (isBlank(body[i]!) || indentOf(body[i]!) >= 4)) chunk.push(body[i++]!);
      blocks.push(codeBlock(chunk, commandline, firstLine + start));
      continue;
    }
    const h = heading.exec(text);
    if (h) {
      flush();
      blocks.push({ kind: "heading", level: h[1]!.length, text: h[2]!.trim() });
      i++;
      continue;
    }
    const img = imageOnly.exec(text);
    if (img) {
      // An image on a line of its own is a figure, even in the middle of a list (the misc slide).
      flush();
      blocks.push({ kind: "image", alt: img[1]!, src: img[2]!, ...(img[3] ? { title: img[3] } : {}) });
      i++;
      continue;
    }
    const item = listItem.exec(text);
    if (item && paragraph.length === 0) {
      const ordered = /\d/.test(item[1]!);
      if (list && list.ordered !== ordered) flush();
      list ??= { ordered, items: [] };
      list.items.push(item[2]!.trim());
      i++;
      continue;
    }
    if (list && !isBlank(body[i - 1] ?? "")) {
      // A lazy continuation line of the last item.
      const items: string[] = list.items;
      items[items.length - 1] += `\n${text.trim()}`;
      i++;
      continue;
    }
    if (list) flush();
    paragraph.push(text);
    i++;
  }
  flush();
  return blocks;
}

/** Remove the common leading indentation of the non-blank lines, and blank lines at both ends. */
export function dedent(lines: string[]): string[] {
  const expanded = lines.map((l) => l.replace(/\t/g, "    ").replace(/\s+$/, ""));
  const indents = expanded.filter((l) => l !== "").map(indentOf);
  const cut = indents.length ? Math.min(...indents) : 0;
  const out = expanded.map((l) => l.slice(cut));
  while (out.length && out[0] === "") out.shift();
  while (out.length && out[out.length - 1] === "") out.pop();
  return out;
}

function codeBlock(chunk: string[], commandline: boolean, line: number): Block {
  const lines = dedent(chunk);
  const first = lines[0] ?? "";
  const marker = /^@@@\s*(\S*)\s*(.*)$/.exec(first.trim());
  if (marker) {
    // `@@@ python` names the language; the code below may be indented further: dedent again.
    const lang = marker[1] ? marker[1].toLowerCase() : null;
    return { kind: "code", lang, code: dedent(lines.slice(1)).join("\n") };
  }
  if (commandline) return { kind: "commandline", commands: parseCommands(lines, line) };
  return { kind: "code", lang: null, code: lines.join("\n") };
}

/**
 * Split a commandline block into commands and their output, like Showoff's Parslet grammar:
 * a line starting with `$` or `#` is a command (a trailing `\` continues it on the next line);
 * every other line is output of the command before it. As in Showoff, an output line that
 * starts with `#` would be taken for a command.
 */
export function parseCommands(lines: string[], line = 1): Command[] {
  const commands: Command[] = [];
  let i = 0;
  while (i < lines.length) {
    const m = /^([$#])\s?(.*)$/.exec(lines[i]!);
    if (!m) {
      if (commands.length === 0) {
        throw new ShowoffParseError(`commandline block must start with a "$" command, found ${JSON.stringify(lines[i])}`, line + i);
      }
      i++;
      continue;
    }
    const input = [m[2]!];
    while (input[input.length - 1]!.endsWith("\\") && i + 1 < lines.length) {
      i++;
      input.push(lines[i]!);
    }
    i++;
    const output: string[] = [];
    while (i < lines.length && !/^[$#]/.test(lines[i]!)) output.push(lines[i++]!);
    while (output.length && output[0]!.trim() === "") output.shift();
    while (output.length && output[output.length - 1]!.trim() === "") output.pop();
    commands.push({ prompt: m[1] as "$" | "#", input: input.join("\n"), output: output.join("\n") });
  }
  return commands;
}

/** The text of a slide's first heading, or "" (used to key notes and find code slides). */
export function slideTitle(slide: Slide): string {
  const h = slide.blocks.find((b) => b.kind === "heading");
  return h && h.kind === "heading" ? h.text : "";
}
