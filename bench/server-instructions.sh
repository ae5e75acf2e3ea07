#!/bin/sh
# Instructions per request of a bench server over REAL sockets, under callgrind: the figure
# that bench/hotpath-instructions.sh gives for the runtime alone, here with Node's socket
# streams, the kernel boundary's user-space side, GC of a real server's heap and the log's
# writes (ARCHITECTURE.md, "Fifth round"). The server (bundled as `npm run bench` does) runs
# under valgrind on CPU 0 and serves a fixed number of requests from bench/fixed-load.ts on
# CPU 1, twice (SMALL and LARGE requests); the difference of the totals over the difference
# of the counts leaves start-up and warm-up out. TurboFan's compiling that is still going on
# between the two is printed apart (`compile`) and left out of `per request`.
#
#   bench/server-instructions.sh [bench/servers/runtime-hello.ts]   # about 3 minutes
#   BUNDLE=path/to/other.mjs bench/server-instructions.sh           # a bundle built elsewhere
set -e
cd "$(dirname "$0")/.."
script=${1:-bench/servers/runtime-hello.ts}
. bench/server-common.sh
bundle=$(server_bundle "$script")
small=${SMALL:-12000}
large=${LARGE:-20000}
out=$(mktemp -d)
count() {
  taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" node --predictable "$bundle" 0 >"$out/stdout.$1" 2>"$out/stderr.$1" &
  server=$!
  port=$(server_port "$out/stdout.$1" 600 0.2)
  taskset -c 1 node_modules/.bin/tsx bench/fixed-load.ts "$port" "$1" 50
  kill -INT $server; wait $server || true
  total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/stderr.$1")
  compile=$(callgrind_annotate --inclusive=yes "$out/cg.$1" 2>/dev/null | sed 's/,//g' | awk '/Compiler::CompileOptimized/ {print $1; exit}')
  echo "$total ${compile:-0}"
}
set -- $(count "$small") $(count "$large")
per=$(( ($3 - $1) / (large - small) ))
compile=$(( ($4 - $2) / (large - small) ))
echo "instructions per request: $((per - compile)) (compile $compile left out; totals $1 at $small, $3 at $large)"
rm -rf "$out"
