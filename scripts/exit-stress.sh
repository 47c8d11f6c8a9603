#!/usr/bin/env bash
# Exit stress (issue 23): run `focusd reprocess --profile P` and `focusd fuse --profile P` many times on
# a small stack and count exit codes; every run must exit 0. Before the fix, reprocess with the default
# profile aborted (exit 134, double free in the journal's DatabaseQueue.deinit) about one run in ten.
#
#   scripts/exit-stress.sh [--runs 100] [--fuse-runs 100] [--profile default] [--binary .build/release/focusd]
#
# Exit status 0 when every run exited 0; the non-zero runs' stderr is printed.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
runs=100; fuse_runs=100; profile=default; binary="$here/.build/release/focusd"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --fuse-runs) fuse_runs=$2; shift 2 ;;
        --profile) profile=$2; shift 2 ;;
        --binary) binary=$2; shift 2 ;;
        *) echo "exit-stress.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -x "$binary" ] || { echo "exit-stress.sh: no executable $binary; build it (swift build -c release) or pass --binary" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/focusd-exit-stress.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/archive"
python3 "$here/scripts/make-stack.py" --seed 23 --size 64 --slices 4 "$work/archive/stack.tif" >/dev/null

cd "$here"   # the profiles' model paths are looked up from here too
failures=0
count() {   # name, exit status, stderr file
    if [ "$2" -ne 0 ]; then
        failures=$((failures + 1))
        echo "$1: exit $2" >&2
        tail -n 5 "$3" >&2
    fi
}
start=$(date +%s)
for i in $(seq 1 "$runs"); do
    rm -rf "$work/out"
    "$binary" reprocess --profile "$profile" --out "$work/out" "$work/archive" >/dev/null 2>"$work/stderr"
    count "reprocess run $i" $? "$work/stderr"
done
for i in $(seq 1 "$fuse_runs"); do
    "$binary" fuse --profile "$profile" --out "$work/fused.tif" "$work/archive/stack.tif" >/dev/null 2>"$work/stderr"
    count "fuse run $i" $? "$work/stderr"
done
total=$((runs + fuse_runs))
echo "exit-stress: $((total - failures)) of $total runs exited 0 ($runs reprocess, $fuse_runs fuse, profile $profile, $(( $(date +%s) - start )) s)"
[ "$failures" -eq 0 ]
