#!/usr/bin/env python3
"""Golden parity of `focusd model forward` with ../shared/golden/fusiondiff-tiny (issue 11).

Runs the forward pass (t = 1234) from input.npy and from a float32 multi-page TIFF made from it
(one page per channel, written here with a minimal uncompressed TIFF writer), and the 4-step
sampler from x_T.npy, and compares with output.npy / sample_K4.npy. Needs numpy only.

Usage: scripts/golden-parity.py [path/to/focusd]   (default .build/release/focusd, else .build/debug/focusd)
Exit status 0 when every difference is within 1e-4.
"""
import os, struct, subprocess, sys, tempfile
import numpy as np

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
golden = os.path.join(root, "..", "shared", "golden", "fusiondiff-tiny")
focusd = sys.argv[1] if len(sys.argv) > 1 else next(
    p for p in (os.path.join(root, ".build/release/focusd"), os.path.join(root, ".build/debug/focusd")) if os.path.exists(p))


def write_float_tiff(path, pages):
    """Little-endian classic TIFF, one uncompressed float32 grey page per array."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    ifd_offsets = []
    for page in pages:
        h, w = page.shape
        data_offset = len(out)
        out += page.astype("<f4").tobytes()
        if len(out) % 2: out += b"\x00"
        entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 32), (259, 3, 1, 1), (262, 3, 1, 1),
                   (273, 4, 1, data_offset), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, w * h * 4), (339, 3, 1, 3)]
        ifd_offsets.append(len(out))
        out += struct.pack("<H", len(entries))
        for tag, typ, count, value in entries:
            out += struct.pack("<HHI", tag, typ, count) + (struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value))
        out += b"\x00\x00\x00\x00"  # next IFD, patched below
    struct.pack_into("<I", out, 4, ifd_offsets[0])
    for a, b in zip(ifd_offsets, ifd_offsets[1:]):
        n = struct.unpack_from("<H", out, a)[0]
        struct.pack_into("<I", out, a + 2 + 12 * n, b)
    with open(path, "wb") as f: f.write(out)


def run(*args):
    subprocess.run([focusd, *args], check=True)


g = lambda name: os.path.join(golden, name)
worst = {}
with tempfile.TemporaryDirectory() as tmp:
    o = lambda name: os.path.join(tmp, name)
    run("model", "forward", "--model", g("weights.safetensors"), "--timestep", "1234", "--input", g("input.npy"), "--output", o("out.npy"))
    worst["forward (npy input)"] = np.abs(np.load(o("out.npy")) - np.load(g("output.npy"))).max()
    write_float_tiff(o("input.tif"), list(np.load(g("input.npy"))[0]))
    run("model", "forward", "--model", g("weights.safetensors"), "--timestep", "1234", "--input", o("input.tif"), "--output", o("out2.npy"))
    worst["forward (TIFF input)"] = np.abs(np.load(o("out2.npy")) - np.load(g("output.npy"))).max()
    run("model", "forward", "--model", g("weights.safetensors"), "--sample", "4", "--noise", g("x_T.npy"), "--input", g("input.npy"), "--output", o("s4.npy"))
    worst["sample K=4"] = np.abs(np.load(o("s4.npy")) - np.load(g("sample_K4.npy"))).max()
for k, v in worst.items():
    print(f"{k}: max |difference| = {v:.3g}")
sys.exit(0 if all(v <= 1e-4 for v in worst.values()) else 1)
