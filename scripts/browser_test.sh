#!/usr/bin/env bash
# Browser test of `circuits serve` (tools/browser_test.py) in headless Chromium, on the demo run,
# plus the API's request rate under wrk. Installs what it needs (Debian: chromium,
# chromium-driver, wrk; PyPI: selenium), test-only, never used by the product.
#   ./scripts/browser_test.sh [CIRCUITS_BINARY] [SCREENSHOT_FOLDER]
set -euo pipefail
cd "$(dirname "$0")/.."
circuits=${1:-.build/release/circuits}
shots=${2:-docs/images}
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v wrk >/dev/null; then
    apt-get update -qq && apt-get install -y -qq chromium chromium-driver wrk >/dev/null
fi
python3 -c 'import selenium' 2>/dev/null || pip install -q selenium
[ -f out/demo/aggregate.h5 ] || "$circuits" run jobs/demo.yaml >/dev/null
# Global weights of the 20 most recurring features, so that feature pages show partners.
[ -f out/demo/global_weights.h5 ] || "$circuits" global-weights out/demo --recurring 20 >/dev/null
python3 tools/browser_test.py --circuits "$circuits" --run out/demo --screenshots "$shots"

# Feature requests per second on loopback (wrk, 2 threads, 32 connections, 5 s each): one
# feature, then every feature of the demo graphs in turn; at least 1,000 requests/s.
log=$(mktemp); paths=$(mktemp); lua=$(mktemp --suffix=.lua)
"$circuits" serve out/demo --port 0 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q http:// "$log" && break; sleep 0.1; done
base=$(grep -o 'http://[^ ]*' "$log" | head -1)
curl -s "${base}api/features?limit=10000" | python3 -c 'import json,sys; print("\n".join("/api/feature/" + f["feature"] for f in json.load(sys.stdin)["items"]))' >"$paths"
cat >"$lua" <<LUA
paths = {}
for line in io.lines("$paths") do paths[#paths + 1] = line end
i = 0
request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end
LUA
one=$(wrk -t2 -c32 -d5s "${base}api/feature/$(head -1 "$paths" | cut -d/ -f4-)" | awk '/Requests\/sec/ {print int($2)}')
all=$(wrk -t2 -c32 -d5s -s "$lua" "$base" | awk '/Requests\/sec/ {print int($2)}')
echo "feature API: ${one} requests/s on one feature, ${all} requests/s over all $(wc -l <"$paths") features"
[ "$one" -ge 1000 ] && [ "$all" -ge 1000 ] || { echo "FAIL: under 1,000 feature requests/s" >&2; exit 1; }
