#!/usr/bin/env python3
"""Plots the loss curve of a `focusd train` log as SVG (no plotting library needed).

Usage: scripts/loss-curve.py TRAIN.log [PHASE2.log ...] OUT.svg
Reads lines `step S/N loss L (mean of last M X) ...` and draws the running mean X against S
(logarithmic loss axis). Further logs are later phases started with `--init` (their steps count
from 0 again): they are drawn after the previous phase, with a dashed line at each boundary.
"""
import re, sys

logs, out = sys.argv[1:-1], sys.argv[-1]
points, boundaries, offset = [], [], 0
for log in logs:
    phase = []
    for line in open(log):
        m = re.match(r"step (\d+)/\d+ loss [\d.]+ \(mean of last \d+ ([\d.]+)\)", line)
        if m:
            phase.append((int(m.group(1)), float(m.group(2))))
    # A resumed run repeats steps: keep the last value for each step.
    phase = sorted(dict(phase).items())
    if not phase:
        sys.exit("no progress lines in " + log)
    if points:
        boundaries.append(offset)
    points += [(offset + s, v) for s, v in phase]
    offset += phase[-1][0]
W, H, L, R, T, B = 640, 360, 60, 20, 20, 45
smax = max(s for s, _ in points)
import math
# Logarithmic loss axis: the first steps are orders of magnitude above the rest.
lmin, lmax = math.log10(min(v for _, v in points)), math.log10(max(v for _, v in points))
x = lambda s: L + (W - L - R) * s / max(smax, 1)
y = lambda v: T + (H - T - B) * (1 - (math.log10(v) - lmin) / max(lmax - lmin, 1e-9))
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       '<rect width="100%" height="100%" fill="white"/>',
       f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
       f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>']
for i in range(5):
    v = 10 ** (lmin + (lmax - lmin) * i / 4)
    svg.append(f'<text x="{L-6}" y="{y(v)+4:.1f}" text-anchor="end">{v:.3g}</text>')
    s = smax * i / 4
    svg.append(f'<text x="{x(s):.1f}" y="{H-B+15}" text-anchor="middle">{int(s)}</text>')
svg.append(f'<text x="{(L+W-R)/2}" y="{H-10}" text-anchor="middle">step</text>')
svg.append(f'<text x="14" y="{(T+H-B)/2}" transform="rotate(-90 14 {(T+H-B)/2})" text-anchor="middle">loss (128·MSE, running mean of 50, log scale)</text>')
svg.append('<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="' +
           " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in points) + '"/>')
for b in boundaries:
    svg.append(f'<line x1="{x(b):.1f}" y1="{T}" x2="{x(b):.1f}" y2="{H-B}" stroke="gray" stroke-dasharray="4 3"/>')
svg.append("</svg>")
open(out, "w").write("\n".join(svg) + "\n")
print(f"{len(points)} points, steps 0..{smax}, loss {points[0][1]:.4f} -> {points[-1][1]:.4f}")
