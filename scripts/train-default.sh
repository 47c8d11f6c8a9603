#!/usr/bin/env bash
# Trains (or resumes) focusd's default model: luminance U-Net, width 16, focus features, x0
# objective, batch 8 of 96² crops, NYU-D 100 triplets + synthetic pairs from their ground truths.
# Runs in the background-friendly way used for the shipped model: release build in .build-fd,
# log in /work/train-logs, checkpoints in /work/train-ckpt; rerun the same command to resume.
#
#   scripts/train-default.sh [TOTAL_STEPS]        (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-20000}"
bin="${FOCUSD_BIN:-.build-fd/release/focusd}"
ckdir="${CKPT_DIR:-/work/train-ckpt}"
logdir="${LOG_DIR:-/work/train-logs}"
mkdir -p "$ckdir" "$logdir"
model="$ckdir/default-w16-x0.safetensors"
ckpt="$model.ckpt"
resume=()
if [[ -f "$ckpt" ]]; then resume=(--resume "$ckpt"); fi
exec "$bin" train --data ../shared/data/train/nyud100 --out "$model" --checkpoint "$ckpt" \
    --preset small16 --objective x0 --focus-features --batch 8 --crop 96 --lr 1e-3 --warmup 200 \
    --ema 0.995 --seed 1 --steps "$steps" --checkpoint-every 100 --log-every 10 "${resume[@]}" \
    >> "$logdir/default-w16-x0.log" 2>&1
