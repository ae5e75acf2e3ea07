/**
 * Speaker notes live in slides/talk.notes.md, beside the talk rather than inside it, so the
 * talk's source stays the 2011 text. Each slide's notes start with a level-2 heading
 * `## <slide number> · <slide title>`; the title must repeat the slide's first heading (the
 * tests check it), which catches notes drifting onto the wrong slide.
 */
export interface SlideNotes {
  number: number;
  title: string;
  markdown: string;
}

export class NotesParseError extends Error {
  override name = "NotesParseError";
}

const header = /^##\s+(\d+)\s*·\s*(.*?)\s*$/;

export function parseNotes(source: string): Map<number, SlideNotes> {
  const notes = new Map<number, SlideNotes>();
  let current: SlideNotes | null = null;
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  lines.forEach((line, i) => {
    const m = header.exec(line);
    if (m) {
      const number = Number(m[1]);
      if (notes.has(number)) throw new NotesParseError(`line ${i + 1}: notes for slide ${number} appear twice`);
      current = { number, title: m[2]!, markdown: "" };
      notes.set(number, current);
    } else if (line.startsWith("## ")) {
      throw new NotesParseError(`line ${i + 1}: expected "## <number> · <title>", found ${JSON.stringify(line)}`);
    } else if (current) {
      current.markdown += `${line}\n`;
    }
  });
  for (const n of notes.values()) n.markdown = n.markdown.trim();
  return notes;
}
