import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { dedent, parseCommands, parseShowoff, parseSlideTokens, ShowoffParseError, slideTitle, type Block } from "./showoff.js";
import { sharedFile } from "../tools/shared.js";

const talkText = readFileSync(resolve(import.meta.dirname, "talk.showoff.md"), "utf8");
const talk = parseShowoff(talkText);

const headings = (blocks: Block[]) => blocks.filter((b) => b.kind === "heading").map((b) => (b.kind === "heading" ? `${b.level}:${b.text}` : ""));

describe("the real talk (slides/talk.showoff.md)", () => {
  it("is the original, byte for byte", () => {
    expect(talkText).toBe(readFileSync(sharedFile("talk/bcndevconf-tornado.showoff.md"), "utf8"));
  });

  it("has one slide per !SLIDE line, none dropped", () => {
    const markers = talkText.split("\n").filter((l) => l.startsWith("!SLIDE")).length;
    expect(markers).toBe(26);
    expect(talk).toHaveLength(markers);
    expect(talk.map((s) => s.number)).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
  });

  it("keeps every slide's classes, including the irregular spacing (!SLIDE  commandline, trailing spaces)", () => {
    expect(talk.map((s) => s.classes.join(" "))).toEqual([
      "", "", "intro", "", "center", "center", "center", "center", "", "", "small", "center", "center", "center",
      "center", "center", "small", "commandline", "small", "commandline", "small", "commandline", "bullets", "bullets",
      "bullets", "end bullets",
    ]);
  });

  it("reads headings written as '# x #', '#x#', '##x##' and '#x'", () => {
    expect(headings(talk[0]!.blocks)).toEqual(["1:Tornado", "2:python async web framework"]);
    expect(headings(talk[3]!.blocks)).toEqual(["1:asynchronous", "1:==", "1:HYPE?"]);
    expect(headings(talk[4]!.blocks)).toEqual(["1:life is evented"]);
    expect(headings(talk[11]!.blocks)).toEqual(["1:TORNADO", "2:**async** web framework"]);
    expect(headings(talk[18]!.blocks)).toEqual(["1:templates"]);
    expect(headings(talk[25]!.blocks)).toEqual(["1:fin", "2:¿preguntas?"]);
  });

  it("keeps paragraphs and entities as written", () => {
    expect(talk[0]!.blocks.filter((b) => b.kind === "paragraph")).toEqual([
      { kind: "paragraph", text: "&nbsp;" },
      { kind: "paragraph", text: "@javisantana · bcndevconf" },
    ]);
  });

  it("reads bullets written with * and with - (also indented by one space)", () => {
    expect(talk[1]!.blocks[1]).toEqual({ kind: "list", ordered: false, items: ["python developer since 2002", "graphics", "@vizzuality // @agroguia"] });
    expect(talk[12]!.blocks[1]).toEqual({ kind: "list", ordered: false, items: ["django", "flask", "pylons/pyramid, turbogears ..."] });
  });

  it("reads images with their alt text, the misc slide's picture between its two bullets", () => {
    for (let i = 4; i < 8; i++) expect(talk[i]!.blocks[1]).toEqual({ kind: "image", alt: "aldea", src: `async_${i - 3}.png` });
    expect(talk[15]!.blocks.map((b) => b.kind)).toEqual(["heading", "list", "image", "list"]);
    expect(talk[15]!.blocks[2]).toEqual({ kind: "image", alt: "github", src: "tornado_stats.png" });
  });

  it("reads @@@ code blocks and removes the extra indentation", () => {
    const basics = talk[10]!.blocks[1];
    expect(basics).toMatchObject({ kind: "code", lang: "python" });
    expect(basics && basics.kind === "code" && basics.code.split("\n")).toEqual([
      "OS_register(socket_fd, READ)",
      "...",
      "while True:",
      "    events = OS_get_events() #epoll, select...",
      "    for fd, event_type in events:",
      "      fn = callback_for(fd, event_type)",
      "      fn()",
    ]);
    const hello = talk[16]!.blocks[0]!;
    expect(hello.kind === "code" && hello.code.startsWith("import tornado.ioloop\nimport tornado.web\n\nclass MainHandler")).toBe(true);
    expect(hello.kind === "code" && hello.code.endsWith('    tornado.ioloop.IOLoop.instance().start()')).toBe(true);
    // The json slide has a blank line after "@@@ python": it is not part of the code.
    const json = talk[20]!.blocks[1]!;
    expect(json.kind === "code" && json.code.split("\n")[0]).toBe("class JSONHandler(tornado.web.RequestHandler):");
  });

  it("splits commandline slides into the $ command and its output", () => {
    const cl = talk[17]!.blocks[0]!;
    expect(cl).toEqual({
      kind: "commandline",
      commands: [
        {
          prompt: "$",
          input: "curl -i http://localhost:8888",
          output: [
            "HTTP/1.1 200 OK",
            "Content-Length: 12",
            'Etag: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"',
            "Content-Type: text/html; charset=UTF-8",
            "Server: TornadoServer/2.1.1",
            "",
            "Hello, world",
          ].join("\n"),
        },
      ],
    });
    const tmpl = talk[19]!.blocks[0]!;
    expect(tmpl.kind === "commandline" && tmpl.commands[0]!.output.endsWith("<html>\n<h1> hello!</h1>\n</html>")).toBe(true);
    const json = talk[21]!.blocks[0]!;
    expect(json.kind === "commandline" && json.commands[0]!.input).toBe("curl -i http://localhost:8888/json");
  });

  it("gives each slide the line of its !SLIDE marker", () => {
    const lines = talkText.split("\n");
    for (const s of talk) expect(lines[s.line - 1]!.startsWith("!SLIDE")).toBe(true);
  });

  it("finds titles for keyed notes", () => {
    expect(talk.map(slideTitle).slice(0, 4)).toEqual(["Tornado", "about me", "index", "asynchronous"]);
    expect(slideTitle(talk[16]!)).toBe("");
  });
});

describe("edge cases", () => {
  it("parses <!SLIDE ...> tokens: classes, #id and transition=", () => {
    expect(parseSlideTokens(" bullets incremental>")).toEqual({ classes: ["bullets", "incremental"] });
    expect(parseSlideTokens("  center  #intro transition=fade corte ")).toEqual({ classes: ["center", "corte"], id: "intro", transition: "fade" });
    const [slide] = parseShowoff("<!SLIDE bullets incremental>\n# x\n* a\n* b\n");
    expect(slide!.classes).toEqual(["bullets", "incremental"]);
  });

  it("drops empty slides and text before the first marker", () => {
    const slides = parseShowoff("ignored preamble\n!SLIDE\n\n   \n!SLIDE center\n# one\n!SLIDE\n");
    expect(slides).toHaveLength(1);
    expect(slides[0]).toMatchObject({ number: 1, classes: ["center"], line: 5 });
  });

  it("without markers makes one slide per '# ' heading", () => {
    const slides = parseShowoff("# one\ntext\n# two\n* x\n");
    expect(slides.map(slideTitle)).toEqual(["one", "two"]);
  });

  it("handles CRLF line endings and tabs", () => {
    const slides = parseShowoff("!SLIDE small\r\n# t\r\n\r\n\t@@@ Python\r\n\tprint 1\r\n");
    expect(slides[0]!.blocks).toEqual([
      { kind: "heading", level: 1, text: "t" },
      { kind: "code", lang: "python", code: "print 1" },
    ]);
  });

  it("keeps trailing spaces out of languages ('@@@ html ') and allows unknown ones", () => {
    const [s] = parseShowoff("!SLIDE\n    @@@ html \n    <p>x</p>\nand\n\n    @@@ javascript \n    var a;\n");
    expect(s!.blocks).toEqual([
      { kind: "code", lang: "html", code: "<p>x</p>" },
      { kind: "paragraph", text: "and" },
      { kind: "code", lang: "javascript", code: "var a;" },
    ]);
  });

  it("keeps an 8-space @@@ block nested under a bullet list as code", () => {
    const [s] = parseShowoff("!SLIDE\n# templates\n* inherit\n\n        @@@ html\n        {% extends x %}\n");
    expect(s!.blocks.map((b) => b.kind)).toEqual(["heading", "list", "code"]);
  });

  it("an indented line right after a bullet continues the bullet, as in markdown", () => {
    const [s] = parseShowoff("!SLIDE\n* one\n    more\n");
    expect(s!.blocks).toEqual([{ kind: "list", ordered: false, items: ["one\nmore"] }]);
  });

  it("an indented block without @@@ on a normal slide is plain code", () => {
    const [s] = parseShowoff("!SLIDE\n    $ ls\n    a b\n");
    expect(s!.blocks).toEqual([{ kind: "code", lang: null, code: "$ ls\na b" }]);
  });

  it("reads several commands, # prompts and \\ continuations on commandline slides", () => {
    expect(parseCommands(["$ echo a \\", "  b", "a b", "", "# whoami", "root"])).toEqual([
      { prompt: "$", input: "echo a \\\n  b", output: "a b" },
      { prompt: "#", input: "whoami", output: "root" },
    ]);
    // As in Showoff, an output line starting with # is read as a command.
    expect(parseCommands(["$ cat x.py", "# comment"]).map((c) => c.input)).toEqual(["cat x.py", "comment"]);
  });

  it("rejects a commandline block that does not start with a command, naming the line", () => {
    expect(() => parseShowoff("!SLIDE commandline\n# t\n\n    output first\n    $ ls\n")).toThrowError(ShowoffParseError);
    expect(() => parseShowoff("!SLIDE commandline\n# t\n\n    output first\n    $ ls\n")).toThrowError(/line 4/);
  });

  it("dedents by the common indentation only", () => {
    expect(dedent(["", "    a", "      b", "", "    c", "  "])).toEqual(["a", "  b", "", "c"]);
  });

  it("ordered lists and inline images in text are kept", () => {
    const [s] = parseShowoff("!SLIDE\n1. one\n2. two\n\nsee ![x](y.png) here\n");
    expect(s!.blocks).toEqual([
      { kind: "list", ordered: true, items: ["one", "two"] },
      { kind: "paragraph", text: "see ![x](y.png) here" },
    ]);
  });
});
