#!/usr/bin/env bash
# Runs every test Airlock has. It installs what it needs first (Debian packages, Go
# modules, the npm packages of the real MCP peers), so it works on a fresh Debian machine
# with Go. Set AIRLOCK_TEST_QUICK=1 to run only the Go unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
root="$PWD"
work="$(mktemp -d)"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "system packages"
need=()
command -v node >/dev/null || need+=(nodejs npm)
command -v dbus-run-session >/dev/null || need+=(dbus dbus-user-session)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v gcc >/dev/null || need+=(gcc)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # dbus-user-session, not dbus-x11, provides the session bus gnome-keyring needs.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "ok: go $(go env GOVERSION), node $(node --version)"

step "go modules"
go mod download

step "npm peers (test/peers)"
npm ci --prefix test/peers --no-audit --no-fund --loglevel=error >/dev/null
echo "ok"

step "frontend unit tests (Vitest)"
npm install --prefix frontend --no-save --no-audit --no-fund --loglevel=error >/dev/null  # not ci: the registry here lacks rollup's other-platform binaries, which npm ci insists on
npm --prefix frontend run build >/dev/null
npm --prefix frontend test

step "go vet"
go vet ./...

step "go test (unit, fuzz seed corpora, end to end)"
export AIRLOCK_PEERS="$root/test/peers/node_modules"
go test -race -count=1 ./...

if [ "${AIRLOCK_TEST_QUICK:-}" = 1 ]; then exit 0; fi

step "keyring against a real Secret Service (gnome-keyring under dbus-run-session)"
export XDG_DATA_HOME="$work/xdg-data" XDG_RUNTIME_DIR="$work/xdg-run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
AIRLOCK_REAL_KEYRING=1 dbus-run-session -- sh -c \
  'printf %s pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"' \
  sh go test -count=1 -run 'Real|Keyring' ./store/secret/ ./e2e/
unset XDG_DATA_HOME XDG_RUNTIME_DIR

step "real MCP peers from npm through airlock wrap and serve, and the MCP conformance suite"
go build -o "$work/airlock" .
go build -o "$work/everything-server" github.com/modelcontextprotocol/go-sdk/conformance/everything-server
AIRLOCK_PEERS_INSTALLED=1 CONFORMANCE_SERVER="$work/everything-server" test/peers/run.sh "$work/airlock"

step "desktop app end to end (wails dev under Xvfb, driven by Chromium; screenshots: AIRLOCK_SCREENSHOTS=1)"
test/ui/run.sh
