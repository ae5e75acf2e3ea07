/**
 * The slide's address is written into the URL after the frame that shows the slide, not in the
 * slide change itself.
 *
 * reveal (`hash: true`) calls `history.replaceState` inside `slide()` whenever the last call is
 * more than a second old, which is every change a presenter makes at speaking pace. In Chromium
 * that call is a synchronous round trip to the browser process: 3-14 ms measured here on an
 * otherwise idle page (bench/frame.ts, issue 13), all of it inside the task that must end before
 * the new slide can be painted. Nobody reads the address in that frame; a reload, a copied link
 * or the back button reads it a moment later, when it is written.
 *
 * The URL still follows every change (reveal's own once-a-second rate limit is kept); only the
 * write moves to a task after the next paint. Rapid changes coalesce: the last address wins.
 */
import type { RevealApi, RevealPlugin } from "reveal.js";
import { afterFrame } from "../playground/idle.js";

/** reveal's Location controller: exposed as `deck.location`, not in its published types. */
interface RevealLocation {
  debouncedReplaceState(url: string): void;
}

export function urlAfterPaintPlugin(): RevealPlugin {
  return {
    id: "url-after-paint",
    init(deck: RevealApi) {
      const location = (deck as unknown as { location?: RevealLocation }).location;
      if (!location || typeof location.debouncedReplaceState !== "function") return;
      const write = location.debouncedReplaceState.bind(location);
      let pending: string | null = null;
      location.debouncedReplaceState = (url: string) => {
        const scheduled = pending !== null;
        pending = url;
        if (scheduled) return;
        afterFrame(() => {
          const last = pending;
          pending = null;
          if (last !== null) write(last);
        });
      };
    },
  };
}
