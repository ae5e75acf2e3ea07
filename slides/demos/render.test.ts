import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { basicsSource, examples } from "../examples/catalog.js";
import { renderSlides } from "../render.js";
import { parseShowoff } from "../showoff.js";
import { buildDemos, demos, validateManifest } from "./catalog.js";
import { basicsListing, placeDemos, renderDemo, stackDemos } from "./render.js";

const here = import.meta.dirname;
const talk = parseShowoff(readFileSync(resolve(here, "../talk.showoff.md"), "utf8"));
const rendered = renderSlides(talk, { examples, basics: basicsSource });

describe("demo catalog", () => {
  it("reads each folder: the program's own text, its Tornado 6 twin, the manifest", () => {
    expect(Object.keys(demos).sort()).toEqual(["async_http", "blocking", "eventloop", "longpoll", "secure_cookies", "websocket"]);
    for (const demo of Object.values(demos)) {
      expect(demo.main).toBe(`${demo.name}.ts`);
      expect(demo.files[demo.main]).toBe(readFileSync(resolve(here, demo.name, demo.main), "utf8"));
      expect(demo.python).toBe(readFileSync(resolve(here, demo.name, demo.manifest.python), "utf8"));
      expect(demo.python).toMatch(/^# Written for Tornado 6 \(not the 2011 code\)/);
      // The twin and the manifest are not program files (the engines do not get them); the
      // pages a program serves are.
      const [main, ...pages] = Object.keys(demo.files);
      expect(main).toBe(demo.main);
      for (const page of pages) expect(page).toMatch(/\.html$/);
    }
  });

  it("refuses a manifest with a missing or wrong field, naming it", () => {
    const good = demos.async_http!.manifest;
    expect(() => validateManifest("x", { ...good, under: "" })).toThrow(/x\/manifest.json: "under"/);
    expect(() => validateManifest("x", { ...good, commands: "curl" })).toThrow(/"commands"/);
    expect(() => validateManifest("x", { ...good, widget: { kind: "movie" } })).toThrow(/unknown widget kind "movie"/);
    expect(() => buildDemos({ x: good }, { "x/async_http.py": "" })).toThrow(/async_http.ts is missing/);
    // What counts as the first live output: a known kind, in words, with its part on the slide.
    expect(() => validateManifest("x", { ...good, firstOutput: undefined })).toThrow(/"firstOutput.kind" must be one of answer, log, trace, bar, pane/);
    expect(() => validateManifest("x", { ...good, firstOutput: { kind: "placeholder", what: "x" } })).toThrow(/"firstOutput.kind"/);
    expect(() => validateManifest("x", { ...good, firstOutput: { kind: "log", what: "" } })).toThrow(/"firstOutput.what"/);
    expect(() => validateManifest("x", { ...good, firstOutput: { kind: "pane", what: "a pane" } })).toThrow(/"pane" needs panes/);
    expect(() => validateManifest("x", { ...good, firstOutput: { kind: "bar", what: "a bar" } })).toThrow(/"bar" needs a timeline widget/);
    expect(() => validateManifest("x", { ...good, commands: [], firstOutput: { kind: "answer", what: "an answer" } })).toThrow(/"answer" needs a command/);
  });
});

describe("demo slides", () => {
  it("go under the talk slides their manifests name, in order; the talk keeps its 26 slides", () => {
    const placed = placeDemos(rendered, demos);
    const where = [...placed].map(([i, list]) => `${i + 1}:${list.map((d) => d.name).join("+")}`).sort();
    expect(where).toEqual(["9:websocket+longpoll", "11:eventloop", "24:secure_cookies", "25:async_http+blocking"].sort());
    const stacks = stackDemos(rendered, demos, { basics: basicsSource });
    expect(stacks).toHaveLength(26);
    stacks.forEach((html, i) => expect(html).toContain(rendered[i]!.html));
    expect(stacks[24]).toMatch(/^<section class="demo-stack">\n<section[^>]*data-slide="25"[\s\S]*data-demo="async_http"[\s\S]*data-demo="blocking"[\s\S]*<\/section>\n<\/section>$/);
    expect(() => placeDemos(rendered, { bad: { ...demos.async_http!, manifest: { ...demos.async_http!.manifest, under: "nowhere" } } })).toThrow(/no talk slide titled "nowhere"/);
  });

  it("show the program that runs, the Python twin labelled as written for Tornado 6, commands and caption", () => {
    const html = renderDemo(demos.async_http!);
    expect(html).toMatch(/^<section class="demo code-slide" data-demo="async_http" data-example="async_http" data-budget-ms="4000" data-first-output="log" data-first-output-what="the server log&#39;s first line: [^"]+" data-live-command>/);
    expect(html).toContain('<div class="code-ts" data-example="async_http" data-file="async_http.ts">');
    expect(html).toContain('<div class="code-py" data-file="written for Tornado 6 · async_http.py">');
    expect(html).not.toMatch(/2011 slide/);
    expect(html).toContain('<div class="live-command" data-command="curl -i http://localhost:8888/api" data-example="async_http" data-budget-ms="4000">');
    expect(html.match(/data-run-command=/g)).toHaveLength(3);
    expect(html).toContain('data-run-command="curl -i -X POST http://localhost:8889/stop"');
    expect(html).toMatch(/<p class="demo-caption">[\s\S]*stand-in[\s\S]*<\/p>/);
    // Nothing recorded is passed off as live: the live output starts empty.
    expect(html).toContain('<div class="live-output" aria-live="polite"></div>');
  });

  it("draw the browser panes a manifest declares, one labelled figure each, empty until the playground loads the page", () => {
    const html = renderDemo(demos.websocket!);
    expect(html).toContain(`data-panes="${JSON.stringify(demos.websocket!.manifest.panes).replace(/"/g, "&#34;")}"`);
    const figures = [...html.matchAll(/<figure class="demo-pane" data-url="([^"]+)" data-title="([^"]+)">/g)];
    expect(figures.map((m) => [m[1], m[2]])).toEqual([1, 2, 3].map((n) => ["http://localhost:8888/", `browser ${n}: localhost:8888/`]));
    expect(html).toContain('<div class="pane-screen"></div>');
    expect(renderDemo(demos.longpoll!).match(/class="demo-pane"/g)).toHaveLength(2);
    expect(renderDemo(demos.async_http!)).not.toContain("demo-pane");
  });

  it("declare their widget for the playground, and light-able lines for a trace", () => {
    const timeline = renderDemo(demos.blocking!);
    expect(timeline).toContain('data-widget="timeline"');
    expect(timeline).not.toContain("data-live-command");
    const trace = renderDemo(demos.eventloop!, { basics: basicsSource });
    const lines = [...trace.matchAll(/<span class="listing-line" data-line="(\d+)"( data-trace="([^"]+)")?>/g)];
    expect(lines.map((m) => m[1])).toEqual(basicsListing(basicsSource!).map((_, i) => String(i + 1)));
    expect(lines.filter((m) => m[3]).map((m) => m[3])).toEqual(["readable timer", "callback write"]);
  });
});
