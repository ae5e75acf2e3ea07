/**
 * `npm run serve` as a person meets it: the real process serving a deck folder, real curl
 * (/usr/bin/curl) as the client: isolation headers, cache lifetimes, Etag/304, a range, and
 * gzip that `curl --compressed` decodes to the file's bytes. Only loopback is ever contacted;
 * the network URLs and the QR code are checked as printed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeTerminalQr } from "./qr-read.js";
import { startServe, type ServeProcess } from "./serve-process.js";
import { run } from "./talk-expectations.js";
import { isHashedAsset, needsBuild } from "./serve.js";

const haveCurl = existsSync("/usr/bin/curl");
const JS = Array.from({ length: 400 }, (_, i) => `export const line${i} = "the deck, served by its own framework";\n`).join("");

/** curl -s -D - (the head on stdout, then the body), split. */
async function curl(args: string[]): Promise<{ head: string; body: Buffer; header(name: string): string | undefined }> {
  const r = await run("/usr/bin/curl", ["-s", "-D", "-", "-o", "-", "--max-time", "20", ...args], "latin1");
  expect(r.code).toBe(0);
  const raw = Buffer.from(r.stdout, "latin1");
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, split).toString("latin1");
  return { head, body: raw.subarray(split + 4), header: (name) => new RegExp(`^${name}: (.*)$`, "mi").exec(head)?.[1]?.trim() };
}

describe("which files are hashed, when to build", () => {
  it("Vite's assets/name-<hash>.ext are hashed; index.html and others are not", () => {
    expect(isHashedAsset("assets/index-BhE-8tnx.js")).toBe(true);
    expect(isHashedAsset("assets/aldea-3-9R--Lgoh.svg")).toBe(true);
    expect(isHashedAsset("assets/codicon-DF1abBS2.ttf")).toBe(true);
    expect(isHashedAsset("index.html")).toBe(false);
    expect(isHashedAsset("coi-serviceworker.js")).toBe(false);
    expect(isHashedAsset("assets/logo.svg")).toBe(false);
    expect(isHashedAsset("elsewhere/index-BhE-8tnx.js")).toBe(false);
  });

  it("builds when dist/ is missing or older than a source", () => {
    const dir = mkdtempSync(join(tmpdir(), "serve-build-"));
    try {
      const dist = join(dir, "dist");
      const source = join(dir, "src");
      mkdirSync(join(source, "deep"), { recursive: true });
      writeFileSync(join(source, "deep", "a.ts"), "1");
      expect(needsBuild(dist, [source])).toBe(true);
      mkdirSync(dist);
      writeFileSync(join(dist, "index.html"), "<html>");
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(source, "deep", "a.ts"), old, old);
      expect(needsBuild(dist, [source])).toBe(false);
      writeFileSync(join(source, "deep", "b.ts"), "2");
      expect(needsBuild(dist, [source])).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!haveCurl)("npm run serve over real sockets, real curl", () => {
  let dist = "";
  let server: ServeProcess;
  const url = (path: string) => `http://127.0.0.1:${server.port}/${path}`;

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), "serve-dist-"));
    mkdirSync(join(dist, "assets"));
    writeFileSync(join(dist, "index.html"), `<!doctype html><title>deck</title>${"<p>slide</p>\n".repeat(200)}`);
    writeFileSync(join(dist, "assets", "index-BhE-8tnx.js"), JS);
    writeFileSync(join(dist, "assets", "pic-AbCd1234.png"), Buffer.alloc(5000, 7));
    server = await startServe(dist);
  }, 40_000);

  afterAll(async () => {
    await server?.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  it("prints this machine's URL, each local-network URL and a QR code of the first, secrets last", () => {
    const expected = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === "IPv4" && !a.internal)
      .map((a) => `http://${a!.address}:${server.port}/`);
    expect(server.stdout).toContain(`this machine:  http://localhost:${server.port}/`);
    for (const u of expected) expect(server.stdout).toContain(`local network: ${u}`);
    if (expected.length) {
      // The code people scan holds the attendee URL; the secret links come after it.
      const qr = server.stdout.slice(server.stdout.indexOf("can scan"), server.stdout.indexOf("presenter ("));
      expect(decodeTerminalQr(qr)).toBe(expected[0]);
      expect(server.presenterLink).toBe(`http://localhost:${server.port}/?presenter=${/presenter=(\w+)/.exec(server.stdout)![1]}`);
      expect(server.remoteLink.startsWith(`${expected[0]}remote?key=`)).toBe(true);
    } else expect(server.stdout).toContain("local network: none found");
  });

  it("index.html at /: the room's meta injected, isolation headers, revalidated, and a 304 for its Etag", async () => {
    const r = await curl([url("")]);
    expect(r.head).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(r.header("Cross-Origin-Opener-Policy")).toBe("same-origin");
    expect(r.header("Cross-Origin-Embedder-Policy")).toBe("require-corp");
    expect(r.header("Cross-Origin-Resource-Policy")).toBe("same-origin");
    expect(r.header("Cache-Control")).toBe("no-cache");
    expect(r.header("Expires")).toBeUndefined();
    const original = readFileSync(join(dist, "index.html"), "utf8");
    expect(r.body.toString()).toMatch(/^<!doctype html><meta name="tornado-room" content="[^"]*" \/><title>/);
    expect(r.body.toString().replace(/<meta name="tornado-room" content="[^"]*" \/>/, "")).toBe(original);
    const etag = r.header("Etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{40,128}"$/);
    const again = await curl(["-H", `If-None-Match: ${etag}`, "-b", r.header("Set-Cookie")!.split(";")[0]!, url("index.html")]);
    expect(again.head).toMatch(/^HTTP\/1\.1 304 Not Modified/);
    expect(again.body.length).toBe(0);
    expect(again.header("Cross-Origin-Embedder-Policy")).toBe("require-corp");
  });

  it("hashed assets are cached for a year, immutable", async () => {
    const r = await curl([url("assets/pic-AbCd1234.png")]);
    expect(r.header("Cache-Control")).toBe("max-age=31536000, immutable");
    expect(r.header("Content-Type")).toBe("image/png");
    expect(new Date(r.header("Expires")!).getTime() - Date.now()).toBeGreaterThan(364 * 86400_000);
    expect(r.body.equals(Buffer.alloc(5000, 7))).toBe(true);
  });

  it("text is gzipped for curl --compressed and decodes to the file's bytes; not without it", async () => {
    const gz = await curl(["--compressed", url("assets/index-BhE-8tnx.js")]);
    expect(gz.header("Content-Encoding")).toBe("gzip");
    expect(gz.header("Vary")).toBe("Accept-Encoding");
    expect(gz.body.toString()).toBe(JS);
    const raw = await curl(["-H", "Accept-Encoding: gzip", url("assets/index-BhE-8tnx.js")]);
    expect(raw.body.length).toBeLessThan(JS.length / 4);
    const plain = await curl([url("assets/index-BhE-8tnx.js")]);
    expect(plain.header("Content-Encoding")).toBeUndefined();
    expect(plain.header("Content-Length")).toBe(String(JS.length));
    expect(plain.body.toString()).toBe(JS);
    const png = await curl(["--compressed", url("assets/pic-AbCd1234.png")]);
    expect(png.header("Content-Encoding")).toBeUndefined();
  });

  it("a range is a 206 of the exact bytes, never gzipped", async () => {
    const r = await curl(["--compressed", "-r", "100-199", url("assets/index-BhE-8tnx.js")]);
    expect(r.head).toMatch(/^HTTP\/1\.1 206 Partial Content/);
    expect(r.header("Content-Range")).toBe(`bytes 100-199/${JS.length}`);
    expect(r.header("Content-Encoding")).toBeUndefined();
    expect(r.body.toString()).toBe(JS.slice(100, 200));
  });

  it("bad paths get 4xx and the server keeps serving", async () => {
    expect((await curl([url("nope.js")])).head).toMatch(/^HTTP\/1\.1 404 /);
    expect((await curl(["--path-as-is", url("../../etc/passwd")])).head).toMatch(/^HTTP\/1\.1 (403|404) /);
    expect((await curl([url("assets/index-BhE-8tnx.js")])).head).toMatch(/^HTTP\/1\.1 200 /);
  });
});
