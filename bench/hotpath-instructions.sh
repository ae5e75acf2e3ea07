#!/bin/sh
# Instructions per request of bench/hotpath.ts under callgrind: a figure the machine's load does
# not move. Two runs serving different fixed counts after the same warm-up; the difference of
# their totals over the difference of counts leaves start-up and warm-up out.
set -e
cd "$(dirname "$0")/.."
out=$(mktemp -d)
# NODE_FLAGS="--predictable": V8 without its concurrent compiler and GC threads, so repeated
# counts agree (without it, two runs of the same code differed by up to 6%).
# BUNDLE=path: count a bundle built elsewhere (another commit's tree), for a before/after pair.
if [ -n "$BUNDLE" ]; then cp "$BUNDLE" "$out/hotpath.mjs"; else
  node_modules/.bin/esbuild bench/hotpath.ts --bundle --platform=node --format=esm --log-level=warning \
    --outfile="$out/hotpath.mjs"
fi
small=${SMALL:-10000}
large=${LARGE:-60000}
count() {
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" node $NODE_FLAGS "$out/hotpath.mjs" --requests="$1" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
count "$small" >"$out/a" &
count "$large" >"$out/b"
wait
a=$(cat "$out/a")
b=$(cat "$out/b")
echo "instructions per request: $(( (b - a) / (large - small) )) (totals $a at $small, $b at $large)"
rm -rf "$out"
