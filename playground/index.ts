/**
 * Entry point the deck loads after its first slide is shown (slides/main.ts): the playground's
 * reveal plugins. Never loaded in print mode or in the speaker view's receiver frames.
 */
import { examples } from "../slides/examples/catalog.js";
import { demos } from "../slides/demos/catalog.js";
import { Demos } from "./demos/index.js";
import { Playground } from "./deck.js";
import { mountBadge } from "./badge.js";
import { preflightPlugin, type DeckApi } from "./preflight.js";
import { Sources } from "./sources.js";
import { createInPageWorker, InPageEngine } from "./inpage/engine.js";
import { CommandInput } from "./engine.js";
import "./playground.css";

export interface RevealPlugin {
  id: string;
  init(deck: DeckApi): void | Promise<void>;
}

/**
 * The slide reveal is about to show, when `beforeslidechange` tells it for sure: a horizontal
 * slide, or a vertical one in the stack already shown (down into a demo: the event's indexv is
 * the target's). Entering another stack, reveal picks its vertical slide later (the one last
 * shown there), and the event's indexv may be the old stack's: undefined then.
 */
function slideBeingEntered(deck: DeckApi, indexh: number | undefined, indexv: number | undefined): HTMLElement | undefined {
  if (typeof indexh !== "number") return undefined;
  const top = document.querySelectorAll<HTMLElement>(".reveal .slides > section")[indexh];
  if (!top) return undefined;
  const vertical = top.querySelectorAll<HTMLElement>(":scope > section");
  if (!vertical.length) return top;
  const current = deck.getCurrentSlide();
  if (typeof indexv !== "number" || !current || current.parentElement !== top) return undefined;
  return vertical[indexv];
}

export function playgroundPlugins(): RevealPlugin[] {
  let live: Playground | null = null;
  return [
    {
      id: "tornado-playground",
      init(deck) {
        try {
          // A room's attendees (the page `npm run serve` marks as such) load editors on demand.
          const room = document.querySelector<HTMLMetaElement>('meta[name="tornado-room"]');
          const attendee = room !== null && !/"role":"presenter"/.test(room.content);
          // The live demos run like the talk's programs (slides/demos/catalog.ts).
          const playground = new Playground(deck, new Sources({ ...examples, ...demos }), attendee);
          live = playground;
          const demoViews = new Demos(playground);
          mountBadge(playground.manager);
          const show = (slide: HTMLElement | undefined) => {
            playground.show(slide);
            demoViews.show(slide);
          };
          // Before reveal's own slide change work: the slide being entered can have its
          // commands posted already (and the worker answers while reveal works).
          deck.on("beforeslidechange", (event) => playground.enter(slideBeingEntered(deck, event.indexh, event.indexv)));
          deck.on("slidechanged", (event) => show(event.currentSlide ?? deck.getCurrentSlide()));
          deck.on("resize", () => playground.layout());
          window.addEventListener("resize", () => playground.layout());
          show(deck.getCurrentSlide());
          // For the browser tests and the bench: the live controller, and fresh engines to drive
          // the engine contract without touching the deck's own.
          Object.assign(globalThis, {
            __playground: playground,
            __playgroundEngines: { inPage: () => new InPageEngine(createInPageWorker), CommandInput },
          });
        } catch (error) {
          console.warn("playground failed to start", error);
        }
      },
    },
    preflightPlugin(() => live),
  ];
}
