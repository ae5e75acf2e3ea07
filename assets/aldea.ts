/**
 * Draws the talk's lost "life is evented" pictures (async_1..4.png, alt "aldea") as one story
 * in four SVG steps: a village bakery ("forn de pa") with a single baker, the event loop told
 * as everyday life. One baker (one thread) serves the whole village: she starts the bread,
 * does not stand watching the oven, serves whoever is ready, and takes the bread out when the
 * oven's bell rings, each task handled when its event arrives.
 *
 * All four steps are drawn by the same functions, so they share one style. Regenerate with
 * `npx tsx assets/aldea.ts` (slides/aldea.test.ts checks the committed files are current).
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const W = 960;
const H = 540;
const ground = 420;
const palette = {
  sky: "#f6f1e7",
  wall: "#f2d8b0",
  wallLine: "#b9894f",
  roof: "#b5452a",
  ink: "#2b2b2b",
  muted: "#6b6358",
  accent: "#c2410c",
  calm: "#1f6f8b",
  oven: "#8c4a2f",
  fire: "#f59f0b",
  bread: "#c98a3a",
  skin: "#e7b98f",
  ground: "#d7c6a5",
};
const font = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

type Step = 1 | 2 | 3 | 4;

interface StepText {
  title: string;
  caption: string;
  /** The chalkboard: the baker's queue of events so far. */
  board: string[];
}

export const steps: Record<Step, StepText> = {
  1: {
    title: "one baker, the whole village at the door",
    caption: "A bakery in the village: one baker and a queue: bread, coffee, a parcel to post.",
    board: ["door: bread", "door: coffee", "door: parcel"],
  },
  2: {
    title: "start the bread, don't stand watching it",
    caption: "The bread goes in the oven with a bell set. Baking takes time; the baker moves on.",
    board: ["oven: bell when done", "door: coffee", "door: parcel"],
  },
  3: {
    title: "meanwhile, serve whoever is ready",
    caption: "Coffee is quick: served now. The bread customer waits, nobody is blocked.",
    board: ["oven: bell when done", "✓ coffee", "door: parcel"],
  },
  4: {
    title: "ding! the oven rings: bread out",
    caption: "Each task is handled when its event arrives. One worker, many waiting tasks.",
    board: ["✓ bread (ding!)", "✓ coffee", "next: parcel"],
  },
};

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function loaf(x: number, y: number, scale = 1): string {
  return `<g transform="translate(${x} ${y}) scale(${scale})"><ellipse cx="0" cy="0" rx="26" ry="13" fill="${palette.bread}" stroke="${palette.ink}" stroke-width="2.5"/><path d="M-12 -6 l6 10 M0 -8 l6 10 M12 -6 l5 8" stroke="#8a5a22" stroke-width="2.5" fill="none" stroke-linecap="round"/></g>`;
}

function cup(x: number, y: number, scale = 1): string {
  return `<g transform="translate(${x} ${y}) scale(${scale})"><path d="M-14 -12 h28 l-4 24 h-20 z" fill="#fff" stroke="${palette.ink}" stroke-width="2.5" stroke-linejoin="round"/><path d="M14 -6 q10 0 8 9 q-2 6 -10 5" fill="none" stroke="${palette.ink}" stroke-width="2.5"/><path d="M-5 -18 q-4 -6 0 -12 M5 -18 q-4 -6 0 -12" fill="none" stroke="${palette.muted}" stroke-width="2" stroke-linecap="round"/></g>`;
}

function parcel(x: number, y: number, scale = 1): string {
  return `<g transform="translate(${x} ${y}) scale(${scale})"><rect x="-20" y="-14" width="40" height="28" rx="3" fill="#e9c98f" stroke="${palette.ink}" stroke-width="2.5"/><path d="M0 -14 v28 M-20 0 h40" stroke="${palette.accent}" stroke-width="3"/></g>`;
}

function hourglass(x: number, y: number): string {
  return `<g transform="translate(${x} ${y})"><path d="M-10 -14 h20 l-10 14 l10 14 h-20 l10 -14 z" fill="#fff" stroke="${palette.ink}" stroke-width="2.5" stroke-linejoin="round"/><path d="M-4 10 h8 l-4 -5 z" fill="${palette.bread}"/></g>`;
}

function check(x: number, y: number): string {
  return `<path d="M${x - 12} ${y} l8 9 l16 -18" fill="none" stroke="#2f9e44" stroke-width="5" stroke-linecap="round" stroke-linejoin="round"/>`;
}

/** A speech bubble above a head at (x, y) holding an icon. */
function bubble(x: number, y: number, icon: string): string {
  return `<g><path d="M${x - 36} ${y - 96} h72 a10 10 0 0 1 10 10 v42 a10 10 0 0 1 -10 10 h-28 l-8 14 l-8 -14 h-28 a10 10 0 0 1 -10 -10 v-42 a10 10 0 0 1 10 -10 z" fill="#fff" stroke="${palette.ink}" stroke-width="2.5" stroke-linejoin="round"/>${icon}</g>`;
}

interface Person {
  x: number;
  coat: string;
  /** The baker wears a toque and an apron. */
  baker?: boolean;
  /** The postman wears a cap. */
  cap?: boolean;
  /** Something carried in front. */
  holding?: string;
  /** -1 facing left, 1 facing right (a nose dot shows it). */
  facing?: -1 | 1;
  /** Arms: "down", or "out" towards the facing side. */
  arms?: "down" | "out";
}

function person(p: Person): string {
  const x = p.x;
  const head = ground - 128;
  const face = p.facing ?? -1;
  const parts: string[] = [];
  // Legs and body.
  parts.push(`<path d="M${x - 10} ${ground - 46} v44 M${x + 10} ${ground - 46} v44" stroke="${palette.ink}" stroke-width="7" stroke-linecap="round"/>`);
  parts.push(`<rect x="${x - 24}" y="${head + 22}" width="48" height="66" rx="18" fill="${p.coat}" stroke="${palette.ink}" stroke-width="2.5"/>`);
  if (p.baker) parts.push(`<path d="M${x - 16} ${head + 44} h32 v40 a6 6 0 0 1 -6 6 h-20 a6 6 0 0 1 -6 -6 z" fill="#fff" stroke="${palette.ink}" stroke-width="2"/>`);
  // Arms.
  if (p.arms === "out") {
    parts.push(`<path d="M${x + face * 14} ${head + 36} l${face * 30} 14 l${face * 12} -4" stroke="${palette.ink}" stroke-width="6" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`);
    parts.push(`<path d="M${x - face * 14} ${head + 36} l${-face * 6} 40" stroke="${palette.ink}" stroke-width="6" fill="none" stroke-linecap="round"/>`);
  } else {
    parts.push(`<path d="M${x - 18} ${head + 36} l-6 40 M${x + 18} ${head + 36} l6 40" stroke="${palette.ink}" stroke-width="6" fill="none" stroke-linecap="round"/>`);
  }
  // Head.
  parts.push(`<circle cx="${x}" cy="${head}" r="20" fill="${palette.skin}" stroke="${palette.ink}" stroke-width="2.5"/>`);
  parts.push(`<circle cx="${x + face * 8}" cy="${head - 3}" r="2.6" fill="${palette.ink}"/>`);
  parts.push(`<path d="M${x + face * 2} ${head + 8} q${face * 6} 4 ${face * 11} 0" stroke="${palette.ink}" stroke-width="2" fill="none" stroke-linecap="round"/>`);
  if (p.baker) {
    parts.push(`<path d="M${x - 18} ${head - 14} h36 v-8 a12 12 0 0 0 -6 -22 a12 12 0 0 0 -24 0 a12 12 0 0 0 -6 22 z" fill="#fff" stroke="${palette.ink}" stroke-width="2.5" stroke-linejoin="round"/>`);
  }
  if (p.cap) {
    parts.push(`<path d="M${x - 20} ${head - 10} a20 16 0 0 1 40 0 z" fill="${palette.calm}" stroke="${palette.ink}" stroke-width="2.5"/><path d="M${x + face * 4} ${head - 10} h${face * 26}" stroke="${palette.ink}" stroke-width="4" stroke-linecap="round"/>`);
  }
  if (p.holding) parts.push(p.holding);
  return `<g>${parts.join("")}</g>`;
}

function bakery(ovenState: "cold" | "baking" | "ding"): string {
  const parts: string[] = [];
  // Building, roof, sign.
  parts.push(`<rect x="40" y="150" width="500" height="${ground - 150}" fill="${palette.wall}" stroke="${palette.wallLine}" stroke-width="3"/>`);
  parts.push(`<path d="M20 156 L290 64 L560 156 Z" fill="${palette.roof}" stroke="${palette.ink}" stroke-width="3" stroke-linejoin="round"/>`);
  parts.push(`<rect x="196" y="100" width="188" height="40" rx="6" fill="#fff8ec" stroke="${palette.ink}" stroke-width="2.5"/>`);
  parts.push(`<text x="290" y="128" text-anchor="middle" font-family="${font}" font-size="22" font-weight="800" fill="${palette.accent}" letter-spacing="1">FORN DE PA</text>`);
  // Oven: brick dome with a door.
  const glow = ovenState === "cold" ? "#3a2a22" : palette.fire;
  parts.push(`<path d="M60 ${ground} v-120 a80 70 0 0 1 160 0 v120 z" fill="${palette.oven}" stroke="${palette.ink}" stroke-width="3"/>`);
  parts.push(`<path d="M95 ${ground - 24} v-60 a45 40 0 0 1 90 0 v60 z" fill="${glow}" stroke="${palette.ink}" stroke-width="2.5"/>`);
  if (ovenState !== "cold") {
    parts.push(`<path d="M110 ${ground - 30} q10 -26 20 -6 q8 -28 20 -2 q8 -22 18 4" fill="#ffd43b" stroke="none" opacity="0.85"/>`);
  }
  if (ovenState === "baking") parts.push(loaf(140, ground - 62));
  // The oven's bell.
  const bellY = 190;
  parts.push(`<path d="M140 ${bellY + 14} v14" stroke="${palette.ink}" stroke-width="2.5"/>`);
  parts.push(`<path d="M124 ${bellY + 50} q0 -26 16 -26 q16 0 16 26 z" fill="#f2c94c" stroke="${palette.ink}" stroke-width="2.5" stroke-linejoin="round"/><circle cx="140" cy="${bellY + 54}" r="4" fill="${palette.ink}"/>`);
  if (ovenState === "ding") {
    parts.push(`<g stroke="${palette.accent}" stroke-width="4" stroke-linecap="round"><path d="M106 ${bellY + 22} l-16 -10 M100 ${bellY + 42} l-20 0 M174 ${bellY + 22} l16 -10 M180 ${bellY + 42} l20 0"/></g>`);
    parts.push(`<text x="140" y="${bellY - 8}" text-anchor="middle" font-family="${font}" font-size="30" font-weight="900" fill="${palette.accent}">ding!</text>`);
  }
  // Counter.
  parts.push(`<rect x="250" y="${ground - 84}" width="270" height="84" fill="#c08552" stroke="${palette.ink}" stroke-width="3"/>`);
  parts.push(`<rect x="240" y="${ground - 94}" width="290" height="14" rx="4" fill="#8c5a2b" stroke="${palette.ink}" stroke-width="2.5"/>`);
  // Door to the street.
  parts.push(`<rect x="540" y="${ground - 8}" width="30" height="8" fill="${palette.wallLine}"/>`);
  return parts.join("");
}

function board(lines: string[], x = 700, y = 34, scale = 1): string {
  const w = 236;
  const parts = [`<rect x="0" y="0" width="${w}" height="${52 + lines.length * 28}" rx="8" fill="#2f3b35" stroke="#6b5037" stroke-width="6"/>`];
  parts.push(`<text x="16" y="30" font-family="${font}" font-size="18" font-weight="700" fill="#e9f5db">events to handle:</text>`);
  lines.forEach((line, i) => {
    parts.push(`<text x="16" y="${60 + i * 28}" font-family="${font}" font-size="18" fill="#e9f5db">${esc(line)}</text>`);
  });
  return `<g transform="translate(${x} ${y}) scale(${scale})">${parts.join("")}</g>`;
}

/** Split text into lines of at most `max` characters, at spaces. */
export function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && (line + " " + word).length > max) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function badge(step: Step, title: string): string {
  return `<g><circle cx="46" cy="40" r="24" fill="${palette.accent}"/><text x="46" y="49" text-anchor="middle" font-family="${font}" font-size="26" font-weight="900" fill="#fff">${step}</text><text x="84" y="49" font-family="${font}" font-size="25" font-weight="700" fill="${palette.ink}">${esc(title)}</text></g>`;
}

/** The scene of one step (bakery, baker, villagers), drawn in a 960x540 box without words around it. */
function scene(step: Step): string {
  const parts: string[] = [];
  parts.push(`<rect y="${ground}" width="${W}" height="${H - ground}" fill="${palette.ground}"/>`);
  parts.push(`<path d="M0 ${ground} H${W}" stroke="${palette.wallLine}" stroke-width="3"/>`);
  parts.push(bakery(step === 1 ? "cold" : step === 4 ? "ding" : "baking"));
  const bread = "#4c6ef5";
  const coffee = "#2f9e44";
  // Customers at the door: bread (blue), coffee (green), the postman with a parcel.
  if (step === 1) {
    parts.push(person({ x: 390, coat: palette.accent, baker: true, facing: 1 }));
    parts.push(person({ x: 620, coat: bread }), bubble(620, ground - 128, loaf(620, ground - 195, 0.9)));
    parts.push(person({ x: 720, coat: coffee }), bubble(720, ground - 128, cup(720, ground - 193)));
    parts.push(person({ x: 830, coat: "#868e96", cap: true }), bubble(830, ground - 128, parcel(830, ground - 195)));
  } else if (step === 2) {
    parts.push(person({ x: 250, coat: palette.accent, baker: true, facing: -1, arms: "out" }));
    parts.push(`<path d="M300 ${ground - 200} q60 -40 120 0" fill="none" stroke="${palette.calm}" stroke-width="3" stroke-dasharray="8 6" marker-end="url(#arrow)"/>`);
    parts.push(person({ x: 620, coat: bread }), bubble(620, ground - 128, hourglass(620, ground - 195)));
    parts.push(person({ x: 720, coat: coffee }), bubble(720, ground - 128, cup(720, ground - 193)));
    parts.push(person({ x: 830, coat: "#868e96", cap: true }), bubble(830, ground - 128, parcel(830, ground - 195)));
  } else if (step === 3) {
    parts.push(person({ x: 450, coat: palette.accent, baker: true, facing: 1, arms: "out", holding: cup(505, ground - 100, 0.9) }));
    parts.push(person({ x: 600, coat: coffee, facing: -1, arms: "out" }));
    parts.push(person({ x: 690, coat: bread }), bubble(690, ground - 128, hourglass(690, ground - 195)));
    parts.push(person({ x: 830, coat: "#868e96", cap: true }), bubble(830, ground - 128, parcel(830, ground - 195)));
  } else {
    parts.push(person({ x: 250, coat: palette.accent, baker: true, facing: -1, arms: "out", holding: loaf(205, ground - 96, 0.9) }));
    parts.push(person({ x: 620, coat: bread }), bubble(620, ground - 128, check(620, ground - 195)));
    parts.push(person({ x: 760, coat: coffee, facing: 1 }), cup(790, ground - 90, 0.8));
    parts.push(person({ x: 880, coat: "#868e96", cap: true }), bubble(880, ground - 128, parcel(880, ground - 195)));
  }
  return parts.join("\n");
}

const defs = `<defs><marker id="arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="${palette.calm}"/></marker></defs>`;

function svg(step: Step, width: number, height: number, body: string): string {
  const text = steps[step];
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="t${step} d${step}">\n` +
    `<title id="t${step}">aldea ${step}/4: ${esc(text.title)}</title>\n` +
    `<desc id="d${step}">${esc(text.caption)}</desc>\n` +
    `${defs}\n<rect width="${width}" height="${height}" fill="${palette.sky}"/>\n${body}\n</svg>\n`
  );
}

/** One step of the story as a standalone SVG document, 16:9 for landscape slides. */
export function drawStep(step: Step): string {
  const text = steps[step];
  const body = [
    scene(step),
    board(text.board),
    badge(step, text.title),
    `<text x="${W / 2}" y="${H - 40}" text-anchor="middle" font-family="${font}" font-size="21" fill="${palette.ink}">${esc(text.caption)}</text>`,
  ];
  return svg(step, W, H, body.join("\n"));
}

/**
 * The same step laid out tall for phones: title above the scene, the chalkboard and the
 * caption below it in large type, so the words stay readable on a small portrait screen.
 */
export function drawStepTall(step: Step): string {
  const text = steps[step];
  const body: string[] = [];
  const titleLines = wrap(text.title, 30);
  body.push(`<circle cx="62" cy="62" r="40" fill="${palette.accent}"/><text x="62" y="78" text-anchor="middle" font-family="${font}" font-size="46" font-weight="900" fill="#fff">${step}</text>`);
  titleLines.forEach((line, i) => {
    body.push(`<text x="124" y="${78 + i * 56}" font-family="${font}" font-size="46" font-weight="700" fill="${palette.ink}">${esc(line)}</text>`);
  });
  const top = 80 + titleLines.length * 56;
  body.push(`<g transform="translate(0 ${top - 50})">${scene(step)}</g>`);
  const boardTop = top - 50 + H + 20;
  body.push(board(text.board, 185, boardTop, 2.5));
  const captionTop = boardTop + (52 + text.board.length * 28) * 2.5 + 70;
  const captionLines = wrap(text.caption, 36);
  captionLines.forEach((line, i) => {
    body.push(`<text x="${W / 2}" y="${captionTop + i * 52}" text-anchor="middle" font-family="${font}" font-size="42" fill="${palette.ink}">${esc(line)}</text>`);
  });
  const height = captionTop + captionLines.length * 52 + 10;
  return svg(step, W, height, body.join("\n"));
}

export const files: Record<string, string> = {
  "aldea-1.svg": drawStep(1),
  "aldea-2.svg": drawStep(2),
  "aldea-3.svg": drawStep(3),
  "aldea-4.svg": drawStep(4),
  "aldea-1-tall.svg": drawStepTall(1),
  "aldea-2-tall.svg": drawStepTall(2),
  "aldea-3-tall.svg": drawStepTall(3),
  "aldea-4-tall.svg": drawStepTall(4),
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, svg] of Object.entries(files)) writeFileSync(new URL(`./${name}`, import.meta.url), svg);
  console.log(`wrote ${Object.keys(files).join(", ")}`);
}
