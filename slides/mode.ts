/**
 * Which kind of page this deck is running in.
 *
 * - "print": `?print-pdf` (or `?view=print`): reveal lays every slide out for PDF export; nothing
 *   live may start (no engines, no editors), only static content.
 * - "receiver": one of the speaker view's iframes (`?receiver`); the real deck runs in the
 *   presenter's window, so the copies must stay inert (one WebContainer per page, no double boot).
 * - "normal": the deck itself.
 */
export type DeckMode = "normal" | "print" | "receiver";

export function deckMode(search: string = globalThis.location?.search ?? ""): DeckMode {
  const params = new URLSearchParams(search);
  if (params.has("print-pdf") || params.get("view") === "print") return "print";
  if (params.has("receiver")) return "receiver";
  return "normal";
}
