/**
 * The live demos: one folder per demo under slides/demos/<name>/, holding the TypeScript program
 * the engines run (and any pages it serves), its Python twin written for Tornado 6, and a
 * manifest.json saying where the demo sits in the talk and how its slide runs it.
 *
 * Like examples/catalog.ts, the text comes straight from the files (Vite `?raw` globs), so the
 * slide shows exactly what runs. A demo is also an `Example` (name, main, files), so the
 * playground runs it like the talk's own programs.
 */
import type { Example } from "../examples/catalog.js";

/** A browser pane a demo's slide shows (declared now; the panes come with the websocket demos). */
export interface DemoPane {
  /** What the pane loads, e.g. "http://localhost:8888/". */
  url: string;
  /** How many panes side by side. */
  count?: number;
}

/** What the slide draws besides the terminal; the playground has one view per kind. */
export type DemoWidget =
  | {
      /** Re-runnable timeline: one bar per request, from the times the program prints. */
      kind: "timeline";
      /** Command template: {mode} and each of `params` are filled in. */
      command: string;
      /** Editable parameters and their defaults. */
      params: Record<string, number>;
      /** Runs the slide offers, e.g. ["non-blocking", "blocking"]. */
      modes: string[];
      /**
       * Regex over each output line, with named groups: `request`, `start` and `end` (ms, the
       * solid bar: when the request was served), optionally `sent` and `answered` (the thin bar).
       */
      line: string;
      /**
       * The run's expected length in seconds as a product of params ("n * wait"): the watchdog
       * allows it plus the usual command time, up to the manifest's `budgetMs`.
       */
      budget?: string;
    }
  | {
      /** Pseudo-code lit up by the trace lines (`trace <kind>: <detail>`) the program logs. */
      kind: "trace";
      /** Which listing: "basics" is the talk's event loop (slides/examples/basics.ts). */
      listing: "basics";
      /** Event kind → text of the listing line it lights up. */
      lines: Record<string, string>;
    };

/**
 * What counts as a demo's first live output: the first thing the engine puts on the slide from
 * running the program after the slide is entered (never a placeholder). One kind per demo, so the
 * deck and `npm run bench:deck` time every demo the same way (playground/demos/first-output.ts):
 *   - "answer": the first bytes of the command's answer in the terminal (after its `$ …` line);
 *   - "log": the first line the program logs into the slide's server log;
 *   - "trace": the first IOLoop event the trace widget lists;
 *   - "bar": the first bar a timeline draws (drawn from the program's own report of a request);
 *   - "pane": a browser pane showing the program's page (the frame's first load).
 */
export const FIRST_OUTPUT_KINDS = ["answer", "log", "trace", "bar", "pane"] as const;
export type FirstOutputKind = (typeof FIRST_OUTPUT_KINDS)[number];

export interface FirstOutput {
  kind: FirstOutputKind;
  /** The same in words, for people (the bench prints it beside the row). */
  what: string;
}

export interface DemoManifest {
  /** Heading of the talk slide this demo goes under (case-insensitive), e.g. "non-blocking requests". */
  under: string;
  /** Position among the demos under the same slide (1 first). */
  order: number;
  title: string;
  /** The program the engines run, in the demo's folder. */
  main: string;
  /** Its twin for Tornado 6, in the demo's folder. */
  python: string;
  /** Commands the slide offers; the first runs when the slide is entered. */
  commands: string[];
  /** What the live demo shows, in words: printed with the code (never a recorded output). */
  caption: string;
  /** Most a command may take before the watchdog stops the program, in ms. */
  budgetMs: number;
  /** The first live output after entering the slide (what the 150 ms entry target is about). */
  firstOutput: FirstOutput;
  widget?: DemoWidget;
  panes?: DemoPane[];
}

export interface Demo extends Example {
  manifest: DemoManifest;
  /** The Python twin's text. */
  python: string;
}

const manifests = import.meta.glob<unknown>("./*/manifest.json", { import: "default", eager: true });
const texts = import.meta.glob<string>(["./*/*", "!./*/manifest.json", "!./*/*.test.ts"], { query: "?raw", import: "default", eager: true });

/** Checks a manifest's shape; the error names the demo and the field. */
export function validateManifest(name: string, value: unknown): DemoManifest {
  const m = value as Partial<DemoManifest> | null;
  const fail = (why: string): never => {
    throw new Error(`slides/demos/${name}/manifest.json: ${why}`);
  };
  if (!m || typeof m !== "object") return fail("not an object");
  for (const key of ["under", "title", "main", "python", "caption"] as const) {
    if (typeof m[key] !== "string" || m[key] === "") fail(`"${key}" must be a non-empty string`);
  }
  if (typeof m.order !== "number") fail(`"order" must be a number`);
  if (!Array.isArray(m.commands) || m.commands.some((c) => typeof c !== "string")) fail(`"commands" must be a list of strings`);
  if (typeof m.budgetMs !== "number" || !(m.budgetMs > 0)) fail(`"budgetMs" must be a positive number`);
  if (m.widget && !["timeline", "trace"].includes(m.widget.kind)) fail(`unknown widget kind "${(m.widget as { kind: string }).kind}"`);
  if (m.panes && !Array.isArray(m.panes)) fail(`"panes" must be a list`);
  const first = m.firstOutput as Partial<FirstOutput> | undefined;
  if (!first || !FIRST_OUTPUT_KINDS.includes(first.kind as FirstOutputKind)) fail(`"firstOutput.kind" must be one of ${FIRST_OUTPUT_KINDS.join(", ")}`);
  if (typeof first?.what !== "string" || first.what === "") fail(`"firstOutput.what" must be a non-empty string`);
  // A kind must have its part on the slide: a terminal, a widget of that kind, panes.
  if ((first!.kind === "answer" || first!.kind === "log") && !m.commands?.length) fail(`"firstOutput.kind" "${first!.kind}" needs a command`);
  if (first!.kind === "trace" && m.widget?.kind !== "trace") fail(`"firstOutput.kind" "trace" needs a trace widget`);
  if (first!.kind === "bar" && m.widget?.kind !== "timeline") fail(`"firstOutput.kind" "bar" needs a timeline widget`);
  if (first!.kind === "pane" && !m.panes?.length) fail(`"firstOutput.kind" "pane" needs panes`);
  return m as DemoManifest;
}

/** Builds the catalog from folder → manifest and "<folder>/<file>" → text. */
export function buildDemos(manifestsByFolder: Record<string, unknown>, textsByPath: Record<string, string>): Record<string, Demo> {
  const out: Record<string, Demo> = {};
  for (const [folder, raw] of Object.entries(manifestsByFolder).sort(([a], [b]) => a.localeCompare(b))) {
    const manifest = validateManifest(folder, raw);
    const files: Record<string, string> = {};
    for (const [path, text] of Object.entries(textsByPath)) {
      if (!path.startsWith(`${folder}/`)) continue;
      const file = path.slice(folder.length + 1);
      if (file !== manifest.python) files[file] = text;
    }
    const python = textsByPath[`${folder}/${manifest.python}`];
    if (files[manifest.main] === undefined) throw new Error(`slides/demos/${folder}: ${manifest.main} is missing`);
    if (python === undefined) throw new Error(`slides/demos/${folder}: ${manifest.python} is missing`);
    // The main file first, as the talk's examples list it.
    const ordered = { [manifest.main]: files[manifest.main]!, ...files };
    out[folder] = { name: folder, main: manifest.main, files: ordered, manifest, python };
  }
  return out;
}

const folderOf = (key: string) => key.replace(/^\.\//, "").split("/")[0]!;

export const demos: Record<string, Demo> = buildDemos(
  Object.fromEntries(Object.entries(manifests).map(([key, value]) => [folderOf(key), value])),
  Object.fromEntries(Object.entries(texts).map(([key, value]) => [key.replace(/^\.\//, ""), value])),
);
