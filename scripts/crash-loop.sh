#!/usr/bin/env bash
# Crash loop: stop focusd serve at random moments — SIGKILL, and every --term-every-th time a clean
# SIGTERM — while a burst of stacks arrives, restart it each time, let it finish, then check that
# nothing was lost, duplicated, torn or modified, and that every output equals a one-shot `focusd fuse`.
#
#   scripts/crash-loop.sh [--stacks 200] [--kills 50] [--streamed 8] [--term-every 4]
#                         [--binary .build/release/focusd] [--seed 1] [--work DIR]
#
# Stacks are 64×64 16-bit (reference engine), stable_seconds 1: multi-page TIFFs written elsewhere and
# renamed in, TIFFs written in place in 10 chunks over ~0.6 s (a non-atomic writer), folders of slices
# with a COMPLETE marker, and --streamed instrument-like TIFFs written page by page into the drop
# folder as libtiff does (each page linked into the directory chain once written, so the file is a
# complete TIFF between pages) with pauses of 1.6 s — longer than stable_seconds — while the file
# stays open. Exit status 0 when every check passes.
here=$(cd "$(dirname "$0")/.." && pwd)
exec python3 - "$here" "$@" <<'PY'
import argparse, glob, hashlib, json, os, random, signal, subprocess, sys, tempfile, threading, time

here = sys.argv[1]
p = argparse.ArgumentParser(prog="crash-loop.sh")
p.add_argument("--stacks", type=int, default=200)
p.add_argument("--kills", type=int, default=50)
p.add_argument("--binary", default=os.path.join(here, ".build/release/focusd"))
p.add_argument("--seed", type=int, default=1)
p.add_argument("--work")
p.add_argument("--max-gap", type=float, default=2.0, help="longest run between two kills (s)")
p.add_argument("--streamed", type=int, default=8, help="stacks written page by page with pauses longer than stable_seconds")
p.add_argument("--term-every", type=int, default=4, help="every Nth stop is a clean SIGTERM, besides the --kills SIGKILLs (0: none)")
p.add_argument("--pages", type=int, default=5, help="pages of a streamed stack")
p.add_argument("--daemon-user", help="run focusd as this user (needs root): it then cannot see the writers' open files, as with a writer on another machine")
a = p.parse_args(sys.argv[2:])
rng = random.Random(a.seed)
work = a.work or tempfile.mkdtemp(prefix="focusd-crash-")
for d in ("drop", "out", "quarantine", "state", "staging", "logs"):
    os.makedirs(os.path.join(work, d), exist_ok=True)
drop, out, quarantine = (os.path.join(work, d) for d in ("drop", "out", "quarantine"))
config = os.path.join(work, "focusd.yaml")
open(config, "w").write(f"""state_directory: {work}/state
log_level: debug
poll_interval_seconds: 0.05
shutdown_timeout_seconds: 30
drop_folders:
  - path: {drop}
    name: crash
    output: {out}
    quarantine: {quarantine}
    profile: {{ engine: reference }}
    detection: {{ stable_seconds: 1.0, marker: COMPLETE }}
    retry: {{ max_attempts: 100, backoff_seconds: 0.2, max_backoff_seconds: 1 }}
""")
sys.path.insert(0, os.path.join(here, "scripts"))
import importlib.util
spec = importlib.util.spec_from_file_location("make_stack", os.path.join(here, "scripts/make-stack.py"))
ms = importlib.util.module_from_spec(spec); spec.loader.exec_module(ms)

def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()

import struct
expected = {}   # stack name -> {input path: sha256}
streamed_at = set(round(k * a.stacks / max(a.streamed, 1)) + 1 for k in range(a.streamed)) if a.streamed else set()
streamers = []

def stream_stack(target, pages, name):
    """Page by page, as libtiff writes: page data and its directory (next offset 0) appended, then
    the previous directory's next offset patched to it; fsync; pause 1.6 s with the file open."""
    with open(target, "wb") as f:
        f.write(b"II*\x00\x00\x00\x00\x00")
        prev_next = 4
        for z, img in enumerate(pages):
            one = bytearray(ms.tiff_bytes([img]))
            ifd_rel = struct.unpack_from("<I", one, 4)[0]
            data = one[8:]
            base = f.seek(0, 2)
            # Rebase the page's offsets (strip offset tag 273 and the IFD) from 8 to `base`.
            ifd = ifd_rel - 8
            n = struct.unpack_from("<H", data, ifd)[0]
            for e in range(n):
                at = ifd + 2 + 12 * e
                tag = struct.unpack_from("<H", data, at)[0]
                if tag == 273:
                    struct.pack_into("<I", data, at + 8, struct.unpack_from("<I", data, at + 8)[0] - 8 + base)
            f.write(bytes(data)); f.flush()
            f.seek(prev_next); f.write(struct.pack("<I", base + ifd)); f.flush(); os.fsync(f.fileno())
            prev_next = base + ifd + 2 + 12 * n
            if z < len(pages) - 1: time.sleep(1.6)
    expected[name] = {target: sha(target)}

def write_stack(i):
    name = f"s{i:03d}"
    kind = "stream" if i in streamed_at else "folder" if i % 5 == 4 else ("slow" if i % 5 == 3 else "atomic")
    pages = ms.stack(1000 + i, 64, a.pages if kind == "stream" else 3)
    if kind == "folder":
        staging = os.path.join(work, "staging", name)
        os.makedirs(staging)
        files = {}
        for z, img in enumerate(pages):
            data = ms.tiff_bytes([img])
            open(os.path.join(staging, f"slice_{z + 1}.tif"), "wb").write(data)
            files[os.path.join(drop, name, f"slice_{z + 1}.tif")] = hashlib.sha256(data).hexdigest()
        open(os.path.join(staging, "COMPLETE"), "wb").close()
        os.rename(staging, os.path.join(drop, name))
    else:
        data = ms.tiff_bytes(pages)
        target = os.path.join(drop, name + ".tif")
        files = {target: hashlib.sha256(data).hexdigest()}
        if kind == "stream":
            t = threading.Thread(target=stream_stack, args=(target, pages, name))
            t.start(); streamers.append(t)
            return
        if kind == "atomic":
            staging = os.path.join(work, "staging", name + ".tif")
            open(staging, "wb").write(data)
            os.rename(staging, target)
        else:
            with open(target, "wb") as f:
                n = 10
                for c in range(n):
                    f.write(data[c * len(data) // n:(c + 1) * len(data) // n]); f.flush()
                    time.sleep(0.06)
    expected[name] = files

if a.daemon_user:
    for d in [work] + [os.path.join(work, d) for d in ("drop", "out", "quarantine", "state", "logs")]:
        os.chmod(d, 0o777)
    os.chmod(config, 0o644)

def start(k):
    log = open(os.path.join(work, "logs", f"serve-{k:03d}.log"), "wb")
    prefix = []
    if a.daemon_user:
        import pwd
        pw = pwd.getpwnam(a.daemon_user)
        prefix = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"]
    return subprocess.Popen(prefix + [a.binary, "serve", "--config", config], stdout=subprocess.DEVNULL, stderr=log)

peak_kib = 0
def peak(proc):
    """The daemon's peak resident size so far (VmHWM), read just before it is stopped."""
    global peak_kib
    try:
        for line in open(f"/proc/{proc.pid}/status"):
            if line.startswith("VmHWM:"): peak_kib = max(peak_kib, int(line.split()[1]))
    except OSError:
        pass

t0 = time.time()
producer_done = threading.Event()
def producer():
    for i in range(a.stacks):
        write_stack(i)
        time.sleep(rng.uniform(0, 0.25))
    producer_done.set()
threading.Thread(target=producer, daemon=True).start()

proc = start(0)
kills = terms = 0
term_rcs = []
while kills < a.kills:
    time.sleep(rng.uniform(0.05, a.max_gap))
    peak(proc)
    if a.term_every and (kills + terms + 1) % a.term_every == 0:
        proc.send_signal(signal.SIGTERM); term_rcs.append(proc.wait()); terms += 1
    else:
        proc.send_signal(signal.SIGKILL); proc.wait(); kills += 1
    proc = start(kills + terms)
producer_done.wait()
for t in streamers: t.join()
t_kills = time.time() - t0

SIDECAR = "-ro-crate-metadata.json"  # the RO-Crate sidecar: <stack>-ro-crate-metadata.json
def sidecars(): return len(glob.glob(os.path.join(out, "*" + SIDECAR)))
def stem(f): return f[:-len(SIDECAR)] if f.endswith(SIDECAR) else f.split(".")[0].split("_")[0]
def file_path(uri):
    from urllib.parse import unquote, urlparse
    assert uri.startswith("file:///"), f"{uri} is not a file URI"
    return unquote(urlparse(uri).path)
deadline = time.time() + 600
while time.time() < deadline and sidecars() + len(os.listdir(quarantine)) // 2 < a.stacks:
    time.sleep(0.5)
time.sleep(3)
peak(proc)
proc.send_signal(signal.SIGTERM)
rc = proc.wait(timeout=120)
t_total = time.time() - t0

def pixels_equal(x, y):
    try:
        import numpy as np, tifffile
        return np.array_equal(tifffile.imread(x), tifffile.imread(y))
    except ImportError:
        return sha(x) == sha(y)

# Checks
problems = []
done = 0
outputs_ok = 0
for name, inputs in sorted(expected.items()):
    prov = os.path.join(out, name + SIDECAR)
    produced = sorted(os.path.basename(f) for f in glob.glob(os.path.join(out, name + "*")) if
                      stem(os.path.basename(f)) == name)
    want = sorted([name + SIDECAR, name + "_depth.tif", name + "_fused.tif"])
    if produced != want:
        problems.append(f"{name}: outputs {produced}, expected {want}")
        continue
    doc = json.load(open(prov))
    graph = doc["@graph"]
    good = True
    for entity in graph:
        if "focusd:role" in entity and entity["@type"] == "File":
            path = file_path(entity["@id"])
            if not os.path.exists(path) or sha(path) != entity.get("sha256") or os.path.getsize(path) != entity.get("contentSize"):
                problems.append(f"{name}: output {path} does not match its sidecar"); good = False
    listed = [file_path(e["@id"]) for e in sorted((e for e in graph if "position" in e), key=lambda e: e["position"])]
    if listed != sorted(inputs, key=lambda s: s):
        problems.append(f"{name}: sidecar inputs {listed} != {sorted(inputs)}"); good = False
    for e in graph:
        if "position" in e and inputs.get(file_path(e["@id"])) != e.get("sha256"):
            problems.append(f"{name}: sidecar hash of input {e['@id']} differs from the bytes written"); good = False
    # The fused image equals a one-shot `focusd fuse` of the final input (pixels, not just a hash).
    oneshot = os.path.join(work, "oneshot", name + ".tif")
    os.makedirs(os.path.dirname(oneshot), exist_ok=True)
    source = os.path.join(drop, name) if os.path.isdir(os.path.join(drop, name)) else os.path.join(drop, name + ".tif")
    r = subprocess.run([a.binary, "fuse", source, "--engine", "reference", "--out", oneshot], capture_output=True, text=True)
    if r.returncode != 0 or not pixels_equal(oneshot, os.path.join(out, name + "_fused.tif")):
        problems.append(f"{name}: fused image differs from a one-shot fuse ({r.stderr.strip()[:200]})"); good = False
    done += 1
    outputs_ok += good
changed = [path for inputs in expected.values() for path, h in inputs.items() if not os.path.exists(path) or sha(path) != h]
hidden = [f for f in os.listdir(out) if f.startswith(".") or "tmp" in f]
quarantined = sorted(f for f in os.listdir(quarantine) if not f.endswith(".error.txt"))
extra = sorted(set(os.listdir(out)) - {f"{n}{s}" for n in expected for s in (SIDECAR, "_depth.tif", "_fused.tif")})
import sqlite3
db = sqlite3.connect(os.path.join(work, "state", "journal.sqlite"))
states = dict(db.execute("select state, count(*) from job group by state").fetchall())
attempts = db.execute("select sum(attempts), max(attempts), count(*) from job").fetchone()
per_stack = db.execute("select stack, count(*) from job group by stack having count(*) > 1").fetchall()
superseded = db.execute("select count(*) from job where superseded_by is not null").fetchone()[0]
streamed_names = sorted(n for n in expected if int(n[1:]) in streamed_at)
logs = "".join(open(f, errors="replace").read() for f in sorted(glob.glob(os.path.join(work, "logs", "*.log"))))
interrupted = logs.count("msg=\"job was interrupted")
temporaries_removed = logs.count("removed a temporary file")
print(f"stacks dropped: {a.stacks} ({len(streamed_names)} streamed page by page)  SIGKILLs: {kills}  SIGTERMs: {terms} (exits {sorted(set(term_rcs))})  daemon starts: {kills + terms + 1}  final SIGTERM exit: {rc}")
print(f"time: {t_kills:.0f} s of kills, {t_total:.0f} s in all")
print(f"stacks with exactly one complete output set: {done}  whose hashes match the sidecar: {outputs_ok}")
print(f"journal: {states}  jobs: {attempts[2]}  attempts: {attempts[0]} (max {attempts[1]} for one job)  stacks with >1 job: {len(per_stack)}  output sets replaced by a newer version: {superseded}")
print(f"peak resident size of the daemon (VmHWM, largest over its lives): {peak_kib / 1024:.0f} MiB")
print(f"interrupted jobs re-queued (log): {interrupted}  temporaries cleaned at start-up (log): {temporaries_removed}")
print(f"quarantined: {len(quarantined)} {quarantined[:5]}  temporary/hidden files in output: {len(hidden)}  unexpected output files: {len(extra)} {extra[:5]}")
print(f"inputs changed or missing: {len(changed)} {changed[:5]}")
for line in problems[:20]: print("PROBLEM", line)
# Several jobs for one stack are allowed (a version fused before the writer resumed is replaced
# under the same names); several output sets, a torn one or a -2 set are not.
ok = (done == a.stacks and outputs_ok == a.stacks and not changed and not hidden and not quarantined and not extra
      and rc == 0 and all(r == 0 for r in term_rcs) and peak_kib < 1024 * 1024)
print("RESULT:", "PASS" if ok else "FAIL", f"(work folder {work})")
sys.exit(0 if ok else 1)
PY
