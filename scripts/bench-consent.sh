#!/usr/bin/env bash
# Prints the consent engine's figures (issue 3 targets):
#   - decision-log throughput with four writer processes (target >= 5,000 decisions/s)
#   - time from a tier-3 call reaching the proxy to its showing on the watch stream
#     (target p95 <= 20 ms)
#   - added p50 latency of a tier-0 call with logging on, airlock wrap vs a bare relay
#     (target <= 50 us), from the proxy benchmark in scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

echo "== decision log: 4 writer processes, 8 writers each (40,000 decisions, so the processes' start-up does not dominate)"
go test -run XXX -bench 'BenchmarkAppendMultiProcess' -benchtime 40000x -count 3 ./store/ | grep -E '^Benchmark'

echo
echo "== tier-3 call reaching the proxy -> visible on the watch stream"
go test -run XXX -bench 'BenchmarkTier3ToWatch' -benchtime 500x -count 3 ./proxy/guard/ | grep -E '^Benchmark'

echo
echo "== tier-0 call with logging: airlock wrap vs bare relay, 5 B echo (p50, sequential)"
scripts/bench.sh -modes "bare relay,airlock wrap" -sizes "5 B" -out "$(mktemp)" 2>/dev/null | grep -E '^\| (bare relay|airlock wrap) +\| 5 B' || echo "(see scripts/bench.sh)"
