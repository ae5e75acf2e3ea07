/**
 * Entry point the deck loads after its first slide is shown (slides/main.ts): the playground's
 * reveal plugins. Never loaded in print mode or in the speaker view's receiver frames.
 */
import { examples } from "../slides/examples/catalog.js";
import { mountBadge, Playground, type DeckLike } from "./deck.js";
import { Sources } from "./sources.js";
import { createInPageWorker, InPageEngine } from "./inpage/engine.js";
import "./playground.css";

export interface RevealPlugin {
  id: string;
  init(deck: DeckLike): void | Promise<void>;
}

export function playgroundPlugins(): RevealPlugin[] {
  return [
    {
      id: "tornado-playground",
      init(deck) {
        try {
          // A room's attendees (the page `npm run serve` marks as such) load editors on demand.
          const room = document.querySelector<HTMLMetaElement>('meta[name="tornado-room"]');
          const attendee = room !== null && !/"role":"presenter"/.test(room.content);
          const playground = new Playground(deck, new Sources(examples), attendee);
          mountBadge(playground.manager);
          deck.on("slidechanged", (event) => playground.show(event.currentSlide ?? deck.getCurrentSlide()));
          deck.on("resize", () => playground.layout());
          window.addEventListener("resize", () => playground.layout());
          playground.show(deck.getCurrentSlide());
          // For the browser tests and the bench: the live controller, and fresh engines to drive
          // the engine contract without touching the deck's own.
          Object.assign(globalThis, {
            __playground: playground,
            __playgroundEngines: { inPage: () => new InPageEngine(createInPageWorker) },
          });
        } catch (error) {
          console.warn("playground failed to start", error);
        }
      },
    },
  ];
}
