/**
 * Preload (`node --import ./bench/alloc-sampler.mjs <server bundle>`) for bench/server-allocation.sh:
 * the first SIGUSR2 starts V8's sampling heap profiler in this process (objects that the young-
 * and old-generation collections freed are kept in the profile, so it counts what was ALLOCATED,
 * not what survived); the second stops it and writes ALLOC_OUT as JSON: the total of the sampled
 * (scaled) sizes and the allocation sites (function, file:line) with their bytes.
 */
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";

const session = new Session();
session.connect();
let sampling = false;
process.on("SIGUSR2", () => {
  if (!sampling) {
    sampling = true;
    session.post("HeapProfiler.startSampling", {
      samplingInterval: Number(process.env.ALLOC_INTERVAL ?? 64),
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return;
  }
  session.post("HeapProfiler.stopSampling", (err, { profile }) => {
    if (err) throw err;
    const sites = new Map();
    let total = 0;
    const walk = (node, stack) => {
      const frame = node.callFrame;
      const name = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop()}:${frame.lineNumber + 1}`;
      if (node.selfSize > 0) {
        total += node.selfSize;
        const key = `${name} <- ${stack}`;
        sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
      }
      for (const child of node.children) walk(child, name);
    };
    walk(profile.head, "");
    const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, 60);
    writeFileSync(process.env.ALLOC_OUT, JSON.stringify({ total, sites: top }, null, 1));
  });
});
