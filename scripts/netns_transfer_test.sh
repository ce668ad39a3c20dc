#!/usr/bin/env bash
# Shards over ZeroMQ between two "hosts": a coordinator and a worker in separate network
# namespaces joined by a veth pair, with separate folders and CurveZMQ keys, no shared output
# folder; a worker killed mid-upload, and a link dropped mid-upload.
#
#   scripts/netns_transfer_test.sh [JOB] [CIRCUITS] [PROMPTS]
#
# JOB defaults to jobs/demo.yaml, CIRCUITS to .build/release/circuits (built when missing),
# PROMPTS (the first N prompts of the job's corpus) to 64. Needs root (or sudo) and iproute2.
#
# 1. Makes namespaces circuits-c-PID (10.231.0.1) and circuits-w-PID (10.231.0.2) joined by a
#    veth pair; a "coordinator host" folder (job, output, coordinator keys) and a "worker host"
#    folder (worker keys, scratch). The worker runs in its own mount namespace too, where the
#    coordinator host's folder is hidden under an empty tmpfs: it cannot see the output folder.
#    Both read the model and transcoders from this checkout.
# 2. Runs the job (shard_transfer: zeromq, lease 20 s) with `circuits coordinator --keys` bound
#    on 10.231.0.1 and one `circuits worker --keys` at 0.05 MB/s; kills that worker (SIGKILL)
#    once part of a shard has reached the coordinator; starts a new worker (0.5 MB/s), takes the
#    worker's link down for 8 s while one of its shards is half sent, then up again.
# 3. Merges and reports on the coordinator host and checks: every prompt of the slice exactly
#    once in report.json, every task completed exactly once in the journal, one shard per task,
#    no part file left; the resumed upload is in the coordinator's log. Then a third worker
#    without a rate limit re-runs the job into a fresh output folder (the coordinator restarted
#    on it) to measure upload throughput over the veth pair (from the workers' debug lines).
# Removes the namespaces, the veth pair and its processes on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOB=$(realpath "${1:-jobs/demo.yaml}")
CIRCUITS=$(realpath -m "${2:-.build/release/circuits}")
PROMPTS=${3:-64}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
log() { echo "netns_transfer_test: $*"; }

command -v ip >/dev/null || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq iproute2 >/dev/null; }
if [ ! -x "$CIRCUITS" ]; then
    log "building $CIRCUITS"
    swift build -c release --product circuits 2>&1 | tail -2
fi

NC=circuits-c-$$; NW=circuits-w-$$; VC=vc$$; VW=vw$$
C_IP=10.231.0.1; W_IP=10.231.0.2; PORT=5555
WORK=$(mktemp -d /tmp/circuits-netns.XXXXXX)
CHOST=$WORK/coordinator-host; WHOST=$WORK/worker-host
PIDS=()
cleanup() {
    local status=$?
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    $SUDO ip link del "$VC" 2>/dev/null || true
    $SUDO ip netns del "$NC" 2>/dev/null || true
    $SUDO ip netns del "$NW" 2>/dev/null || true
    if [ $status -ne 0 ]; then
        log "FAILED (status $status); logs:"
        tail -n 25 "$WORK"/*.log 2>/dev/null || true
        log "kept $WORK for inspection"
    else
        rm -rf "$WORK"
    fi
    exit $status
}
trap cleanup EXIT

log "namespaces $NC ($C_IP) and $NW ($W_IP), veth $VC-$VW"
$SUDO ip netns add "$NC"
$SUDO ip netns add "$NW"
$SUDO ip link add "$VC" type veth peer name "$VW"
$SUDO ip link set "$VC" netns "$NC"
$SUDO ip link set "$VW" netns "$NW"
$SUDO ip -n "$NC" addr add "$C_IP/24" dev "$VC"
$SUDO ip -n "$NW" addr add "$W_IP/24" dev "$VW"
for ns in "$NC" "$NW"; do $SUDO ip -n "$ns" link set lo up; done
$SUDO ip -n "$NC" link set "$VC" up
$SUDO ip -n "$NW" link set "$VW" up
$SUDO ip -n "$NW" route get "$C_IP" >/dev/null || { log "no route between the namespaces"; exit 1; }

# Keys: each host makes its own pair and receives only the other's public key.
mkdir -p "$CHOST" "$WHOST/scratch"
"$CIRCUITS" keys generate "$CHOST/keys" --name coordinator >/dev/null
"$CIRCUITS" keys generate "$WHOST/keys" --name worker >/dev/null
mkdir -p "$CHOST/keys/workers"
cp "$WHOST/keys/worker.pub" "$CHOST/keys/workers/worker-host.pub"
cp "$CHOST/keys/coordinator.pub" "$WHOST/keys/"

# The job: JOB with its paths made absolute, the first PROMPTS prompts, zeromq transfer.
corpus_line=$(grep -E '^corpus:' "$JOB" | sed -E 's/^corpus:[[:space:]]*//; s/[[:space:]]+#.*//')
corpus=$(cd "$(dirname "$JOB")" && realpath "$corpus_line")
head -n "$PROMPTS" "$corpus" > "$CHOST/corpus.jsonl"
JOBDIR=$(dirname "$JOB")
python3 - "$JOB" "$CHOST/job.yaml" "$JOBDIR" <<'PY'
import re, sys, os
src, dst, base = sys.argv[1:4]
out = []
for line in open(src):
    m = re.match(r"^(\s*)(model|transcoders|facts):\s*([^#\s]+)(.*)$", line)
    if m:
        line = f"{m.group(1)}{m.group(2)}: {os.path.normpath(os.path.join(base, m.group(3)))}{m.group(4)}\n"
    line = re.sub(r"^corpus:.*$", "corpus: corpus.jsonl", line)
    line = re.sub(r"^output:.*$", "output: out", line)
    line = re.sub(r"^lease_seconds:.*$", "lease_seconds: 20", line)
    line = re.sub(r"^shard_transfer:.*$", "shard_transfer: zeromq", line)
    out.append(line)
if not any(l.startswith("shard_transfer:") for l in out):
    out.append("shard_transfer: zeromq\n")
open(dst, "w").write("".join(out))
PY
OUT=$CHOST/out

in_c() { $SUDO ip netns exec "$NC" "$@"; }
# The worker host: its network namespace, and a mount namespace where the coordinator host's
# folder is an empty tmpfs.
worker() {
    local name=$1; shift
    $SUDO ip netns exec "$NW" unshare -m sh -c 'mount -t tmpfs -o size=1m none "$0" && exec "$@"' "$CHOST" \
        "$CIRCUITS" worker --connect "tcp://$C_IP:$PORT" --keys "$WHOST/keys" --scratch "$WHOST/scratch" \
        --threads 2 --id "$name" --log-level debug "$@" 2> "$WORK/$name.log" &
    PIDS+=($!)
}
# Part files (name size) in the coordinator's incoming folder.
parts() { find "$OUT/shards/incoming" -name '*.part' -printf '%f %s\n' 2>/dev/null; }
wait_for_part() {   # a part file other than $2 holding some bytes but not yet renamed, for up to $1 s
    for _ in $(seq $(( $1 * 20 ))); do
        local p; p=$(parts | awk -v skip="${2:-}" '$2 > 0 && $1 != skip {print; exit}')
        if [ -n "$p" ]; then echo "$p"; return 0; fi
        sleep 0.05
    done
    return 1
}

start_coordinator() {
    in_c "$CIRCUITS" coordinator "$CHOST/job.yaml" --out "$1" --bind "tcp://$C_IP:$PORT" --keys "$CHOST/keys" \
        --log-level debug 2> "$WORK/$2.log" &
    COORD=$!
    PIDS+=($COORD)
}

log "coordinator on $C_IP:$PORT, job $(basename "$JOB") ($PROMPTS prompts), output $OUT"
start_coordinator "$OUT" coordinator
start=$(date +%s)
worker first --upload-limit 0.05
FIRST=$!
part=$(wait_for_part 300) || { log "no shard upload started"; exit 1; }
{ kill -9 "$FIRST"; wait "$FIRST"; } 2>/dev/null || true
log "killed the first worker mid-upload ($part bytes of its shard at the coordinator)"
worker second --upload-limit 0.5
part=$(wait_for_part 300 "${part%% *}") || { log "the second worker uploaded nothing"; exit 1; }
$SUDO ip -n "$NW" link set "$VW" down
log "link down mid-upload ($part bytes at the coordinator) for 8 s"
sleep 8
$SUDO ip -n "$NW" link set "$VW" up
for _ in $(seq 600); do kill -0 "$COORD" 2>/dev/null || break; sleep 1; done
wait "$COORD" || { log "the coordinator failed"; exit 1; }
log "job finished in $(( $(date +%s) - start )) s"

in_c "$CIRCUITS" merge "$OUT" >/dev/null
in_c "$CIRCUITS" report "$OUT" >/dev/null
[ -z "$(parts)" ] || { log "part files left: $(parts)"; exit 1; }
grep -q "resumes at" "$WORK/coordinator.log" || { log "no upload was resumed"; exit 1; }
log "uploads resumed at the coordinator's offset: $(grep -c "resumes at" "$WORK/coordinator.log")"
grep -q "silent past its lease" "$WORK/coordinator.log" || { log "the killed worker's task was not re-leased"; exit 1; }
python3 "$ROOT/tools/check_run_output.py" netns_transfer_test "$CHOST/corpus.jsonl" "$OUT" --shards-note " sent over the veth pair"

# Throughput: the same job into a fresh output folder with one unthrottled worker.
log "throughput run (no rate limit)"
start_coordinator "$CHOST/out-throughput" coordinator-throughput
worker third
for _ in $(seq 600); do kill -0 "$COORD" 2>/dev/null || break; sleep 1; done
wait "$COORD" || { log "the throughput run's coordinator failed"; exit 1; }
python3 - "$WORK/third.log" <<'PY'
import re, sys
sent = [(int(b), float(s)) for b, s in re.findall(r"sent its shard \((\d+) bytes\) in ([0-9.]+) s", open(sys.argv[1]).read())]
assert sent, "no upload lines in the worker's log"
total, seconds = sum(b for b, _ in sent), sum(s for _, s in sent)
print(f"netns_transfer_test: throughput over veth with CURVE: {len(sent)} shards, {total / len(sent) / 1e3:.0f} kB each, "
      f"{total / max(seconds, 1e-9) / 1e6:.1f} MB/s while sending ({seconds * 1e3 / len(sent):.1f} ms per shard)")
PY
