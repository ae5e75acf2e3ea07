/**
 * Messages from browser panes never reach the deck's own `message` listeners. A pane's script
 * can always `parent.postMessage(...)`, and reveal.js obeys any window that posts
 * `{"method": "slide", ...}` (its postMessage API), as its notes plugin obeys a "speaker view"
 * that announces itself with a heartbeat. A listener stops pane messages before those see them;
 * at the target (window) listeners run in the order they were added, so the deck installs this
 * before reveal starts (slides/main.ts). Kept tiny: it loads with the first slide.
 */
const paneWindows = new WeakSet<object>();
let installed = false;

export function guardDeckMessages(): void {
  if (installed) return;
  installed = true;
  window.addEventListener(
    "message",
    (event) => {
      if (event.source && paneWindows.has(event.source)) event.stopImmediatePropagation();
    },
    true,
  );
}

/** A pane's window, whose messages the deck drops. */
export function markPaneWindow(win: object): void {
  guardDeckMessages();
  paneWindows.add(win);
}
