#!/usr/bin/env python3
"""Writes small uncompressed 16-bit grey multi-page TIFF focus stacks for the reliability scripts.

    make-stack.py OUT.tif --seed N [--size 64] [--slices 3]          one stack, written atomically
    make-stack.py OUT.tif --seed N --slow SECONDS                    written in chunks over SECONDS (a slow writer)
    make-stack.py --folder DIR --seed N [--marker COMPLETE]           a folder of single-page slices

Every stack differs (seeded noise), so the daemon's duplicate check never skips one.
"""
import argparse, os, struct, sys, time
import numpy as np

def tiff_bytes(pages):
    """Classic little-endian TIFF, one strip per page, uint16 grey."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    prev_next = 4
    for img in pages:
        h, w = img.shape
        data = img.astype("<u2").tobytes()
        data_off = len(out)
        out += data
        if len(out) % 2: out += b"\x00"
        ifd_off = len(out)
        struct.pack_into("<I", out, prev_next, ifd_off)
        tags = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 16), (259, 3, 1, 1), (262, 3, 1, 1),
                (273, 4, 1, data_off), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, len(data)), (284, 3, 1, 1)]
        out += struct.pack("<H", len(tags))
        for tag, typ, cnt, val in tags:
            out += struct.pack("<HHI", tag, typ, cnt) + (struct.pack("<HH", val, 0) if typ == 3 else struct.pack("<I", val))
        prev_next = len(out)
        out += b"\x00\x00\x00\x00"
    return bytes(out)

def stack(seed, size, slices):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    base = rng.integers(2000, 60000, size=(size, size)).astype(np.float64)
    pages = []
    for z in range(slices):
        sharp = ((xx // 4 + yy // 4 + z) % 2 == (z % 2))
        img = np.where(sharp, base, base * 0.5 + 8000) + 300 * z
        pages.append(np.clip(img, 0, 65535).astype(np.uint16))
    return pages

def atomic_write(path, data):
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, "." + os.path.basename(path) + ".part")
    with open(tmp, "wb") as f:
        f.write(data); f.flush(); os.fsync(f.fileno())
    os.rename(tmp, path)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("out", nargs="?")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--slices", type=int, default=3)
    p.add_argument("--slow", type=float, default=0.0, help="write in place in 10 chunks over this many seconds")
    p.add_argument("--direct", action="store_true", help="write in place (not atomically), in one go")
    p.add_argument("--folder")
    p.add_argument("--marker", default="COMPLETE")
    a = p.parse_args()
    pages = stack(a.seed, a.size, a.slices)
    if a.folder:
        os.makedirs(a.folder, exist_ok=True)
        for z, img in enumerate(pages):
            atomic_write(os.path.join(a.folder, f"slice_{z + 1}.tif"), tiff_bytes([img]))
        if a.marker:
            open(os.path.join(a.folder, a.marker), "wb").close()
        return
    data = tiff_bytes(pages)
    if a.slow > 0:
        n = 10
        with open(a.out, "wb") as f:
            for i in range(n):
                f.write(data[i * len(data) // n:(i + 1) * len(data) // n]); f.flush()
                time.sleep(a.slow / n)
    elif a.direct:
        with open(a.out, "wb") as f:
            f.write(data)
    else:
        atomic_write(a.out, data)

if __name__ == "__main__":
    main()
