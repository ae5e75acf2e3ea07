/**
 * The JavaScript side of the template language (what Tornado's own tests cannot cover: `of`
 * loops, destructuring, for/else, except clauses, value conversion), bad templates (each a
 * ParseError naming file and line, at load time), and the loaders' path rules on both platforms.
 */
import { afterEach, describe, expect, test } from "vitest";
import { createMemoryPlatform } from "./platform/memory.js";
import { setPlatform, type Platform } from "./platform/index.js";
import { DictLoader, Loader, ParseError, Template, filterWhitespace } from "./template.js";

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error("expected a ParseError");
}

const render = (source: string, ns: Record<string, unknown> = {}, name = "t.txt") => new Template(source, { name }).generate(ns);

describe("JavaScript expressions and statements", () => {
  test("for ... of with destructuring, and a C-style head", () => {
    expect(render("{% for [k, v] of Object.entries(o) %}{{ k }}={{ v }};{% end %}", { o: { a: 1, b: 2 } })).toBe("a=1;b=2;");
    expect(render("{% for {name} of people %}{{ name }} {% end %}", { people: [{ name: "x" }, { name: "y" }] })).toBe("x y ");
    expect(render("{% for (let i = 0; i < 3; i++) %}{{ i }}{% end %}")).toBe("012");
  });

  test("a loop's else runs unless the loop breaks (Python's rule), also when it is empty", () => {
    const t = new Template("{% for x of xs %}{{ x }}{% if x == stop %}{% break %}{% end %}{% else %}|else{% end %}");
    expect(t.generate({ xs: [1, 2, 3], stop: 9 })).toBe("123|else");
    expect(t.generate({ xs: [1, 2, 3], stop: 2 })).toBe("12");
    expect(t.generate({ xs: [], stop: 0 })).toBe("|else");
    const w = new Template("{% set i = 0 %}{% while i < n %}{% set i += 1 %}{% if i == 3 %}{% break %}{% end %}{% else %}done{% end %}{{ i }}");
    expect(w.generate({ n: 2 })).toBe("done2");
    expect(w.generate({ n: 5 })).toBe("3");
  });

  test("break/continue in a loop's else clause belong to the enclosing loop (Python's rule)", () => {
    const t = new Template("{% for a of [1, 2, 3] %}{{ a }}{% for b of [] %}{% else %}{% if a == 2 %}{% break %}{% end %}{% end %}{% else %}!{% end %}");
    expect(t.generate()).toBe("12");
    expect(parseError(() => new Template("{% for b of [] %}{% else %}\n{% break %}{% end %}")).message).toBe(
      "break outside {'for', 'while'} block at <string>:2",
    );
  });

  test("continue and nested loops with else", () => {
    const t = new Template(
      "{% for a of [1, 2] %}{% for b of [1, 2, 3] %}{% if b == 2 %}{% continue %}{% end %}{% if a == 2 %}{% break %}{% end %}{{ a }}{{ b }} {% else %}(inner done) {% end %}{% else %}(outer done){% end %}",
    );
    expect(t.generate()).toBe("11 13 (inner done) (outer done)");
  });

  test("set: assignment operators, destructuring, visibility after loops and in included templates", () => {
    expect(render("{% set n = 1 %}{% set n += 2 %}{% set n *= 5 %}{{ n }}")).toBe("15");
    expect(render("{% set [a, b] = [1, 2] %}{{ a + b }}")).toBe("3");
    expect(render("{% set {x, y: z} = o %}{{ x }}{{ z }}", { o: { x: 1, y: 2 } })).toBe("12");
    expect(render("{% for i of [1, 2] %}{% set last = i %}{% end %}{{ last }}")).toBe("2");
    const loader = new DictLoader({
      "page.html": "{% set who = 'world' %}{% include 'hello.html' %} {{ seen }}",
      "hello.html": "hello {{ who }}{% set seen = 'yes' %}",
    });
    expect(loader.load("page.html").generate()).toBe("hello world yes");
    // A name set by the template shadows the namespace value for the rest of the render.
    expect(render("{{ x }}{% set x = 2 %}{{ x }}", { x: 1 })).toBe("12");
  });

  test("try/except: catch-all, binding, typed clauses, rethrow", () => {
    const t = new Template(
      "{% try %}{{ f() }}{% except TypeError as e %}T:{{ e.message }}{% except RangeError as e %}R:{{ e.message }}{% end %}",
    );
    expect(t.generate({ f: () => "ok" })).toBe("ok");
    expect(t.generate({ f: () => { throw new TypeError("t"); } })).toBe("T:t");
    expect(t.generate({ f: () => { throw new RangeError("r"); } })).toBe("R:r");
    expect(() => t.generate({ f: () => { throw new SyntaxError("s"); } })).toThrow(SyntaxError);
    expect(render("{% try %}a{{ null.x }}b{% except e %}[{{ e.constructor.name }}]{% end %}")).toBe("a[TypeError]");
    expect(render("{% try %}{{ null.x }}{% except TypeError as e %}typed{% except %}all{% end %}")).toBe("typed");
    expect(render("{% try %}{{ f() }}{% except TypeError as e %}typed{% except %}all{% end %}", { f: () => { throw 1; } })).toBe("all");
    expect(render("{% try %}x{% finally %}y{% end %}")).toBe("xy");
    expect(render("{% try %}x{% except %}e{% else %}-else{% end %}")).toBe("x-else");
  });

  test("text before a failing expression stays in the output (as Tornado's appends)", () => {
    expect(render("{% try %}before {{ null.x }} after{% except %}caught{% end %}")).toBe("before caught");
  });

  test("apply, raw, module, comments, and literal braces", () => {
    expect(render("{% apply upper %}a{{ x }}b{% end %}", { upper: (s: string) => s.toUpperCase(), x: "<i>" })).toBe("A&LT;I&GT;B");
    expect(render("{% raw x %}{{ x }}", { x: "<i>" })).toBe("<i>&lt;i&gt;");
    expect(render("{% module Hello('you') %}", { _tt_modules: { Hello: (w: string) => `<b>${w}</b>` } })).toBe("<b>you</b>");
    expect(render("a{# {{ x }} {% if %} #}b{% comment anything %}c")).toBe("abc");
    expect(render("{{{ 1 }}}")).toBe("{1}");
    expect(render("{{ x // a trailing comment\n}}", { x: 5 })).toBe("5");
  });

  test("multi-line template literals and line separators keep their text and the error lines", () => {
    expect(render("{{ `a\n    b` }}|{% raw `<\n  >` %}")).toBe("a\n    b|<\n  >");
    expect(render("x\u2028y\u2029z{{ '\u2028' }}")).toBe("x\u2028y\u2029z\u2028");
    const t = new Template("a\u2028{{ `1\n2` }}\r\n{{ '\u2029' }}\n{{ null.x }}", { name: "lines.txt" });
    let error: unknown;
    try {
      t.generate();
    } catch (e) {
      error = e;
    }
    expect((error as { templateStack?: string[] }).templateStack).toEqual(["lines.txt:4"]);
  });

  test("values become text as JavaScript's String(), bytes as UTF-8", () => {
    const ns = { n: null, u: undefined, t: true, l: [1, "a"], o: {}, b: new TextEncoder().encode("\u00e9"), f: 1.5 };
    expect(render("{{ n }} {{ u }} {{ t }} {{ l }} {{ o }} {{ b }} {{ f }}", ns)).toBe("null undefined true 1,a [object Object] \u00e9 1.5");
  });

  test("default namespace: escape, xhtml_escape, url_escape, json_encode, squeeze, linkify", () => {
    expect(render("{{ escape('<a>') }}", {}, "x.txt")).toBe("&amp;lt;a&amp;gt;"); // escaped twice: once by autoescape
    expect(render("{% raw xhtml_escape(\"'\") %} {% raw url_escape('a b/') %} {% raw url_escape('a b/', false) %}")).toBe(
      "&#x27; a+b%2F a%20b/",
    );
    expect(render("{% raw json_encode({a: [1, 'x</'], b: null}) %}")).toBe('{"a": [1, "x<\\/"], "b": null}');
    expect(render("{{ squeeze('  a   b ') }}|{% raw linkify('see http://x.com') %}")).toBe(
      'a b|see <a href="http://x.com">http://x.com</a>',
    );
  });

  test("autoescape: Template option, loader option, directive with None or null", () => {
    expect(new Template("{{ x }}", { autoescape: null }).generate({ x: "<" })).toBe("<");
    expect(new Template("{{ x }}", { autoescape: "up" }).generate({ x: "a", up: (s: string) => s.toUpperCase() })).toBe("A");
    expect(render("{% autoescape null %}{{ x }}", { x: "<" })).toBe("<");
    expect(render("{{ x }}|{% autoescape None %}{{ x }}", { x: "<b>" })).toBe("<b>|<b>"); // whole file, last wins
  });

  test("whitespace: modes, <pre> chunks untouched, the talk's index.html", () => {
    expect(filterWhitespace("single", "a \t b\n\n  c")).toBe("a b\nc");
    expect(filterWhitespace("oneline", "a \n\t b")).toBe("a b");
    expect(new Template("<pre>  a\n\n  b</pre>  {{ 1 }}  x\n\n  y", { name: "p.html" }).generate()).toBe("<pre>  a\n\n  b</pre>  1 x\ny");
    const index = "<html>\n    <h1> {{ msg }}</h1>\n</html>\n";
    expect(new Template(index, { name: "index.html" }).generate({ msg: "hello!" })).toBe("<html>\n<h1> hello!</h1>\n</html>\n");
    expect(() => new Template("x", { whitespace: "none" as "all" })).toThrow(/invalid whitespace mode none/);
  });

  test("the compiled function is built once per set of namespace names and reused", () => {
    const t = new Template("{{ a }}");
    const compile = (t as unknown as { compile: (keys: string[]) => unknown }).compile.bind(t);
    let compiles = 0;
    (t as unknown as { compile: (keys: string[]) => unknown }).compile = (keys) => (compiles++, compile(keys));
    for (let i = 0; i < 5; i++) expect(t.generate({ a: i })).toBe(String(i));
    expect(compiles).toBe(1);
    expect(t.generate({ a: 1, b: 2 })).toBe("1");
    expect(compiles).toBe(2);
  });
});

describe("bad templates: ParseError with file and line, at load time", () => {
  const cases: [string, Record<string, string>, string][] = [
    // Tornado names the line where the last tag ended (checked against Tornado 6.2).
    ["unclosed block", { "a.html": "x\n{% if true %}\ny\n\nz" }, "Missing {% end %} block for if at a.html:2"],
    ["unclosed for", { "a.html": "{% for x of [] %}" }, "Missing {% end %} block for for at a.html:1"],
    ["one end too many", { "a.html": "{% if 1 %}{% end %}\n{% end %}" }, "Extra {% end %} block at a.html:2"],
    ["unknown directive", { "a.html": "\n{% bogus %}" }, "unknown operator: 'bogus' at a.html:2"],
    ["break outside a loop", { "a.html": "{% if 1 %}\n{% break %}{% end %}" }, "break outside {'for', 'while'} block at a.html:2"],
    ["continue outside a loop", { "a.html": "{% continue %}" }, "continue outside {'for', 'while'} block at a.html:1"],
    ["elif on a for", { "a.html": "{% for x of y %}{% elif z %}{% end %}" }, "elif block cannot be attached to for block at a.html:1"],
    ["else at top level", { "a.html": "{% else %}" }, "else outside {'if', 'for', 'while', 'try'} block at a.html:1"],
    ["else twice", { "a.html": "{% if a %}{% else %}\n{% else %}{% end %}" }, "else block cannot follow else in if block at a.html:2"],
    ["try without except or finally", { "a.html": "{% try %}x{% end %}" }, "try block needs an except or finally block at a.html:1"],
    ["catch-all except before a typed one", { "a.html": "{% try %}{% except %}\n{% except E as e %}{% end %}" }, "an except block that catches everything must be the last except at a.html:2"],
    ["missing end expression", { "a.html": "\n\n{{" }, "Missing end expression }} at a.html:3"],
    ["missing end block", { "a.html": "{%" }, "Missing end block %} at a.html:1"],
    ["missing end comment", { "a.html": "{# x" }, "Missing end comment #} at a.html:1"],
    ["empty expression", { "a.html": "{{ }}" }, "Empty expression at a.html:1"],
    ["empty tag", { "a.html": "{% %}" }, "Empty block tag ({% %}) at a.html:1"],
    ["for ... in", { "a.html": "{% for x in xs %}{% end %}" }, "for ... in walks keys in JavaScript; write 'for x of items' to loop over values at a.html:1"],
    ["import", { "a.html": "{% import os %}" }, "import is not supported in JavaScript templates; pass what the template needs in its namespace at a.html:1"],
    ["bad whitespace mode", { "a.html": "\n{% whitespace tabs %}" }, "invalid whitespace mode tabs at a.html:2"],
    ["missing include", { "a.html": "x\n{% include 'nope.html' %}" }, "Template 'nope.html' not found (nope.html) at a.html:2"],
    ["missing parent", { "a.html": "{% extends 'nope.html' %}" }, "Template 'nope.html' not found (nope.html) at a.html:1"],
    ["extends cycle", { "a.html": "{% extends 'b.html' %}", "b.html": "\n{% extends 'a.html' %}" }, "{% extends %} cycle: a.html -> b.html -> a.html at b.html:2"],
    ["include cycle", { "a.html": "{% include 'b.html' %}", "b.html": "{% include 'a.html' %}" }, "{% include %} cycle: a.html -> b.html -> a.html at b.html:1"],
    ["self include", { "a.html": "{% if false %}{% include 'a.html' %}{% end %}" }, "{% include %} cycle: a.html -> a.html at a.html:1"],
    ["include climbing out of the root", { "a.html": "{% include '../secret.html' %}" }, "Template name '../secret.html' is outside the template root at a.html:1"],
    ["JavaScript syntax error in an expression", { "a.html": "ok\n{{ 1 + }}" }, "Unexpected token ')' in '(1 +\\n);' at a.html:2"],
    ["JavaScript syntax error in a condition", { "a.html": "\n\n{% if a b %}{% end %}" }, "at a.html:3"],
    ["syntax error inside an included file", { "a.html": "{% include 'b.html' %}", "b.html": "\n{% set = 1 %}" }, "at b.html:2"],
    ["including a template that extends", { "a.html": "{% include 'b.html' %}", "b.html": "\n{% extends 'c.html' %}", "c.html": "c" }, "{% extends %} only works at the top level of the template being rendered, not in an included file or a block at b.html:2"],
    ["break in a block whose loop is not rendered", { "base.html": "{% block b %}{% end %}", "a.html": "{% extends 'base.html' %}{% for x of [] %}{% block b %}\n{% break %}{% end %}{% end %}" }, "break outside {'for', 'while'} block at a.html:2"],
  ];
  test.each(cases)("%s", (_, files, message) => {
    const loader = new DictLoader(files);
    const error = parseError(() => loader.load("a.html"));
    if (message.startsWith("at ")) expect(error.message.endsWith(message), error.message).toBe(true);
    else expect(error.message).toBe(message);
    expect(error.filename).toBe(/ at ([^: ]+):\d+$/.exec(" " + message)![1]);
  });

  test("a source that is not text, or bytes that are not UTF-8, is refused clearly", () => {
    expect(() => new Template(42 as unknown as string)).toThrow("Template source must be a string or UTF-8 bytes, got number");
    expect(parseError(() => new DictLoader({ "b.html": new Uint8Array([0x61, 0xff]) as unknown as string }).load("b.html")).message).toBe(
      "template is not valid UTF-8 at b.html:0",
    );
  });

  test("the error names the file even for a Template without a loader", () => {
    expect(parseError(() => new Template("{% extends 'b.html' %}", { name: "x.html" })).message).toBe(
      "{% extends %} block found, but no template loader at x.html:1",
    );
    expect(parseError(() => new Template("a\n{% include 'b.html' %}")).message).toBe(
      "{% include %} block found, but no template loader at <string>:2",
    );
  });

  test("a failed load caches nothing and the loader keeps working", () => {
    const files: Record<string, string> = { "a.html": "{% include 'b.html' %}" };
    const loader = new DictLoader(files);
    expect(() => loader.load("a.html")).toThrow(ParseError);
    files["b.html"] = "B";
    expect(loader.load("a.html").generate()).toBe("B");
    expect(parseError(() => loader.load("zzz.html")).message).toBe("Template 'zzz.html' not found (zzz.html) at zzz.html:0");
  });
});

describe("loaders", () => {
  let previous: Platform | null = null;
  afterEach(() => {
    if (previous) setPlatform(previous);
    previous = null;
  });

  test("Loader reads through the platform's file system, relative to its cwd (memory platform)", () => {
    const memory = createMemoryPlatform({
      cwd: "/app",
      files: {
        "templates/index.html": "<html>\n    <h1> {{ msg }}</h1>\n</html>\n",
        "templates/page/child.html": "{% extends '../base.html' %}{% block b %}child{% end %}",
        "templates/base.html": "[{% block b %}{% end %}]",
        "secret.txt": "s3cret",
      },
    });
    previous = setPlatform(memory);
    const loader = new Loader("templates");
    expect(loader.load("index.html").generate({ msg: "hello!" })).toBe("<html>\n<h1> hello!</h1>\n</html>\n");
    expect(loader.load("page/child.html").generate()).toBe("[child]");
    expect(loader.load("./page/../index.html")).toBe(loader.load("index.html"));
    expect(new Loader("/app/templates").load("/app/templates/base.html").generate()).toBe("[]");
    for (const name of ["../secret.txt", "/app/secret.txt", "page/../../secret.txt", "/etc/passwd"]) {
      expect(parseError(() => loader.load(name)).message).toMatch(/is outside the template root/);
    }
  });

  test("load caches; reset() forgets; templates see the loader namespace", () => {
    const files: Record<string, string> = { "a.txt": "{{ greet }} 1" };
    const loader = new DictLoader(files, { namespace: { greet: "hi" } });
    const first = loader.load("a.txt");
    expect(loader.load("a.txt")).toBe(first);
    files["a.txt"] = "{{ greet }} 2";
    expect(loader.load("a.txt").generate()).toBe("hi 1");
    loader.reset();
    expect(loader.load("a.txt").generate()).toBe("hi 2");
    expect(loader.load("a.txt").generate({ greet: "yo" })).toBe("yo 2");
  });

  test("DictLoader resolves relative names against the including template", () => {
    const loader = new DictLoader({ "a/b/c.html": "{% include '../d.html' %}", "a/d.html": "{% include '/x.html' %}", "/x.html": "x" });
    expect(loader.resolvePath("../d.html", "a/b/c.html")).toBe("a/d.html");
    expect(loader.load("a/b/c.html").generate()).toBe("x");
  });
});
