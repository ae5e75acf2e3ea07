/**
 * Demo slides: each demo of the catalog becomes a reveal.js vertical slide under the talk slide
 * it belongs to, so the talk's own slides keep their words and order (down arrow to dive in,
 * right arrow moves on).
 *
 * Nothing here knows a particular demo: a demo slide is its manifest rendered the same way for
 * all (title, the program beside its Tornado 6 twin, the listing and widget it declares, its
 * commands, the caption). The playground brings the live parts (playground/demos/).
 */
import { slideTitle } from "../showoff.js";
import { codePair, escapeHtml, flipButton, highlight, type RenderedSlide } from "../render.js";
import type { Demo, DemoPane } from "./catalog.js";

export interface DemoRenderOptions {
  /** The talk's illustrative event loop (slides/examples/basics.ts), for `listing: "basics"`. */
  basics?: string;
}

/** The lines of the basics pseudo-code a slide shows: the loop itself, not its declarations. */
export function basicsListing(basics: string): string[] {
  const lines = basics.replace(/\s+$/, "").split("\n");
  const first = lines.findIndex((l) => l.startsWith("OS_register"));
  const last = lines.lastIndexOf("}");
  return first >= 0 && last > first ? lines.slice(first, last + 1) : lines;
}

function listingHtml(demo: Demo, options: DemoRenderOptions): string {
  const widget = demo.manifest.widget;
  if (widget?.kind !== "trace" || widget.listing !== "basics" || !options.basics) return "";
  const lines = basicsListing(options.basics);
  const html = lines
    .map((line, i) => {
      // Each line is highlighted on its own, so it can light up as a whole.
      const kinds = Object.entries(widget.lines).filter(([, text]) => line.includes(text)).map(([kind]) => kind);
      const data = kinds.length ? ` data-trace="${escapeHtml(kinds.join(" "))}"` : "";
      return `<span class="listing-line" data-line="${i + 1}"${data}>${highlight(line, "typescript").html || " "}</span>`;
    })
    .join("\n");
  return `<div class="demo-listing" data-file="the basics, as the runtime runs them"><pre><code class="hljs language-typescript">${html}</code></pre></div>`;
}

/**
 * One demo as a `<section>` (a vertical slide); `place` says which talk slide it is under and
 * its position there (the deck's slide number, "25.1").
 */
export function renderDemo(demo: Demo, options: DemoRenderOptions = {}, place?: { under: number; index: number }): string {
  const m = demo.manifest;
  const attrs = [
    `class="demo code-slide"`,
    `data-demo="${escapeHtml(demo.name)}"`,
    `data-example="${escapeHtml(demo.name)}"`,
    `data-budget-ms="${m.budgetMs}"`,
    `data-first-output="${escapeHtml(m.firstOutput.kind)}"`,
    `data-first-output-what="${escapeHtml(m.firstOutput.what)}"`,
  ];
  if (place) attrs.push(`data-under="${place.under}"`, `data-demo-index="${place.index}"`);
  if (m.commands.length) attrs.push("data-live-command");
  if (m.panes?.length) attrs.push(`data-panes="${escapeHtml(JSON.stringify(m.panes))}"`);
  const programFiles: Record<string, string> = { [m.main]: demo.files[m.main]! };
  const code = codePair(demo.name, programFiles, demo.python.replace(/\s+$/, ""), `written for Tornado 6 · ${m.python}`);
  const widget = m.widget
    ? `<div class="demo-widget" data-widget="${escapeHtml(m.widget.kind)}" data-options="${escapeHtml(JSON.stringify(m.widget))}"></div>`
    : "";
  const panes = m.panes?.length ? panesHtml(m.panes) : "";
  const [first, ...more] = m.commands;
  const terminal = first
    ? `<div class="live-command" data-command="${escapeHtml(first)}" data-example="${escapeHtml(demo.name)}" data-budget-ms="${m.budgetMs}">` +
      `<pre class="command">${escapeHtml(`$ ${first}`)}</pre>` +
      `<div class="live-output" aria-live="polite"></div>` +
      `</div>`
    : "";
  const presets = m.commands.length > 1
    ? `<div class="demo-commands" aria-label="commands of this demo">${m.commands
        .map((c, i) => `<button type="button" class="demo-command" data-run-command="${escapeHtml(c)}"><span>${i + 1}</span> <code>$ ${escapeHtml(c)}</code></button>`)
        .join("")}</div>`
    : "";
  return (
    `<section ${attrs.join(" ")}>\n` +
    `<h2 class="demo-title">${escapeHtml(m.title)}</h2>\n` +
    `<div class="demo-body">\n<div class="demo-code">${flipButton("the Python (Tornado 6)")}${code}</div>\n` +
    `<div class="demo-live">${listingHtml(demo, options)}${widget}${panes}${terminal}${presets}\n` +
    `<p class="demo-caption"><span class="demo-caption-label">live demo:</span> ${escapeHtml(m.caption)}</p>\n` +
    `</div>\n</div>\n` +
    `</section>`
  );
}

/**
 * The browser panes a demo declares: one figure per pane, labelled with its URL; the playground
 * puts the live page in `.pane-screen` (playground/panes/). Printed, the caption says what they
 * show instead (demos.css hides them on paper).
 */
function panesHtml(panes: DemoPane[]): string {
  const figures: string[] = [];
  for (const pane of panes) {
    const count = Math.max(1, Math.min(4, pane.count ?? 1));
    const label = pane.url.replace(/^https?:\/\//, "");
    for (let i = 1; i <= count; i++) {
      const title = count > 1 ? `browser ${figures.length + 1}: ${label}` : `browser: ${label}`;
      figures.push(
        `<figure class="demo-pane" data-url="${escapeHtml(pane.url)}" data-title="${escapeHtml(title)}">` +
          `<figcaption class="pane-bar"><span class="pane-url">${escapeHtml(title)}</span></figcaption>` +
          `<div class="pane-screen"></div></figure>`,
      );
    }
  }
  return `<div class="demo-panes" data-count="${figures.length}">${figures.join("")}</div>`;
}

/** Which talk slide (index into `rendered`) each demo goes under; throws for an unknown heading. */
export function placeDemos(rendered: RenderedSlide[], demos: Record<string, Demo>): Map<number, Demo[]> {
  const placed = new Map<number, Demo[]>();
  const ordered = Object.values(demos).sort((a, b) => a.manifest.order - b.manifest.order || a.name.localeCompare(b.name));
  for (const demo of ordered) {
    const under = demo.manifest.under.toLowerCase();
    const index = rendered.findIndex((r) => slideTitle(r.slide).toLowerCase() === under);
    if (index < 0) throw new Error(`demo ${demo.name}: no talk slide titled "${demo.manifest.under}"`);
    placed.set(index, [...(placed.get(index) ?? []), demo]);
  }
  return placed;
}

/**
 * The deck's horizontal slides: a talk slide alone, or a vertical stack of the talk slide and
 * its demos.
 */
export function stackDemos(rendered: RenderedSlide[], demos: Record<string, Demo>, options: DemoRenderOptions = {}): string[] {
  const placed = placeDemos(rendered, demos);
  return rendered.map((r, i) => {
    const below = placed.get(i);
    if (!below) return r.html;
    const sections = below.map((d, k) => renderDemo(d, options, { under: r.slide.number, index: k + 1 }));
    return `<section class="demo-stack">\n${r.html}\n${sections.join("\n")}\n</section>`;
  });
}
