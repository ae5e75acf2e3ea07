import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { basicsSource, examples } from "./examples/catalog.js";
import { parseNotes } from "./notes.js";
import { escapeHtml, renderInline, renderSlides, twinFor, type RenderOptions } from "./render.js";
import { parseShowoff } from "./showoff.js";

const talk = parseShowoff(readFileSync(resolve(import.meta.dirname, "talk.showoff.md"), "utf8"));
const notes = new Map([...parseNotes(readFileSync(resolve(import.meta.dirname, "talk.notes.md"), "utf8"))].map(([n, v]) => [n, v.markdown]));
const options: RenderOptions = {
  examples,
  basics: basicsSource,
  notes,
  pictures: { "async_1.png": { kind: "image", src: "a1.svg" }, "tornado_stats.png": { kind: "chart", chart: "commits" } },
};
const rendered = renderSlides(talk, options);

describe("inline markdown", () => {
  it("renders strong/em/code, keeps entities, escapes markup", () => {
    expect(renderInline("**really** good")).toBe("<strong>really</strong> good");
    expect(renderInline("&nbsp;")).toBe("&nbsp;");
    expect(renderInline("a < b & c")).toBe("a &lt; b &amp; c");
    expect(renderInline("`<b>` and *x*")).toBe("<code>&#60;b&#62;</code> and <em>x</em>");
    expect(renderInline("friendfeed => facebook")).toBe("friendfeed =&gt; facebook");
    expect(renderInline("OS_register and callback_for")).toBe("OS_register and callback_for");
  });
  it("escapes attribute text", () => {
    expect(escapeHtml(`"<'&>`)).toBe("&#34;&#60;&#39;&#38;&#62;");
  });
});

describe("code slides", () => {
  it("pair the talk's four Python listings with their TypeScript twins", () => {
    const twins = talk.map((s) => twinFor(s, options)).map((t, i) => (t ? `${i + 1}:${t.example}:${Object.keys(t.files).join("+")}` : null)).filter(Boolean);
    expect(twins).toEqual(["11:null:basics.ts", "17:hello:hello.ts", "19:templates:templates.ts+templates/index.html", "21:json:json.ts"]);
  });

  it("show the TypeScript from the files that run, and the talk's Python, per the playground contract", () => {
    const hello = rendered[16]!.html;
    expect(hello).toMatch(/^<section class="small code-slide" data-example="hello"/);
    expect(hello).toContain('<div class="code-ts" data-example="hello" data-file="hello.ts"><pre><code class="hljs language-typescript">');
    expect(hello).toContain('<div class="code-py"');
    // Text content of the TS listing is exactly hello.ts (highlighting only adds tags).
    const ts = /<div class="code-ts"[^>]*><pre><code[^>]*>([\s\S]*?)<\/code><\/pre><\/div>/.exec(hello)![1]!;
    const text = ts.replace(/<[^>]+>/g, "").replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
    expect(text).toBe(readFileSync(resolve(import.meta.dirname, "examples/hello.ts"), "utf8").trimEnd());
    expect(hello).toContain("Hello, world");
    expect(hello).toContain('class="flip"');
  });

  it("show the template the templates example renders beside it", () => {
    const html = rendered[18]!.html;
    expect(html).toContain('data-file="templates.ts"');
    expect(html).toContain('data-example="templates" data-file="templates/index.html"');
  });

  it("mark the basics as illustrative: no data-example, so nothing tries to run it", () => {
    const html = rendered[10]!.html;
    expect(html).toContain('data-code="basics"');
    expect(html).not.toContain("data-example");
    expect(html).toContain('data-file="basics.ts"');
  });
});

describe("commandline slides", () => {
  it("carry the command, an empty live output, and the 2011 output only in an inert template", () => {
    const html = rendered[17]!.html;
    expect(html).toContain("data-live-command");
    expect(html).toContain('<div class="live-command" data-command="curl -i http://localhost:8888" data-example="hello">');
    expect(html).toContain('<pre class="command">$ curl -i http://localhost:8888</pre>');
    expect(html).toContain('<div class="live-output" aria-live="polite"></div>');
    const outside = html.replace(/<template[\s\S]*?<\/template>/g, "").replace(/<aside[\s\S]*?<\/aside>/g, "");
    expect(outside).not.toContain("Hello, world");
    expect(outside).not.toContain("TornadoServer");
    expect(html).toMatch(/<template class="talk-output">HTTP\/1.1 200 OK\nContent-Length: 12\n[\s\S]*Hello, world<\/template>/);
  });

  it("name the example of the code slide before them", () => {
    expect(rendered.filter((r) => r.html.includes("data-live-command")).map((r) => r.example)).toEqual(["hello", "templates", "json"]);
  });
});

describe("every slide", () => {
  it("becomes one section, numbered, with its classes and speaker notes", () => {
    expect(rendered).toHaveLength(26);
    rendered.forEach((r, i) => {
      expect(r.html).toMatch(new RegExp(`^<section[^>]* data-slide="${i + 1}"`));
      expect(r.html).toMatch(/<aside class="notes">[\s\S]+<\/aside>/);
      for (const c of talk[i]!.classes) expect(r.html.split(">")[0]).toContain(c);
    });
  });

  it("replaces lost pictures, keeping the alt text", () => {
    expect(rendered[4]!.html).toContain('<img data-src="a1.svg" alt="aldea">');
    expect(rendered[15]!.html).toContain('<canvas role="img" aria-label="github">');
    expect(rendered[15]!.html).toContain('data-original="tornado_stats.png"');
  });

  it("renders the talk's own words (no rewriting)", () => {
    const text = rendered.map((r) => r.html.replace(/<aside[\s\S]*?<\/aside>/, "")).join("\n");
    for (const phrase of ["python async web framework", "@javisantana · bcndevconf", "handle lots of concurrents", "twisted, gevent... - python", "friendfeed =&gt; facebook", "herencia", "¿preguntas?"]) {
      expect(text).toContain(phrase);
    }
  });
});

describe("other Showoff features", () => {
  it("turn incremental bullets and commands into reveal fragments", () => {
    const [bullets, commands] = renderSlides(parseShowoff("!SLIDE bullets incremental\n# x\n* a\n* b\n!SLIDE commandline incremental\n\n    $ ls\n    a\n    $ pwd\n    /\n"), options);
    expect(bullets!.html).toContain('<ul><li class="fragment">a</li><li class="fragment">b</li></ul>');
    expect(commands!.html.match(/class="live-command fragment"/g)).toHaveLength(2);
    expect(renderSlides(parseShowoff("!SLIDE\n* a\n"), options)[0]!.html).toContain("<ul><li>a</li></ul>");
  });

  it("map transition= to reveal's transitions and keep #id", () => {
    const [a, b] = renderSlides(parseShowoff("!SLIDE transition=fade #intro\n# x\n!SLIDE transition=scrollUp\n# y\n"), options);
    expect(a!.html).toMatch(/^<section id="intro" data-showoff-transition="fade" data-transition="fade"/);
    expect(b!.html).toContain('data-showoff-transition="scrollUp" data-transition="slide"');
  });
});
