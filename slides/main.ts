/**
 * The deck: the 2011 Showoff talk, parsed at load time and shown with reveal.js 6.
 *
 * Startup order matters for the first slide: parse and render the sections, start reveal, and
 * only once the first slide is on screen load what is heavy (the commit chart near its slide,
 * the playground's editors and engines). Nothing live starts in print or speaker-view receivers.
 */
import "reveal.js/reset.css";
import "reveal.js/reveal.css";
import "./theme.css";
import "./demos/demos.css";
import Reveal, { type RevealApi, type RevealPlugin } from "reveal.js";
import Notes from "reveal.js/plugin/notes";
import talkSource from "./talk.showoff.md?raw";
import notesSource from "./talk.notes.md?raw";
import { basicsSource, examples } from "./examples/catalog.js";
import { demos } from "./demos/catalog.js";
import { stackDemos } from "./demos/render.js";
import { deckMode } from "./mode.js";
import { parseNotes } from "./notes.js";
import { renderSlides, type Picture } from "./render.js";
import { parseShowoff } from "./showoff.js";
import { guardDeckMessages } from "../playground/panes/guard.js";
import { urlAfterPaintPlugin } from "./url.js";
import aldea1 from "../assets/aldea-1.svg";
import aldea2 from "../assets/aldea-2.svg";
import aldea3 from "../assets/aldea-3.svg";
import aldea4 from "../assets/aldea-4.svg";
import aldea1Tall from "../assets/aldea-1-tall.svg";
import aldea2Tall from "../assets/aldea-2-tall.svg";
import aldea3Tall from "../assets/aldea-3-tall.svg";
import aldea4Tall from "../assets/aldea-4-tall.svg";

/** The talk's lost pictures, redrawn: the village story in four steps, and the commit chart. */
const pictures: Record<string, Picture> = {
  "async_1.png": { kind: "image", src: aldea1, tall: aldea1Tall },
  "async_2.png": { kind: "image", src: aldea2, tall: aldea2Tall },
  "async_3.png": { kind: "image", src: aldea3, tall: aldea3Tall },
  "async_4.png": { kind: "image", src: aldea4, tall: aldea4Tall },
  "tornado_stats.png": {
    kind: "chart",
    chart: "commits",
    caption: "tornadoweb/tornado on GitHub: commits per month and releases, Sep 2009 – Oct 2011",
  },
};

const mode = deckMode();
const notes = new Map([...parseNotes(notesSource)].map(([n, v]) => [n, v.markdown]));
const rendered = renderSlides(parseShowoff(talkSource), { examples, basics: basicsSource, pictures, notes });

const slidesElement = document.querySelector<HTMLElement>(".reveal .slides");
if (!slidesElement) throw new Error("index.html must contain .reveal > .slides");
// The live demos go below the talk slides they belong to (vertical stacks).
slidesElement.innerHTML = stackDemos(rendered, demos, { basics: basicsSource }).join("\n");

/** Keys typed into live widgets (editors, terminals, forms) are theirs, not the deck's. */
const typingTargets = ".monaco-editor, .xterm, input, textarea, select, [contenteditable]";

/**
 * Slide size: landscape 1280x720 (scale ~1 on a 720p projector, which the live editors like),
 * or a tall 540x960 on portrait screens (phones), so text and code stay readable instead of
 * shrinking to a third. Printing always uses the landscape size.
 */
const landscape = { width: 1280, height: 720 };
const portrait = { width: 540, height: 960 };
function isPortrait(): boolean {
  return mode !== "print" && window.innerHeight > window.innerWidth * 1.1;
}
document.documentElement.classList.toggle("portrait", isPortrait());

/**
 * A viewer who asked their system for less motion gets none: slides change without their
 * sliding transition and charts appear drawn, not growing.
 */
const reducedMotion = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;

// Before reveal listens for messages: the live demos' browser panes must not drive the deck.
guardDeckMessages();
const deck: RevealApi = new Reveal(document.querySelector<HTMLElement>(".reveal")!, {
  ...(isPortrait() ? portrait : landscape),
  hash: true,
  // The talk's own numbering ("8 / 26"); the first demo below slide 11 reads "11.1".
  slideNumber: (slide?: HTMLElement) => {
    const d = slide?.dataset;
    // reveal's types say strings, but its formatNumber shows the part after the delimiter only
    // when it is a number (slidenumber.js).
    const parts = d?.demo ? [Number(d.under), ".", Number(d.demoIndex)] : [Number(d?.slide), "/", rendered.length];
    return parts as unknown as [string, string, string];
  },
  showSlideNumber: "all",
  controls: true,
  progress: true,
  center: true,
  overview: true,
  transition: reducedMotion ? "none" : "slide",
  backgroundTransition: reducedMotion ? "none" : "fade",
  margin: 0.06,
  // Scroll view would take over on phones and, when leaving, rewrite the slides' innerHTML,
  // destroying live editors and terminals; reveal only activates it for numbers.
  scrollActivationWidth: null as unknown as number,
  keyboardCondition: (event: KeyboardEvent) => !(event.target instanceof Element && event.target.closest(typingTargets)),
  pdfSeparateFragments: false,
  pdfMaxPagesPerSlide: 1,
  plugins: [Notes, urlAfterPaintPlugin()],
});

/** Flip a code slide between the TypeScript twin and the talk's Python. */
function flip(section: Element | null | undefined, toPython?: boolean): void {
  if (!section?.querySelector(".code-py")) return;
  const python = section.classList.toggle("show-python", toPython);
  for (const button of section.querySelectorAll(".flip")) button.setAttribute("aria-pressed", String(python));
}

slidesElement.addEventListener("click", (event) => {
  const button = (event.target as Element).closest?.(".flip");
  if (button) flip(button.closest("section"));
});

deck.addKeyBinding({ keyCode: 80, key: "P", description: "Flip code: TypeScript ⇄ 2011 Python" }, () =>
  flip(deck.getCurrentSlide()),
);

/** Draw charts on slides near the current one (all of them when printing). */
function drawNearbyCharts(): void {
  const current = deck.getIndices().h;
  for (const figure of document.querySelectorAll<HTMLElement>("figure.chart:not([data-chart-state])")) {
    const section = figure.closest("section");
    const index = section ? deck.getIndices(section).h : 0;
    if (mode !== "print" && Math.abs(index - current) > 2) continue;
    figure.dataset.chartState = "loading";
    import("./chart.js")
      .then(({ drawChart }) => drawChart(figure, { animate: mode === "normal" && !reducedMotion, fontScale: isPortrait() ? 1.6 : 1 }))
      .then(() => (mode === "print" ? freezeChart(figure) : undefined))
      .then(() => (figure.dataset.chartState = "ready"))
      .catch((error: unknown) => {
        figure.dataset.chartState = "failed";
        console.warn("chart failed to draw", error);
      });
  }
}

/**
 * For printing, swap the chart's canvas for a PNG of it: Chromium skips canvases that were
 * never on screen when it paints off-screen pages, while images always print.
 */
async function freezeChart(figure: HTMLElement): Promise<void> {
  await new Promise((done) => requestAnimationFrame(done));
  const canvas = figure.querySelector("canvas");
  if (!canvas) return;
  const img = document.createElement("img");
  img.className = "chart-print";
  img.alt = canvas.getAttribute("aria-label") ?? "";
  img.src = canvas.toDataURL("image/png");
  try {
    await img.decode();
  } catch {
    // Chromium's decode() sometimes rejects a fresh data: URL while the print view lays out
    // (EncodingError); the load event still comes. If even that fails, keep the canvas.
    const loaded = await new Promise<boolean>((done) => {
      if (img.complete && img.naturalWidth > 0) return done(true);
      img.onload = () => done(true);
      img.onerror = () => done(false);
    });
    if (!loaded) return;
  }
  canvas.replaceWith(img);
}

/** Copy the 2011 output into print pages, clearly labelled as the slide's recorded text. */
function showTalkOutputForPrint(): void {
  for (const command of document.querySelectorAll(".live-command")) {
    const template = command.querySelector<HTMLTemplateElement>("template.talk-output");
    if (!template || command.querySelector(".talk-output-print")) continue;
    const pre = document.createElement("pre");
    pre.className = "talk-output-print";
    pre.dataset.label = "output on the 2011 slide (recorded, not live)";
    pre.textContent = template.innerHTML.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
    command.append(pre);
  }
}

type PlaygroundModule = { playgroundPlugins?: () => RevealPlugin[] };
const playgroundModules = import.meta.glob<PlaygroundModule>("../playground/index.ts");

/**
 * Load the playground (editors, engines) if this build has one. reveal 6 runs `init` at once
 * for plugins registered after it is ready (plugins.js `registerPlugin`, state "loaded") but
 * ignores the result, so each init is wrapped: a throw or a rejected promise becomes a
 * console.warn and the deck carries on.
 */
async function loadPlayground(): Promise<void> {
  const root = document.documentElement;
  const load = playgroundModules["../playground/index.ts"];
  if (!load) {
    root.dataset.playground = "absent";
    return;
  }
  root.dataset.playground = "loading";
  try {
    const module = await load();
    if (typeof module.playgroundPlugins !== "function") throw new Error("playground/index.ts has no playgroundPlugins()");
    for (const plugin of module.playgroundPlugins()) {
      const init = plugin.init?.bind(plugin);
      if (init) {
        plugin.init = (api: RevealApi) => {
          try {
            const result = init(api);
            if (result && typeof result.then === "function") {
              return result.catch((error: unknown) => console.warn(`playground plugin "${plugin.id}" failed to start`, error));
            }
            return result;
          } catch (error) {
            console.warn(`playground plugin "${plugin.id}" failed to start`, error);
          }
        };
      }
      deck.registerPlugin(plugin);
    }
    root.dataset.playground = "loaded";
  } catch (error) {
    root.dataset.playground = "failed";
    console.warn("the playground could not be loaded; the deck works without it", error);
  }
}

/**
 * Served by `npm run serve`, the page carries the room's meta tag: follow along (slides/follow.ts).
 * A static host has no such tag, so nothing of it loads and no request is made.
 */
async function followTheRoom(): Promise<void> {
  if (!document.querySelector('meta[name="tornado-room"]')) return;
  try {
    const { followPlugin, roomMeta } = await import("./follow.js");
    const meta = roomMeta();
    if (meta) deck.registerPlugin(followPlugin(meta));
  } catch (error) {
    console.warn("follow along could not start; the deck works without it", error);
  }
}

(window as unknown as { deck: RevealApi }).deck = deck;

window.addEventListener("resize", () => {
  const tall = isPortrait();
  if (tall === document.documentElement.classList.contains("portrait")) return;
  document.documentElement.classList.toggle("portrait", tall);
  deck.configure(tall ? portrait : landscape);
});

/**
 * reveal centres a slide vertically from its height when it is shown; live content (editor
 * output, terminals, an editor that mounts late on a loaded machine) changes that height
 * afterwards, so a slide that resizes is centred again. Every section is watched, the demos
 * inside a vertical stack too: a stack's own box does not change when its children grow.
 * Only the resized slides are centred, as reveal's layout() centres each (`center`: the top
 * half the free height, 0 for a stack), and in the observer's callback, where layout is
 * clean: reveal's whole layout() would force a style recalculation and layout of every
 * visible slide, in the frame that paints a slide's first live output (seen in traces).
 */
function relayoutOnResize(): void {
  const observer = new ResizeObserver((entries) => {
    const config = deck.getConfig();
    if (config.disableLayout) return;
    const height = deck.getComputedSlideSize().height;
    for (const { target } of entries) {
      const slide = target as HTMLElement;
      if (slide.style.display === "none") continue;
      if (!config.center && !slide.classList.contains("center")) continue;
      slide.style.top = slide.classList.contains("stack") ? "0" : `${Math.max((height - slide.scrollHeight) / 2, 0)}px`;
    }
  });
  for (const section of slidesElement!.querySelectorAll("section")) observer.observe(section);
}

deck.initialize().then(() => {
  if (mode !== "print") relayoutOnResize();
  if (mode === "print") showTalkOutputForPrint();
  drawNearbyCharts();
  deck.on("slidechanged", drawNearbyCharts);
  requestAnimationFrame(() => {
    performance.mark("deck:first-slide");
    document.documentElement.dataset.deck = "ready";
    if (mode === "normal") void loadPlayground();
    else document.documentElement.dataset.playground = "off";
    if (mode === "normal") void followTheRoom();
  });
});
