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
    apt-get install -y -qq chromium chromium-driver wrk >/dev/null
fi
python3 -c 'import selenium' 2>/dev/null || pip install -q selenium
[ -f out/demo/aggregate.h5 ] || "$circuits" run jobs/demo.yaml >/dev/null
# Global weights of the 20 most recurring features, so that feature pages show partners.
[ -f out/demo/global_weights.h5 ] || "$circuits" global-weights out/demo --recurring 20 >/dev/null
python3 tools/browser_test.py --circuits "$circuits" --run out/demo --screenshots "$shots"

# Feature requests per second on loopback (wrk, 2 threads, 32 connections, 5 s), over the
# features of the demo report; at least 1,000 requests/s.
log=$(mktemp)
"$circuits" serve out/demo --port 0 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q http:// "$log" && break; sleep 0.1; done
base=$(grep -o 'http://[^ ]*' "$log" | head -1)
feature=$(curl -s "${base}api/features?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["feature"])')
rate=$(wrk -t2 -c32 -d5s "${base}api/feature/${feature}" | tee /dev/stderr | awk '/Requests\/sec/ {print int($2)}')
echo "feature API: ${rate} requests/s (${base}api/feature/${feature})"
[ "$rate" -ge 1000 ] || { echo "FAIL: under 1,000 feature requests/s" >&2; exit 1; }
