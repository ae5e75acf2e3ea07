# Shared by bench/server-instructions.sh and bench/server-allocation.sh (sourced, from the repo root).

# The bench bundle of a server script (as `npm run bench` builds it), or $BUNDLE when given.
server_bundle() {
  if [ -n "$BUNDLE" ]; then echo "$BUNDLE"; return; fi
  node_modules/.bin/tsx -e "import('./bench/lib.ts').then(async (m) => console.log(await m.bundleServer('$1')))"
}

# Wait until the server writing to $1 prints its "listening <port>" line (up to $2 tries of $3 s), then print the port.
server_port() {
  i=0
  until grep -q listening "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt "$2" ] || { echo "no listening line" >&2; exit 1; }; sleep "$3"
  done
  sed -n 's/.*listening \([0-9]*\).*/\1/p' "$1"
}
