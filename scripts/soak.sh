#!/usr/bin/env bash
# Soak: focusd serve fusing a steady stream of small stacks; samples RSS and open fds into a CSV.
#
#   scripts/soak.sh [--minutes 30] [--interval 2] [--sample 30] [--binary .build/release/focusd] [--work DIR]
#
# Every --interval seconds one 64×64×3 16-bit stack is dropped (alternately a multi-page TIFF moved in
# and a folder of slices with a COMPLETE marker); inputs are archived after success so the drop folder
# stays small. Every --sample seconds: time, VmRSS (kB), VmHWM (kB), open fds, threads, jobs done.
# At the end: first/last/max of RSS and fds, and a growth verdict from the second half of the run.
set -euo pipefail
minutes=30; interval=2; sample=30; binary=""; work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2;; --interval) interval=$2; shift 2;; --sample) sample=$2; shift 2;;
    --binary) binary=$2; shift 2;; --work) work=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
binary=${binary:-$here/.build/release/focusd}
[ -x "$binary" ] || { echo "no focusd binary at $binary (swift build -c release, or pass --binary)" >&2; exit 2; }
work=${work:-$(mktemp -d /tmp/focusd-soak.XXXXXX)}
mkdir -p "$work"/{drop,out,archive,quarantine,state,staging}
cat > "$work/focusd.yaml" <<YAML
state_directory: $work/state
log_level: info
poll_interval_seconds: 0.25
drop_folders:
  - path: $work/drop
    name: soak
    output: $work/out
    archive: $work/archive
    quarantine: $work/quarantine
    profile: { engine: reference }
    detection: { stable_seconds: 0.5 }
YAML
"$binary" serve --config "$work/focusd.yaml" 2> "$work/serve.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
sleep 2
csv="$work/soak.csv"
echo "seconds,rss_kb,hwm_kb,fds,threads,dropped,done" > "$csv"
start=$(date +%s); end=$((start + $(python3 -c "print(int(float($minutes) * 60))"))); next_sample=$start; n=0
done_count() { ls "$work/out" 2>/dev/null | grep -c -- '-ro-crate-metadata\.json$' || true; }
while [ "$(date +%s)" -lt "$end" ]; do
  now=$(date +%s)
  if [ "$now" -ge "$next_sample" ]; then
    rss=$(awk '/^VmRSS/{print $2}' /proc/$pid/status); hwm=$(awk '/^VmHWM/{print $2}' /proc/$pid/status)
    thr=$(awk '/^Threads/{print $2}' /proc/$pid/status); fds=$(ls /proc/$pid/fd | wc -l)
    echo "$((now - start)),$rss,$hwm,$fds,$thr,$n,$(done_count)" >> "$csv"
    next_sample=$((next_sample + sample))
  fi
  n=$((n + 1))
  if [ $((n % 2)) -eq 0 ]; then
    python3 "$here/scripts/make-stack.py" "$work/staging/s$n.tif" --seed $n && mv "$work/staging/s$n.tif" "$work/drop/s$n.tif"
  else
    python3 "$here/scripts/make-stack.py" --folder "$work/staging/f$n" --seed $n && mv "$work/staging/f$n" "$work/drop/f$n"
  fi
  sleep "$interval"
done
sleep 10
now=$(date +%s)
rss=$(awk '/^VmRSS/{print $2}' /proc/$pid/status); hwm=$(awk '/^VmHWM/{print $2}' /proc/$pid/status)
thr=$(awk '/^Threads/{print $2}' /proc/$pid/status); fds=$(ls /proc/$pid/fd | wc -l)
echo "$((now - start)),$rss,$hwm,$fds,$thr,$n,$(done_count)" >> "$csv"
kill -TERM $pid; wait $pid || true; trap - EXIT
python3 - "$csv" "$work" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def col(k): return [int(r[k]) for r in rows]
rss, fds = col("rss_kb"), col("fds")
half = rows[len(rows) // 2:]
h_rss = [int(r["rss_kb"]) for r in half]
print(f"samples: {len(rows)}  stacks dropped: {rows[-1]['dropped']}  fused: {rows[-1]['done']}")
print(f"RSS kB  first {rss[0]}  last {rss[-1]}  max {max(rss)}  second half min {min(h_rss)} max {max(h_rss)}")
print(f"fds     first {fds[0]}  last {fds[-1]}  max {max(fds)}")
grow_rss = h_rss[-1] - h_rss[0]
print("RSS growth over the second half: %+d kB (%s)" % (grow_rss, "flat" if abs(grow_rss) < 0.1 * h_rss[0] else "GROWS"))
print("fd growth: %+d (%s)" % (fds[-1] - fds[0], "flat" if fds[-1] - fds[0] <= 2 else "GROWS"))
print(f"CSV: {sys.argv[1]}  log: {sys.argv[2]}/serve.log")
PY
q=$(ls "$work/quarantine" | wc -l); echo "quarantined files: $q"
