import { afterEach, describe, expect, it } from "vitest";
import { bootNodeContainer, type NodeContainer } from "./node-backed.js";
import { APP_DIR, entryFile, programTree, runtimeTree } from "./files.js";
import { bareImports, loadRuntimeSources, loadVendorSources } from "./runtime-sources.js";

let container: NodeContainer | undefined;
afterEach(async () => {
  await container?.teardown();
  container = undefined;
});

describe("container files", () => {
  it("packages the runtime as plain JS that node imports as tornado/<module>, #platform → node", async () => {
    const sources = await loadRuntimeSources();
    expect(Object.keys(sources)).toContain("escape.ts");
    expect(Object.keys(sources)).toContain("platform/index.ts");
    expect(Object.keys(sources).some((k) => k.endsWith(".test.ts"))).toBe(false);
    const tree = runtimeTree(sources);
    const pkgNode = (tree.node_modules as any).directory.tornado.directory["package.json"].file.contents as string;
    const runtimePkg = JSON.parse(sources["package.json"]!);
    expect(JSON.parse(pkgNode)).toMatchObject({ name: "tornado", type: "module", version: runtimePkg.version, exports: { "./*": "./*.js" } });
    container = bootNodeContainer();
    await container.mount(tree);
    await container.fs.mkdir(APP_DIR, { recursive: true });
    const program = {
      name: "probe",
      main: "probe.ts",
      files: {
        "probe.ts":
                    'import { jsonEncode } from "tornado/escape";\nimport { platform } from "tornado/platform/index";\nimport { serverHeader } from "tornado/web";\nconst v: string = jsonEncode({ msg: "hello!" });\nconsole.log(v, platform().name, serverHeader);\n',
      },
    };
    const app = programTree(program);
    if (!app.ok) throw new Error(app.message);
    await container.mount(app.tree, { mountPoint: APP_DIR });
    const proc = await container.spawn("node", [entryFile(program)], { cwd: APP_DIR });
    let out = "";
    await proc.output.pipeTo(new WritableStream({ write: (c) => void (out += c) }));
    expect(await proc.exit).toBe(0);
    expect(out).toBe(`{"msg": "hello!"} node TornadoTS/${runtimePkg.version}\n`);
  });

  it("reports a program's syntax error with file and line instead of mounting it", () => {
    const r = programTree({ name: "x", main: "x.ts", files: { "x.ts": "const a = 1;\nconst b = ;\n" } });
    expect(r).toMatchObject({ ok: false, file: "x.ts", line: 2, column: 11 });
  });
});

describe("vendored packages", () => {
  it("finds bare imports, not relative, node: or #platform ones", () => {
    expect(
      bareImports('import { a } from "@noble/hashes/sha2.js";\nimport type { B } from "./b.js";\nimport x from "node:fs";\nexport { c } from "pkg";\nimport { d } from "#platform";\n'),
    ).toEqual(["@noble/hashes/sha2.js", "pkg"]);
  });

  it("mounts exactly the files the runtime's imports reach, and refuses packages it does not carry", async () => {
    const vendor = await loadVendorSources(await loadRuntimeSources());
    const files = Object.keys(vendor).filter((k) => k.startsWith("node_modules/@noble/hashes/"));
    expect(files).toContain("node_modules/@noble/hashes/package.json");
    expect(files).toContain("node_modules/@noble/hashes/sha2.js");
    expect(files).toContain("node_modules/@noble/hashes/utils.js");
    expect(files).not.toContain("node_modules/@noble/hashes/argon2.js");
    await expect(loadVendorSources({ "x.ts": 'import { pad } from "left-pad";\n' })).rejects.toThrow(/imports left-pad\.js, which is not vendored/);
  });
});
