import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { NotesParseError, parseNotes } from "./notes.js";
import { parseShowoff, slideTitle } from "./showoff.js";

const talk = parseShowoff(readFileSync(resolve(import.meta.dirname, "talk.showoff.md"), "utf8"));
const notes = parseNotes(readFileSync(resolve(import.meta.dirname, "talk.notes.md"), "utf8"));

describe("speaker notes (slides/talk.notes.md)", () => {
  it("cover every slide of the talk, and only those", () => {
    expect([...notes.keys()].sort((a, b) => a - b)).toEqual(talk.map((s) => s.number));
    for (const n of notes.values()) expect(n.markdown.length, `notes for slide ${n.number}`).toBeGreaterThan(40);
  });

  it("are keyed to the right slide: the title repeats the slide's heading", () => {
    for (const slide of talk) {
      const title = slideTitle(slide);
      if (title) expect(notes.get(slide.number)!.title, `slide ${slide.number}`).toBe(title);
    }
  });

  it("reject duplicate and malformed headers", () => {
    expect(() => parseNotes("## 1 · a\nx\n## 1 · a\ny\n")).toThrowError(NotesParseError);
    expect(() => parseNotes("## one · a\n")).toThrowError(/line 1/);
  });
});
