/**
 * Our curl against real curl (/usr/bin/curl, 7.88.1):
 *  1. replaying every transcript recorded from real curl against the canned server
 *     (tools/curl-fixtures), byte for byte;
 *  2. live, side by side, against a runtime Application on an ephemeral port;
 *  3. over the in-memory network (the browser's platform), against the same live output.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCannedServer, type CannedServer } from "../tools/curl-fixtures/server.js";
import { JAR_FIXTURE } from "../tools/curl-fixtures/record.js";
import { curl, CURL_VERSION, parseCurlArgs, parseCurlURL, planRequest, CurlError, SUPPORTED } from "./curl.js";
import { HTTPServer } from "./httpserver.js";
import { setLogSink } from "./log.js";
import { createMemoryPlatform } from "./platform/memory.js";
import { platform, setPlatform, type Platform } from "./platform/index.js";
import { Application, HTTPError, RequestHandler } from "./web.js";

const REAL_CURL = "/usr/bin/curl";
const haveCurl = existsSync(REAL_CURL);

interface Transcript {
  argv: string[];
  stdout: string;
  stderr: string;
  exitCode: number;
  stderrVaries: boolean;
}
const fixtures = JSON.parse(readFileSync(new URL("../tools/curl-fixtures/transcripts.json", import.meta.url), "utf8")) as {
  curlVersion: string;
  transcripts: Transcript[];
};

/** Run our curl in-process; stdout as bytes decoded UTF-8, stderr as text. */
async function ours(argv: string[], plat?: Platform): Promise<{ stdout: string; stderr: string; code: number }> {
  const out: Uint8Array[] = [];
  let err = "";
  const code = await curl(argv, {
    stdout: (c) => out.push(typeof c === "string" ? new TextEncoder().encode(c) : c.slice()),
    stderr: (t) => (err += t),
    // Real curl runs with stdout on a pipe in these tests.
    isTTY: false,
    platform: plat,
  });
  return { stdout: Buffer.concat(out).toString("utf8"), stderr: err, code };
}

/** Run real curl as a child process (asynchronously: the servers live in this process). */
function real(argv: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(REAL_CURL, argv, { stdio: ["ignore", "pipe", "pipe"] });
    const so: Buffer[] = [];
    const se: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => so.push(c));
    child.stderr.on("data", (c: Buffer) => se.push(c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ stdout: Buffer.concat(so).toString("utf8"), stderr: Buffer.concat(se).toString("utf8"), code: code ?? -1 }));
  });
}

/**
 * curl's progress meter (stderr, when stdout is not a terminal and no -s): its header and the
 * position of every row must match; the numbers in a row are timings, so they are masked.
 */
function maskMeterRows(stderr: string): string {
  const row = String.raw`\r *\d+ +[\d.kMG]+ +\d+ +[\d.kMG]+ +\d+ +[\d.kMG]+ +[\d.kMG]+ +[\d.kMG]+ +[-:\d]{8} +[-:\d]{8} +[-:\d]{8} +[\d.kMG]+`;
  // curl draws a row per second: a slow run (a loaded machine) draws more of them, so a run of
  // rows is one {ROWS}; the header, the rows' shape and what follows must still match.
  return stderr.replace(new RegExp(row, "g"), "\r{ROW}").replace(/(\r\{ROW\})+/g, "\r{ROWS}");
}

/**
 * Where ours differs from real curl, on purpose or by a limit of the runtime's client; each
 * is asserted as it is, so a change in either direction shows up here.
 */
const KNOWN: Record<string, { why: string; check: (r: { stdout: string; stderr: string; code: number }, t: Transcript) => void }> = {
  '["-s","-H","Accept:","-H","Host:","http://localhost:{PORT}/echo"]': {
    why: "the runtime's client always sends a Host header (HTTP/1.1 requires one); curl can be told to drop it",
    check: (r, t) => expect(r.stdout).toBe(t.stdout.replace("GET /echo HTTP/1.1\r\n", "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\n")),
  },
  '["-s","-H","X-Empty;","http://localhost:{PORT}/echo"]': {
    why: "the runtime writes every header as `Name: value`, so an empty value keeps its space",
    check: (r, t) => expect(r.stdout).toBe(t.stdout.replace("X-Empty:\r\n", "X-Empty: \r\n")),
  },
  '["-L","http://localhost:{PORT}/r307"]': {
    why: "the progress meter of a followed request draws its rows by time; curl sometimes starts the second with a 0% row",
    check: (r, t) => {
      expect([r.code, r.stdout]).toEqual([t.exitCode, t.stdout]);
      expect(maskMeterRows(r.stderr)).toBe(maskMeterRows(t.stderr));
    },
  },
  '["-Q","http://localhost:{PORT}/"]': {
    why: "-Q (FTP quote) is refused by name instead of eating the URL as its parameter",
    check: (r, t) => {
      expect(r.code).toBe(t.exitCode);
      expect(r.stderr).toBe(`curl: option -Q: is not supported by this curl (it does ${SUPPORTED})\n` + t.stderr.split("\n")[1] + "\n");
    },
  },
};

describe("replaying real curl's recorded transcripts", () => {
  let server: CannedServer;
  let dir: string;
  beforeAll(async () => {
    server = await startCannedServer();
    dir = mkdtempSync(join(tmpdir(), "curltest-"));
    writeFileSync(join(dir, "form.txt"), "from=file\nline2\r\n");
    writeFileSync(join(dir, "jar.txt"), JAR_FIXTURE);
  });
  afterAll(() => server.close());

  it("was recorded from the curl version we imitate", () => {
    expect(fixtures.curlVersion).toBe(CURL_VERSION);
    expect(fixtures.transcripts.length).toBeGreaterThan(50);
  });

  for (const t of fixtures.transcripts) {
    const key = JSON.stringify(t.argv);
    it(`curl ${t.argv.join(" ")}${KNOWN[key] ? ` (known difference: ${KNOWN[key]!.why})` : ""}`, async () => {
      const port = String(server.port);
      const file = join(dir, "form.txt");
      const jar = join(dir, "jar.txt");
      const argv = t.argv.map((a) => a.replaceAll("{PORT}", port).replaceAll("{FILE}", file).replaceAll("{JAR}", jar));
      const r = await ours(argv);
      const mask = (s: string) =>
        s.replaceAll(port, "{PORT}").replaceAll(file, "{FILE}").replaceAll(jar, "{JAR}").replace(/after \d+ ms/g, "after {MS} ms");
      const masked = { stdout: mask(r.stdout), stderr: mask(r.stderr), code: r.code };
      if (KNOWN[key]) return KNOWN[key]!.check(masked, t);
      expect(masked.code).toBe(t.exitCode);
      expect(masked.stdout).toBe(t.stdout);
      expect(maskMeterRows(masked.stderr)).toBe(maskMeterRows(t.stderr));
    });
  }
});

class Hello extends RequestHandler {
  get() {
    this.write("Hello, world");
  }
}
class Json extends RequestHandler {
  get() {
    this.write({ msg: "hello!" });
  }
}
/** Writes back the request as the server parsed it: proves both curls sent the same thing. */
class Echo extends RequestHandler {
  get() {
    this.echo();
  }
  post() {
    this.echo();
  }
  put() {
    this.echo();
  }
  delete() {
    this.echo();
  }
  private echo() {
    const lines = [`${this.request.method} ${this.request.uri} ${this.request.version}`];
    for (const [name, value] of this.request.headers.getAll()) lines.push(`${name}: ${value}`);
    lines.push("", new TextDecoder().decode(this.request.body));
    this.setHeader("Content-Type", "text/plain; charset=UTF-8");
    this.write(lines.join("\n"));
  }
}
class Form extends RequestHandler {
  post() {
    this.write(`x=${this.getArgument("x")} y=${this.getArgument("y", "none")}`);
  }
}
class Gone extends RequestHandler {
  get() {
    this.redirect("/");
  }
}
/** The deck's secure-cookie demo: log in with a signed cookie, be greeted by it, log out. */
class Login extends RequestHandler {
  get() {
    this.setSecureCookie("user", this.getArgument("name", "anonymous")!);
    this.setCookie("theme", "dark", { path: "/" });
    this.redirect("/");
  }
}
class Greet extends RequestHandler {
  get() {
    const user = this.getSecureCookie("user");
    if (user === null) throw new HTTPError(403);
    this.write(`hello ${new TextDecoder().decode(user)}\n`);
  }
}
class Logout extends RequestHandler {
  get() {
    this.clearCookie("user");
    this.write("bye\n");
  }
}
/** /hop/N redirects with status N to /echo (?status=... picks another). */
class Hop extends RequestHandler {
  get(code: string) {
    this.redirect(this.getArgument("to", "/echo")!, false, Number(code));
  }
  post(code: string) {
    this.get(code);
  }
}
class Unicode extends RequestHandler {
  get() {
    this.write("caf\u00e9 \u2603\n");
  }
}

function app(): Application {
  return new Application([
    ["/", Hello],
    ["/json", Json],
    ["/echo", Echo],
    ["/form", Form],
    ["/gone", Gone],
    ["/unicode", Unicode],
    ["/login", Login],
    ["/greet", Greet],
    ["/logout", Logout],
    ["/hop/(\\d+)", Hop],
  ], { cookieSecret: "curl-test-secret" });
}

/** Both outputs with Date values masked, only when they differ (a run straddling a second). */
function maskDates(a: string, b: string): [string, string] {
  // Clock readings: the Date header, a cookie's expires attribute (a date 30 days on), and a
  // jar line's expiry (the same, in seconds). Two runs a moment apart may straddle a second.
  const clocks: Array<[RegExp, string]> = [
    [/Date: [^\r\n]+/g, "Date: {DATE}"],
    [/expires=\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT/g, "expires={DATE}"],
    [/^([^\t\n]*\t(?:TRUE|FALSE)\t[^\t\n]*\t(?:TRUE|FALSE)\t)\d{9,}\t/gm, "$1{EXPIRES}\t"],
  ];
  for (const [pattern, mask] of clocks) {
    if (JSON.stringify(a.match(pattern) ?? []) === JSON.stringify(b.match(pattern) ?? [])) continue;
    [a, b] = [a.replace(pattern, mask), b.replace(pattern, mask)];
  }
  return [a, b];
}

const LIVE_CASES: string[][] = [
  ["-i", "{U}/"],
  ["-s", "{U}/"],
  ["-si", "{U}/json"],
  ["-I", "{U}/"],
  ["-sI", "{U}/json"],
  ["-sv", "{U}/"],
  ["-svi", "{U}/json"],
  ["-sv", "-I", "{U}/"],
  ["-si", "{U}/nope"],
  ["-si", "-X", "POST", "{U}/"],
  ["-si", "-X", "DELETE", "{U}/echo"],
  ["-s", "-XPUT", "{U}/echo"],
  ["-si", "-H", 'If-None-Match: "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8"', "{U}/"],
  ["-si", "-H", "X-Foo: bar", "-H", "User-Agent:", "-H", "Accept: text/plain", "{U}/echo"],
  ["-s", "-H", "Host: example.com", "{U}/echo"],
  ["-si", "-d", "x=1", "{U}/form"],
  ["-si", "-d", "x=1", "-d", "y=caf\u00e9", "{U}/form"],
  ["-s", "-d", "a=1", "{U}/echo"],
  ["-sv", "-d", "x=2", "{U}/form"],
  ["-si", "-d", "x=1", "{U}/"],
  ["-si", "-0", "{U}/"],
  ["-sv", "-0", "{U}/json"],
  ["-si", "{U}/gone"],
  ["-si", "{U}/unicode"],
  ["-s", "-A", "talk/2011", "{U}/echo"],
  ["-sS", "-f", "{U}/nope"],
  ["-s", "--", "{U}/json"],
  ["-v", "{U}/json"],
  ["-d", "x=3", "{U}/form"],
  ["-si", "-L", "{U}/gone"],
  ["-si", "-L", "-d", "x=1", "{U}/hop/301"],
  ["-si", "-L", "-d", "x=1", "{U}/hop/302"],
  ["-si", "-L", "-d", "x=1", "{U}/hop/303"],
  ["-si", "-L", "-d", "x=1", "{U}/hop/307"],
  ["-s", "-L", "-X", "PUT", "-d", "x=1", "{U}/hop/308"],
  ["-sI", "-L", "{U}/hop/303"],
  ["-si", "-L", "--max-redirs", "1", "{U}/hop/302?to=/hop/302"],
  ["-s", "-b", "name=ben; x=1", "{U}/echo"],
  ["-si", "-b", "user=forged", "{U}/greet"],
];

describe("side by side with real curl against a runtime server", () => {
  let server: HTTPServer;
  let port: number;
  let closedPort: number;
  let previousSink: ReturnType<typeof setLogSink>;
  beforeAll(async () => {
    previousSink = setLogSink(() => {});
    server = new HTTPServer(app());
    port = await server.listen(0);
    // A port nothing listens on: bind one, then let it go.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });
  afterAll(async () => {
    await server.stop();
    await server.closeAllConnections();
    setLogSink(previousSink);
  });

  it.skipIf(!haveCurl)("real curl is the version we imitate", async () => {
    const r = await real(["--version"]);
    expect(r.stdout.split(" ")[1]).toBe(CURL_VERSION);
  });

  for (const template of LIVE_CASES) {
    it.skipIf(!haveCurl)(`curl ${template.join(" ")}`, async () => {
      const argv = template.map((a) => a.replace("{U}", `http://localhost:${port}`));
      const [theirs, mine] = [await real(argv), await ours(argv)];
      const [a, b] = maskDates(theirs.stdout, mine.stdout);
      expect(b).toBe(a);
      const [c, d] = maskDates(maskMeterRows(theirs.stderr), maskMeterRows(mine.stderr));
      expect(d).toBe(c);
      expect(mine.code).toBe(theirs.code);
    });
  }

  /**
   * The deck's secure-cookie sequence, once with real curl and once with ours, each with its
   * own jar: log in (-c), be greeted (-b), tamper with the signature, log out. Outputs and jar
   * files must match byte for byte, except the signed value's timestamp and signature and the
   * cookie's expiry, which differ when the two runs straddle a second.
   */
  it.skipIf(!haveCurl)("secure-cookie login: -i -c jar, then -b jar, a tampered jar, and logout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "curljar-"));
    const U = `http://localhost:${port}`;
    const signed = (s: string) => s.replace(/\|10:\d{10}\|/g, "|10:{TS}|").replace(/\|[0-9a-f]{64}/g, "|{SIG}");
    const steps = (jar: string) => [
      ["-i", "-c", jar, `${U}/login?name=ben`],
      ["-s", "-b", jar, `${U}/greet`],
      ["-si", "-L", "-b", jar, "-c", jar, `${U}/login?name=ann`],
      ["-si", "-b", jar, "-c", jar, `${U}/logout`],
      ["-si", "-b", jar, `${U}/greet`],
    ];
    const theirJar = join(dir, "theirs.txt");
    const ourJar = join(dir, "ours.txt");
    const [theirSteps, ourSteps] = [steps(theirJar), steps(ourJar)];
    for (let k = 0; k < theirSteps.length; k++) {
      const theirs = await real(theirSteps[k]!);
      const mine = await ours(ourSteps[k]!);
      const [a, b] = maskDates(signed(theirs.stdout), signed(mine.stdout));
      expect(b, theirSteps[k]!.join(" ")).toBe(a);
      expect(maskMeterRows(mine.stderr)).toBe(maskMeterRows(theirs.stderr));
      expect(mine.code).toBe(theirs.code);
      const [theirFile, ourFile] = maskDates(signed(readFileSync(theirJar, "utf8")), signed(readFileSync(ourJar, "utf8")));
      expect(ourFile).toBe(theirFile);
      if (k === 1) {
        expect(mine.stdout).toBe("hello ben\n");
        // One character of the signature changed: the server refuses the cookie.
        for (const file of [theirJar, ourJar]) {
          const text = readFileSync(file, "utf8");
          const tampered = text.replace(/(\tuser\t[^\n]*)([0-9a-f])\n/, (_m, line: string, c: string) => `${line}${c === "0" ? "1" : "0"}\n`);
          expect(tampered).not.toBe(text);
          writeFileSync(file, tampered);
        }
        const [t2, m2] = [await real(["-si", "-b", theirJar, `${U}/greet`]), await ours(["-si", "-b", ourJar, `${U}/greet`])];
        expect(m2.stdout).toMatch(/^HTTP\/1\.1 403 Forbidden/);
        expect(maskDates(t2.stdout, m2.stdout)[1]).toBe(maskDates(t2.stdout, m2.stdout)[0]);
      }
    }
    expect(readFileSync(ourJar, "utf8")).toMatch(/^# Netscape HTTP Cookie File\n/);
  });

  it.skipIf(!haveCurl)("-c with a file that cannot be written: the transfer succeeds, -v says so", async () => {
    const argv = ["-sv", "-c", "/nonexistent/dir/jar.txt", `http://localhost:${port}/`];
    const [theirs, mine] = [await real(argv), await ours(argv)];
    expect(mine.code).toBe(theirs.code);
    expect(mine.stdout).toBe(theirs.stdout);
    const [c, d] = maskDates(theirs.stderr, mine.stderr);
    expect(d).toBe(c);
  });

  it.skipIf(!haveCurl)("connection refused, with -sS and with -v", async () => {
    for (const argv of [["-sS", `http://localhost:${closedPort}/`], ["-sv", `http://localhost:${closedPort}/`], ["-s", `http://127.0.0.1:${closedPort}/`]]) {
      const [theirs, mine] = [await real(argv), await ours(argv)];
      const ms = (s: string) => maskMeterRows(s.replace(/after \d+ ms/g, "after N ms"));
      expect(ms(mine.stderr)).toBe(ms(theirs.stderr));
      expect(mine.code).toBe(7);
      expect(theirs.code).toBe(7);
    }
  });

  it.skipIf(!haveCurl)("a server that never answers (-m) and one that hangs up (empty reply)", async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
    });
    const rude = net.createServer((s) => {
      s.on("error", () => {});
      s.once("data", () => s.end());
    });
    await Promise.all([silent, rude].map((srv) => new Promise<void>((r) => srv.listen(0, "127.0.0.1", r))));
    const portOf = (srv: net.Server) => (srv.address() as net.AddressInfo).port;
    try {
      const ms = (s: string) => s.replace(/after \d+ milliseconds/g, "after N milliseconds");
      for (const argv of [
        ["-sS", "-m", "0.5", `http://127.0.0.1:${portOf(silent)}/`],
        ["-sS", `http://127.0.0.1:${portOf(rude)}/`],
        ["-sv", `http://127.0.0.1:${portOf(rude)}/`],
      ]) {
        const [theirs, mine] = [await real(argv), await ours(argv)];
        expect(ms(mine.stderr)).toBe(ms(theirs.stderr));
        expect(mine.code).toBe(theirs.code);
      }
    } finally {
      for (const s of sockets) s.destroy();
      await Promise.all([silent, rude].map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    }
  });

  it("bad usage: unknown, unsupported and incomplete options, no URL, bad URLs", async () => {
    expect(await ours(["--bogus", "http://localhost/"])).toEqual({
      stdout: "",
      stderr: "curl: option --bogus: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n",
      code: 2,
    });
    const unsupported = await ours(["-o", "out.html", "http://localhost/"]);
    expect(unsupported.code).toBe(2);
    expect(unsupported.stderr).toMatch(/^curl: option -o: is not supported by this curl/);
    expect((await ours(["--location-trusted", "http://localhost/"])).stderr).toMatch(/^curl: option --location-trusted: is not supported by this curl/);
    expect((await ours(["-H"])).stderr).toBe("curl: option -H: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n");
    expect((await ours(["-s", "http://a/", "http://b/"])).stderr).toMatch(/one URL at a time/);
    expect(await ours(["-sS", "https://localhost/"])).toMatchObject({ code: 1, stderr: 'curl: (1) Protocol "https" not supported or disabled in libcurl\n' });
    expect(await ours(["-sS", "http://local host/"])).toMatchObject({ code: 3, stderr: "curl: (3) URL using bad/illegal format or missing URL\n" });
    expect(await ours(["-sS", "http://localhost:99999/"])).toMatchObject({ code: 3 });
    expect((await ours(["-m", "soon", "http://localhost/"])).stderr).toMatch(/^curl: option -m: expected a proper numerical parameter/);
  });
});

describe("over the in-memory network (the browser's platform)", () => {
  it.skipIf(!haveCurl)("prints what real curl prints against the same app on TCP", async () => {
    const previousSink = setLogSink(() => {});
    const tcp = new HTTPServer(app());
    const tcpPort = await tcp.listen(0);
    const memory = createMemoryPlatform({ log: () => {} });
    const previous = setPlatform(memory);
    let memoryServer: HTTPServer;
    try {
      memoryServer = new HTTPServer(app());
      await memoryServer.listen(8888);
    } finally {
      setPlatform(previous);
    }
    try {
      expect(platform()).toBe(previous);
      for (const template of [["-i", "{U}/"], ["-sv", "{U}/json"], ["-sI", "{U}/"], ["-si", "-d", "x=1", "{U}/form"], ["-s", "-H", "X-A: 1", "{U}/echo"]]) {
        const theirs = await real(template.map((a) => a.replace("{U}", `http://localhost:${tcpPort}`)));
        const mine = await ours(template.map((a) => a.replace("{U}", "http://localhost:8888")), memory);
        const [a, b] = maskDates(theirs.stdout.replaceAll(String(tcpPort), "8888"), mine.stdout);
        expect(b).toBe(a);
        const [c, d] = maskDates(maskMeterRows(theirs.stderr.replaceAll(String(tcpPort), "8888")), maskMeterRows(mine.stderr));
        expect(d).toBe(c);
        expect(mine.code).toBe(0);
      }
      // The cookie jar of the secure-cookie demo lives in the virtual file system.
      const jarDir = mkdtempSync(join(tmpdir(), "curlmemjar-"));
      const signed = (x: string) => x.replace(/\|10:\d{10}\|/g, "|10:{TS}|").replace(/\|[0-9a-f]{64}/g, "|{SIG}");
      for (const [tmpl, check] of [
        [["-si", "-c", "{JAR}", "{U}/login?name=ben"], null],
        [["-s", "-b", "{JAR}", "{U}/greet"], "hello ben\n"],
        [["-si", "-L", "-b", "{JAR}", "-c", "{JAR}", "{U}/logout"], null],
      ] as Array<[string[], string | null]>) {
        const theirs = await real(tmpl.map((a) => a.replace("{U}", `http://localhost:${tcpPort}`).replace("{JAR}", join(jarDir, "cookies.txt"))));
        const mine = await ours(tmpl.map((a) => a.replace("{U}", "http://localhost:8888").replace("{JAR}", "cookies.txt")), memory);
        const [a, b] = maskDates(signed(theirs.stdout.replaceAll(String(tcpPort), "8888")), signed(mine.stdout));
        expect(b).toBe(a);
        if (check !== null) expect(mine.stdout).toBe(check);
        const jarText = memory.fs.readFile("/cookies.txt");
        expect(jarText).not.toBeNull();
        expect(signed(new TextDecoder().decode(jarText!))).toBe(signed(readFileSync(join(jarDir, "cookies.txt"), "utf8")));
      }
      // Nothing listens on 8889 of the memory network: curl's own refusal, not a real socket's.
      const refused = await ours(["-sS", "http://localhost:8889/"], memory);
      expect(refused.code).toBe(7);
      expect(refused.stderr).toMatch(/^curl: \(7\) Failed to connect to localhost port 8889 after \d+ ms: Couldn't connect to server\n$/);
    } finally {
      await tcp.stop();
      await tcp.closeAllConnections();
      const restore = setPlatform(memory);
      await memoryServer!.stop();
      await memoryServer!.closeAllConnections();
      setPlatform(restore);
      setLogSink(previousSink);
    }
  });
});

describe("the request curl plans", () => {
  const plan = (argv: string[]) => planRequest(parseCurlArgs(argv), () => null);
  it("defaults, -H replacement and removal, -d framing", () => {
    expect(plan(["http://localhost:8888"]).headers).toEqual(["Host: localhost:8888", `User-Agent: curl/${CURL_VERSION}`, "Accept: */*"]);
    expect(plan(["-H", "x-two: 2", "-H", "Accept: text/plain", "-H", "User-Agent: me", "-H", "Host: h", "http://localhost/"]).headers).toEqual([
      "Host: h",
      "x-two: 2",
      "Accept: text/plain",
      "User-Agent: me",
    ]);
    const post = plan(["-d", "a=1", "-d", "b=2", "http://localhost/x"]);
    expect([post.method, new TextDecoder().decode(post.body!)]).toEqual(["POST", "a=1&b=2"]);
    expect(post.headers.slice(3)).toEqual(["Content-Length: 7", "Content-Type: application/x-www-form-urlencoded"]);
    expect(plan(["-I", "http://localhost/"]).method).toBe("HEAD");
    expect(plan(["-XPATCH", "http://localhost/"]).method).toBe("PATCH");
  });
  it("URLs as curl normalises them", () => {
    expect(parseCurlURL("localhost:8888")).toMatchObject({ host: "localhost", port: 8888, target: "/", hostHeader: "localhost:8888" });
    expect(parseCurlURL("http://LOCALHOST/a/./b/../c?q=1#frag")).toMatchObject({ host: "localhost", port: 80, target: "/a/c?q=1", hostHeader: "localhost" });
    expect(parseCurlURL("http://[::1]:8888/")).toMatchObject({ host: "::1", hostHeader: "[::1]:8888" });
    expect(() => parseCurlURL("http://")).toThrow(CurlError);
  });
});
