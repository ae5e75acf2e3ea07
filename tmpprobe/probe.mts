import { chromium } from "playwright-core";
import { chromiumArgs } from "../e2e/support.ts";
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: chromiumArgs });
const p = await b.newPage(); await p.goto("about:blank");
await new Promise(r=>setTimeout(r,3000));
const { execSync } = await import("node:child_process");
console.log(execSync("ps -eo pid,time,args --sort=-time | grep -E 'chromium' | grep -v grep | cut -c1-400").toString());
await b.close();
