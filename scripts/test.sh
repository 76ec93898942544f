#!/usr/bin/env bash
# Runs every test Airlock has. It installs what it needs first (Go modules, the npm
# packages of the real MCP peers), so it works on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

echo "== go modules"
go mod download

echo "== go vet"
go vet ./...

echo "== go test"
go test -race -count=1 ./...
