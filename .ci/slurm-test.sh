#!/usr/bin/env bash
# End-to-end test of the SLURM scale-out path against a real one-node cluster:
# install Debian's SLURM packages, start munge, slurmctld and slurmd on
# loopback with a configuration in a temporary directory, submit
# examples/slurm/ as a real job array plus a dependent merge, and check that
# the merged output is byte-identical to the unsharded sweep. The daemons are
# stopped by the pids in their pid files, whatever happens.
#
# Usage: bash .ci/slurm-test.sh [path/to/flashpoint]   (run as root)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bin=$(readlink -f "${1:-target/release/flashpoint}")
[ -x "$bin" ] || { echo "slurm-test: no flashpoint binary at $bin" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "== installing SLURM (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

work=$(mktemp -d /tmp/flashpoint-slurm.XXXXXX)
chmod 755 "$work"
conf="$work/slurm.conf"
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
mkdir -p "$work/state" "$work/spool"
cat > "$conf" <<CONF
ClusterName=flashpoint-ci
SlurmctldHost=$host(127.0.0.1)
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=600
MailProg=/bin/true
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
CONF
export SLURM_CONF=$conf

munged_pid=""
daemon_pids=""
stop() {
    for f in "$work/slurmd.pid" "$work/slurmctld.pid"; do
        [ -f "$f" ] && daemon_pids="$daemon_pids $(cat "$f")"
    done
    for pid in $daemon_pids $munged_pid; do
        kill "$pid" 2>/dev/null || true
    done
    sleep 1
    rm -rf "$work"
}
trap stop EXIT

if ! (munge -n | unmunge) >/dev/null 2>&1; then
    mkdir -p /run/munge /etc/munge
    chown munge:munge /run/munge
    if [ ! -f /etc/munge/munge.key ]; then
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    runuser -u munge -- munged
    munged_pid=$(cat /run/munge/munged.pid 2>/dev/null || true)
fi

slurmctld -c -f "$conf"
slurmd -f "$conf"
for _ in $(seq 1 100); do
    state=$(sinfo -h -o %t 2>/dev/null || true)
    [ "$state" = "idle" ] && break
    sleep 0.2
done
[ "$state" = "idle" ] || { echo "slurm-test: node did not become idle (state: $state)"; cat "$work"/*.log; exit 1; }
echo "== SLURM is up: $(sinfo -h -o '%P %D %t %c')"

# 10 points × 400 replications in 4 shards: the boundaries cut points 2 and 7,
# whose time-series summaries merge joins from the shards' saved states.
sweep_args="--vary close_prob=0:1:5 --vary half_life=7,14 --reps 400 --seed 7 --timeseries 5 --timeseries-reps 3"
echo "== unsharded sweep"
# shellcheck disable=SC2086
"$bin" sweep scenarios/west2025.toml $sweep_args --quiet --out "$work/whole"

echo "== job array of 4 shards plus a dependent merge"
cd "$work"
ids=$(FLASHPOINT=$bin SCENARIO=$repo/scenarios/west2025.toml SWEEP_ARGS="$sweep_args" OUT=$work/sharded SHARDS=4 \
    bash "$repo/examples/slurm/submit.sh")
array=${ids% *}
merge=${ids#* }
echo "array job $array, merge job $merge"
for _ in $(seq 1 1200); do
    [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ] && break
    sleep 0.5
done
[ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ] || { echo "slurm-test: jobs still queued after 10 minutes"; squeue; exit 1; }
states=$(for id in "$array" "$merge"; do scontrol -o show job "$id"; done \
    | sed -E 's/^JobId=([0-9]+) .*JobState=([A-Z_]+).*ExitCode=([0-9:]+).*/job \1: \2 exit \3/')
echo "$states"
failed=0
echo "$states" | grep -qv 'COMPLETED exit 0:0' && failed=1
[ "$failed" = 0 ] || { echo "slurm-test: a job failed"; cat "$work"/slurm-*.out 2>/dev/null; exit 1; }

for f in runs.csv summary.csv points.csv timeseries.csv timeseries_summary.csv; do
    cmp "$work/whole/$f" "$work/sharded/merged/$f"
    echo "identical: $f"
done
echo "== slurm-test: merged output is byte-identical to the unsharded sweep"
cd "$repo"
