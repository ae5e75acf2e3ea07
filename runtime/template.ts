/**
 * Tornado's template language (`tornado.template`, 6.x), with JavaScript where Tornado has Python.
 *
 * As in Tornado, a template is parsed into a tree, the tree (with its `{% extends %}` ancestors and
 * `{% include %}`d files inlined) is turned into the source of ONE function that appends strings,
 * and that source is compiled once. The syntax is Tornado's; the expressions are JavaScript:
 *
 *   {{ expr }}            text of expr, passed through the file's autoescape function
 *   {% raw expr %}        the same, never escaped        {% module expr %}  raw `_tt_modules.expr`
 *   {# comment #}  {% comment text %}                   {{!  {%!  {#!      literal `{{` `{%` `{#`
 *   {% if c %} {% elif c %} {% else %} {% end %}
 *   {% for x of items %} ... {% else %} ... {% end %}   (`for (let x of items)`; also `[k, v] of ...`,
 *                                                        or a parenthesised C-style head `(let i = 0; ...)`)
 *   {% while c %} ... {% end %}   {% break %}  {% continue %}
 *       A loop's `{% else %}` runs when the loop ends without `break` (Python's rule).
 *   {% try %} {% except %} | {% except e %} | {% except TypeError as e %} {% else %} {% finally %} {% end %}
 *       `{% except %}` catches everything; `{% except e %}` catches everything into `e` (JS `catch (e)`);
 *       `{% except T as e %}` catches what is `instanceof T`; unmatched errors are rethrown. A
 *       catch-all clause must come last. `else` runs when the body raised nothing, before `finally`.
 *   {% set x = expr %}    also `+=` and friends, and `[a, b] = ...`; set names live for the whole
 *                         render, so templates included later see them (Python's function locals)
 *   {% apply fn %} ... {% end %}      fn(rendered body)
 *   {% autoescape fn %} / {% autoescape None %} (or null): for the whole file, last one wins
 *   {% whitespace all|single|oneline %}   for the rest of the file
 *   {% extends "base.html" %}  {% block name %} ... {% end %}  {% include "x.html" %}
 *
 * Values become text as JavaScript's `String()` does (`null`, `undefined`, `true`, `1,2`), except
 * strings (as is) and Uint8Array (decoded as UTF-8). Python would print `None`/`True`/`[1, 2]`.
 * `{% for x in obj %}` is refused with a ParseError: in JavaScript `in` walks keys, not values.
 * `{% import %}` / `{% from %}` are refused: put what a template needs in its namespace.
 *
 * Errors: bad syntax (including JavaScript syntax errors inside tags), unknown directives,
 * `break` outside a loop, extends/include cycles and missing files throw `ParseError`
 * ("<text> at <file>:<line>") when the template is loaded. An exception thrown while rendering
 * keeps its type and gets `templateStack` (innermost first, e.g. `sub.html:4 (via base.html:1)`),
 * and the matching frames of its `stack` end with `# sub.html:4 (via base.html:1)`, as Tornado's
 * generated-code comments do.
 */
import { jsonEncode, linkify, squeeze, toUnicode, urlEscape, xhtmlEscape } from "./escape.js";
import { platform } from "./platform/index.js";

const DEFAULT_AUTOESCAPE = "xhtml_escape";

export type WhitespaceMode = "all" | "single" | "oneline";

// Python's `\s` (str.isspace) and `.strip()`, which the whitespace rules are written in.
const SPACE = String.raw`\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const SPACE_RUN = new RegExp(`[${SPACE}]+`, "g");
const NEWLINE_RUN = new RegExp(`[${SPACE}]*\\n[${SPACE}]*`, "g");
const STRIP = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "g");
const pyStrip = (s: string) => s.replace(STRIP, "");

/** Tornado's `filter_whitespace`: `all` keeps text, `single` collapses runs (keeping one newline), `oneline` makes every run one space. */
export function filterWhitespace(mode: string, text: string): string {
  switch (mode) {
    case "all":
      return text;
    case "single":
      return text.replace(/[\t ]+/g, " ").replace(NEWLINE_RUN, "\n");
    case "oneline":
      return text.replace(SPACE_RUN, " ");
    default:
      throw new Error(`invalid whitespace mode ${mode}`);
  }
}

/**
 * A template syntax error: `message` is `<text> at <file>:<line>` (1-based line), as Tornado's
 * `str(ParseError)`. `reason` is the bare text. An error with `filename === null` has no position.
 */
export class ParseError extends Error {
  readonly reason: string;
  readonly filename: string | null;
  readonly lineno: number;
  constructor(reason: string, filename: string | null = null, lineno = 0) {
    super(`${reason} at ${filename}:${lineno}`);
    this.name = "ParseError";
    this.reason = reason;
    this.filename = filename;
    this.lineno = lineno;
  }
}

/** An error thrown while rendering, annotated with the template lines it came through. */
export interface TemplateRuntimeError extends Error {
  templateStack?: string[];
}

// ---------------------------------------------------------------------------------------------
// Parse tree

interface Pos {
  /** Name of the template file the node was read from. */
  file: string;
  line: number;
}
interface LoopInfo {
  /** Label for `break` when the loop has an `else` (assigned while generating). */
  label: string | null;
  active: boolean;
}
interface Clause extends Pos {
  operator: string;
  suffix: string;
  body: Node[];
}
type Node =
  | ({ kind: "text"; value: string; whitespace: string } & Pos)
  | ({ kind: "expr"; expr: string; raw: boolean } & Pos)
  | ({ kind: "set"; code: string } & Pos)
  | ({ kind: "break" | "continue"; loop: LoopInfo } & Pos)
  | ({ kind: "intermediate"; operator: string; suffix: string } & Pos)
  | ({ kind: "control"; operator: "if" | "for" | "while" | "try"; clauses: Clause[]; loop: LoopInfo | null } & Pos)
  | ({ kind: "apply"; method: string; body: Node[] } & Pos)
  | ({ kind: "block"; name: string; body: Node[]; template: Template } & Pos)
  | ({ kind: "extends"; name: string } & Pos)
  | ({ kind: "include"; name: string } & Pos);

/** The cursor over a template's text (Tornado's `_TemplateReader`). */
class Reader {
  line = 1;
  pos = 0;
  /**
   * The first problem Tornado leaves to Python's compiler (a misplaced `else`, a `try` without
   * `except`...): reported after the whole file has parsed, so that parse errors further on
   * win, exactly as in Tornado.
   */
  deferred: ParseError | null = null;
  constructor(
    readonly name: string,
    readonly text: string,
    public whitespace: string,
  ) {}
  find(needle: string, start = 0): number {
    const index = this.text.indexOf(needle, this.pos + start);
    return index === -1 ? -1 : index - this.pos;
  }
  consume(count = this.text.length - this.pos): string {
    const end = this.pos + count;
    const s = this.text.slice(this.pos, end);
    for (let i = s.indexOf("\n"); i !== -1; i = s.indexOf("\n", i + 1)) this.line++;
    this.pos = end;
    return s;
  }
  remaining(): number {
    return this.text.length - this.pos;
  }
  at(offset: number): string {
    return this.text[this.pos + offset] ?? "";
  }
  error(reason: string): never {
    throw new ParseError(reason, this.name, this.line);
  }
}

/** Python's `repr()` of a str, for error messages that quote template text. */
function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const escaped = s.replace(/[\\'"\t\n\r]|(?! )[\p{C}\p{Z}]/gu, (c) => {
    if (c === "\\") return "\\\\";
    if (c === "'" || c === '"') return c === quote ? "\\" + c : c;
    if (c === "\t") return "\\t";
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    const code = c.codePointAt(0)!;
    if (code <= 0xff) return "\\x" + code.toString(16).padStart(2, "0");
    if (code <= 0xffff) return "\\u" + code.toString(16).padStart(4, "0");
    return "\\U" + code.toString(16).padStart(8, "0");
  });
  return quote + escaped + quote;
}
const pySet = (items: string[]) => `{${items.map((i) => pyRepr(i)).join(", ")}}`;

const INTERMEDIATE: Record<string, string[]> = {
  else: ["if", "for", "while", "try"],
  elif: ["if"],
  except: ["try"],
  finally: ["try"],
};

/** Tornado's `_parse`: reads nodes until EOF (top level) or the `{% end %}` of `inBlock`. */
function parse(reader: Reader, template: Template, inBlock: string | null = null, inLoop: LoopInfo | null = null): Node[] {
  const body: Node[] = [];
  const at = (line: number): Pos => ({ file: reader.name, line });
  for (;;) {
    // Find the next template directive.
    let curly = 0;
    for (;;) {
      curly = reader.find("{", curly);
      if (curly === -1 || curly + 1 === reader.remaining()) {
        if (inBlock) reader.error(`Missing {% end %} block for ${inBlock}`);
        const line = reader.line;
        body.push({ kind: "text", value: reader.consume(), whitespace: reader.whitespace, ...at(line) });
        return body;
      }
      const next = reader.at(curly + 1);
      if (next !== "{" && next !== "%" && next !== "#") {
        curly += 1;
        continue;
      }
      // With more than two curlies in a row, the innermost pair opens the tag.
      if (curly + 2 < reader.remaining() && next === "{" && reader.at(curly + 2) === "{") {
        curly += 1;
        continue;
      }
      break;
    }
    if (curly > 0) {
      const text = reader.consume(curly);
      body.push({ kind: "text", value: text, whitespace: reader.whitespace, ...at(reader.line) });
    }
    const startBrace = reader.consume(2);
    const line = reader.line;

    // `{{!`, `{%!` and `{#!` output the braces literally.
    if (reader.remaining() && reader.at(0) === "!") {
      reader.consume(1);
      body.push({ kind: "text", value: startBrace, whitespace: reader.whitespace, ...at(line) });
      continue;
    }
    if (startBrace === "{#") {
      const end = reader.find("#}");
      if (end === -1) reader.error("Missing end comment #}");
      reader.consume(end);
      reader.consume(2);
      continue;
    }
    if (startBrace === "{{") {
      const end = reader.find("}}");
      if (end === -1) reader.error("Missing end expression }}");
      const contents = pyStrip(reader.consume(end));
      reader.consume(2);
      if (!contents) reader.error("Empty expression");
      body.push({ kind: "expr", expr: contents, raw: false, ...at(line) });
      continue;
    }
    const end = reader.find("%}");
    if (end === -1) reader.error("Missing end block %}");
    const contents = pyStrip(reader.consume(end));
    reader.consume(2);
    if (!contents) reader.error("Empty block tag ({% %})");
    const space = contents.indexOf(" ");
    const operator = space === -1 ? contents : contents.slice(0, space);
    const suffix = space === -1 ? "" : pyStrip(contents.slice(space + 1));

    const allowedParents = INTERMEDIATE[operator];
    if (allowedParents) {
      if (!inBlock) reader.error(`${operator} outside ${pySet(allowedParents)} block`);
      if (!allowedParents.includes(inBlock)) reader.error(`${operator} block cannot be attached to ${inBlock} block`);
      body.push({ kind: "intermediate", operator, suffix, ...at(line) });
      continue;
    }
    switch (operator) {
      case "end":
        if (!inBlock) reader.error("Extra {% end %} block");
        return body;
      case "comment":
        continue;
      case "extends":
      case "include": {
        const name = stripQuotes(suffix);
        if (!name) reader.error(`${operator} missing file path`);
        body.push({ kind: operator, name, ...at(line) });
        continue;
      }
      case "import":
      case "from":
        return reader.error(`${operator} is not supported in JavaScript templates; pass what the template needs in its namespace`);
      case "set":
        if (!suffix) reader.error("set missing statement");
        body.push({ kind: "set", code: suffix, ...at(line) });
        continue;
      case "autoescape": {
        if (!suffix) reader.error("autoescape missing function name (or None)");
        template.autoescape = suffix === "None" || suffix === "null" ? null : checkFunctionName(suffix, reader);
        continue;
      }
      case "whitespace":
        try {
          filterWhitespace(suffix, "");
        } catch {
          reader.error(`invalid whitespace mode ${suffix}`);
        }
        reader.whitespace = suffix;
        continue;
      case "raw":
      case "module":
        if (!suffix) reader.error("Empty expression");
        body.push({ kind: "expr", expr: operator === "module" ? "_tt_modules." + suffix : suffix, raw: true, ...at(line) });
        continue;
      case "apply":
      case "block":
      case "try":
      case "if":
      case "for":
      case "while": {
        const loop: LoopInfo | null = operator === "for" || operator === "while" ? { label: null, active: false } : null;
        // apply's body is a nested function, so it is not inside the loop.
        const blockBody = parse(reader, template, operator, loop ?? (operator === "apply" ? null : inLoop));
        if (operator === "apply") {
          if (!suffix) reader.error("apply missing method name");
          body.push({ kind: "apply", method: suffix, body: blockBody, ...at(line) });
        } else if (operator === "block") {
          if (!suffix) reader.error("block missing name");
          body.push({ kind: "block", name: suffix, body: blockBody, template, ...at(line) });
        } else {
          body.push(controlBlock(operator, suffix, line, blockBody, loop, inLoop, reader));
        }
        continue;
      }
      case "break":
      case "continue":
        if (!inLoop) reader.error(`${operator} outside ${pySet(["for", "while"])} block`);
        body.push({ kind: operator, loop: inLoop, ...at(line) });
        continue;
      default:
        reader.error(`unknown operator: ${pyRepr(operator)}`);
    }
  }
}

function stripQuotes(s: string): string {
  return s.replace(/^"+|"+$/g, "").replace(/^'+|'+$/g, "");
}

const FUNCTION_NAME = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*(?:\.[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*)*$/u;
function checkFunctionName(name: string, reader?: Reader): string {
  if (FUNCTION_NAME.test(name)) return name;
  const reason = `autoescape must name a function in the namespace (or None), got ${pyRepr(name)}`;
  if (reader) reader.error(reason);
  throw new Error(reason);
}

/** Splits a control block's body at its `else`/`elif`/`except`/`finally` and checks their order. */
function controlBlock(
  operator: "if" | "for" | "while" | "try",
  suffix: string,
  line: number,
  body: Node[],
  loop: LoopInfo | null,
  outerLoop: LoopInfo | null,
  reader: Reader,
): Node {
  const fail = (reason: string, at: number): void => {
    reader.deferred ??= new ParseError(reason, reader.name, at);
  };
  if (!suffix && operator !== "try") fail(`${operator} missing ${operator === "for" ? "loop head" : "condition"}`, line);
  if (operator === "try" && suffix) fail(`try takes no argument, got ${pyRepr(suffix)}`, line);
  if (operator === "for") {
    const keysLoop = /^(?:(?:let|const|var)\s+)?(?:[\p{ID_Start}$_][\p{ID_Continue}$]*|\[[^\]]*\]|\{[^}]*\})\s+in\s/u;
    if (keysLoop.test(suffix)) {
      fail(`for ... in walks keys in JavaScript; write 'for x of items' to loop over values`, line);
    }
  }
  const clauses: Clause[] = [{ operator, suffix, body: [], file: reader.name, line }];
  for (const node of body) {
    if (node.kind === "intermediate") {
      clauses.push({ operator: node.operator, suffix: node.suffix, body: [], file: node.file, line: node.line });
    } else {
      clauses[clauses.length - 1]!.body.push(node);
    }
  }
  const seen: string[] = [];
  for (const clause of clauses.slice(1)) {
    const op = clause.operator;
    if (seen.includes("else") && op !== "finally") fail(`${op} block cannot follow else in ${operator} block`, clause.line);
    if (seen.includes("finally")) fail(`${op} block cannot follow finally in try block`, clause.line);
    if ((op === "else" || op === "finally") && clause.suffix) fail(`${op} takes no argument, got ${pyRepr(clause.suffix)}`, clause.line);
    if (op === "elif" && !clause.suffix) fail("elif missing condition", clause.line);
    if (op === "else" && operator === "try" && !seen.includes("except")) fail("else block in try block needs an except block before it", clause.line);
    if (op === "except" && seen.includes("except") && catchAll(clauses, seen.length)) {
      fail("an except block that catches everything must be the last except", clause.line);
    }
    seen.push(op);
  }
  if (operator === "try" && !seen.includes("except") && !seen.includes("finally")) {
    fail("try block needs an except or finally block", line);
  }
  // A loop's else clause runs after the loop: a break or continue there belongs to the enclosing loop.
  if (loop && clauses.length > 1) {
    const retarget = (nodes: Node[]) => {
      for (const node of nodes) {
        if ((node.kind === "break" || node.kind === "continue") && node.loop === loop) {
          if (outerLoop) node.loop = outerLoop;
          else fail(`${node.kind} outside ${pySet(["for", "while"])} block`, node.line);
        } else if (node.kind === "control") {
          for (const clause of node.clauses) retarget(clause.body);
        } else if (node.kind === "block") {
          retarget(node.body);
        }
      }
    };
    for (const clause of clauses.slice(1)) retarget(clause.body);
  }
  return { kind: "control", operator, clauses, loop, file: reader.name, line };
}

/** Whether the last `except` before clause index `upto`+1 catches everything (no `T as e`). */
function catchAll(clauses: Clause[], upto: number): boolean {
  for (let i = upto; i >= 1; i--) {
    const c = clauses[i]!;
    if (c.operator === "except") return parseExcept(c.suffix).type === null;
  }
  return false;
}

function parseExcept(suffix: string): { type: string | null; binding: string | null } {
  const m = /^(.*?)\s+as\s+(\S.*)$/s.exec(suffix);
  if (m) return { type: m[1]!, binding: m[2]! };
  return { type: null, binding: suffix || null };
}

// ---------------------------------------------------------------------------------------------
// Code generation

/** Names assigned by a `{% set %}` statement, declared once at the top of the render function. */
function assignedNames(code: string): string[] {
  if (/^(?:let|const|var)\s/.test(code)) return [];
  const ident = /[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/u;
  const simple = new RegExp(`^(${ident.source})\\s*(?:\\*\\*|<<|>>>|>>|&&|\\|\\||\\?\\?|[-+*/%&|^])?=(?!=)`, "u").exec(code);
  if (simple) return [simple[1]!];
  const pattern = /^(\[[^\]]*\]|\{[^}]*\})\s*=(?!=)/u.exec(code);
  if (!pattern) return [];
  const names: string[] = [];
  for (let part of pattern[1]!.slice(1, -1).split(",")) {
    part = part.replace(/=.*$/s, "").replace(/^\s*\.\.\./, "");
    if (part.includes(":")) part = part.slice(part.indexOf(":") + 1);
    const m = new RegExp(`^\\s*(${ident.source})\\s*$`, "u").exec(part);
    if (m) names.push(m[1]!);
  }
  return names;
}

/** What JavaScript counts as a new line (for the line numbers in stack traces). */
const LINE_BREAKS = /\r\n|[\n\r\u2028\u2029]/g;
/** A JavaScript string literal for text (JSON.stringify leaves U+2028/U+2029 raw, which would shift line numbers). */
const literal = (text: string) => JSON.stringify(text).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");

/** Turns parse trees into the body of the render function (Tornado's `_CodeWriter`). */
class CodeWriter {
  readonly lines: string[] = [];
  /** For each generated line, the template location it came from, e.g. `sub.html:4 (via base.html:1)`. */
  readonly locations: string[] = [];
  readonly setNames = new Set<string>();
  readonly includeStack: { template: Template; line: number }[] = [];
  private indent = 1;
  private counter = 0;
  constructor(
    readonly namedBlocks: Map<string, Node & { kind: "block" }>,
    readonly loader: BaseLoader | null,
    public current: Template,
  ) {}

  id(): number {
    return this.counter++;
  }

  write(code: string, line: number): void {
    let location = `${this.current.name}:${line}`;
    if (this.includeStack.length) {
      location += ` (via ${this.includeStack
        .map((i) => `${i.template.name}:${i.line}`)
        .reverse()
        .join(", ")})`;
    }
    // Only the first line is indented: the rest may be inside a template literal of the user's.
    this.lines.push("  ".repeat(this.indent) + code);
    const breaks = code.match(LINE_BREAKS)?.length ?? 0;
    for (let i = 0; i <= breaks; i++) this.locations.push(location);
  }

  nested(fn: () => void): void {
    this.indent++;
    try {
      fn();
    } finally {
      this.indent--;
    }
  }

  include(template: Template, line: number, fn: () => void): void {
    this.includeStack.push({ template: this.current, line });
    const previous = this.current;
    this.current = template;
    try {
      fn();
    } finally {
      this.current = previous;
      this.includeStack.pop();
    }
  }

  body(nodes: Node[]): void {
    // An expression and the text after it become one `_tt_out += expr + "text";` (one part per
    // line so an error still points at its own template line). A statement never starts with
    // text before an expression: if the expression throws inside a `{% try %}`, the text before
    // it must already be in the output, as in Tornado.
    let run: string[] = [];
    let runLines: number[] = [];
    const flush = () => {
      run.forEach((part, i) => {
        const code = (i === 0 ? "_tt_out += " : "  ") + part + (i === run.length - 1 ? ";" : " +");
        this.write(code, runLines[i]!);
      });
      run = [];
      runLines = [];
    };
    for (const node of nodes) {
      if (node.kind === "text") {
        // A crude guard for preformatted text, as Tornado's.
        const value = node.value.includes("<pre>") ? node.value : filterWhitespace(node.whitespace, node.value);
        if (value) {
          run.push(literal(value));
          runLines.push(node.line);
        }
      } else if (node.kind === "expr") {
        flush();
        const escape = node.raw ? null : this.current.autoescape;
        // A newline before `)` lets an expression end in a `//` comment.
        const value = `_tt_str(${node.expr}\n)`;
        run.push(escape === null ? value : `_tt_str(${escape}(${value}))`);
        runLines.push(node.line);
      } else {
        flush();
        this.node(node);
      }
    }
    flush();
  }

  private node(node: Node): void {
    switch (node.kind) {
      case "set": {
        const code = node.code.startsWith("{") ? `(${node.code}\n);` : `${node.code}\n;`;
        for (const name of assignedNames(node.code)) this.setNames.add(name);
        this.write(code, node.line);
        return;
      }
      case "break":
      case "continue":
        if (!node.loop.active) throw new ParseError(`${node.kind} outside ${pySet(["for", "while"])} block`, node.file, node.line);
        this.write(node.kind === "break" && node.loop.label ? `break ${node.loop.label};` : `${node.kind};`, node.line);
        return;
      case "apply":
        this.write(`_tt_out += _tt_str((${node.method}\n)((() => {`, node.line);
        this.nested(() => {
          this.write(`let _tt_out = "";`, node.line);
          this.body(node.body);
          this.write("return _tt_out;", node.line);
        });
        this.write("})()));", node.line);
        return;
      case "block": {
        const block = this.namedBlocks.get(node.name)!;
        this.include(block.template, node.line, () => this.body(block.body));
        return;
      }
      case "include": {
        const included = loadFor(this.loader, node.name, node, "include");
        this.include(included, node.line, () => this.body(included.file));
        return;
      }
      case "extends":
        // Only the top level of the rendered template's file is read for extends (Template.ancestors);
        // Tornado fails on any other (NotImplementedError): an included file or a block that extends.
        throw new ParseError("{% extends %} only works at the top level of the template being rendered, not in an included file or a block", node.file, node.line);
      case "control":
        this.control(node);
        return;
      default:
        throw new Error(`unexpected ${node.kind} node`);
    }
  }

  private control(node: Node & { kind: "control" }): void {
    const [head, ...rest] = node.clauses as [Clause, ...Clause[]];
    const inner = (nodes: Node[]) => this.nested(() => this.body(nodes));
    if (node.operator === "if") {
      this.write(`if (${head.suffix}\n) {`, head.line);
      inner(head.body);
      for (const clause of rest) {
        this.write(clause.operator === "elif" ? `} else if (${clause.suffix}\n) {` : "} else {", clause.line);
        inner(clause.body);
      }
      this.write("}", node.line);
      return;
    }
    if (node.operator === "for" || node.operator === "while") {
      const loop = node.loop!;
      const orElse = rest[0];
      let loopHead: string;
      if (node.operator === "while") loopHead = `while (${head.suffix}\n) {`;
      else if (head.suffix.startsWith("(")) loopHead = `for ${head.suffix} {`;
      else loopHead = `for (${/^(?:let|const|var)\s/.test(head.suffix) ? "" : "let "}${head.suffix}\n) {`;
      if (orElse) {
        loop.label = `_tt_loop${this.id()}`;
        this.write(`${loop.label}: {`, node.line);
        this.indent++;
      }
      this.write(loopHead, head.line);
      loop.active = true;
      try {
        inner(head.body);
      } finally {
        loop.active = false;
      }
      this.write("}", node.line);
      if (orElse) {
        this.body(orElse.body);
        this.indent--;
        this.write("}", node.line);
      }
      return;
    }
    // try
    const excepts = rest.filter((c) => c.operator === "except");
    const orElse = rest.find((c) => c.operator === "else");
    const final = rest.find((c) => c.operator === "finally");
    const ok = orElse ? `_tt_ok${this.id()}` : null;
    const wrapFinally = Boolean(final && (orElse || excepts.length));
    if (wrapFinally) this.write("try {", head.line);
    else if (ok) this.write("{", head.line);
    if (wrapFinally || ok) this.indent++;
    if (ok) this.write(`let ${ok} = false;`, head.line);
    this.write("try {", head.line);
    inner(head.body);
    if (ok) this.nested(() => this.write(`${ok} = true;`, head.line));
    if (excepts.length) {
      const error = `_tt_e${this.id()}`;
      this.write(`} catch (${error}) {`, excepts[0]!.line);
      this.nested(() => {
        let chained = false;
        for (const clause of excepts) {
          const { type, binding } = parseExcept(clause.suffix);
          const bind = () => {
            if (binding) this.write(`let ${binding} = ${error};`, clause.line);
          };
          if (type === null) {
            if (chained) {
              this.write("} else {", clause.line);
              this.nested(() => {
                bind();
                this.body(clause.body);
              });
            } else {
              this.write("{", clause.line);
              this.nested(() => {
                bind();
                this.body(clause.body);
              });
            }
            this.write("}", clause.line);
            return;
          }
          this.write(`${chained ? "} else " : ""}if (${error} instanceof (${type}\n)) {`, clause.line);
          this.nested(() => {
            bind();
            this.body(clause.body);
          });
          chained = true;
        }
        this.write(`} else throw ${error};`, node.line);
      });
    }
    if (final && !wrapFinally) {
      this.write("} finally {", final.line);
      inner(final.body);
    }
    this.write("}", node.line);
    if (ok) {
      this.write(`if (${ok}) {`, orElse!.line);
      inner(orElse!.body);
      this.write("}", orElse!.line);
    }
    if (wrapFinally || ok) this.indent--;
    if (wrapFinally) {
      this.write("} finally {", final!.line);
      inner(final!.body);
      this.write("}", node.line);
    } else if (ok) {
      this.write("}", node.line);
    }
  }
}

/** Loads `name` for an include/extends directive, turning loader problems into errors at that directive. */
function loadFor(loader: BaseLoader | null, name: string, at: Pos, directive: "include" | "extends"): Template {
  if (!loader) throw new ParseError(`{% ${directive} %} block found, but no template loader`, at.file, at.line);
  let resolved: string;
  try {
    resolved = loader.resolvePath(name, at.file);
  } catch (error) {
    throw positioned(error, at);
  }
  const chain = loader.loadingChain();
  if (chain.includes(resolved)) {
    const cycle = [...chain.slice(chain.indexOf(resolved)), resolved].join(" -> ");
    throw new ParseError(`{% ${directive} %} cycle: ${cycle}`, at.file, at.line);
  }
  try {
    return loader.load(resolved);
  } catch (error) {
    throw positioned(error, at);
  }
}

/** A ParseError without a position (a loader problem) gets the position of the directive that caused it. */
function positioned(error: unknown, at: Pos): unknown {
  if (error instanceof ParseError && error.filename === null) return new ParseError(error.reason, at.file, at.line);
  return error;
}

// ---------------------------------------------------------------------------------------------
// Template

/** Converts an expression's value to text: strings as is, bytes as UTF-8, anything else with String(). */
function toText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return toUnicode(value);
  return String(value);
}

/** The names every template sees (Tornado's `generate` namespace, without `datetime`). */
const DEFAULT_NAMESPACE: Readonly<Record<string, unknown>> = Object.freeze({
  escape: xhtmlEscape,
  xhtml_escape: xhtmlEscape,
  url_escape: urlEscape,
  json_encode: jsonEncode,
  squeeze,
  linkify,
});

const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await arguments eval undefined NaN Infinity"
  ).split(" "),
);
const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;
/** Namespace keys that can be declared as variables of the render function. */
const declarable = (key: string) =>
  IDENTIFIER.test(key) && !RESERVED.has(key) && (!key.startsWith("_tt_") || key === "_tt_modules");

type RenderFunction = (
  toText: (value: unknown) => string,
  kwargs: Record<string, unknown>,
  loaderNamespace: Record<string, unknown>,
  defaults: Readonly<Record<string, unknown>>,
) => string;

/** FNV-1a of a string, base 36 (names the generated code). */
function hashCode(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
/** Lines `new Function` puts before the body (measured once: engines differ). */
let headerLines: number | null = null;
function functionHeaderLines(): number {
  if (headerLines === null) {
    headerLines = 2;
    try {
      new Function("a", "b", "c", "d", "\nthrow new Error()\n//# sourceURL=tornado-template-probe.js")();
    } catch (error) {
      const m = /tornado-template-probe\.js:(\d+)/.exec(String((error as Error).stack));
      if (m) headerLines = Number(m[1]) - 2;
    }
  }
  return headerLines;
}

export interface TemplateOptions {
  /** The file name, for error messages and the whitespace default. Default `<string>`. */
  name?: string;
  /** Resolves `{% include %}` and `{% extends %}`. */
  loader?: BaseLoader | null;
  /** Name of the escaping function in the namespace; null turns autoescaping off. Default: the loader's, else `xhtml_escape`. */
  autoescape?: string | null;
  /** Default: the loader's, else `single` for `.html`/`.js` names and `all` otherwise. */
  whitespace?: WhitespaceMode;
}

/** A compiled template. */
export class Template {
  readonly name: string;
  /** The escaping function's name, or null. `{% autoescape %}` changes it for the whole file. */
  autoescape: string | null;
  readonly namespace: Record<string, unknown>;
  readonly loader: BaseLoader | null;
  /** The body of the generated render function (for debugging, like Tornado's `Template.code`). */
  readonly code: string;
  /** @internal the parsed top-level nodes */
  readonly file: Node[];
  private readonly locations: string[];
  private readonly setNames: string[];
  private readonly sourceUrl: string;
  /** Render functions by the names of generate()'s argument (see `generate`). */
  private readonly compiled = new Map<string, RenderFunction>();
  private last: { keys: string[]; render: RenderFunction } | null = null;

  constructor(source: string | Uint8Array, options: TemplateOptions = {}) {
    const { name = "<string>", loader = null } = options;
    this.name = name;
    this.loader = loader;
    let whitespace: string | undefined = options.whitespace ?? loader?.whitespace ?? undefined;
    if (!whitespace) whitespace = name.endsWith(".html") || name.endsWith(".js") ? "single" : "all";
    filterWhitespace(whitespace, ""); // throws on an invalid mode
    this.autoescape =
      options.autoescape !== undefined
        ? options.autoescape === null
          ? null
          : checkFunctionName(options.autoescape)
        : loader
          ? loader.autoescape
          : DEFAULT_AUTOESCAPE;
    this.namespace = loader ? loader.namespace : {};
    if (typeof source !== "string" && !(source instanceof Uint8Array)) {
      throw new TypeError(`Template source must be a string or UTF-8 bytes, got ${source === null ? "null" : typeof source}`);
    }
    let text: string;
    try {
      text = toUnicode(source);
    } catch {
      throw new ParseError("template is not valid UTF-8", name, 0);
    }
    const reader = new Reader(name, text, whitespace);
    this.file = parse(reader, this);
    if (reader.deferred) throw reader.deferred;

    // Generate from the root ancestor, with every ancestor's (and included file's) blocks.
    const ancestors = this.ancestors().reverse();
    const namedBlocks = new Map<string, Node & { kind: "block" }>();
    for (const ancestor of ancestors) findNamedBlocks(ancestor.file, loader, namedBlocks);
    const root = ancestors[0]!;
    const writer = new CodeWriter(namedBlocks, loader, root);
    writer.write(`let _tt_out = "";`, 0);
    writer.body(root.file);
    writer.write("return _tt_out;", 0);
    this.code = writer.lines.join("\n");
    this.locations = writer.locations;
    this.setNames = [...writer.setNames];
    // Named by content: the same code always has the same line map, so a frame is never
    // annotated with another template's lines, and the engine's compile cache can serve reloads.
    this.sourceUrl = `${name.replace(/[^\w.\-/]/g, "_")}.${hashCode(this.code)}.generated.js`;
    // Check the syntax now, so JavaScript syntax errors are load-time ParseErrors naming the
    // template line. As the body of an inner function it is only pre-parsed, which finds the
    // same errors for about half the cost of compiling it.
    try {
      new Function(`return function(_tt_str, _tt_kw, _tt_lns, _tt_def) {"use strict"; let ${["_tt_unused", ...this.setNames].join(", ")};\n${this.code}\n}`);
    } catch (error) {
      if (error instanceof SyntaxError) throw this.locateSyntaxError(error);
      throw error;
    }
  }

  /**
   * Renders the template. `namespace` adds to (and overrides) the loader's namespace, which adds
   * to (and overrides) the default one.
   *
   * Namespace names become local variables of the render function, so there is one compiled
   * function per set of argument names (a handler passes the same names every time; the last one
   * is found without allocating). The loader namespace's names are read when that function is
   * built; its values on every render.
   */
  generate(namespace: Record<string, unknown> = {}): string {
    let render: RenderFunction | undefined;
    const last = this.last;
    if (last !== null) {
      const keys = last.keys;
      let i = 0;
      for (const key in namespace) {
        if (keys[i] !== key) {
          i = -1;
          break;
        }
        i++;
      }
      if (i === keys.length) render = last.render;
    }
    if (render === undefined) render = this.renderFor(namespace);
    try {
      return render(toText, namespace, this.namespace, DEFAULT_NAMESPACE);
    } catch (error) {
      this.annotate(error);
      throw error;
    }
  }

  private renderFor(namespace: Record<string, unknown>): RenderFunction {
    const keys: string[] = [];
    for (const key in namespace) keys.push(key);
    const signature = keys.join(",");
    let render = this.compiled.get(signature);
    if (!render) {
      if (this.compiled.size >= 64) this.compiled.clear();
      render = this.compile(keys);
      this.compiled.set(signature, render);
    }
    this.last = { keys, render };
    return render;
  }

  /** The chain of `{% extends %}` files, this one first (Tornado's `_get_ancestors`). */
  private ancestors(): Template[] {
    const ancestors: Template[] = [this];
    for (const node of this.file) {
      if (node.kind === "extends") ancestors.push(...loadFor(this.loader, node.name, node, "extends").ancestors());
    }
    return ancestors;
  }

  /** Builds the render function for generate()'s argument names: every namespace name becomes a local variable. */
  private compile(argumentNames: string[]): RenderFunction {
    const declared = new Set<string>();
    const take = (names: string[]) => {
      const fresh = names.filter((n) => declarable(n) && !declared.has(n));
      for (const n of fresh) declared.add(n);
      return fresh;
    };
    const fromArguments = take(argumentNames);
    const fromLoader = take(Object.keys(this.namespace));
    const fromDefaults = take(Object.keys(DEFAULT_NAMESPACE));
    const locals = this.setNames.filter((n) => !declared.has(n));
    const destructure = (names: string[], from: string) => (names.length ? ` let {${names.join(", ")}} = ${from};` : "");
    // One prologue line, so generated line N is always body line N + 1.
    const prologue =
      `"use strict";` +
      destructure(fromArguments, "_tt_kw") +
      destructure(fromLoader, "_tt_lns") +
      destructure(fromDefaults, "_tt_def") +
      (locals.length ? ` let ${locals.join(", ")};` : "");
    const source = `${prologue}\n${this.code}\n//# sourceURL=${this.sourceUrl}`;
    try {
      return new Function("_tt_str", "_tt_kw", "_tt_lns", "_tt_def", source) as RenderFunction;
    } catch (error) {
      if (error instanceof SyntaxError) throw this.locateSyntaxError(error);
      throw error;
    }
  }

  /** Finds the tag whose JavaScript does not parse (engines do not report lines for `new Function`). */
  private locateSyntaxError(error: SyntaxError): ParseError {
    const check = (code: string, at: Pos): void => {
      try {
        new Function(`"use strict";\n${code}`);
      } catch (e) {
        if (e instanceof SyntaxError) throw new ParseError(`${e.message} in ${pyRepr(code.trim())}`, at.file, at.line);
      }
    };
    const walk = (nodes: Node[]): void => {
      for (const node of nodes) {
        switch (node.kind) {
          case "expr":
            check(`(${node.expr}\n);`, node);
            break;
          case "set":
            check(node.code.startsWith("{") ? `(${node.code}\n);` : `${node.code}\n;`, node);
            break;
          case "apply":
            check(`(${node.method}\n);`, node);
            walk(node.body);
            break;
          case "block":
            walk(node.body);
            break;
          case "control":
            for (const clause of node.clauses) {
              if (clause.operator === "if" || clause.operator === "elif" || clause.operator === "while") {
                check(`if (${clause.suffix}\n) {}`, clause);
              } else if (clause.operator === "for") {
                const head = clause.suffix.startsWith("(")
                  ? `for ${clause.suffix} {}`
                  : `for (${/^(?:let|const|var)\s/.test(clause.suffix) ? "" : "let "}${clause.suffix}\n) {}`;
                check(head, clause);
              } else if (clause.operator === "except") {
                const { type, binding } = parseExcept(clause.suffix);
                check(`try {} catch (${binding ?? "_"}) {${type ? `(${type}\n);` : ""}}`, clause);
              }
              walk(clause.body);
            }
            break;
          default:
            break;
        }
      }
    };
    const seen = new Set<Template>();
    const visit = (template: Template) => {
      if (seen.has(template)) return;
      seen.add(template);
      walk(template.file);
    };
    visit(this);
    for (const ancestor of this.ancestors()) visit(ancestor);
    return new ParseError(`${error.message} (in the code generated for this template)`, this.name, 1);
  }

  /** Marks the frames of our render function in `error.stack` with the template lines (Tornado's `# file.html:2` comments). */
  private annotate(error: unknown): void {
    if (!(error instanceof Error)) return;
    try {
      const stack = String(error.stack ?? "");
      const offset = functionHeaderLines() + 1;
      const found: string[] = [];
      const lines = stack.split("\n").map((frame) => {
        const at = frame.indexOf(this.sourceUrl + ":");
        if (at === -1 || frame.includes(" # ")) return frame;
        const lineNo = Number(/^:(\d+)/.exec(frame.slice(at + this.sourceUrl.length))?.[1]);
        const location = this.locations[lineNo - offset - 1];
        if (!location) return frame;
        found.push(location);
        return `${frame}  # ${location}`;
      });
      const annotated = error as TemplateRuntimeError;
      // No frame of ours left to mark: an inner render of the same code marked them already.
      if (!found.length && stack.includes(this.sourceUrl)) return;
      annotated.templateStack = [...(annotated.templateStack ?? []), ...(found.length ? found : [this.name])];
      if (found.length) error.stack = lines.join("\n");
    } catch {
      // A frozen error or an odd stack: leave it as it is.
    }
  }
}

function findNamedBlocks(nodes: Node[], loader: BaseLoader | null, named: Map<string, Node & { kind: "block" }>): void {
  for (const node of nodes) {
    if (node.kind === "block") {
      named.set(node.name, node);
      findNamedBlocks(node.body, loader, named);
    } else if (node.kind === "include") {
      findNamedBlocks(loadFor(loader, node.name, node, "include").file, loader, named);
    } else if (node.kind === "apply") {
      findNamedBlocks(node.body, loader, named);
    } else if (node.kind === "control") {
      for (const clause of node.clauses) findNamedBlocks(clause.body, loader, named);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Loaders

/** POSIX path helpers (no `node:path` in the runtime). */
const posix = {
  normpath(path: string): string {
    const absolute = path.startsWith("/");
    const out: string[] = [];
    for (const part of path.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === ".." && out.length && out[out.length - 1] !== "..") out.pop();
      else if (part === ".." && absolute) continue;
      else out.push(part);
    }
    const joined = out.join("/");
    return absolute ? "/" + joined : joined || ".";
  },
  dirname(path: string): string {
    const i = path.lastIndexOf("/");
    return i === -1 ? "" : i === 0 ? "/" : path.slice(0, i);
  },
  join(a: string, b: string): string {
    if (b.startsWith("/") || a === "") return b;
    return a.endsWith("/") ? a + b : `${a}/${b}`;
  },
};

export interface LoaderOptions {
  /** Name of the escaping function, or null for none. Default `xhtml_escape`. */
  autoescape?: string | null;
  /** Whitespace mode for every template (default: by file name). */
  whitespace?: WhitespaceMode;
  /** Added to every template's namespace. */
  namespace?: Record<string, unknown>;
}

/** Loads templates by name and caches them compiled (Tornado's `BaseLoader`). */
export abstract class BaseLoader {
  readonly autoescape: string | null;
  readonly whitespace: WhitespaceMode | undefined;
  readonly namespace: Record<string, unknown>;
  /** Compiled templates by resolved name. */
  protected templates = new Map<string, Template>();
  private readonly loading: string[] = [];

  constructor(options: LoaderOptions = {}) {
    this.autoescape = options.autoescape === undefined ? DEFAULT_AUTOESCAPE : options.autoescape === null ? null : checkFunctionName(options.autoescape);
    if (options.whitespace !== undefined) filterWhitespace(options.whitespace, "");
    this.whitespace = options.whitespace;
    this.namespace = options.namespace ?? {};
  }

  /** Forgets every compiled template (Tornado does this per request in debug mode). */
  reset(): void {
    this.templates = new Map();
  }

  /** Converts a name relative to `parentPath` (the including template) into a loader name. */
  abstract resolvePath(name: string, parentPath?: string): string;

  /** Reads a template's source; null if it does not exist. */
  protected abstract read(name: string): string | Uint8Array | null;

  /** Where a template is looked for, for error messages. */
  protected describe(name: string): string {
    return name;
  }

  /** The compiled template `name` (relative to `parentPath` if given), from the cache when possible. */
  load(name: string, parentPath?: string): Template {
    const resolved = this.resolvePath(name, parentPath);
    const cached = this.templates.get(resolved);
    if (cached) return cached;
    const topLevel = this.loading.length === 0;
    this.loading.push(resolved);
    try {
      const source = this.read(resolved);
      if (source === null) throw new ParseError(`Template ${pyRepr(resolved)} not found (${this.describe(resolved)})`);
      const template = new Template(source, { name: resolved, loader: this });
      this.templates.set(resolved, template);
      return template;
    } catch (error) {
      // A top-level load has no directive to blame: name the template itself.
      if (topLevel && error instanceof ParseError && error.filename === null) throw new ParseError(error.reason, resolved, 0);
      throw error;
    } finally {
      this.loading.pop();
    }
  }

  /** @internal names being compiled right now, outermost first (for cycle errors). */
  loadingChain(): readonly string[] {
    return this.loading;
  }
}

/** Whether `name` is resolved against the including template's directory (it and the name are relative). */
function hasParent(name: string, parentPath: string | undefined): parentPath is string {
  return Boolean(parentPath && !parentPath.startsWith("<") && !parentPath.startsWith("/") && !name.startsWith("/"));
}
function relativeTo(name: string, parentPath: string | undefined): string {
  return hasParent(name, parentPath) ? posix.join(posix.dirname(parentPath), name) : name;
}
const climbsOut = (path: string) => path === ".." || path.startsWith("../");

function outsideRoot(name: string): ParseError {
  return new ParseError(`Template name ${pyRepr(name)} is outside the template root`);
}

/**
 * Loads templates from a directory through `platform().fs` (the memory platform's virtual files
 * in the browser). A relative root is resolved by the platform against its working directory.
 */
export class Loader extends BaseLoader {
  readonly root: string;
  constructor(rootDirectory: string, options?: LoaderOptions) {
    super(options);
    this.root = posix.normpath(rootDirectory);
  }

  /** Names are normalised and must stay inside the root (`../x.html` and foreign absolute paths are refused). */
  resolvePath(name: string, parentPath?: string): string {
    let path = posix.normpath(relativeTo(name, parentPath));
    if (path.startsWith("/")) {
      const prefix = this.root === "/" ? "/" : this.root + "/";
      if (!this.root.startsWith("/") || !path.startsWith(prefix)) throw outsideRoot(name);
      path = path.slice(prefix.length);
    }
    if (climbsOut(path) || path === ".") throw outsideRoot(name);
    return path;
  }

  protected override describe(name: string): string {
    return this.root === "." ? name : posix.join(this.root, name);
  }

  protected read(name: string): Uint8Array | null {
    return platform().fs.readFile(this.describe(name));
  }
}

/** Loads templates from a dictionary of name → source. */
export class DictLoader extends BaseLoader {
  constructor(
    readonly dict: Record<string, string | Uint8Array>,
    options?: LoaderOptions,
  ) {
    super(options);
  }

  /** As Tornado: names relative to a parent are normalised; top-level names are dictionary keys, used as given. */
  resolvePath(name: string, parentPath?: string): string {
    const path = posix.normpath(relativeTo(name, parentPath));
    if (climbsOut(path)) throw outsideRoot(name);
    return hasParent(name, parentPath) ? path : name;
  }

  protected read(name: string): string | Uint8Array | null {
    return Object.hasOwn(this.dict, name) ? this.dict[name]! : null;
  }
}
