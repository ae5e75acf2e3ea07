/**
 * Tornado 6.2's tornado/test/template_test.py, translated to the JavaScript flavour of the language.
 *
 * Translation rules: Python expressions become JavaScript (`for i in range(10)` → `for i of range(10)`
 * with a `range` helper passed in the namespace; `1/0`, which is Infinity in JavaScript, becomes
 * `null.x`, which throws); keyword arguments become an options object; `generate()` returns a string,
 * so expected bytes are compared as text (plus one check that the UTF-8 of the result is right).
 *
 * Not translated:
 * - test_no_inherit_future: skipped in Tornado itself (Python `__future__` imports; nothing to port).
 * - test_bytes_apply: the `apply` function receives a string here (Python passes bytes); returning
 *   bytes is still accepted and decoded, which is what the adapted test checks.
 * - test_custom_escape asserts that the escape function receives `bytes`; here it receives the
 *   text as a string, and a list renders with JavaScript's String() (`not a string`), not Python's repr.
 * - test_custom_parse_error: `new ParseError("asdf")` reads "asdf at null:0" (JavaScript's null for
 *   Python's None).
 * - The traceback tests check `error.stack` and `error.templateStack` instead of
 *   `traceback.format_exc()`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { toUnicode, utf8 } from "./escape.js";
import { DictLoader, Loader, ParseError, Template, type TemplateRuntimeError } from "./template.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Runs fn, which must throw, and returns the error. */
function thrown(fn: () => unknown): TemplateRuntimeError {
  try {
    fn();
  } catch (error) {
    return error as TemplateRuntimeError;
  }
  throw new Error("did not get expected exception");
}

describe("TemplateTest", () => {
  test("simple", () => {
    const template = new Template("Hello {{ name }}!");
    expect(template.generate({ name: "Ben" })).toBe("Hello Ben!");
  });

  test("bytes", () => {
    const template = new Template("Hello {{ name }}!");
    expect(template.generate({ name: utf8("Ben") })).toBe("Hello Ben!");
  });

  test("expressions", () => {
    const template = new Template("2 + 2 = {{ 2 + 2 }}");
    expect(template.generate()).toBe("2 + 2 = 4");
  });

  test("comment", () => {
    const template = new Template("Hello{# TODO i18n #} {{ name }}!");
    expect(template.generate({ name: utf8("Ben") })).toBe("Hello Ben!");
  });

  test("include", () => {
    const loader = new DictLoader({
      "index.html": '{% include "header.html" %}\nbody text',
      "header.html": "header text",
    });
    expect(loader.load("index.html").generate()).toBe("header text\nbody text");
  });

  test("extends", () => {
    const loader = new DictLoader({
      "base.html": `<title>{% block title %}default title{% end %}</title>
<body>{% block body %}default body{% end %}</body>
`,
      "page.html": `{% extends "base.html" %}
{% block title %}page title{% end %}
{% block body %}page body{% end %}
`,
    });
    expect(loader.load("page.html").generate()).toBe("<title>page title</title>\n<body>page body</body>\n");
  });

  test("relative load", () => {
    const loader = new DictLoader({
      "a/1.html": "{% include '2.html' %}",
      "a/2.html": "{% include '../b/3.html' %}",
      "b/3.html": "ok",
    });
    expect(loader.load("a/1.html").generate()).toBe("ok");
  });

  test("escaping", () => {
    expect(() => new Template("{{")).toThrow(ParseError);
    expect(() => new Template("{%")).toThrow(ParseError);
    expect(new Template("{{!").generate()).toBe("{{");
    expect(new Template("{%!").generate()).toBe("{%");
    expect(new Template("{#!").generate()).toBe("{#");
    expect(new Template("{{ 'expr' }} {{!jquery expr}}").generate()).toBe("expr {{jquery expr}}");
  });

  test("unicode template", () => {
    const template = new Template(utf8("\u00e9"));
    expect(template.generate()).toBe("\u00e9");
    expect(utf8(template.generate())).toEqual(new Uint8Array([0xc3, 0xa9]));
  });

  test("unicode literal expression", () => {
    // Unicode characters written directly in the (UTF-8) template file.
    const template = new Template(utf8('{{ "\u00e9" }}'));
    expect(template.generate()).toBe("\u00e9");
  });

  test("custom namespace", () => {
    const loader = new DictLoader({ "test.html": "{{ inc(5) }}" }, { namespace: { inc: (x: number) => x + 1 } });
    expect(loader.load("test.html").generate()).toBe("6");
  });

  test("apply", () => {
    const upper = (s: string) => s.toUpperCase();
    const template = new Template(utf8("{% apply upper %}foo{% end %}"));
    expect(template.generate({ upper })).toBe("FOO");
  });

  test("unicode apply", () => {
    const upper = (s: string) => toUnicode(s).toUpperCase();
    const template = new Template(utf8("{% apply upper %}foo \u00e9{% end %}"));
    expect(template.generate({ upper })).toBe("FOO \u00c9");
  });

  test("bytes apply", () => {
    const upper = (s: string) => utf8(toUnicode(s).toUpperCase());
    const template = new Template(utf8("{% apply upper %}foo \u00e9{% end %}"));
    expect(template.generate({ upper })).toBe("FOO \u00c9");
  });

  test("if", () => {
    const template = new Template(utf8("{% if x > 4 %}yes{% else %}no{% end %}"));
    expect(template.generate({ x: 5 })).toBe("yes");
    expect(template.generate({ x: 3 })).toBe("no");
  });

  test("if empty body", () => {
    const template = new Template(utf8("{% if true %}{% else %}{% end %}"));
    expect(template.generate()).toBe("");
  });

  test("try", () => {
    // 1/x divides by zero in Python; here `check(x)` throws for 0.
    const template = new Template(
      utf8(`{% try %}
try{% set y = check(x) %}
{% except %}-except
{% else %}-else
{% finally %}-finally
{% end %}`),
    );
    const check = (x: number) => {
      if (x === 0) throw new RangeError("division by zero");
      return 1 / x;
    };
    expect(template.generate({ x: 1, check })).toBe("\ntry\n-else\n-finally\n");
    expect(template.generate({ x: 0, check })).toBe("\ntry-except\n-finally\n");
  });

  test("comment directive", () => {
    const template = new Template(utf8("{% comment blah blah %}foo"));
    expect(template.generate()).toBe("foo");
  });

  test("break continue", () => {
    const template = new Template(
      utf8(`{% for i of range(10) %}
    {% if i == 2 %}
        {% continue %}
    {% end %}
    {{ i }}
    {% if i == 6 %}
        {% break %}
    {% end %}
{% end %}`),
    );
    // remove extraneous whitespace
    const result = template.generate({ range }).split(/\s+/).join("");
    expect(result).toBe("013456");
  });

  test("break outside loop", () => {
    expect(() => new Template(utf8("{% break %}"))).toThrow(ParseError);
  });

  test("break in apply", () => {
    // apply's body is a nested function, so a break in it is outside the loop (as in Tornado).
    expect(() => new Template(utf8("{% for i of [] %}{% apply foo %}{% break %}{% end %}{% end %}"))).toThrow(ParseError);
  });

  test("non-ascii name", () => {
    const loader = new DictLoader({ "t\u00e9st.html": "hello" });
    expect(loader.load("t\u00e9st.html").generate()).toBe("hello");
  });
});

describe("StackTraceTest", () => {
  test("error line number: expression", () => {
    const loader = new DictLoader({
      "test.html": `one
two{{null.x}}
three
        `,
    });
    const error = thrown(() => loader.load("test.html").generate());
    expect(error).toBeInstanceOf(TypeError);
    expect(error.stack).toContain("# test.html:2");
    expect(error.templateStack).toEqual(["test.html:2"]);
  });

  test("error line number: directive", () => {
    const loader = new DictLoader({
      "test.html": `one
two{%if null.x%}
three{%end%}
        `,
    });
    const error = thrown(() => loader.load("test.html").generate());
    expect(error).toBeInstanceOf(TypeError);
    expect(error.stack).toContain("# test.html:2");
  });

  test("error line number: module", () => {
    let loader: DictLoader | null = null;
    const loadGenerate = (path: string, kwargs?: Record<string, unknown>) => loader!.load(path).generate(kwargs);
    loader = new DictLoader(
      { "base.html": "{% module Template('sub.html') %}", "sub.html": "{{null.x}}" },
      { namespace: { _tt_modules: { Template: loadGenerate } } },
    );
    const error = thrown(() => loader!.load("base.html").generate());
    expect(error).toBeInstanceOf(TypeError);
    expect(error.stack).toContain("# base.html:1");
    expect(error.stack).toContain("# sub.html:1");
    expect(error.templateStack).toEqual(["sub.html:1", "base.html:1"]);
  });

  test("error line number: include", () => {
    const loader = new DictLoader({ "base.html": "{% include 'sub.html' %}", "sub.html": "{{null.x}}" });
    const error = thrown(() => loader.load("base.html").generate());
    expect(error.stack).toContain("# sub.html:1 (via base.html:1)");
  });

  test("error line number: extends, error in base", () => {
    const loader = new DictLoader({ "base.html": "{{null.x}}", "sub.html": "{% extends 'base.html' %}" });
    const error = thrown(() => loader.load("sub.html").generate());
    expect(error.stack).toContain("# base.html:1");
  });

  test("error line number: extends, error in sub", () => {
    const loader = new DictLoader({
      "base.html": "{% block 'block' %}{% end %}",
      "sub.html": `
{% extends 'base.html' %}
{% block 'block' %}
{{null.x}}
{% end %}
            `,
    });
    const error = thrown(() => loader.load("sub.html").generate());
    expect(error.stack).toContain("# sub.html:4 (via base.html:1)");
  });

  test("a template rendering itself through a module: one mark per level", () => {
    let loader: DictLoader | null = null;
    loader = new DictLoader(
      { "r.html": "{% if depth > 0 %}{% module Self(depth - 1) %}{% else %}{{ null.x }}{% end %}" },
      { namespace: { _tt_modules: { Self: (depth: number) => loader!.load("r.html").generate({ depth }) } } },
    );
    const error = thrown(() => loader!.load("r.html").generate({ depth: 2 }));
    expect(error.templateStack).toEqual(["r.html:1", "r.html:1", "r.html:1"]);
  });

  test("multi includes", () => {
    const loader = new DictLoader({
      "a.html": "{% include 'b.html' %}",
      "b.html": "{% include 'c.html' %}",
      "c.html": "{{null.x}}",
    });
    const error = thrown(() => loader.load("a.html").generate());
    expect(error.stack).toContain("# c.html:1 (via b.html:1, a.html:1)");
    expect(error.templateStack).toEqual(["c.html:1 (via b.html:1, a.html:1)"]);
  });
});

describe("ParseErrorDetailTest", () => {
  test("details", () => {
    const loader = new DictLoader({ "foo.html": "\n\n{{" });
    const error = thrown(() => loader.load("foo.html"));
    expect(error).toBeInstanceOf(ParseError);
    expect(error.message).toBe("Missing end expression }} at foo.html:3");
    expect((error as unknown as ParseError).filename).toBe("foo.html");
    expect((error as unknown as ParseError).lineno).toBe(3);
  });

  test("custom parse error", () => {
    expect(new ParseError("asdf").message).toBe("asdf at null:0");
    expect(String(new ParseError("asdf", "x.html", 2))).toBe("ParseError: asdf at x.html:2");
  });
});

describe("AutoEscapeTest", () => {
  const templates = {
    "escaped.html": "{% autoescape xhtml_escape %}{{ name }}",
    "unescaped.html": "{% autoescape None %}{{ name }}",
    "default.html": "{{ name }}",
    "include.html": `escaped: {% include 'escaped.html' %}
unescaped: {% include 'unescaped.html' %}
default: {% include 'default.html' %}
`,
    "escaped_block.html": "{% autoescape xhtml_escape %}{% block name %}base: {{ name }}{% end %}",
    "unescaped_block.html": "{% autoescape None %}{% block name %}base: {{ name }}{% end %}",
    // Extend a base template with different autoescape policy, with and without overriding the base's blocks
    "escaped_extends_unescaped.html": '{% autoescape xhtml_escape %}{% extends "unescaped_block.html" %}',
    "escaped_overrides_unescaped.html":
      '{% autoescape xhtml_escape %}{% extends "unescaped_block.html" %}{% block name %}extended: {{ name }}{% end %}',
    "unescaped_extends_escaped.html": '{% autoescape None %}{% extends "escaped_block.html" %}',
    "unescaped_overrides_escaped.html":
      '{% autoescape None %}{% extends "escaped_block.html" %}{% block name %}extended: {{ name }}{% end %}',
    "raw_expression.html": `{% autoescape xhtml_escape %}expr: {{ name }}
raw: {% raw name %}`,
  };

  test("default off", () => {
    const loader = new DictLoader(templates, { autoescape: null });
    const name = "Bobby <table>s";
    expect(loader.load("escaped.html").generate({ name })).toBe("Bobby &lt;table&gt;s");
    expect(loader.load("unescaped.html").generate({ name })).toBe("Bobby <table>s");
    expect(loader.load("default.html").generate({ name })).toBe("Bobby <table>s");
    expect(loader.load("include.html").generate({ name })).toBe(
      "escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\ndefault: Bobby <table>s\n",
    );
  });

  test("default on", () => {
    const loader = new DictLoader(templates, { autoescape: "xhtml_escape" });
    const name = "Bobby <table>s";
    expect(loader.load("escaped.html").generate({ name })).toBe("Bobby &lt;table&gt;s");
    expect(loader.load("unescaped.html").generate({ name })).toBe("Bobby <table>s");
    expect(loader.load("default.html").generate({ name })).toBe("Bobby &lt;table&gt;s");
    expect(loader.load("include.html").generate({ name })).toBe(
      "escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\ndefault: Bobby &lt;table&gt;s\n",
    );
  });

  test("unextended block", () => {
    const loader = new DictLoader(templates);
    const name = "<script>";
    expect(loader.load("escaped_block.html").generate({ name })).toBe("base: &lt;script&gt;");
    expect(loader.load("unescaped_block.html").generate({ name })).toBe("base: <script>");
  });

  test("extended block", () => {
    const loader = new DictLoader(templates);
    const render = (name: string) => loader.load(name).generate({ name: "<script>" });
    expect(render("escaped_extends_unescaped.html")).toBe("base: <script>");
    expect(render("escaped_overrides_unescaped.html")).toBe("extended: &lt;script&gt;");
    expect(render("unescaped_extends_escaped.html")).toBe("base: &lt;script&gt;");
    expect(render("unescaped_overrides_escaped.html")).toBe("extended: <script>");
  });

  test("raw expression", () => {
    const loader = new DictLoader(templates);
    const render = (name: string) => loader.load(name).generate({ name: '<>&"' });
    expect(render("raw_expression.html")).toBe('expr: &lt;&gt;&amp;&quot;\nraw: <>&"');
  });

  test("custom escape", () => {
    const loader = new DictLoader({ "foo.py": "{% autoescape py_escape %}s = {{ name }}\n" });
    const seen: unknown[] = [];
    // Python's repr() of a str, as the original's py_escape.
    const pyEscape = (s: unknown) => {
      seen.push(s);
      const text = String(s);
      return text.includes("'") && !text.includes('"') ? `"${text}"` : `'${text}'`;
    };
    const render = (template: string, name: unknown) => loader.load(template).generate({ py_escape: pyEscape, name });
    expect(render("foo.py", "<html>")).toBe("s = '<html>'\n");
    expect(render("foo.py", "';sys.exit()")).toBe(`s = "';sys.exit()"\n`);
    expect(render("foo.py", ["not a string"])).toBe("s = 'not a string'\n");
    expect(seen.every((s) => typeof s === "string")).toBe(true);
  });

  test("manual minimize whitespace", () => {
    // Whitespace including newlines is allowed within template tags and directives.
    const loader = new DictLoader({
      "foo.txt": `{% for i of items
  %}{% if i > 0 %}, {% end %}{#
  #}{{i
  }}{% end
%}`,
    });
    expect(loader.load("foo.txt").generate({ items: range(5) })).toBe("0, 1, 2, 3, 4");
  });

  test("whitespace by filename", () => {
    // Default whitespace handling depends on the template filename.
    const loader = new DictLoader({
      "foo.html": "   \n\t\n asdf\t   ",
      "bar.js": " \n\n\n\t qwer     ",
      "baz.txt": "\t    zxcv\n\n",
      "include.html": "  {% include baz.txt %} \n ",
      "include.txt": "\t\t{% include foo.html %}    ",
    });
    // HTML and JS files have whitespace compressed by default.
    expect(loader.load("foo.html").generate()).toBe("\nasdf ");
    expect(loader.load("bar.js").generate()).toBe("\nqwer ");
    // TXT files do not.
    expect(loader.load("baz.txt").generate()).toBe("\t    zxcv\n\n");
    // Each file maintains its own status even when included in a file of the other type.
    expect(loader.load("include.html").generate()).toBe(" \t    zxcv\n\n\n");
    expect(loader.load("include.txt").generate()).toBe("\t\t\nasdf     ");
  });

  test("whitespace by loader", () => {
    const templates = { "foo.html": "\t\tfoo\n\n", "bar.txt": "\t\tbar\n\n" };
    let loader = new DictLoader(templates, { whitespace: "all" });
    expect(loader.load("foo.html").generate()).toBe("\t\tfoo\n\n");
    expect(loader.load("bar.txt").generate()).toBe("\t\tbar\n\n");

    loader = new DictLoader(templates, { whitespace: "single" });
    expect(loader.load("foo.html").generate()).toBe(" foo\n");
    expect(loader.load("bar.txt").generate()).toBe(" bar\n");

    loader = new DictLoader(templates, { whitespace: "oneline" });
    expect(loader.load("foo.html").generate()).toBe(" foo ");
    expect(loader.load("bar.txt").generate()).toBe(" bar ");
  });

  test("whitespace directive", () => {
    const loader = new DictLoader({
      "foo.html": `{% whitespace oneline %}
    {% for i of range(3) %}
        {{ i }}
    {% end %}
{% whitespace all %}
    pre\tformatted
`,
    });
    expect(loader.load("foo.html").generate({ range })).toBe("  0  1  2  \n    pre\tformatted\n");
  });
});

describe("TemplateLoaderTest", () => {
  const dir = mkdtempSync(join(tmpdir(), "tornado-templates-"));
  writeFileSync(join(dir, "utf8.html"), "H\u00e9llo\n");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("utf8 in file", () => {
    const loader = new Loader(dir);
    expect(loader.load("utf8.html").generate().trim()).toBe("H\u00e9llo");
  });

  test("a relative root resolves against the working directory", () => {
    const loader = new Loader(relative(process.cwd(), dir));
    expect(loader.load("utf8.html").generate()).toBe("H\u00e9llo\n");
  });
});
