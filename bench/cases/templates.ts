/**
 * Template rendering: our Tornado templates vs eta and ejs, in one process, same run.
 *
 * Each engine compiles its template once; then renders are timed in batches. Engines are
 * interleaved round by round (after a warm-up for each), and the median renders/s across rounds
 * is reported. All three must produce the same bytes for each page (checked before timing), so
 * the work is the same: the talk's index.html, and a 100-row table with escaped user data.
 *
 *   npm run bench -- --only=templates        # through bench/run.ts (it runs every bench/cases/*.ts)
 *   npx tsx bench/cases/templates.ts [--quick]   # standalone
 */
import ejs from "ejs";
import { Eta } from "eta";
import { Template } from "tornado/template";
import { printTable, type BenchCase, type BenchContext, type BenchTable } from "../lib.js";

interface Engine {
  name: string;
  render: () => string;
}
interface Page {
  name: string;
  engines: Engine[];
}

function pages(): Page[] {
  const eta = new Eta({ autoTrim: false, autoEscape: true });

  // The talk's page (index.html, whitespace "single" as in Tornado).
  const index = new Template("<html>\n    <h1> {{ msg }}</h1>\n</html>\n", { name: "index.html" });
  const indexEta = eta.compile("<html>\n<h1> <%= it.msg %></h1>\n</html>\n");
  const indexEjs = ejs.compile("<html>\n<h1> <%= msg %></h1>\n</html>\n");
  const talk = { msg: "hello!" };

  // A 100-row table; names need escaping (only & < >: the engines spell quotes differently).
  const rows = Array.from({ length: 100 }, (_, i) => ({
    id: i,
    name: `User <${i}> & friends`,
    email: `user${i}@example.com`,
    score: (i * 37) % 100,
  }));
  const table = new Template(
    "<table>\n{% for row of rows %}<tr><td>{{ row.id }}</td><td>{{ row.name }}</td><td>{{ row.email }}</td>" +
      "<td>{% if row.score > 50 %}high{% else %}low{% end %}</td></tr>\n{% end %}</table>\n",
    { name: "table.html" },
  );
  const tableEta = eta.compile(
    "<table>\n<% for (const row of it.rows) { %><tr><td><%= row.id %></td><td><%= row.name %></td><td><%= row.email %></td>" +
      "<td><% if (row.score > 50) { %>high<% } else { %>low<% } %></td></tr>\n<% } %></table>\n",
  );
  const tableEjs = ejs.compile(
    "<table>\n<% for (const row of rows) { %><tr><td><%= row.id %></td><td><%= row.name %></td><td><%= row.email %></td>" +
      "<td><% if (row.score > 50) { %>high<% } else { %>low<% } %></td></tr>\n<% } %></table>\n",
  );
  const data = { rows };

  return [
    {
      name: "talk index.html",
      engines: [
        { name: "tornado template", render: () => index.generate(talk) },
        { name: "eta 4", render: () => indexEta.call(eta, talk) },
        { name: "ejs", render: () => indexEjs(talk) },
      ],
    },
    {
      name: "100-row table",
      engines: [
        { name: "tornado template", render: () => table.generate(data) },
        { name: "eta 4", render: () => tableEta.call(eta, data) },
        { name: "ejs", render: () => tableEjs(data) },
      ],
    },
  ];
}

let sink = 0;
/** Renders for about `ms` milliseconds; returns renders per second. */
function measure(render: () => string, ms: number): number {
  let n = 0;
  let batch = 64;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) sink += render().length;
    n += batch;
    elapsed = performance.now() - start;
    if (elapsed < ms / 20) batch *= 2;
  }
  return (n * 1000) / elapsed;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function runTemplates(ctx: Pick<BenchContext, "quick" | "rounds">): Promise<BenchTable[]> {
  const slice = ctx.quick ? 200 : 1000;
  const rounds = Math.max(ctx.rounds, ctx.quick ? 3 : 5);
  const tables: BenchTable[] = [];
  for (const page of pages()) {
    const outputs = page.engines.map((e) => e.render());
    for (const [i, out] of outputs.entries()) {
      if (out !== outputs[0]) {
        const line = out.split("\n").findIndex((l, n) => l !== outputs[0]!.split("\n")[n]);
        throw new Error(`${page.name}: ${page.engines[i]!.name} renders different bytes (line ${line + 1}: ${out.split("\n")[line]})`);
      }
    }
    for (const e of page.engines) measure(e.render, slice / 2); // warm-up
    const samples = page.engines.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      // Rotate the order each round so no engine always runs first.
      for (let k = 0; k < page.engines.length; k++) {
        const i = (k + r) % page.engines.length;
        samples[i]!.push(measure(page.engines[i]!.render, slice));
      }
    }
    const rps = samples.map(median);
    const ours = rps[0]!;
    tables.push({
      title: `Templates: ${page.name} (${outputs[0]!.length} bytes; compiled once; median of ${rounds} interleaved rounds of ${slice} ms)`,
      columns: ["engine", "renders/s", "ours ÷ engine"],
      rows: page.engines.map((e, i) => [e.name, Math.round(rps[i]!).toLocaleString("en-US"), (ours / rps[i]!).toFixed(2) + "x"]),
      notes: [`(checksum ${sink % 1000})`],
    });
  }
  tables.push(compileCost(slice));
  return tables;
}

/** Compile + first render of a template never seen before (unique text defeats the engines' compile caches). */
function compileCost(ms: number): BenchTable {
  const eta = new Eta({ autoTrim: false, autoEscape: true });
  const body = (open: string, close: string, out: string, it: string) =>
    `<table>\n${open} for (const row of ${it}rows) { ${close}<tr><td>${out} row.id ${close}</td><td>${out} row.name ${close}</td>` +
    `<td>${open} if (row.score > 50) { ${close}high${open} } else { ${close}low${open} } ${close}</td></tr>\n${open} } ${close}</table>\n`;
  const tornado = "<table>\n{% for row of rows %}<tr><td>{{ row.id }}</td><td>{{ row.name }}</td>" +
    "<td>{% if row.score > 50 %}high{% else %}low{% end %}</td></tr>\n{% end %}</table>\n";
  const data = { rows: [{ id: 1, name: "a", score: 60 }] };
  let n = 0;
  const engines: Engine[] = [
    { name: "tornado template", render: () => new Template(`${tornado}<!--${n++}-->`, { name: "t.html" }).generate(data) },
    { name: "eta 4", render: () => eta.compile(`${body("<%", "%>", "<%=", "it.")}<!--${n++}-->`).call(eta, data) },
    { name: "ejs", render: () => ejs.compile(`${body("<%", "%>", "<%=", "")}<!--${n++}-->`)(data) },
  ];
  const outputs = engines.map((e) => e.render().replace(/<!--\d+-->$/, ""));
  if (new Set(outputs).size !== 1) throw new Error(`compile case: engines disagree: ${JSON.stringify(outputs)}`);
  const perCompile = engines.map((e) => {
    measure(e.render, ms / 4);
    return 1e6 / measure(e.render, ms);
  });
  return {
    title: "Templates: compile + first render of a new 5-tag table template",
    columns: ["engine", "µs per compile", "ours ÷ engine"],
    rows: engines.map((e, i) => [e.name, perCompile[i]!.toFixed(1), (perCompile[0]! / perCompile[i]!).toFixed(2) + "x"]),
    notes: ["(lower is better; Tornado recompiles on every request only in debug mode)"],
  };
}

const templatesCase: BenchCase = {
  name: "templates",
  run: (ctx) => runTemplates(ctx),
};
export default templatesCase;

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick");
  for (const table of await runTemplates({ quick, rounds: quick ? 3 : 5 })) printTable(table);
}
