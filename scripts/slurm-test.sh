#!/bin/bash
# Proves slurm/focusd-reprocess.sbatch on a real single-node Slurm: installs Debian's slurmctld,
# slurmd and munge (if missing), starts munged, slurmctld and slurmd on localhost with a minimal
# slurm.conf in a temporary folder, submits a 4-task array over a generated archive of 12 small
# stacks (reference engine), waits, and checks every stack was fused exactly once: one fused image
# and one sidecar each, no stack in two tasks' logs. Stops every daemon it started, whatever happens.
#
#   sudo scripts/slurm-test.sh            # run as root from the checkout; exit 0 = proven
#   FOCUSD=/path/to/focusd scripts/slurm-test.sh   # test another binary (default: .build/debug/focusd, built if absent)
#   KEEP=1 scripts/slurm-test.sh          # keep the temporary folder (logs, outputs) for inspection
#   STACKS=200 PROFILE=default SIZE=256 scripts/slurm-test.sh   # issue 21's array: 200 stacks, a profile, a slice edge;
#                                          # prints the array's wall time and stacks per hour per core
#
# Run by hand, not by the test suite (it installs packages and starts daemons).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
stacks=${STACKS:-12}
profile=${PROFILE:-reference}
size=${SIZE:-96}
tasks=4
fail() { echo "slurm-test: FAIL: $*" >&2; exit 1; }
say() { echo "slurm-test: $*"; }

[ "$(id -u)" = 0 ] || fail "run as root (it installs packages and starts slurmctld, slurmd and munged)"

# 1. Packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    candidate=$(apt-cache policy slurmctld | awk '/Candidate:/ {print $2}')
    if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
        apt-get update >/dev/null
        candidate=$(apt-cache policy slurmctld | awk '/Candidate:/ {print $2}')
    fi
    [ -n "$candidate" ] && [ "$candidate" != "(none)" ] || fail "the package mirror has no slurmctld (apt-cache policy slurmctld); add Debian's main archive"
    say "installing slurmctld slurmd slurm-client munge ($candidate)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi
say "$(slurmctld -V), $(munged --version 2>&1 | head -1)"

# 2. focusd.
focusd=${FOCUSD:-$repo/.build/debug/focusd}
if [ ! -x "$focusd" ]; then
    say "building focusd (swift build)"
    (cd "$repo" && swift build --product focusd >/dev/null)
fi
[ -x "$focusd" ] || fail "no focusd binary at $focusd"

work=$(mktemp -d /tmp/focusd-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    local status=$?
    if [ -n "${SLURM_CONF:-}" ] && [ -n "${jobid:-}" ]; then scancel "$jobid" 2>/dev/null || true; fi
    # Stop only the daemons this script started, by their pids.
    for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munged.pid"; do
        if [ -s "$pidfile" ]; then
            pid=$(cat "$pidfile")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    if [ "$status" != 0 ]; then
        for log in "$work"/slurmctld.log "$work"/slurmd.log "$work"/munge/munged.log; do
            [ -f "$log" ] && { echo "---- $log (tail)"; tail -n 25 "$log"; }
        done
    fi
    if [ "${KEEP:-0}" = 1 ] || [ "$status" != 0 ]; then say "kept $work"; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT INT TERM

# 3. Sample archive: $stacks stacks of 3 slices ($size×$size, 8-bit grey), half multi-page TIFFs, half folders of slices.
python3 - "$work/archive" "$stacks" "$size" <<'PY'
import os, struct, sys
root, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def tiff(path, pages, w, h):
    """Uncompressed 8-bit grey TIFF, one page per bytes object."""
    out = bytearray(b"II*\0" + struct.pack("<I", 0))
    offsets = []
    for data in pages:
        offsets.append(len(out))
        out += data
    prev = 4
    for data, off in zip(pages, offsets):
        if len(out) % 2:
            out += b"\0"
        ifd = len(out)
        struct.pack_into("<I", out, prev, ifd)
        tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
                (273, 4, 1, off), (277, 3, 1, 1), (278, 3, 1, h), (279, 4, 1, len(data))]
        out += struct.pack("<H", len(tags))
        for tag, kind, n, value in tags:
            out += struct.pack("<HHI", tag, kind, n) + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
        prev = len(out)
        out += struct.pack("<I", 0)
    with open(path, "wb") as f:
        f.write(out)

w = h = size
for s in range(count):
    slices = []
    for z in range(3):
        rows = bytearray()
        for y in range(h):
            for x in range(w):
                sharp = ((x * 7 + y * 13 + s * 31) % 17) < 8
                rows.append((200 if sharp else 40) if x * 3 // w == z else 120 + (x + s) % 5)
        slices.append(bytes(rows))
    folder = os.path.join(root, "day%d" % (s % 3))
    os.makedirs(folder, exist_ok=True)
    if s % 2 == 0:
        tiff(os.path.join(folder, "stack%02d.tif" % s), slices, w, h)
    else:
        os.makedirs(os.path.join(folder, "stack%02d" % s), exist_ok=True)
        for z, data in enumerate(slices):
            tiff(os.path.join(folder, "stack%02d" % s, "z%d.tif" % z), [data], w, h)
PY
all=$("$focusd" reprocess --profile "$profile" --out "$work/out" --dry-run "$work/archive" | grep -c '^would fuse' || true)
[ "$all" = "$stacks" ] || fail "the sample archive should hold $stacks stacks, focusd finds $all"

# 4. munge and Slurm on localhost.
host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
mkdir -p "$work/state" "$work/spool" "$work/munge"
chown munge:munge "$work/munge"
[ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
runuser -u munge -- /usr/sbin/munged --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
    --log-file="$work/munge/munged.log" --seed-file="$work/munge/seed" 2>"$work/munged.err" \
    || { cat "$work/munged.err" >&2; fail "munged did not start"; }
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
cp "$work/munge/munged.pid" "$work/munged.pid"
munge --socket="$work/munge/munge.socket" -n | unmunge --socket="$work/munge/munge.socket" >/dev/null || fail "munge cannot encode and decode a credential"
say "munged up (pid $(cat "$work/munged.pid"))"

export SLURM_CONF=$work/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=focusdtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MaxArraySize=1001
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
/usr/sbin/slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
/usr/sbin/slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 60); do
    state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
    case "$state" in idle|idle~|mixed|allocated) break ;; esac
    sleep 0.5
done
[ "${state:-}" = idle ] || fail "the node did not become idle (sinfo state: '${state:-none}')"
say "slurmctld (pid $(cat "$work/slurmctld.pid")) and slurmd (pid $(cat "$work/slurmd.pid")) up; node $host idle with $cpus CPUs"

# 5. The job array.
cd "$work"
jobid=$(FOCUSD="$focusd" sbatch --parsable --array=0-$((tasks - 1)) --cpus-per-task=1 --mem=256M --time=10:00 \
        --output="$work/task-%a.log" --export=ALL,FOCUSD="$focusd" \
        "$repo/slurm/focusd-reprocess.sbatch" "$profile" "$work/out" "$work/archive")
submitted=$(date +%s.%N)
say "submitted array job $jobid ($tasks tasks, profile $profile, $stacks stacks of 3 slices at ${size}²)"
for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$jobid" 2>/dev/null)" ] && break
    sleep 1
done
[ -z "$(squeue -h -j "$jobid" 2>/dev/null)" ] || fail "the array did not finish within 10 minutes"
elapsed=$(echo "$(date +%s.%N) - $submitted" | bc)

# 6. Checks.
for i in $(seq 0 $((tasks - 1))); do
    [ -f "$work/task-$i.log" ] || fail "no log for task $i"
    grep -q "reprocess: .* fused, 0 failed" "$work/task-$i.log" || { cat "$work/task-$i.log" >&2; fail "task $i did not finish cleanly"; }
    say "task $i: $(grep -c '^reprocess: fused ' "$work/task-$i.log" || true) stacks — $(grep -m1 'stacks in shard' "$work/task-$i.log" | sed 's/^reprocess: //')"
done
fused_lines=$(cat "$work"/task-*.log | grep '^reprocess: fused ' | awk '{print $3}' | sort)
[ "$(echo "$fused_lines" | wc -l)" = "$stacks" ] || fail "the task logs report $(echo "$fused_lines" | wc -l) fusions, expected $stacks"
[ -z "$(echo "$fused_lines" | uniq -d)" ] || fail "stacks fused by more than one task: $(echo "$fused_lines" | uniq -d | tr '\n' ' ')"
outputs=$(find "$work/out" -name '*_fused.tif' | wc -l)
sidecars=$(find "$work/out" -name '*-ro-crate-metadata.json' | wc -l)
[ "$outputs" = "$stacks" ] || fail "$outputs fused images, expected $stacks"
[ "$sidecars" = "$stacks" ] || fail "$sidecars sidecars, expected $stacks"
again=$("$focusd" reprocess --profile "$profile" --out "$work/out" --dry-run "$work/archive" | tail -1)
case "$again" in *"$stacks up to date, 0 would be fused"*) ;; *) fail "after the array, a dry run says: $again" ;; esac
sacct_state=$(scontrol show job "$jobid" 2>/dev/null | grep -o 'JobState=[A-Z]*' | sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}' || true)
say "PASS: $stacks stacks fused exactly once by $tasks array tasks ($outputs fused images, $sidecars sidecars; ${sacct_state:-job states gone})"
say "array wall time $(printf %.1f "$elapsed") s on $cpus CPUs: $(echo "$stacks * 3600 / $elapsed" | bc) stacks per hour, $(echo "$stacks * 3600 / $elapsed / $cpus" | bc) per hour per core (load average $(cut -d' ' -f1-3 /proc/loadavg))"
