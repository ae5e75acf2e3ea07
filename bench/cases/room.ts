/**
 * The room under load (tools/room.ts as `npm run serve` runs it): 1,000 simulated attendees
 * (`ws` clients in this process) on loopback; slide changes from the presenter reach all of them
 * (median and p99 delivery, measured from the presenter's send to each attendee's receipt, so
 * the clients' own time is included); the server's RSS; then floods (an oversized message,
 * malformed JSON, 100 questions a second from one attendee, a reader that never reads) while the
 * presenter keeps moving, and the delivery times during them.
 *
 *   npm run bench -- --only=room              # 1,000 attendees
 *   npx tsx bench/cases/room.ts [--attendees=N]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { cookiesFrom, flood, join, joinMany, moveAndMeasure, type Delivery, type Member } from "../../tools/room-load.js";
import { memoryOf, printTable, ROOT, type BenchCase, type BenchTable } from "../lib.js";

interface Served {
  base: string;
  presenterLink: string;
  pid: number;
  log(): string;
  stop(): void;
}

function serve(dist: string): Promise<Served> {
  const child = spawn(process.execPath, ["--import", "tsx", "tools/serve.ts", "--dist", dist, "--no-build", "--host", "127.0.0.1", "--port", "0"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve did not start in 30 s:\n${stderr}`)), 30_000);
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      const m = /this machine: +(http:\/\/localhost:\d+\/)/.exec(stdout);
      const p = /presenter .*: (http\S+)/.exec(stdout);
      if (m && p) {
        clearTimeout(timer);
        done({ base: m[1]!.replace("localhost", "127.0.0.1"), presenterLink: p[1]!.replace("localhost", "127.0.0.1"), pid: child.pid!, log: () => stderr, stop: () => child.kill("SIGTERM") });
      }
    });
    child.once("exit", (code) => fail(new Error(`serve exited with ${code}:\n${stderr}`)));
  });
}

const ms = (n: number) => n.toFixed(1);

export async function runRoom(attendeeCount = 1000): Promise<BenchTable[]> {
  const dist = mkdtempSync(joinPath(tmpdir(), "room-bench-"));
  writeFileSync(joinPath(dist, "index.html"), "<!doctype html><html><head><title>deck</title></head><body></body></html>");
  const served = await serve(dist);
  const members: Member[] = [];
  try {
    const idle = memoryOf(served.pid).rss;
    const presenter = await join(served.base, await cookiesFrom(served.base, served.presenterLink));
    members.push(presenter);
    const t0 = performance.now();
    const attendees = await joinMany(served.base, attendeeCount, 100);
    members.push(...attendees);
    const connectMs = performance.now() - t0;
    const connected = memoryOf(served.pid).rss;
    const rows: Array<Array<string | number>> = [];
    const row = (label: string, d: Delivery) => rows.push([label, `${d.delivered}/${attendees.length}`, ms(d.medianMs), ms(d.p99Ms), ms(d.maxMs)]);
    for (let i = 0; i < 5; i++) {
      row(`slide change ${i + 1}`, await moveAndMeasure(presenter, attendees, 10 + i));
      await new Promise((r) => setTimeout(r, 100));
    }
    // Floods, with the presenter moving every 250 ms meanwhile.
    const logBefore = served.log().length;
    let flooding = true;
    const floodDone = flood(served.base, {
      slowReaderFrames: 200_000,
      questionsPerSecond: 100,
      dropped: () => served.log().slice(logBefore).includes("stopped reading"),
    }).finally(() => (flooding = false));
    const during: Delivery[] = [];
    for (let h = 20; flooding && h < 200; h++) {
      during.push(await moveAndMeasure(presenter, attendees, h));
      await new Promise((r) => setTimeout(r, 250));
    }
    const floodResult = await floodDone;
    during.forEach((d, i) => row(`during floods ${i + 1}`, d));
    row("after floods", await moveAndMeasure(presenter, attendees, 300));
    const alive = (await fetch(served.base)).status;
    const after = memoryOf(served.pid).rss;
    return [
      {
        title: `Room: ${attendees.length} attendees on /follow (loopback; ws clients in the bench process)`,
        columns: ["presenter moves", "delivered", "median ms", "p99 ms", "max ms"],
        rows,
        notes: [
          `connecting ${attendees.length} attendees (100 at a time): ${ms(connectMs)} ms`,
          `server RSS: ${idle.toFixed(0)} MiB idle, ${connected.toFixed(0)} MiB with ${attendees.length} attendees, ${after.toFixed(0)} MiB after the floods`,
          `floods: ${JSON.stringify(floodResult)}`,
          `server after the floods: GET / -> ${alive}; attendees still connected: ${attendees.filter((a) => a.ws.readyState === a.ws.OPEN).length}`,
        ],
      },
    ];
  } finally {
    for (const m of members) m.ws.terminate();
    served.stop();
    rmSync(dist, { recursive: true, force: true });
  }
}

const roomCase: BenchCase = { name: "room", run: (ctx) => runRoom(ctx.quick ? 200 : 1000) };
export default roomCase;

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv.find((a) => a.startsWith("--attendees="))?.slice(12) ?? 1000);
  for (const table of await runRoom(n)) printTable(table);
}
