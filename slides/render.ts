/**
 * Turns parsed Showoff slides into reveal.js `<section>`s (HTML text, no DOM needed).
 *
 * The talk's words are rendered as written. What the deck adds is bound to what runs: code
 * slides pair the talk's Python with the TypeScript twin read from slides/examples (the same
 * files the engines execute), and commandline slides get an empty live-output area that the
 * playground fills; the 2011 output only travels in an inert <template>, labelled as such.
 * The markup here is the contract with playground/ (see slides/README.md).
 */
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import python from "highlight.js/lib/languages/python";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import { parseBlocks, slideTitle, type Block, type Slide } from "./showoff.js";
import type { Example } from "./examples/catalog.js";

hljs.registerLanguage("python", python);
hljs.registerLanguage("typescript", typescript);
hljs.registerLanguage("xml", xml);
hljs.registerLanguage("bash", bash);

/** Showoff language names → highlight.js names (only the languages the deck loads). */
const languageAliases: Record<string, string> = {
  python: "python",
  py: "python",
  typescript: "typescript",
  ts: "typescript",
  html: "xml",
  xml: "xml",
  sh: "bash",
  bash: "bash",
  shell: "bash",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Highlighted HTML for `code`, or escaped plain text for a language the deck does not load. */
export function highlight(code: string, lang: string | null): { html: string; language: string | null } {
  const language = lang ? (languageAliases[lang.toLowerCase()] ?? null) : null;
  if (!language) return { html: escapeHtml(code), language: null };
  return { html: hljs.highlight(code, { language, ignoreIllegals: true }).value, language };
}

export function languageOfFile(path: string): string | null {
  if (path.endsWith(".ts")) return "typescript";
  if (/\.html?$/.test(path)) return "html";
  if (path.endsWith(".py")) return "python";
  return null;
}

/**
 * Inline markdown as the 2011 Showoff rendered it: `**strong**`, `*em*`/`_em_`, `` `code` ``,
 * links and images; HTML entities written in the source (`&nbsp;`) are kept, other markup
 * characters escaped.
 */
export function renderInline(text: string): string {
  const codeSpans: string[] = [];
  let out = text.replace(/`([^`]+)`/g, (_, code: string) => {
    codeSpans.push(`<code>${escapeHtml(code)}</code>`);
    return `\u0000${codeSpans.length - 1}\u0000`;
  });
  out = out
    .replace(/&(?!#?[a-zA-Z0-9]+;)/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
  out = out
    .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_, alt: string, src: string) => `<img alt="${alt}" src="${src}">`)
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, href: string) => `<a href="${href}">${label}</a>`)
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/__(.+?)__/g, "<strong>$1</strong>")
    .replace(/(^|[^\w*])\*(?!\s)(.+?)\*(?!\w)/g, "$1<em>$2</em>")
    .replace(/(^|[^\w])_(?!\s)(.+?)_(?!\w)/g, "$1<em>$2</em>")
    .replace(/\n/g, "<br>");
  return out.replace(/\u0000(\d+)\u0000/g, (_, n: string) => codeSpans[Number(n)]!);
}

/** What stands in for one of the talk's lost pictures. */
export type Picture =
  | { kind: "image"; src: string; /** A tall variant for portrait screens. */ tall?: string; caption?: string }
  | { kind: "chart"; chart: string; caption?: string };

/** Matches the deck's portrait layout (main.ts: height > 1.1 x width). */
export const portraitMedia = "(max-aspect-ratio: 10/11)";

/** The code slides of the talk and the TypeScript twin each one shows. */
export interface CodeTwin {
  /** Catalog name of the runnable example, or null for illustrative code (the basics). */
  example: string | null;
  /** Files to show, path relative to slides/examples → source; the first is the main file. */
  files: Record<string, string>;
}

export interface RenderOptions {
  /** The runnable examples (slides/examples/catalog.ts). */
  examples: Record<string, Example>;
  /** Source of slides/examples/basics.ts, the illustrative event loop, if present. */
  basics?: string;
  /** Replacements for the talk's image files, by file name (`async_1.png`). */
  pictures?: Record<string, Picture>;
  /** Speaker notes as markdown, by slide number. */
  notes?: Map<number, string>;
}

/**
 * Which TypeScript twin a slide of the talk shows. Code slides are recognised by their heading
 * (or, for the untitled hello world slide, by its code), which keeps the talk's text untouched.
 */
export function twinFor(slide: Slide, options: RenderOptions): CodeTwin | null {
  const code = slide.blocks.find((b) => b.kind === "code");
  if (!code || code.kind !== "code" || code.lang !== "python") return null;
  const title = slideTitle(slide).toLowerCase();
  const pick = (name: string): CodeTwin | null => {
    const example = options.examples[name];
    if (!example) return null;
    const files: Record<string, string> = { [example.main]: example.files[example.main]! };
    for (const [path, text] of Object.entries(example.files)) if (path !== example.main) files[path] = text;
    return { example: name, files };
  };
  if (title === "the basics") return options.basics ? { example: null, files: { "basics.ts": options.basics } } : null;
  if (title === "templates") {
    const twin = pick("templates");
    if (!twin) return null;
    // The template the handler renders is shown beside it; other templates stay in the catalog.
    const files = Object.fromEntries(Object.entries(twin.files).filter(([p]) => p === "templates.ts" || p === "templates/index.html"));
    return { ...twin, files };
  }
  if (title === "json") {
    const twin = pick("json");
    return twin && { ...twin, files: { "json.ts": twin.files["json.ts"]! } };
  }
  if (title === "" && /Hello, world/.test(code.code)) {
    const twin = pick("hello");
    return twin && { ...twin, files: { "hello.ts": twin.files["hello.ts"]! } };
  }
  return null;
}

/**
 * Showoff's `incremental` class revealed bullets (and commands) one at a time: reveal's
 * fragments do the same.
 */
function renderBlock(block: Block, options: RenderOptions, incremental = false): string {
  switch (block.kind) {
    case "heading":
      return `<h${block.level}>${renderInline(block.text)}</h${block.level}>`;
    case "paragraph":
      return `<p>${renderInline(block.text)}</p>`;
    case "list": {
      const tag = block.ordered ? "ol" : "ul";
      const li = incremental ? `<li class="fragment">` : "<li>";
      return `<${tag}>${block.items.map((i) => `${li}${renderInline(i)}</li>`).join("")}</${tag}>`;
    }
    case "image": {
      const picture = options.pictures?.[block.src];
      if (picture?.kind === "chart") {
        const caption = picture.caption ? `<figcaption>${escapeHtml(picture.caption)}</figcaption>` : "";
        return `<figure class="picture chart" data-chart="${escapeHtml(picture.chart)}" data-original="${escapeHtml(block.src)}"><div class="chart-box"><canvas role="img" aria-label="${escapeHtml(block.alt)}"></canvas></div>${caption}</figure>`;
      }
      const src = picture?.src ?? block.src;
      const caption = picture?.caption ? `<figcaption>${escapeHtml(picture.caption)}</figcaption>` : "";
      // reveal loads img[data-src] lazily, near its slide; the tall variant is picked by media.
      const img = `<img data-src="${escapeHtml(src)}" alt="${escapeHtml(block.alt)}">`;
      const tall = picture?.kind === "image" && picture.tall;
      const media = tall ? `<picture><source media="${portraitMedia}" srcset="${escapeHtml(tall)}">${img}</picture>` : img;
      return `<figure class="picture" data-original="${escapeHtml(block.src)}">${media}${caption}</figure>`;
    }
    case "code": {
      const { html, language } = highlight(block.code, block.lang);
      const cls = language ? ` class="hljs language-${language}"` : "";
      return `<pre class="code"><code${cls}>${html}</code></pre>`;
    }
    case "commandline":
      return `<pre class="commandline">${block.commands
        .map((c) => `<code class="command">${escapeHtml(`${c.prompt} ${c.input}`)}</code>\n<code class="result">${escapeHtml(c.output)}</code>`)
        .join("\n")}</pre>`;
  }
}

export function codeFile(example: string | null, path: string, source: string): string {
  const { html, language } = highlight(source.replace(/\s+$/, ""), languageOfFile(path));
  const data = example ? ` data-example="${escapeHtml(example)}"` : "";
  const cls = language ? ` class="hljs language-${language}"` : "";
  return `<div class="code-ts"${data} data-file="${escapeHtml(path)}"><pre><code${cls}>${html}</code></pre></div>`;
}

export function flipButton(python = "the 2011 Python"): string {
  return `<button type="button" class="flip" aria-pressed="false" title="Flip between the TypeScript and the Python (key: p)"><span class="flip-to-py">show ${escapeHtml(python)}</span><span class="flip-to-ts">show the TypeScript</span> <kbd>p</kbd></button>`;
}

/**
 * The TypeScript files (`.code-ts`, what runs) and their Python (`.code-py`, shown by the flip),
 * with the sizes the CSS fits code to the slide by (theme.css, "code fitting").
 */
export function codePair(example: string | null, twinFiles: Record<string, string>, python: string, pythonLabel: string): string {
  const files = Object.entries(twinFiles);
  const ts = files.map(([path, source]) => codeFile(example, path, source)).join("");
  const { html } = highlight(python, "python");
  const py = `<div class="code-py" data-file="${escapeHtml(pythonLabel)}"><pre><code class="hljs language-python">${html}</code></pre></div>`;
  const tsLines = files.reduce((n, [, src]) => n + src.replace(/\s+$/, "").split("\n").length + 2, 0);
  const tsCols = Math.max(...files.flatMap(([, src]) => src.split("\n").map((l) => l.length)));
  const pyLines = python.split("\n").length + 2;
  const pyCols = Math.max(...python.split("\n").map((l) => l.length));
  // Side by side (two files on a landscape slide): the taller file sets the height, the
  // widths add up.
  const rowLines = Math.max(...files.map(([, src]) => src.replace(/\s+$/, "").split("\n").length)) + 2;
  const rowCols = files.reduce((n, [, src]) => n + Math.max(...src.split("\n").map((l) => l.length)) + 4, 0);
  const fit =
    `--ts-lines:${tsLines};--ts-cols:${Math.max(tsCols, 20)};--py-lines:${pyLines};--py-cols:${Math.max(pyCols, 20)};` +
    `--ts-lines-row:${rowLines};--ts-cols-row:${rowCols}`;
  return `<div class="code-pair${files.length > 1 ? " files-2" : ""}" style="${fit}">${ts}${py}</div>`;
}

function renderCodeSlide(slide: Slide, twin: CodeTwin, options: RenderOptions): string {
  const parts: string[] = [];
  for (const block of slide.blocks) {
    if (block.kind !== "code") {
      parts.push(renderBlock(block, options));
      continue;
    }
    parts.push(codePair(twin.example, twin.files, block.code, `2011 slide · ${block.lang ?? "code"}`));
  }
  parts.push(flipButton());
  return parts.join("\n");
}

function renderCommandline(slide: Slide, example: string | null, options: RenderOptions): string {
  const incremental = slide.classes.includes("incremental");
  return slide.blocks
    .map((block) => {
      if (block.kind !== "commandline") return renderBlock(block, options, incremental);
      return block.commands
        .map((c) => {
          const data = example ? ` data-example="${escapeHtml(example)}"` : "";
          return (
            `<div class="live-command${incremental ? " fragment" : ""}" data-command="${escapeHtml(c.input)}"${data}>` +
            `<pre class="command">${escapeHtml(`${c.prompt} ${c.input}`)}</pre>` +
            `<div class="live-output" aria-live="polite"></div>` +
            `<template class="talk-output">${escapeHtml(c.output)}</template>` +
            `</div>`
          );
        })
        .join("\n");
    })
    .join("\n");
}

/** Speaker notes markdown → HTML (paragraphs, lists, inline markup). */
export function renderNotes(markdown: string): string {
  return parseBlocks(markdown.split("\n"), false)
    .map((b) => renderBlock(b, {} as RenderOptions))
    .join("\n");
}

export interface RenderedSlide {
  slide: Slide;
  html: string;
  /** The catalog example this slide shows or runs, if any. */
  example: string | null;
}

/** Render every slide to a `<section>`; returns them in order. */
export function renderSlides(slides: Slide[], options: RenderOptions): RenderedSlide[] {
  let lastExample: string | null = null;
  return slides.map((slide) => {
    const attrs: string[] = [];
    const classes = [...slide.classes];
    let body: string;
    let example: string | null = null;
    const twin = twinFor(slide, options);
    const isCommandline = slide.blocks.some((b) => b.kind === "commandline");
    if (twin) {
      example = twin.example;
      if (example) lastExample = example;
      classes.push("code-slide");
      if (example) attrs.push(`data-example="${escapeHtml(example)}"`);
      else attrs.push(`data-code="basics"`);
      body = renderCodeSlide(slide, twin, options);
    } else if (isCommandline) {
      example = lastExample;
      attrs.push("data-live-command");
      body = renderCommandline(slide, example, options);
    } else {
      body = slide.blocks.map((b) => renderBlock(b, options, slide.classes.includes("incremental"))).join("\n");
      if (slideTitle(slide).toLowerCase() === "templates" && options.examples["templates-features"]) {
        // The templates features bullets, with the runnable tour of them when it exists.
        const features = options.examples["templates-features"];
        example = features.name;
        attrs.push(`data-example="${escapeHtml(features.name)}"`);
        body += `\n<details class="more-code"><summary>${escapeHtml(features.main)}</summary>${codeFile(features.name, features.main, features.files[features.main]!)}</details>`;
      }
    }
    if (slide.id) attrs.push(`id="${escapeHtml(slide.id)}"`);
    if (slide.transition) {
      // Showoff named jQuery Cycle effects; reveal knows fewer: fades stay fades, the rest slide.
      attrs.push(`data-showoff-transition="${escapeHtml(slide.transition)}"`);
      attrs.push(`data-transition="${/^fade/.test(slide.transition) ? "fade" : slide.transition === "none" ? "none" : "slide"}"`);
    }
    attrs.push(`data-slide="${slide.number}"`);
    const notes = options.notes?.get(slide.number);
    const aside = notes ? `\n<aside class="notes">${renderNotes(notes)}</aside>` : "";
    const classAttr = classes.length ? ` class="${escapeHtml(classes.join(" "))}"` : "";
    return { slide, example, html: `<section${classAttr} ${attrs.join(" ")}>\n${body}${aside}\n</section>` };
  });
}
