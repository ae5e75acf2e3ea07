/**
 * Differential check against the real Tornado (6.2, /usr/bin/python3): the same templates, with
 * Python expressions on one side and their JavaScript twins on the other, must render to the same
 * bytes, and the same bad templates must fail with the same ParseError text.
 *
 * Known, deliberate difference left out of the data: Tornado 6.2 escapes `'` as `&#39;`, we (like
 * Tornado 6.4+, see tornado-behaviour.md) as `&#x27;`; no escaped value below contains an apostrophe.
 * Python prints the sets in "break outside {'for', 'while'} block" in hash order, so set
 * literals in messages are compared sorted.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import { utf8 } from "./escape.js";
import { DictLoader, ParseError } from "./template.js";
import { hasTornado, PYTHON } from "../tools/real-tornado.js";


interface Case {
  name: string;
  /** Template files; `main` is rendered. */
  files: Record<string, string>;
  /** JavaScript versions of files whose expressions differ. */
  jsFiles?: Record<string, string>;
  main?: string;
  /** The namespace as a Python expression (with the helpers of the script in scope)... */
  py?: string;
  /** ...and as JavaScript values. */
  js?: Record<string, unknown>;
  loader?: { autoescape?: string | null; whitespace?: "all" | "single" | "oneline" };
}

const check = (x: number) => {
  if (x === 0) throw new RangeError("division by zero");
  return 1 / x;
};

const INDEX = "<html>\n    <h1> {{ msg }}</h1>\n</html>\n";

const cases: Case[] = [
  { name: "talk index.html", files: { "index.html": INDEX }, main: "index.html", py: "dict(msg='hello!')", js: { msg: "hello!" } },
  {
    name: "autoescape of user data",
    files: { "a.html": '<p title="{{ t }}">{{ t }}</p>{% raw t %}' },
    py: `dict(t='<script>alert("x & y")</script>')`,
    js: { t: '<script>alert("x & y")</script>' },
  },
  {
    name: "for, if/elif/else, whitespace single",
    files: { "a.html": "<ul>\n  {% for i in items %}\n    <li>{% if i % 2 %}odd{% elif i == 2 %}two{% else %}even{% end %}</li>\n  {% end %}\n</ul>\n" },
    jsFiles: { "a.html": "<ul>\n  {% for i of items %}\n    <li>{% if i % 2 %}odd{% elif i == 2 %}two{% else %}even{% end %}</li>\n  {% end %}\n</ul>\n" },
    py: "dict(items=[1, 2, 3, 4])",
    js: { items: [1, 2, 3, 4] },
  },
  {
    name: "for/else with break and continue, nested",
    files: { "a.txt": "{% for a in [1, 2] %}{% for b in [1, 2, 3] %}{% if b == 2 %}{% continue %}{% end %}{% if a == 2 %}{% break %}{% end %}{{ a }}{{ b }} {% else %}(inner) {% end %}{% else %}(outer){% end %}" },
    jsFiles: { "a.txt": "{% for a of [1, 2] %}{% for b of [1, 2, 3] %}{% if b == 2 %}{% continue %}{% end %}{% if a == 2 %}{% break %}{% end %}{{ a }}{{ b }} {% else %}(inner) {% end %}{% else %}(outer){% end %}" },
  },
  {
    name: "for/else on an empty list",
    files: { "a.txt": "{% for x in xs %}{{ x }}{% else %}empty{% end %}" },
    jsFiles: { "a.txt": "{% for x of xs %}{{ x }}{% else %}empty{% end %}" },
    py: "dict(xs=[])",
    js: { xs: [] },
  },
  {
    name: "while, set +=",
    files: { "a.txt": "{% set i = 0 %}{% while i < 3 %}{{ i }}{% set i += 1 %}{% end %}/{{ i }}" },
  },
  {
    name: "three-level inheritance, nested block override, include with relative path",
    files: {
      "base.html": "<html>\n  <head>{% block head %}<title>{% block title %}base{% end %}</title>{% end %}</head>\n  <body>{% block body %}{% end %}{% include 'parts/footer.html' %}</body>\n</html>\n",
      "parts/footer.html": "<footer>{% include '../parts/sign.html' %}</footer>",
      "parts/sign.html": "- {{ who }}",
      "mid.html": "{% extends 'base.html' %}{% block body %}<main>{% block content %}mid{% end %}</main>{% end %}",
      "page.html": "XX{% extends 'mid.html' %}YY{% block title %}page{% end %}{% block content %}{% for x in xs %}<i>{{ x }}</i>{% end %}{% end %}ZZ",
    },
    jsFiles: {
      "page.html": "XX{% extends 'mid.html' %}YY{% block title %}page{% end %}{% block content %}{% for x of xs %}<i>{{ x }}</i>{% end %}{% end %}ZZ",
    },
    main: "page.html",
    py: "dict(xs=['a<b', 'c'], who='me')",
    js: { xs: ["a<b", "c"], who: "me" },
  },
  {
    name: "same block name twice: the last wins everywhere",
    files: { "a.txt": "{% block x %}1{% end %}{% block x %}2{% end %}" },
  },
  {
    name: "autoescape per file through include and extends",
    files: {
      "escaped.html": "{% autoescape xhtml_escape %}{{ name }}",
      "unescaped.html": "{% autoescape None %}{{ name }}",
      "default.html": "{{ name }}",
      "unescaped_block.html": "{% autoescape None %}{% block name %}base: {{ name }}{% end %}",
      "over.html": '{% autoescape xhtml_escape %}{% extends "unescaped_block.html" %}{% block name %}extended: {{ name }}{% end %}',
      "a.html": "e: {% include 'escaped.html' %}\nu: {% include 'unescaped.html' %}\nd: {% include 'default.html' %}\n{{ name }}|{% autoescape None %}{{ name }}",
    },
    loader: { autoescape: null },
    py: "dict(name='Bobby <table>s')",
    js: { name: "Bobby <table>s" },
  },
  {
    name: "autoescape: a block's body is escaped by the file that supplied it",
    files: {
      "unescaped_block.html": "{% autoescape None %}{% block name %}base: {{ name }}{% end %}{{ name }}",
      "a.html": '{% autoescape xhtml_escape %}{% extends "unescaped_block.html" %}{% block name %}extended: {{ name }}{% end %}',
    },
    py: "dict(name='<b>')",
    js: { name: "<b>" },
  },
  {
    name: "apply, raw, comments, literal braces",
    files: { "a.txt": "{% apply upper %}a{{ x }}b{% end %} {% raw x %} {# {{ x }} #}{% comment c %}{{! x }} {%! y %} {#! z #} {{{ 1 }}}" },
    py: "dict(upper=lambda s: s.upper(), x='<i>')",
    js: { upper: (s: string) => s.toUpperCase(), x: "<i>" },
  },
  {
    name: "try/except/else/finally, no error",
    files: { "a.txt": "{% try %}\ntry{% set y = 1/x %}\n{% except %}-except\n{% else %}-else\n{% finally %}-finally\n{% end %}" },
    jsFiles: { "a.txt": "{% try %}\ntry{% set y = check(x) %}\n{% except %}-except\n{% else %}-else\n{% finally %}-finally\n{% end %}" },
    py: "dict(x=1)",
    js: { x: 1, check },
  },
  {
    name: "try/except/else/finally, error",
    files: { "a.txt": "{% try %}\ntry{% set y = 1/x %}\n{% except %}-except\n{% else %}-else\n{% finally %}-finally\n{% end %}" },
    jsFiles: { "a.txt": "{% try %}\ntry{% set y = check(x) %}\n{% except %}-except\n{% else %}-else\n{% finally %}-finally\n{% end %}" },
    py: "dict(x=0)",
    js: { x: 0, check },
  },
  {
    name: "text before a failing expression inside try",
    files: { "a.txt": "{% try %}before {{ 1/x }} after{% except %}caught{% end %}" },
    jsFiles: { "a.txt": "{% try %}before {{ check(x) }} after{% except %}caught{% end %}" },
    py: "dict(x=0)",
    js: { x: 0, check },
  },
  {
    name: "whitespace by file name, loader and directive; <pre> chunks",
    files: {
      "foo.html": "   \n\t\n asdf\t   ",
      "baz.txt": "\t    zxcv\n\n",
      "a.html": "  {% include baz.txt %} \n {% include foo.html %}<pre>  a\n\n  b</pre>  {{ 1 }}  x\n\n  y{% whitespace oneline %}\n\n  z  \n{% whitespace all %}  \n\n w",
    },
  },
  {
    name: "whitespace=oneline from the loader",
    files: { "a.html": "\t\tfoo\n\n  {{ 1 }}\n", "b.txt": "x" },
    loader: { whitespace: "oneline" },
  },
  {
    name: "escape helpers in the namespace",
    files: {
      "a.html":
        "{{ url_escape('a b/&') }}|{{ url_escape('a b/', False) }}|{% raw json_encode({'a': [1, 'x</'], 'b': None, 'c': 1.5, 'd': 'é'}) %}|{{ squeeze('  a \\n  b ') }}|{% raw linkify('see http://example.com/a?b=1&c=2 and www.x.org.') %}|{% raw linkify('A http://reallylongdomainnamethatwillbetoolong.com/hi!', shorten=True) %}|{{ escape('<&>') }}|{% raw xhtml_escape('\"') %}",
    },
    jsFiles: {
      "a.html":
        "{{ url_escape('a b/&') }}|{{ url_escape('a b/', false) }}|{% raw json_encode({'a': [1, 'x</'], 'b': null, 'c': 1.5, 'd': 'é'}) %}|{{ squeeze('  a \\n  b ') }}|{% raw linkify('see http://example.com/a?b=1&c=2 and www.x.org.') %}|{% raw linkify('A http://reallylongdomainnamethatwillbetoolong.com/hi!', {shorten: true}) %}|{{ escape('<&>') }}|{% raw xhtml_escape('\"') %}",
    },
  },
  {
    name: "unicode text, literals and bytes values",
    files: { "a.html": "H\u00e9llo {{ '\u00e9\u{1F600}' }} {{ b }} \u4a39" },
    py: "dict(b='\u00e9'.encode('utf-8'))",
    js: { b: utf8("\u00e9") },
  },
  {
    name: "UI module call is raw",
    files: { "a.html": "{% module Hello('<you>') %}" },
    py: "dict(_tt_modules=ObjectDict(Hello=lambda w: '<b>%s</b>' % w))",
    js: { _tt_modules: { Hello: (w: string) => `<b>${w}</b>` } },
  },
  // Bad templates: the same ParseError text (file and line) on both sides.
  ...[
    ["missing end expression", "\n\n{{"],
    ["missing end block", "x{% if"],
    ["missing end comment", "{# x"],
    ["empty expression", "a\n{{  }}"],
    ["empty tag", "{%  %}"],
    ["unclosed if", "x\n{% if 1 %}\ny\n\nz"],
    ["extra end", "{% if 1 %}{% end %}\n{% end %}"],
    ["unknown operator", "\n{% bogus x %}"],
    ["elif on for", "{% for x in y %}{% elif z %}{% end %}"],
    ["else outside", "\n\n{% else %}"],
    ["break outside", "{% if 1 %}\n{% break %}{% end %}"],
    ["break in apply", "{% for i in [] %}{% apply f %}{% break %}{% end %}{% end %}"],
    ["block without name", "{% block %}{% end %}"],
    ["apply without name", "{% apply %}{% end %}"],
    ["extends without path", "{% extends '' %}"],
    ["set without statement", "{% set %}"],
    ["unclosed block inside block", "{% block a %}{% if 1 %}{% end %}"],
    ["multi-line tag", "{% for i in [1]\n %}\n{% bogus %}{% end %}"],
  ].map(([name, source]): Case => ({ name: `ParseError: ${name}`, files: { "a.html": source! } })),
];

function runPython(): { ok?: string; error?: string; type?: string }[] {
  const script = String.raw`
import base64, json, sys
from tornado.template import DictLoader
from tornado.util import ObjectDict
out = []
for case in json.load(sys.stdin):
    try:
        loader = DictLoader(case["files"], **case["loader"])
        ns = eval(case["py"] or "dict()")
        out.append({"ok": base64.b64encode(loader.load(case["main"]).generate(**ns)).decode()})
    except Exception as e:
        out.append({"error": str(e), "type": type(e).__name__})
json.dump(out, sys.stdout)
`;
  const input = cases.map((c) => ({
    files: c.files,
    main: c.main ?? Object.keys(c.files).find((n) => n.startsWith("a.")) ?? Object.keys(c.files)[0],
    py: c.py ?? "",
    loader: c.loader ?? {},
  }));
  const result = spawnSync(PYTHON, ["-c", script], { input: JSON.stringify(input), encoding: "utf-8", timeout: 20_000 });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

function renderJs(c: Case): { ok?: Uint8Array; error?: string } {
  try {
    const loader = new DictLoader({ ...c.files, ...c.jsFiles }, c.loader);
    const main = c.main ?? Object.keys(c.files).find((n) => n.startsWith("a.")) ?? Object.keys(c.files)[0]!;
    return { ok: utf8(loader.load(main).generate(c.js ?? {})) };
  } catch (error) {
    if (error instanceof ParseError) return { error: error.message };
    throw error;
  }
}

/** Python prints sets in hash order: sort the items of `{'a', 'b'}` in messages. */
const sortSets = (message: string) =>
  message.replace(/\{('[^}]*')\}/g, (_, items: string) => `{${items.split(", ").sort().join(", ")}}`);


describe.skipIf(!hasTornado)("differential: our templates vs Tornado 6.2", () => {
  const python = hasTornado ? runPython() : [];

  test.each(cases.map((c, i) => [c.name, i] as const))("%s", (_, i) => {
    const c = cases[i]!;
    const expected = python[i]!;
    const actual = renderJs(c);
    if (expected.error !== undefined) {
      expect(expected.type).toBe("ParseError");
      expect(actual.error, "we rendered a template Tornado rejects").toBeDefined();
      expect(sortSets(actual.error!)).toBe(sortSets(expected.error));
    } else {
      expect(actual.error, actual.error).toBeUndefined();
      expect(Buffer.from(actual.ok!).toString("utf-8")).toBe(Buffer.from(expected.ok!, "base64").toString("utf-8"));
      expect(Buffer.from(actual.ok!).equals(Buffer.from(expected.ok!, "base64"))).toBe(true);
    }
  });

  test("the talk's page is the slide's 32 bytes with the slide's Etag", () => {
    const body = renderJs(cases[0]!).ok!;
    expect(Buffer.from(body).toString()).toBe("<html>\n<h1> hello!</h1>\n</html>\n");
    expect(body.length).toBe(32);
    expect(createHash("sha1").update(body).digest("hex")).toBe("3e7020fdb7b87ef428cbdd140c96217044748c27");
    expect(Buffer.from(python[0]!.ok!, "base64").equals(Buffer.from(body))).toBe(true);
  });
});

/**
 * Random templates built from pieces that mean the same in both languages (a seeded generator, so
 * a failure is reproducible): text with whitespace, newlines and <pre>, expressions, raw,
 * if/elif/else, for (`in` / `of`) with break/continue/else, set, apply, try, comments, whitespace
 * directives, under `.html` (single) and `.txt` (all) names and with autoescape on or off.
 */
type Pair = [string, string];

/** A seeded generator of template pieces that mean the same in Python and JavaScript ([python, javascript]). */
function generator(seed: number, bad = 0) {
  let state = seed >>> 0;
  const rand = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const texts = ["a", "b c", " ", "  ", "\n", "\n\n", "\t", " \t\n  ", "<p>", "</p>", "&amp;", "\u00e9\u4a39", "x\n  y", "<pre>  p\n\n  q</pre>", "{{!", "{%!", "{#!", "}", "%", "#"];
  const same = (s: string): Pair => [s, s];
  const seq = (parts: Pair[]): Pair => [parts.map((p) => p[0]).join(""), parts.map((p) => p[1]).join("")];
  const node = (depth: number, inLoop: boolean): Pair => {
    if (rand() < bad) return same(pick(["{% end %}", "{% else %}", "{% elif 1 %}", "{% except %}", "{{ }}", "{% %}", "{% bogus %}", "{{", "{%", "{#", "{% break %}", "{% block %}", "{% if x %}", "{% extends %}"]));
    const r = rand();
    if (r < 0.35 || depth > 2) return same(pick(texts));
    if (r < 0.5) return same(pick(["{{ x }}", "{{ s }}", "{{ x * 2 }}", "{% raw s %}", '{{ s + "!" }}', "{{ len }}", "{# c {{ x }} #}", "{% comment z %}", "{{ 'q' }}"]));
    if (r < 0.6) return seq([same(`{% if x > ${Math.floor(rand() * 4)} %}`), body(depth, inLoop), same("{% elif x == 1 %}"), body(depth, inLoop), same("{% else %}"), body(depth, inLoop), same("{% end %}")]);
    if (r < 0.72) {
      const head: Pair = ["{% for i in xs %}", "{% for i of xs %}"];
      const brk = same(rand() < 0.5 ? `{% if i == ${Math.floor(rand() * 4)} %}{% ${pick(["break", "continue"])} %}{% end %}` : "");
      const orElse: Pair = rand() < 0.4 ? seq([same("{% else %}"), body(depth, false)]) : same("");
      return seq([head, brk, same("{{ i }}"), body(depth, true), orElse, same("{% end %}")]);
    }
    if (r < 0.78) return same(`{% set n${depth} = x * ${depth + 2} %}{{ n${depth} }}`);
    if (r < 0.84) return seq([same("{% apply upper %}"), body(depth, false), same("{% end %}")]);
    if (r < 0.9) return seq([same("{% try %}"), body(depth, inLoop), same(rand() < 0.5 ? "{{ boom() }}" : ""), same("{% except %}E"), body(depth, inLoop), same("{% end %}")]);
    if (r < 0.95) return same(`{% whitespace ${pick(["all", "single", "oneline"])} %}`);
    return inLoop ? same(pick(["{% break %}", "{% continue %}"])) : same(pick(texts));
  };
  const body = (depth: number, inLoop: boolean): Pair => seq(Array.from({ length: 1 + Math.floor(rand() * 4) }, () => node(depth + 1, inLoop)));
  return { rand, pick, same, seq, body };
}

function randomTemplates(count: number, seed: number, bad = 0): { py: string; js: string; name: string; autoescape: boolean }[] {
  const { rand, body } = generator(seed, bad);
  return Array.from({ length: count }, () => {
    const [py, js] = body(0, false);
    return { py, js, name: rand() < 0.5 ? "r.html" : "r.txt", autoescape: rand() < 0.7 };
  });
}

describe.skipIf(!hasTornado)("differential: random templates vs Tornado 6.2", () => {
  // TEMPLATE_FUZZ_SEED / TEMPLATE_FUZZ_COUNT explore further (the default run is fixed and quick).
  const templates = randomTemplates(Number(process.env.TEMPLATE_FUZZ_COUNT ?? 400), Number(process.env.TEMPLATE_FUZZ_SEED ?? 20111125));
  const script = String.raw`
import base64, json, sys
from tornado.template import Template
def boom():
    raise ValueError("boom")
out = []
for t in json.load(sys.stdin):
    ns = dict(x=2, s='<a href="u">&</a>', xs=[0, 1, 2, 3], len=3, upper=lambda b: b.decode("utf-8").upper(), boom=boom)
    try:
        tmpl = Template(t["py"], name=t["name"], autoescape="xhtml_escape" if t["autoescape"] else None)
        out.append({"ok": base64.b64encode(tmpl.generate(**ns)).decode()})
    except Exception as e:
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
json.dump(out, sys.stdout)
`;
  const python: { ok?: string; error?: string }[] = hasTornado
    ? JSON.parse(spawnSync(PYTHON, ["-c", script], { input: JSON.stringify(templates), encoding: "utf-8", timeout: 30_000 }).stdout)
    : [];

  test("every random template renders to Tornado's bytes", async () => {
    const { Template } = await import("./template.js");
    const ns = {
      x: 2,
      s: '<a href="u">&</a>',
      xs: [0, 1, 2, 3],
      len: 3,
      upper: (s: string) => s.toUpperCase(),
      boom: () => {
        throw new Error("boom");
      },
    };
    expect(python).toHaveLength(templates.length);
    let compared = 0;
    templates.forEach((t, i) => {
      const expected = python[i]!;
      let actual: string;
      try {
        actual = new Template(t.js, { name: t.name, autoescape: t.autoescape ? "xhtml_escape" : null }).generate(ns);
      } catch (error) {
        actual = `error: ${String(error)}`;
      }
      const context = `template #${i} (${t.name}, autoescape ${t.autoescape}):\n${t.py}`;
      expect(expected.error, context).toBeUndefined();
      expect(actual, context).toBe(Buffer.from(expected.ok!, "base64").toString("utf-8"));
      compared++;
    });
    expect(compared).toBe(templates.length);
  });
});

describe.skipIf(!hasTornado)("differential: random broken templates vs Tornado 6.2", () => {
  const templates = randomTemplates(Number(process.env.TEMPLATE_FUZZ_COUNT ?? 400), Number(process.env.TEMPLATE_FUZZ_SEED ?? 1125) + 1, 0.08);
  const script = String.raw`
import base64, json, sys
from tornado.template import Template, ParseError
def boom():
    raise ValueError("boom")
out = []
for t in json.load(sys.stdin):
    ns = dict(x=2, s='<a href="u">&</a>', xs=[0, 1, 2, 3], len=3, upper=lambda b: b.decode("utf-8").upper(), boom=boom)
    try:
        tmpl = Template(t["py"], name=t["name"], autoescape="xhtml_escape" if t["autoescape"] else None)
    except ParseError as e:
        out.append({"parseError": str(e)})
        continue
    except Exception as e:
        out.append({"compileError": "%s: %s" % (type(e).__name__, e)})
        continue
    out.append({"ok": base64.b64encode(tmpl.generate(**ns)).decode()})
json.dump(out, sys.stdout)
`;
  const python: { ok?: string; parseError?: string; compileError?: string }[] = hasTornado
    ? JSON.parse(spawnSync(PYTHON, ["-c", script], { input: JSON.stringify(templates), encoding: "utf-8", timeout: 30_000 }).stdout)
    : [];

  test("each fails like Tornado (same ParseError text), or renders the same bytes", async () => {
    const { Template } = await import("./template.js");
    const ns = { x: 2, s: '<a href="u">&</a>', xs: [0, 1, 2, 3], len: 3, upper: (s: string) => s.toUpperCase(), boom: () => { throw new Error("boom"); } };
    const counts = { parseError: 0, compileError: 0, ok: 0 };
    templates.forEach((t, i) => {
      const expected = python[i]!;
      const context = `template #${i} (${t.name}):\n${t.py}\nTornado: ${JSON.stringify(expected).slice(0, 300)}`;
      let template: InstanceType<typeof Template> | null = null;
      let error: unknown = null;
      try {
        template = new Template(t.js, { name: t.name, autoescape: t.autoescape ? "xhtml_escape" : null });
      } catch (e) {
        error = e;
      }
      if (expected.parseError !== undefined) {
        counts.parseError++;
        expect(error, context).toBeInstanceOf(ParseError);
        expect(sortSets((error as ParseError).message), context).toBe(sortSets(expected.parseError));
      } else if (expected.compileError !== undefined) {
        // Tornado lets Python's compiler find these (a SyntaxError); we report a ParseError.
        counts.compileError++;
        expect(error, context).toBeInstanceOf(ParseError);
      } else {
        counts.ok++;
        expect(error, context).toBeNull();
        expect(template!.generate(ns), context).toBe(Buffer.from(expected.ok!, "base64").toString("utf-8"));
      }
    });
    // The generator must actually exercise all three outcomes.
    expect(counts.parseError).toBeGreaterThan(templates.length / 10);
    expect(counts.ok).toBeGreaterThan(10);
  });
});

/**
 * Random sets of files: a base with blocks (nested, in loops) and includes, a child that extends
 * it and overrides some blocks (with text outside blocks, which must vanish), included files with
 * their own whitespace mode (by extension) and autoescape directive.
 */
function randomFileSets(count: number, seed: number): { py: Record<string, string>; js: Record<string, string> }[] {
  const { rand, pick, same, seq, body } = generator(seed);
  const ext = () => pick([".html", ".txt"]);
  return Array.from({ length: count }, () => {
    const names = { base: "base" + ext(), child: "child" + ext(), inc: "parts/inc" + ext(), inc2: "parts/inc2" + ext() };
    const autoescape = (): Pair => same(rand() < 0.3 ? "{% autoescape None %}" : "");
    const block = (n: number, depth: number, inLoop: boolean): Pair => seq([same(`{% block b${n} %}`), body(depth, inLoop), same("{% end %}")]);
    const baseParts: Pair[] = [autoescape()];
    for (let i = 0; i < 3; i++) {
      baseParts.push(body(1, false));
      const r = rand();
      if (r < 0.5) baseParts.push(block(i, 1, false));
      else if (r < 0.7) baseParts.push(seq([["{% for i in xs %}", "{% for i of xs %}"], block(i, 2, true), same("{% end %}")]));
      else baseParts.push(seq([same(`{% block b${i} %}`), body(2, false), block(i + 3, 2, false), same("{% end %}")]));
      if (rand() < 0.5) baseParts.push(same(`{% include '${pick(["parts/inc", "./parts/inc"])}${names.inc.slice(9)}' %}`));
    }
    const childParts: Pair[] = [autoescape(), same("XX"), same(`{% extends "${names.base}" %}`), same("YY \n ")];
    for (let i = 0; i < 6; i++) if (rand() < 0.5) childParts.push(block(i, 1, false), same(pick(["ZZ", "\n", ""])));
    const inc = seq([autoescape(), body(1, false), same(rand() < 0.5 ? `{% include 'inc2${names.inc2.slice(10)}' %}` : ""), body(2, false)]);
    const inc2 = seq([body(1, false), same(`{% set shared = x * 7 %}`)]);
    const files: [string, Pair][] = [
      [names.base, seq(baseParts)],
      [names.child, seq(childParts)],
      [names.inc, inc],
      [names.inc2, inc2],
    ];
    return {
      py: Object.fromEntries(files.map(([n, p]) => [n, p[0]])),
      js: Object.fromEntries(files.map(([n, p]) => [n, p[1]])),
    };
  });
}

describe.skipIf(!hasTornado)("differential: random extends/block/include file sets vs Tornado 6.2", () => {
  const sets = randomFileSets(Number(process.env.TEMPLATE_FUZZ_COUNT ?? 200), Number(process.env.TEMPLATE_FUZZ_SEED ?? 2011) + 2);
  const script = String.raw`
import base64, json, sys
from tornado.template import DictLoader
def boom():
    raise ValueError("boom")
out = []
for files in json.load(sys.stdin):
    ns = dict(x=2, s='<a href="u">&</a>', xs=[0, 1, 2, 3], len=3, upper=lambda b: b.decode("utf-8").upper(), boom=boom)
    loader = DictLoader(files)
    child = [n for n in files if n.startswith("child")][0]
    try:
        out.append({"ok": base64.b64encode(loader.load(child).generate(**ns)).decode()})
    except Exception as e:
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
json.dump(out, sys.stdout)
`;
  const python: { ok?: string; error?: string }[] = hasTornado
    ? JSON.parse(spawnSync(PYTHON, ["-c", script], { input: JSON.stringify(sets.map((s) => s.py)), encoding: "utf-8", timeout: 30_000 }).stdout)
    : [];

  test("every file set renders the child to Tornado's bytes", () => {
    const ns = { x: 2, s: '<a href="u">&</a>', xs: [0, 1, 2, 3], len: 3, upper: (s: string) => s.toUpperCase(), boom: () => { throw new Error("boom"); } };
    expect(python).toHaveLength(sets.length);
    sets.forEach((set, i) => {
      const expected = python[i]!;
      const child = Object.keys(set.js).find((n) => n.startsWith("child"))!;
      const context = `set #${i}:\n${Object.entries(set.py).map(([n, t]) => `--- ${n}\n${t}`).join("\n")}\nTornado: ${JSON.stringify(expected).slice(0, 300)}`;
      expect(expected.error, context).toBeUndefined();
      expect(new DictLoader(set.js).load(child).generate(ns), context).toBe(Buffer.from(expected.ok!, "base64").toString("utf-8"));
    });
  });
});
