/**
 * Type sizes on live slides, in the slide's own CSS pixels (before reveal scales the slide to
 * the screen), so code and terminals stay readable from the back row: on the 1280x720 layout
 * code at 20 px and terminals at 18 px; on the phone's tall layout (html.portrait) 16 and 14.
 * Nothing on a live slide goes below 14 px (playground.css); e2e/deck-readable.test.ts checks
 * every text element of every live slide against these numbers.
 */
export const typeSizes = {
  landscape: { code: 20, terminal: 18 },
  portrait: { code: 16, terminal: 14 },
} as const;

export function isPortraitLayout(): boolean {
  return document.documentElement.classList.contains("portrait");
}

export function codeFontSize(): number {
  return typeSizes[isPortraitLayout() ? "portrait" : "landscape"].code;
}

export function codeLineHeight(): number {
  return Math.round(codeFontSize() * 1.3);
}

export function terminalFontSize(): number {
  return typeSizes[isPortraitLayout() ? "portrait" : "landscape"].terminal;
}

/** Call `apply` whenever the deck flips between its landscape and portrait layouts. */
export function onLayoutFlip(apply: () => void): () => void {
  let portrait = isPortraitLayout();
  const watch = new MutationObserver(() => {
    if (portrait === isPortraitLayout()) return;
    portrait = isPortraitLayout();
    apply();
  });
  watch.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  return () => watch.disconnect();
}
