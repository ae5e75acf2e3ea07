#!/bin/bash
# What Node's stream reads cost a server, per request: the raw node:net ceiling and the hello
# example, each run two ways at once (CPU 0), reads through `net.Socket`'s `onread` into one
# shared buffer (the runtime's default, runtime/platform/node.ts) against Node's `data` events
# (RAWNET_ONREAD unset, TORNADO_NODE_STREAM_READS=1). CYCLES rounds of one SLICE-second
# `wrk -t1 -c50` per server (CPU 1), the order alternating; CPU per request from the server's
# /proc/<pid>/stat (user + system ticks) over its slice; prints each slice and the medians.
#
#   bench/read-path.sh            # CYCLES=6 SLICE=2 by default, about a minute
set -e
cd "$(dirname "$0")/.."
. bench/server-common.sh
cycles=${CYCLES:-6}
slice=${SLICE:-2}
raw=$(server_bundle bench/servers/rawnet.ts)
hello=$(server_bundle bench/servers/runtime-hello.ts)
out=$(mktemp -d)
pids=()
names=("ceiling, onread" "ceiling, data events" "hello, onread" "hello, data events")
start() { # name-index env bundle
  env $2 taskset -c 0 node "$3" 0 >"$out/$1.stdout" 2>/dev/null &
  pids[$1]=$!
}
start 0 RAWNET_ONREAD=1 "$raw"
start 1 RAWNET_ONREAD=0 "$raw"
start 2 TORNADO_NODE_STREAM_READS=0 "$hello"
start 3 TORNADO_NODE_STREAM_READS=1 "$hello"
trap 'kill ${pids[*]} 2>/dev/null; rm -rf "$out"' EXIT
ports=()
for i in 0 1 2 3; do ports[$i]=$(server_port "$out/$i.stdout" 300 0.1); done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() { # index seconds -> "requests ticks"
  local t0 t1 n
  t0=$(ticks "${pids[$1]}")
  n=$(taskset -c 1 wrk -t1 -c50 -d"$2"s "http://127.0.0.1:${ports[$1]}/" | awk '/requests in/{print $1}')
  t1=$(ticks "${pids[$1]}")
  echo "$n $((t1 - t0))"
}
for i in 0 1 2 3; do measure $i 2 >/dev/null; done # warm-up
hz=$(getconf CLK_TCK)
for c in $(seq 1 "$cycles"); do
  order="0 1 2 3"; [ $((c % 2)) -eq 0 ] && order="1 0 3 2"
  for i in $order; do
    read -r n t <<<"$(measure $i "$slice")"
    us=$(awk -v n="$n" -v t="$t" -v hz="$hz" 'BEGIN{printf "%.2f", t * 1e6 / hz / n}')
    echo "cycle $c  ${names[$i]}: $n requests, $us µs CPU/request"
    echo "$us" >>"$out/us.$i"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 0 1 2 3; do
  echo "median µs CPU/request, ${names[$i]}: $(sort -n "$out/us.$i" | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
done
