#!/usr/bin/env bash
# Runs the attribution benchmarks behind docs/performance.md (release build, synthetic GPT-2
# small: 12 layers, d_model 768, 12 heads, vocab 50257, 8,192 ReLU features per layer) and
# appends each run's JSON line, plus /usr/bin/time's peak RSS, to docs/perf/<series>.jsonl.
#
#   scripts/bench_performance.sh full            # 16 tokens, every feature (the issue's target)
#   scripts/bench_performance.sh length 32 64    # prompt lengths, --max-feature-nodes 8192
#   scripts/bench_performance.sh features 64     # 64 tokens, --max-feature-nodes 1024..8192
#   scripts/bench_performance.sh probe 4096 300  # memory of a 4,096-token run, stopped after N seconds
#   scripts/bench_performance.sh timeline 4096   # one whole run with its RSS sampled every second
#                                                #   (docs/perf/memory_<tokens>.tsv; JSON to long.jsonl)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/circuits
out=docs/perf
mkdir -p "$out"

# run SERIES TIMEOUT_S ARGS...: one bench run; its JSON line gets time's peak RSS added.
run() {
    local series=$1 limit=$2; shift 2
    local log; log=$(mktemp)
    echo "== $series: $*" >&2
    /usr/bin/time -v timeout "$limit" "$bin" bench attribution "$@" > "$log.out" 2> "$log.err" || true
    local rss; rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 * 1024}' "$log.err")
    grep -E "setup|feature rows|error" "$log.err" >&2 || true
    if tail -1 "$log.out" | grep -q '^{'; then
        tail -1 "$log.out" | python3 -c "import json,sys; r=json.load(sys.stdin); r['time_peak_rss_bytes']=int(float('$rss')); r['args']='$*'; print(json.dumps(r, sort_keys=True))" >> "$out/$series.jsonl"
        tail -1 "$out/$series.jsonl" >&2
    else
        local last; last=$(grep -E "setup|feature rows" "$log.err" | tail -1 | tr -d '"')
        echo "{\"args\": \"$*\", \"stopped_after_s\": $limit, \"time_peak_rss_bytes\": ${rss:-0}, \"last_log\": \"$last\"}" >> "$out/$series.jsonl"
        tail -1 "$out/$series.jsonl" >&2
    fi
    rm -f "$log" "$log.out" "$log.err"
}

# timeline TOKENS: one --max-feature-nodes 8192 run; RSS every second (seconds since start, bytes)
# to memory_TOKENS.tsv and the progress lines (seconds since the trace began) to memory_TOKENS.log.
timeline() {
    local tokens=$1 log; log=$(mktemp)
    echo "== timeline: --tokens $tokens --max-feature-nodes 8192" >&2
    "$bin" bench attribution --tokens "$tokens" --max-feature-nodes 8192 > "$log.out" 2> "$out/memory_$tokens.log" &
    local pid=$! start; start=$(date +%s.%N)
    echo -e "seconds\trss_bytes" > "$out/memory_$tokens.tsv"
    while kill -0 "$pid" 2>/dev/null; do
        local kb; kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [ -n "$kb" ] && python3 -c "import time; print(f'{time.time() - $start:.1f}\t{$kb * 1024}')" >> "$out/memory_$tokens.tsv"
        sleep 1
    done
    wait "$pid"
    tail -1 "$log.out" | python3 -c "import json,sys; r=json.load(sys.stdin); r['args']='--tokens $tokens --max-feature-nodes 8192'; print(json.dumps(r, sort_keys=True))" >> "$out/long.jsonl"
    tail -1 "$out/long.jsonl" >&2
    rm -f "$log" "$log.out"
}

case ${1:-} in
full) run full 3600 --tokens 16 ;;
length) shift; for n in "$@"; do run length 7200 --tokens "$n" --max-feature-nodes 8192; done ;;
features) shift; for m in 1024 2048 4096 8192; do run features 3600 --tokens "${1:-64}" --max-feature-nodes "$m"; done ;;
probe) run probe "${3:-300}" --tokens "${2:-4096}" --max-feature-nodes 8192 ;;
timeline) timeline "${2:-4096}" ;;
*) echo "usage: $0 full | length N... | features [TOKENS] | probe [TOKENS] [SECONDS] | timeline [TOKENS]" >&2; exit 64 ;;
esac
