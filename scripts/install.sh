#!/usr/bin/env bash
# Installs Airlock from this checkout and starts it with the demo. Works on a fresh Debian
# (or Ubuntu) machine with Go: installs the system packages the desktop window needs
# (GTK 3, WebKitGTK 4.1, a C compiler, Node.js), the Wails CLI, builds the app, puts
# `airlock` on the PATH with a desktop entry and icon, then runs `airlock app --demo`.
#
#   AIRLOCK_NO_START=1   install only, start nothing
#   AIRLOCK_BINDIR=DIR   install the binary there (default /usr/local/bin, or
#                        ~/.local/bin when that is not writable)
#   scripts/install.sh ARGS…   start `airlock ARGS…` instead of `airlock app --demo`
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export PATH="/usr/local/go/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "Go is needed (https://go.dev/dl/); install it and run this again"
export PATH="$(go env GOPATH)/bin:$PATH"

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null && sudo="sudo"
fi
apt_install() {
  command -v apt-get >/dev/null || die "missing $*; this script installs them with apt-get, which is not here: install them yourself"
  [ "$(id -u)" = 0 ] || [ -n "$sudo" ] || die "missing $*; run this as root or install sudo"
  if [ -z "${apt_updated:-}" ]; then $sudo apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# node_ok reports whether node is new enough for the frontend's Vite (20.19+ or 22.12+).
node_ok() {
  command -v node >/dev/null || return 1
  node -e '
    const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'
}

step "system packages"
need=()
pkg-config --exists gtk+-3.0 2>/dev/null || need+=(libgtk-3-dev)
pkg-config --exists webkit2gtk-4.1 2>/dev/null || need+=(libwebkit2gtk-4.1-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v curl >/dev/null || need+=(curl ca-certificates)
if ((${#need[@]})); then
  echo "installing ${need[*]}"
  apt_install "${need[@]}"
fi
if ! node_ok; then
  # Debian 12 ships Node 18; Vite needs 20.19+. Use the official Node 22 LTS build,
  # checked against nodejs.org's published SHA-256, kept under ~/.cache.
  ver="v22.12.0"
  case "$(uname -m)" in
    x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "Node.js 20.19+ is needed; install it for $(uname -m)" ;;
  esac
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/airlock/node-$ver-linux-$arch"
  if [ ! -x "$dir/bin/node" ]; then
    echo "node $(node --version 2>/dev/null || echo none) is too old for the frontend; fetching Node $ver from nodejs.org"
    tmp="$(mktemp -d)"
    tar="node-$ver-linux-$arch.tar.xz"
    curl -fsSL -o "$tmp/$tar" "https://nodejs.org/dist/$ver/$tar"
    curl -fsSL -o "$tmp/SHASUMS256.txt" "https://nodejs.org/dist/$ver/SHASUMS256.txt"
    (cd "$tmp" && grep " $tar\$" SHASUMS256.txt | sha256sum -c --quiet -) || die "Node.js download failed its checksum"
    mkdir -p "$(dirname "$dir")"
    tar -xJf "$tmp/$tar" -C "$(dirname "$dir")"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  node_ok || die "could not get a recent enough Node.js"
fi
echo "ok: $(go env GOVERSION), node $(node --version), gtk $(pkg-config --modversion gtk+-3.0), webkit2gtk $(pkg-config --modversion webkit2gtk-4.1)"

step "wails CLI"
wails_version="v2.16.0"
if ! wails version 2>/dev/null | grep -q "$wails_version"; then
  go install "github.com/wailsapp/wails/v2/cmd/wails@$wails_version"
fi
echo "ok: wails $(wails version 2>/dev/null | head -1)"

step "building airlock (frontend and desktop window)"
version="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
# -skipbindings: the frontend calls window.go.desktop.App directly (frontend/src/api) and
# does not use Wails' generated bindings. -m: never let the build rewrite go.mod.
wails build -tags webkit2_41 -skipbindings -m -trimpath -o airlock \
  -ldflags "-X github.com/airlock-mcp/airlock/app/cli.Version=$version"
bin="$root/build/bin/airlock"
[ -x "$bin" ] || die "wails build did not produce $bin"

step "installing"
bindir="${AIRLOCK_BINDIR:-/usr/local/bin}"
share="/usr/local/share"
if ! { mkdir -p "$bindir" && [ -w "$bindir" ]; } 2>/dev/null; then
  bindir="$HOME/.local/bin"
fi
case "$bindir" in "$HOME"/*) share="${XDG_DATA_HOME:-$HOME/.local/share}" ;; esac
mkdir -p "$bindir"
install -m 0755 "$bin" "$bindir/airlock.new"
mv -f "$bindir/airlock.new" "$bindir/airlock"
echo "installed $bindir/airlock"
if mkdir -p "$share/applications" "$share/icons/hicolor/256x256/apps" "$share/icons/hicolor/1024x1024/apps" 2>/dev/null; then
  sed "s|^Exec=airlock |Exec=$bindir/airlock |" build/linux/airlock.desktop >"$share/applications/airlock.desktop"
  install -m 0644 build/appicon.png "$share/icons/hicolor/1024x1024/apps/airlock.png"
  icon256="$share/icons/hicolor/256x256/apps/airlock.png"
  # ImageMagick's convert scales the icon down; without it (or with a convert that is not
  # ImageMagick's and fails) the full-size icon serves, as desktops scale it themselves.
  if ! { command -v convert >/dev/null && convert build/appicon.png -resize 256x256 "$icon256" 2>/dev/null; }; then
    install -m 0644 build/appicon.png "$icon256"
  fi
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$share/applications" 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$share/icons/hicolor" 2>/dev/null || true
  echo "installed $share/applications/airlock.desktop and the icon"
fi
case ":$PATH:" in *":$bindir:"*) ;; *) echo "note: $bindir is not on your PATH; add it, or run $bindir/airlock" ;; esac

if [ "${AIRLOCK_NO_START:-}" = "1" ]; then exit 0; fi
args=("$@")
((${#args[@]})) || args=(app --demo)
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ "${args[0]}" = app ]; then
  cat <<EOF

Airlock is installed, but there is no display here (\$DISPLAY and \$WAYLAND_DISPLAY are
empty), so the window cannot open. From a desktop session, run:

    airlock app --demo

On a machine without a screen, run it on a virtual one (apt-get install xvfb):

    xvfb-run -a airlock app --demo

or use Airlock without the window: \`airlock daemon\` approves through
\`airlock pending --watch\` and \`airlock approve ID\` (with cli_approvals = true).
EOF
  exit 0
fi
step "starting airlock ${args[*]}"
exec "$bindir/airlock" "${args[@]}"
