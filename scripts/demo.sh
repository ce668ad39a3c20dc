#!/usr/bin/env bash
# The main job on the default data: traces the default prompt on the default model and writes
# out/graph.h5 and out/graph.json. (The bundled demo model and corpus job replace this default
# when they land.)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
case_dir="${CIRCUITS_REFERENCE:-../shared/reference}/cases/plt_relu"
[ -d "$case_dir" ] || { echo "error: default model not found: $case_dir" >&2; exit 2; }
swift build -c release 2>&1 | tail -1
mkdir -p out
.build/release/circuits trace --model "$case_dir/model" --transcoders "$case_dir/transcoders" \
    --prompt-file "$case_dir/prompt.txt" --max-logits 5 --out out/graph.h5 --json out/graph.json
