import { chromium } from "playwright-core";
import { chromiumArgs } from "../e2e/support.ts";
import { execSync } from "node:child_process";
const extra = process.argv.slice(2);
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: [...chromiumArgs, ...extra] });
const t0 = Date.now();
for (let i = 0; i < 10; i++) {
  const c = await b.newContext(); const p = await c.newPage();
  await p.setContent("<h1>hi</h1>"); await p.goto("data:text/html,<p>x"); await c.close();
}
const wall = Date.now() - t0;
const pid = (b as any)._connection ? 0 : 0;
const out = execSync("ps -eo pid,ppid,cputimes,args | grep -E '/usr/lib/chromium/chromium' | grep -v grep | cut -c1-120").toString();
const rows = out.trim().split("\n").map(l => l.trim().split(/\s+/));
let webui = 0, total = 0;
for (const r of rows) { const cpu = Number(r[2]); total += cpu; if (r.join(" ").includes("top-chrome-webui")) webui += cpu; }
console.log(extra.join(" ") || "(default)", "wall", wall, "ms; chromium cpu s", total, "top-chrome", webui);
await b.close();
