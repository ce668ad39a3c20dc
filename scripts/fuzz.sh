#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (ASan + libFuzzer, debug) and runs each for a bounded
# time on a copy of its committed seed corpus (Fuzz/Corpus/<Target>/; the committed corpus never
# grows). First replays every committed crash input (Fuzz/Regressions/<Target>/). Prints per
# target: executions per second, coverage (libFuzzer's cov: edges, ft: features), corpus size.
# Exits non-zero on any crash (trap, ASan report), timeout (> 10 s) or out-of-memory (> 2 GB),
# leaving the input as .build-fuzz/runs/<stamp>/<Target>/crash-* (or timeout-*, oom-*).
#
#   scripts/fuzz.sh                   # 60 s per target, every target
#   scripts/fuzz.sh 240               # 4 minutes per target
#   scripts/fuzz.sh 30 FuzzZip FuzzNumPy
#   FUZZ_KEEP_CORPUS=1 scripts/fuzz.sh 600 FuzzZip   # also print where the grown corpus is kept
# Minimise a crash:  .build-fuzz/debug/FuzzZip -minimize_crash=1 -runs=20000 <crash-file>
# (the binaries are in .build-fuzz/debug, the folder the script prints).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

seconds=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
all=(FuzzSafeTensors FuzzModelConfig FuzzTranscoderConfig FuzzTokenizer FuzzTokenizerEncode
     FuzzZip FuzzNumPy FuzzJobSpec FuzzMessage FuzzCorpus)
targets=("${@:-${all[@]}}")

# Largest input per target: a little over the largest seed, so mutations stay fast.
max_len() {
    case $1 in
        FuzzTokenizer|FuzzZip) echo 16384 ;;
        # BPE is quadratic in the length of a word: long inputs only slow the search down.
        FuzzTokenizerEncode) echo 1024 ;;
        FuzzSafeTensors|FuzzModelConfig|FuzzJobSpec|FuzzCorpus) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

# Swift 6.3's `-sanitize=fuzzer` links libFuzzer but instruments no Swift code for coverage:
# ask for clang's -fsanitize=fuzzer coverage explicitly (C targets get it from -fsanitize=fuzzer).
build=(swift build --package-path Fuzz --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address
       -Xswiftc -sanitize-coverage=edge,indirect-calls,trace-cmp,inline-8bit-counters,pc-table)
echo "fuzz: building (${build[*]})"
mkdir -p .build-fuzz
if ! "${build[@]}" >.build-fuzz/build.log 2>&1; then
    grep -E 'error' .build-fuzz/build.log | head -20 >&2 || tail -20 .build-fuzz/build.log >&2
    echo "fuzz: build failed (.build-fuzz/build.log)" >&2
    exit 2
fi
bin=$("${build[@]}" --show-bin-path)
echo "fuzz: binaries in $bin"

run=".build-fuzz/runs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$run/tmp"
export TMPDIR="$PWD/$run/tmp"
# LeakSanitizer is off (-detect_leaks=0): Swift stores class references inside enum payloads with
# tag bits set, which LSan cannot recognise as pointers, so objects held by live globals (the
# fixture tokenizers) are reported as leaked. ASan's memory errors are all kept.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
# Swift's own crash backtracer runs inside the ASan process and trips ASan itself: libFuzzer
# and ASan already print the stack.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

failed=()
summary=()
for t in "${targets[@]}"; do
    [ -x "$bin/$t" ] || { echo "fuzz: no binary $bin/$t" >&2; exit 2; }
    out="$run/$t"
    mkdir -p "$out/corpus"
    cp Fuzz/Corpus/"$t"/* "$out/corpus/"
    flags=(-max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=10 -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$out/")
    [ -f "Fuzz/Dictionaries/$t.dict" ] && flags+=(-dict="Fuzz/Dictionaries/$t.dict")

    # Every committed crash input must now be handled (a thrown error, not a crash).
    if compgen -G "Fuzz/Regressions/$t/*" >/dev/null; then
        if ! "$bin/$t" "${flags[@]}" Fuzz/Regressions/"$t"/* >"$out/regressions.log" 2>&1; then
            echo "fuzz: $t crashes on a committed regression input; see $out/regressions.log" >&2
            tail -30 "$out/regressions.log" >&2
            failed+=("$t (regression)")
            continue
        fi
    fi

    echo "fuzz: $t for ${seconds}s"
    status=0
    # A fixed seed (FUZZ_SEED, default 1) makes short CI runs explore the same way each time,
    # so a red CI means a regression, not a lucky draw; long campaigns set FUZZ_SEED=0 (random).
    "$bin/$t" "${flags[@]}" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" "$out/corpus" >"$out/log" 2>&1 || status=$?
    last=$(grep -E 'cov: [0-9]+' "$out/log" | tail -1)
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
    corp=$(sed -nE 's/.*corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$out/log")
    rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$out/log")
    rss=$(sed -nE 's/^stat::peak_rss_mb: *([0-9]+).*/\1/p' "$out/log")
    line=$(printf '%-22s %9s execs %7s/s  cov %5s  ft %6s  corpus %-10s  rss %5s MB' \
        "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}")
    if [ "$status" -ne 0 ]; then
        line+="  FAILED (exit $status)"
        failed+=("$t")
        grep -E 'ERROR|Fatal error|SUMMARY|Test unit written|==[0-9]+==' "$out/log" | head -12 >&2 || true
        ls "$out"/crash-* "$out"/timeout-* "$out"/oom-* "$out"/leak-* 2>/dev/null >&2 || true
    fi
    echo "  $line"
    summary+=("$line")
    [ -n "${FUZZ_KEEP_CORPUS:-}" ] && echo "  grown corpus: $out/corpus ($(ls "$out/corpus" | wc -l) inputs)"
done

echo "fuzz: summary (${seconds}s a target, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '  %s\n' "${summary[@]}"
rm -rf "$TMPDIR"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (inputs and logs under $run)" >&2
    exit 1
fi
[ -n "${FUZZ_KEEP_CORPUS:-}" ] || find "$run" -mindepth 2 -maxdepth 2 -name corpus -type d -exec rm -rf {} +
echo "fuzz: no crash (logs under $run)"
