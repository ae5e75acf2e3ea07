/**
 * Reading QR codes back, for the tests of what `npm run serve` shows people: the code it prints
 * in the terminal (qrcode's "small" terminal rendering, two modules per character cell) and the
 * one on the title slide (an image's pixels). Decoding is jsQR's; this only turns a terminal's
 * text into pixels, as a terminal would paint them.
 */
import jsQR from "jsqr";

/** Pixels per module when a terminal QR code is painted for the decoder. */
const SCALE = 4;

/**
 * Paints qrcode's small terminal output (ANSI colours; ▀ ▄ █ and spaces, each cell two modules
 * high) as dark/light modules: a cell's upper half is the foreground colour when it is ▀ or █,
 * else the background; the lower half likewise with ▄ or █. Black (30/40) is dark; white and
 * the terminal's default are light.
 */
export function terminalModules(text: string): boolean[][] {
  const rows: boolean[][] = [];
  for (const line of text.split("\n")) {
    let fg = "light";
    let bg = "light";
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const token of line.match(/\x1b\[[0-9;]*m|[\s\S]/g) ?? []) {
      const sgr = /^\x1b\[([0-9;]*)m$/.exec(token);
      if (sgr) {
        for (const code of (sgr[1] || "0").split(";")) {
          if (code === "0") fg = bg = "light";
          else if (code === "30") fg = "dark";
          else if (code === "37") fg = "light";
          else if (code === "40") bg = "dark";
          else if (code === "47") bg = "light";
        }
        continue;
      }
      if (!" \u2580\u2584\u2588".includes(token)) continue;
      top.push((token === "\u2580" || token === "\u2588" ? fg : bg) === "dark");
      bottom.push((token === "\u2584" || token === "\u2588" ? fg : bg) === "dark");
    }
    if (top.length) rows.push(top, bottom);
  }
  return rows;
}

/** Decodes a QR code from RGBA pixels; null when none is found. */
export function decodeQr(rgba: Uint8ClampedArray, width: number, height: number): string | null {
  return jsQR(rgba, width, height)?.data ?? null;
}

/** Decodes the QR code in a terminal's text (qrcode's small rendering); null when none is found. */
export function decodeTerminalQr(text: string): string | null {
  const modules = terminalModules(text);
  if (!modules.length) return null;
  // A light quiet zone of four modules around it, as a screen around a terminal would give.
  const quiet = 4;
  const cols = Math.max(...modules.map((r) => r.length)) + 2 * quiet;
  const rows = modules.length + 2 * quiet;
  const width = cols * SCALE;
  const height = rows * SCALE;
  const rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < SCALE; dy++) {
        for (let dx = 0; dx < SCALE; dx++) {
          const i = (((y + quiet) * SCALE + dy) * width + (x + quiet) * SCALE + dx) * 4;
          rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
        }
      }
    }),
  );
  return decodeQr(rgba, width, height);
}
