#!/usr/bin/env bash
# Trains focusd's default model the way the shipped models/default.safetensors was trained:
# luminance U-Net, width 16, focus features, x0 objective, batch 8 of 96² crops, NYU-D 100 triplets
# plus synthetic pairs made from their ground truths (half of the items).
#
#   phase 1: lr 1e-3 (200-step warm-up), seed 1, PHASE1 steps (resumable: rerun to continue)
#   phase 2: --init from phase 1's EMA weights, lr 2.5e-4 (50-step warm-up), seed 2, PHASE2 steps
#            (a lower learning rate to finish; resumable as well)
#
#   scripts/train-default.sh [PHASE1_STEPS] [PHASE2_STEPS]      (defaults 4300 12000, as shipped)
#
# Release build expected at .build/release/focusd (or FOCUSD_BIN); checkpoints in CKPT_DIR
# (default /work/train-ckpt), logs in LOG_DIR (default /work/train-logs). The result is
# CKPT_DIR/phase2.safetensors; copy it to models/default.safetensors and refresh models/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
phase1="${1:-4300}"
phase2="${2:-12000}"
bin="${FOCUSD_BIN:-.build/release/focusd}"
ckdir="${CKPT_DIR:-/work/train-ckpt}"
logdir="${LOG_DIR:-/work/train-logs}"
mkdir -p "$ckdir" "$logdir"
common=(--data ../shared/data/train/nyud100 --batch 8 --crop 96 --ema 0.995 --checkpoint-every 100 --log-every 10)

m1="$ckdir/phase1.safetensors"
resume=()
if [[ -f "$m1.ckpt" ]]; then resume=(--resume "$m1.ckpt"); fi
"$bin" train "${common[@]}" --out "$m1" --preset small16 --objective x0 --focus-features \
    --lr 1e-3 --warmup 200 --seed 1 --steps "$phase1" "${resume[@]}" >> "$logdir/phase1.log" 2>&1

m2="$ckdir/phase2.safetensors"
if [[ -f "$m2.ckpt" ]]; then
    "$bin" train "${common[@]}" --out "$m2" --resume "$m2.ckpt" --steps "$phase2" >> "$logdir/phase2.log" 2>&1
else
    "$bin" train "${common[@]}" --out "$m2" --init "$m1" --lr 2.5e-4 --warmup 50 --seed 2 \
        --steps "$phase2" >> "$logdir/phase2.log" 2>&1
fi
echo "trained $m2 (logs in $logdir)"
