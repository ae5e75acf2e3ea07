#!/bin/sh
# Bytes ALLOCATED per request by a bench server over real sockets (collected objects included):
# the server bundle runs with bench/alloc-sampler.mjs preloaded, serves a warm-up of WARM
# requests from bench/fixed-load.ts, then COUNT more while V8's sampling heap profiler runs
# (one sample per ALLOC_INTERVAL=64 bytes on average). Prints the total over COUNT and the
# largest allocation sites (function file:line <- caller) in bytes per request.
#
#   bench/server-allocation.sh [bench/servers/runtime-hello.ts]
#   BUNDLE=path/to/other.mjs bench/server-allocation.sh
set -e
cd "$(dirname "$0")/.."
script=${1:-bench/servers/runtime-hello.ts}
. bench/server-common.sh
bundle=$(server_bundle "$script")
warm=${WARM:-30000}
count=${COUNT:-60000}
out=$(mktemp -d)
ALLOC_OUT="$out/profile.json" taskset -c 0 node --import ./bench/alloc-sampler.mjs "$bundle" 0 >"$out/stdout" 2>/dev/null &
server=$!
port=$(server_port "$out/stdout" 300 0.1)
taskset -c 1 node_modules/.bin/tsx bench/fixed-load.ts "$port" "$warm" 50
kill -USR2 $server
sleep 0.5
taskset -c 1 node_modules/.bin/tsx bench/fixed-load.ts "$port" "$count" 50
kill -USR2 $server
i=0
until [ -s "$out/profile.json" ]; do
  i=$((i + 1)); [ $i -lt 300 ] || { echo "no profile" >&2; exit 1; }; sleep 0.1
done
kill -INT $server; wait $server || true
node -e '
const { total, sites } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const n = Number(process.argv[2]);
console.log(`bytes allocated per request: ${(total / n).toFixed(0)} (sampled over ${n} requests)`);
for (const [site, bytes] of sites) if (bytes / n >= 4) console.log(`${(bytes / n).toFixed(0).padStart(6)}  ${site}`);
' "$out/profile.json" "$count"
rm -rf "$out"
