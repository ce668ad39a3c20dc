#!/usr/bin/env bash
# Opens `circuits export`'s output (a two-hop prompt's graph and its features' files) in
# circuit-tracer's own local viewer and server, in headless Chromium (tools/circuit_tracer_viewer_test.py):
# the graph renders, and clicking a feature shows its top contexts from our dashboards.
# Installs what it needs, test-only, never used by the product: Debian's chromium,
# chromium-driver and openssl; Selenium from PyPI; and, into a scratch folder, circuit-tracer
# 0.5.0 (its wheel from PyPI, without dependencies: the viewer and server are plain files and
# Python's standard library), d3 7 (the `tuna` wheel from PyPI ships d3.min.js 7.9.0) and
# dagre 0.8.5 (Debian's node-dagre-layout, unpacked, not installed).
#   ./scripts/circuit_tracer_viewer_test.sh [CIRCUITS_BINARY] [SCREENSHOT_PNG]
set -euo pipefail
cd "$(dirname "$0")/.."
circuits=${1:-.build/release/circuits}
shot=${2:-}
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v openssl >/dev/null; then
    apt-get update -qq && apt-get install -y -qq chromium chromium-driver openssl >/dev/null
fi
python3 -c 'import selenium' 2>/dev/null || pip install -q selenium
deps=$(mktemp -d)
trap 'rm -rf "$deps"' EXIT
pip install -q --no-deps --target "$deps/ct" circuit-tracer==0.5.0
pip download -q --no-deps -d "$deps" tuna==0.5.15
python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("tuna/web/static/d3.min.js"))' \
    "$deps"/tuna-0.5.15-py3-none-any.whl "$deps/d3.min.js"
(cd "$deps" && apt-get download -qq node-dagre-layout 2>/dev/null || { apt-get update -qq && apt-get download -qq node-dagre-layout; })
dpkg-deb -x "$deps"/node-dagre-layout_*.deb "$deps/dagre"
[ -f out/demo/aggregate.h5 ] || "$circuits" run jobs/demo.yaml >/dev/null
# csc-000: "fact : the capital of the state containing dallas is", a two-hop prompt (bridge: texas).
python3 tools/circuit_tracer_viewer_test.py --circuits "$circuits" --run out/demo --prompt csc-000 \
    --circuit-tracer "$deps/ct" --d3 "$deps/d3.min.js" --dagre "$deps/dagre/usr/share/nodejs/dagre/dist/dagre.min.js" \
    ${shot:+--screenshot "$shot"}
