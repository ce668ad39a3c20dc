#!/usr/bin/env bash
# The main job on the bundled default data: builds circuits (release) and runs jobs/demo.yaml,
# a 64-prompt corpus on the bundled interim model, with two local workers. Leaves
# out/demo/aggregate.h5, out/demo/report.json and out/demo/report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release 2>&1 | tail -1
.build/release/circuits run jobs/demo.yaml "$@"
