#!/usr/bin/env node
/**
 * `npm test`'s first phase: the `unit` and `serial` Vitest projects in two processes at once.
 *
 * In one Vitest run they cannot overlap: Vitest puts a one-file-at-a-time project (`serial`, whose
 * files bind the talk's port 8888) in a group of its own that starts after every other group, so
 * its ~100 s ran on one core after the unit files (198 s for the phase in a fresh-clone run). The
 * unit files bind only port 0 and use 8888 only on the in-memory network, so nothing is shared.
 *
 * The serial run's output is held and printed after the unit run's, so neither is interleaved;
 * the exit code is non-zero if either run fails.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const vitest = fileURLToPath(new URL("../node_modules/vitest/vitest.mjs", import.meta.url));
const extra = process.argv.slice(2);

function run(project, hold) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vitest, "run", "--project", project, ...extra], {
      stdio: ["ignore", hold ? "pipe" : "inherit", hold ? "pipe" : "inherit"],
      env: hold ? { ...process.env, FORCE_COLOR: process.stdout.isTTY ? "1" : (process.env.FORCE_COLOR ?? "0") } : process.env,
    });
    const held = [];
    child.stdout?.on("data", (chunk) => held.push(chunk));
    child.stderr?.on("data", (chunk) => held.push(chunk));
    child.on("close", (code, signal) => resolve({ project, code: code ?? (signal ? 1 : 0), held }));
  });
}

const serial = run("serial", true);
const unit = await run("unit", false);
const serialDone = await serial;
process.stdout.write(Buffer.concat(serialDone.held));
const failed = [unit, serialDone].filter((r) => r.code !== 0).map((r) => r.project);
if (failed.length > 0) console.error(`test-beside: ${failed.join(" and ")} failed`);
process.exit(failed.length > 0 ? 1 : 0);
