#!/usr/bin/env bash
# Benchmarks Airlock's proxy modes (wrap, serve) against talking to an MCP server directly,
# a bare stdio relay, and the popular bridges supergateway and mcp-proxy. Prints a table and
# writes bench/results.md. Takes about 5 minutes on 2 cores; all traffic stays on 127.0.0.1.
#
#   scripts/bench.sh                 # everything
#   scripts/bench.sh -quick          # 10x fewer iterations (smoke test)
#   scripts/bench.sh -modes "direct,airlock wrap"
#   BENCH_PROFILE=1 scripts/bench.sh -modes "airlock wrap"   # also CPU-profile airlock
#
# Build output goes to bench/.bin/ and the npm peers to bench/.npm/ (both git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
BIN=bench/.bin
NPM=bench/.npm
mkdir -p "$BIN"

build() { # the lead edits Airlock concurrently: retry once if the tree is mid-edit
  if ! go build -o "$BIN/airlock" . ; then
    echo "bench: go build failed; retrying in 60 s" >&2
    sleep 60
    go build -o "$BIN/airlock" .
  fi
  go build -o "$BIN/echoserver" ./bench/echoserver
  go build -o "$BIN/relay" ./bench/relay
  go build -o "$BIN/httprelay" ./bench/httprelay
  go build -o "$BIN/bench" ./bench
}
echo "== build" >&2
build

echo "== npm peers" >&2
want_sg=4.0.0 want_mp=6.7.19
have() { node -p "require('./$NPM/node_modules/$1/package.json').version" 2>/dev/null || true; }
if [[ "$(have supergateway)" != "$want_sg" || "$(have mcp-proxy)" != "$want_mp" ]]; then
  npm install --prefix "$NPM" --no-audit --no-fund --loglevel=error \
    "supergateway@$want_sg" "mcp-proxy@$want_mp" >&2
fi

airlock="$BIN/airlock"
if [[ -n "${BENCH_PROFILE:-}" ]]; then
  # A build of Airlock's command line that writes a CPU profile per process.
  go build -o "$BIN/airlockprof" ./bench/airlockprof
  airlock="$BIN/airlockprof"
  mkdir -p "$BIN/prof"
  export BENCH_CPUPROFILE_DIR="$PWD/$BIN/prof"
fi

echo "== run" >&2
timeout 900 "$BIN/bench" -airlock "$airlock" -echo "$BIN/echoserver" -relay "$BIN/relay" -httprelay "$BIN/httprelay" \
  -npm "$NPM/node_modules" -out bench/results.md -logs "$BIN/logs" "$@"
