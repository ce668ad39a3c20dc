#!/usr/bin/env bash
# Runs deploy/slurm/circuits.sbatch on a real single-node Slurm and checks the result.
#
#   scripts/slurm_test.sh [JOB] [CIRCUITS]
#
# JOB defaults to jobs/demo.yaml, CIRCUITS to .build/release/circuits (built when missing).
# Installs Debian's slurm-wlm and munge when missing (root or sudo), writes a minimal
# configuration under a temporary folder (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none:
# no cgroups needed), starts munged, slurmctld and slurmd on this machine, submits the sbatch
# script on JOB and waits for it, then checks that the report (written by the coordinator when
# the last task settled) accounts for every prompt of the corpus exactly once, that the journal
# completed every task exactly once, and that no shard is missing. Stops the daemons it started (and only those) on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOB=$(realpath "${1:-jobs/demo.yaml}")
CIRCUITS=$(realpath -m "${2:-.build/release/circuits}")
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
log() { echo "slurm_test: $*"; }

need=()
for p in slurm-wlm munge python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -x "$CIRCUITS" ]; then
    log "building $CIRCUITS"
    swift build -c release --product circuits 2>&1 | tail -2
fi

WORK=$(mktemp -d /tmp/circuits-slurm.XXXXXX)
chmod 755 "$WORK"
OUT=$WORK/out
STARTED=()
MUNGED=""   # set when this script started munged (it cannot write its pid file into $WORK)
cleanup() {
    local status=$?
    for pidfile in "${STARTED[@]}"; do
        [ -f "$pidfile" ] && $SUDO kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    [ -n "$MUNGED" ] && $SUDO pkill -f "munged --pid-file=$WORK/munged.pid" 2>/dev/null || true
    sleep 1
    if [ $status -ne 0 ]; then
        log "FAILED (status $status); daemon logs:"
        tail -n 30 "$WORK"/slurmctld.log "$WORK"/slurmd.log "$WORK"/job-*.out 2>/dev/null || true
        log "kept $WORK for inspection"
    else
        rm -rf "$WORK"
    fi
    exit $status
}
trap cleanup EXIT

# munge: the key the package made (or a fresh one), one daemon of our own on a private socket.
if [ ! -s /etc/munge/munge.key ]; then
    $SUDO mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
        || $SUDO dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    $SUDO chown munge:munge /etc/munge/munge.key && $SUDO chmod 400 /etc/munge/munge.key
fi
$SUDO mkdir -p /run/munge /var/log/munge /var/lib/munge
$SUDO chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! pgrep -x munged >/dev/null; then
    if [ -z "$SUDO" ]; then runuser -u munge -- /usr/sbin/munged --pid-file="$WORK/munged.pid"
    else sudo -u munge /usr/sbin/munged --pid-file="$WORK/munged.pid"; fi
    MUNGED=1
fi
munge -n | unmunge >/dev/null || { log "munge does not work"; exit 1; }

# A one-node cluster named after this host, everything under $WORK.
HOST=$(hostname -s)
NODE=$(slurmd -C | head -1)   # NodeName=HOST CPUs=… RealMemory=…
export SLURM_CONF=$WORK/slurm.conf
mkdir -p "$WORK/state" "$WORK/spool"
cat > "$SLURM_CONF" <<EOF
ClusterName=circuits-test
SlurmctldHost=$HOST
SlurmUser=$(id -un)
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
$NODE State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
log "starting slurmctld and slurmd ($NODE)"
$SUDO env SLURM_CONF="$SLURM_CONF" slurmctld -f "$SLURM_CONF"
STARTED+=("$WORK/slurmctld.pid")
$SUDO env SLURM_CONF="$SLURM_CONF" slurmd -f "$SLURM_CONF"
STARTED+=("$WORK/slurmd.pid")
for _ in $(seq 60); do
    sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed)' && break
    sleep 1
done
sinfo -h -o '%P %a %D %T' | grep -qE 'idle|mixed' || { log "the node never became idle: $(sinfo 2>&1)"; exit 1; }

log "submitting deploy/slurm/circuits.sbatch on $JOB"
start=$(date +%s)
JOBID=$(sbatch --parsable --wait --nodes=1 --output="$WORK/job-%j.out" --chdir="$ROOT" \
    --export=ALL,CIRCUITS="$CIRCUITS" deploy/slurm/circuits.sbatch "$JOB" "$OUT") || {
    log "the batch job failed"; cat "$WORK"/job-*.out; exit 1; }
log "job $JOBID finished in $(( $(date +%s) - start )) s"
scontrol show job "$JOBID" 2>/dev/null | grep -o 'JobState=[A-Z]*' || true

# Every prompt of the corpus exactly once; every task completed exactly once; every shard there;
# the report written by the coordinator itself (the batch script runs no merge or report step).
CORPUS=$(python3 - "$JOB" <<'PY'
import pathlib, re, sys
job = pathlib.Path(sys.argv[1])
line = next(l for l in job.read_text().splitlines() if l.startswith("corpus:"))
print((job.parent / re.sub(r"\s+#.*", "", line.split(":", 1)[1]).strip()).resolve())
PY
)
python3 "$ROOT/tools/check_run_output.py" slurm_test "$CORPUS" "$OUT" --log "$WORK/job-$JOBID.out"
