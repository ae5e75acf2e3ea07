/**
 * Records real curl (/usr/bin/curl) against the canned server into transcripts.json.
 *
 * Run: `npx tsx tools/curl-fixtures/record.ts`. Each transcript keeps argv, stdout, stderr and
 * the exit code exactly as curl produced them, with the ephemeral port replaced by `{PORT}`
 * and "after N ms" by "after {MS} ms". curl's stdout is a pipe here, so every case without -s
 * would get a progress meter on stderr; we record those with `stderrVaries` set.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startCannedServer } from "./server.js";

const here = dirname(fileURLToPath(import.meta.url));
const U = "http://localhost:{PORT}";

/** argv templates; `{PORT}` and `{FILE}` are filled in at run time. */
export const CASES: string[][] = [
  ["-i", `${U}/`],
  ["-s", `${U}/`],
  ["-si", `${U}/json`],
  ["-s", "-i", `${U}/json`],
  ["-I", `${U}/`],
  ["-sI", `${U}/json`],
  ["-s", "-v", `${U}/`],
  ["-sv", `${U}/json`],
  ["-svi", `${U}/`],
  ["-sv", "-I", `${U}/`],
  ["-i", `${U}/nope`],
  ["-si", `${U}/casing`],
  ["-si", `${U}/unicode`],
  ["-si", `${U}/close`],
  ["-sv", `${U}/close`],
  ["-si", `${U}/chunked`],
  ["-sv", `${U}/chunked`],
  ["-si", `${U}/http10`],
  ["-sv", `${U}/http10`],
  ["-si", `${U}/redirect`],
  ["-s", "-X", "POST", `${U}/echo`],
  ["-s", "-X", "DELETE", `${U}/echo`],
  ["-s", "-XPUT", `${U}/echo`],
  ["-s", "--request", "PATCH", `${U}/echo`],
  ["-s", "-H", "X-Foo: bar", `${U}/echo`],
  ["-s", "-H", "User-Agent:", `${U}/echo`],
  ["-s", "-H", "Accept: text/plain", "-H", "x-two: 2", `${U}/echo`],
  ["-s", "-H", "Host: example.com", `${U}/echo`],
  ["-s", "-H", "Accept:", "-H", "Host:", `${U}/echo`],
  ["-s", "-H", "X-Empty;", `${U}/echo`],
  ["-s", "--header", "X-Long: a b  c", `${U}/echo`],
  ["-s", "-d", "a=1", `${U}/echo`],
  ["-s", "-d", "a=1", "-d", "b=2", `${U}/echo`],
  ["-s", "--data", "name=caf\u00e9", `${U}/echo`],
  ["-s", "-d", "@{FILE}", `${U}/echo`],
  ["-s", "-d", "x=1", "-X", "PUT", `${U}/echo`],
  ["-s", "-d", "x=1", "-H", "Content-Type: application/json", `${U}/echo`],
  ["-sv", "-d", "a=1", `${U}/echo`],
  ["-s", "-0", `${U}/echo`],
  ["-si", "--http1.0", `${U}/`],
  ["-sv", "-0", `${U}/`],
  ["-s", "--", `${U}/`],
  ["-s", `localhost:{PORT}/`],
  ["-si", `http://127.0.0.1:{PORT}/json`],
  ["-si", `${U}/?a=1&b=2`],
  ["-s", `${U}/echo?q=x%20y`],
  ["-s", `${U}`],
  ["--bogus", `${U}/`],
  ["-Q", `${U}/`],
  [],
  ["-s"],
  ["-X"],
  ["-s", "http://"],
  ["-s", "http://localhost:{PORT}:/"],
  ["ftp2://localhost/"],
  ["-s", "http://nonexistent.invalid/"],
  ["http://localhost:1/"],
  ["-s", "http://localhost:1/"],
  ["-sS", "http://localhost:1/"],
  ["-v", "http://127.0.0.1:1/"],
  ["-s", "-d", "@/nonexistent/file", `${U}/echo`],
  [`${U}/`],
];

async function main(): Promise<void> {
  const version = execFileSync("/usr/bin/curl", ["--version"]).toString().split(" ")[1];
  const dir = mkdtempSync(join(tmpdir(), "curlrec-"));
  const file = join(dir, "form.txt");
  writeFileSync(file, "from=file\nline2\r\n");
  const server = await startCannedServer();
  const port = String(server.port);
  const out: unknown[] = [];
  for (const template of CASES) {
    const argv = template.map((a) => a.replaceAll("{PORT}", port).replaceAll("{FILE}", file));
    const r = await new Promise<{ stdout: Buffer; stderr: Buffer; status: number }>((resolve) => {
      // spawnSync would block the canned server living in this same process.
      import("node:child_process").then(({ spawn }) => {
        const child = spawn("/usr/bin/curl", argv, { stdio: ["ignore", "pipe", "pipe"] });
        const so: Buffer[] = [];
        const se: Buffer[] = [];
        child.stdout.on("data", (c) => so.push(c));
        child.stderr.on("data", (c) => se.push(c));
        child.on("close", (status) => resolve({ stdout: Buffer.concat(so), stderr: Buffer.concat(se), status: status ?? -1 }));
      });
    });
    const mask = (s: string) =>
      s.replaceAll(port, "{PORT}").replaceAll(file, "{FILE}").replace(/after \d+ ms/g, "after {MS} ms");
    const quiet = argv.some((a) => /^-[a-zA-Z0-9]*s/.test(a) && !a.startsWith("--"));
    out.push({
      argv: template,
      stdout: mask(r.stdout.toString("utf8")),
      stderr: mask(r.stderr.toString("utf8")),
      exitCode: r.status,
      stderrVaries: !quiet && r.stdout.length > 0,
    });
  }
  await server.close();
  void spawnSync;
  writeFileSync(
    join(here, "transcripts.json"),
    JSON.stringify({ curlVersion: version, recordedWith: "/usr/bin/curl", transcripts: out }, null, 1) + "\n",
  );
  console.log(`recorded ${out.length} transcripts from curl ${version}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
