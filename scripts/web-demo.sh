#!/usr/bin/env bash
# The status page on a demo-style run: `focusd demo` fuses its sample stack, two more stacks are dropped
# (a simulated 12-slice microtubule stack, and a folder whose slices differ in size, which is
# quarantined), `focusd serve --once` processes them, then `focusd web` serves the page; headless
# Chromium takes a screenshot and curl times the page.
#
#   scripts/web-demo.sh [--binary .build/debug/focusd] [--directory DIR] [--port 8089]
#                       [--screenshot docs/status-page.png] [--runs 20] [--keep]
#
# Needs Debian's chromium for the screenshot (skipped without it) and ../shared/data for the texture.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
binary="$here/.build/debug/focusd" directory="" port=8089 screenshot="" runs=20 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --directory) directory=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --screenshot) screenshot=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "web-demo.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
directory=${directory:-$(mktemp -d /tmp/focusd-web-demo-XXXXXX)}
texture="$here/../shared/data/train/microscopy/microtubules_16bit.tif"

"$binary" demo --directory "$directory" --profile "$here/profiles/reference.yaml"
"$binary" simulate --texture "$texture" --slices 12 --crop 256 --seed 3 --out "$directory/sim" >/dev/null
# As an instrument should: written elsewhere, then renamed in.
cp "$directory/sim/stack.tif" "$directory/microtubules-12.tif" && mv "$directory/microtubules-12.tif" "$directory/drop/"
mkdir -p "$directory/plate-7"
cp "$texture" "$directory/plate-7/slice_001.tif"
cp "$directory/sim/ground_truth.tif" "$directory/plate-7/slice_002.tif"
touch "$directory/plate-7/COMPLETE"
mv "$directory/plate-7" "$directory/drop/"
"$binary" serve --config "$directory/focusd.yaml" --once 2>&1 | grep -E 'msg=(done|"job quarantined")' || true

"$binary" web --config "$directory/focusd.yaml" --listen "127.0.0.1:$port" --refresh 0 &
web=$!
trap 'kill -TERM $web 2>/dev/null || true; wait $web 2>/dev/null || true; [ $keep = 1 ] || rm -rf "$directory"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

if [ -n "$screenshot" ]; then
  if command -v chromium >/dev/null; then
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --user-data-dir="$directory/chromium" \
      --window-size=1200,1000 --virtual-time-budget=5000 --screenshot="$screenshot" "http://127.0.0.1:$port/" 2>/dev/null
    echo "web-demo: screenshot $screenshot"
  else
    echo "web-demo: no chromium; no screenshot (apt-get install chromium)" >&2
  fi
fi
# The page, timed: each request a new connection, the whole page read (median of --runs).
for _ in $(seq "$runs"); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/"; done |
  sort -n | awk '{ t[NR] = $1 } END { printf "web-demo: GET / median %.1f ms over %d requests\n", t[int((NR + 1) / 2)] * 1000, NR }'
echo "web-demo: journal and outputs in $directory$([ $keep = 1 ] || echo ' (removed on exit; --keep keeps them)')"
