#!/usr/bin/env bash
# Real-peer tests: test/peers/run.sh /path/to/airlock
# Installs the pinned peers (npm ci, from package-lock.json) and runs every *.test.mjs here
# with node's test runner; the output ends with node's summary lines.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:?usage: test/peers/run.sh /path/to/airlock}"
[[ -x "$bin" ]] || { echo "run.sh: $bin is not an executable" >&2; exit 2; }
export AIRLOCK="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export AIRLOCK_HOME="$(mktemp -d)"
trap 'rm -rf "$AIRLOCK_HOME"' EXIT

cd "$here"
if [[ "${AIRLOCK_PEERS_INSTALLED:-}" != 1 ]]; then
  echo "== npm ci (test/peers)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
echo "== node --test (airlock: $AIRLOCK, node $(node --version))"
node --test --test-timeout=150000 ./*.test.mjs
