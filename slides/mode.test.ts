import { describe, expect, it } from "vitest";
import { deckMode } from "./mode.js";

describe("deckMode", () => {
  it("tells the deck, its print view and the speaker view's receivers apart", () => {
    expect(deckMode("")).toBe("normal");
    expect(deckMode("?foo=1")).toBe("normal");
    expect(deckMode("?print-pdf")).toBe("print");
    expect(deckMode("?view=print")).toBe("print");
    expect(deckMode("?receiver&progress=false&history=false")).toBe("receiver");
  });
});
