#!/usr/bin/env bash
# The long hostile-input runs (the suite has the short versions): a million empty files in a drop
# folder, and a TIFF written over 60 s by a slow writer.
#
#   scripts/hostile-drop.sh [--files 1000000] [--slow-seconds 60] [--binary .build/release/focusd] [--work DIR]
#
# Million files: 1,000,000 empty files (half named *.tif) and one real stack are in the drop folder
# when focusd starts; reports the time until the real stack is fused, until a stack dropped afterwards
# is fused, peak RSS (VmHWM), and how many "ignored" lines were logged.
# Slow writer: a 512×512×5 16-bit TIFF written in place in 10 chunks over 60 s (stable_seconds 10);
# checks that nothing is queued before the writer closes the file and that the job read the whole file.
here=$(cd "$(dirname "$0")/.." && pwd)
exec python3 - "$here" "$@" <<'PY'
import argparse, hashlib, os, signal, sqlite3, subprocess, sys, tempfile, threading, time, importlib.util
here = sys.argv[1]
p = argparse.ArgumentParser(prog="hostile-drop.sh")
p.add_argument("--files", type=int, default=1_000_000)
p.add_argument("--slow-seconds", type=float, default=60)
p.add_argument("--binary", default=os.path.join(here, ".build/release/focusd"))
p.add_argument("--work")
a = p.parse_args(sys.argv[2:])
spec = importlib.util.spec_from_file_location("ms", os.path.join(here, "scripts/make-stack.py"))
ms = importlib.util.module_from_spec(spec); spec.loader.exec_module(ms)
base = a.work or tempfile.mkdtemp(prefix="focusd-hostile-")
ok_all = True

def setup(name, stable):
    w = os.path.join(base, name)
    for d in ("drop", "out", "quarantine", "state", "staging"): os.makedirs(os.path.join(w, d), exist_ok=True)
    open(os.path.join(w, "focusd.yaml"), "w").write(f"""state_directory: {w}/state
log_level: info
poll_interval_seconds: 0.25
drop_folders:
  - path: {w}/drop
    name: hostile
    output: {w}/out
    quarantine: {w}/quarantine
    profile: {{ engine: reference }}
    detection: {{ stable_seconds: {stable} }}
""")
    return w

def jobs(w):
    try:
        db = sqlite3.connect(f"file:{w}/state/journal.sqlite?mode=ro", uri=True)
        try: return {s: (st, inp) for s, st, inp in db.execute("select stack, state, input_sha256 from job")}
        finally: db.close()
    except Exception: return {}

def wait(cond, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if cond(): return True
        time.sleep(0.2)
    return cond()

def put(w, name, seed, size=64, slices=3):
    staging = os.path.join(w, "staging", name + ".tif")
    open(staging, "wb").write(ms.tiff_bytes(ms.stack(seed, size, slices)))
    os.rename(staging, os.path.join(w, "drop", name + ".tif"))

# 1. A million empty files.
w = setup("million", 0.5)
t = time.time()
drop = os.path.join(w, "drop")
for i in range(a.files):
    name = f"empty{i:07d}.tif" if i % 2 == 0 else f"stray{i:07d}"
    os.close(os.open(os.path.join(drop, name), os.O_CREAT | os.O_WRONLY, 0o644))
put(w, "first", 1)
print(f"created {a.files} empty files in {time.time() - t:.0f} s")
log = open(os.path.join(w, "serve.log"), "wb")
t0 = time.time()
proc = subprocess.Popen([a.binary, "serve", "--config", f"{w}/focusd.yaml"], stdout=subprocess.DEVNULL, stderr=log)
first = wait(lambda: jobs(w).get("first", ("",))[0] == "done", 600); t_first = time.time() - t0
t1 = time.time(); put(w, "second", 2)
second = wait(lambda: jobs(w).get("second", ("",))[0] == "done", 120); t_second = time.time() - t1
hwm = int([l.split()[1] for l in open(f"/proc/{proc.pid}/status") if l.startswith("VmHWM")][0])
rss = int([l.split()[1] for l in open(f"/proc/{proc.pid}/status") if l.startswith("VmRSS")][0])
proc.send_signal(signal.SIGTERM); rc = proc.wait(60)
text = open(os.path.join(w, "serve.log"), errors="replace").read()
ignored = text.count("msg=ignored"); more = [l for l in text.splitlines() if "more files ignored" in l]
n_jobs = len(jobs(w))
ok = first and second and n_jobs == 2 and rc == 0
ok_all &= ok
print(f"== million empty files: {'PASS' if ok else 'FAIL'}")
print(f"   first stack fused {t_first:.1f} s after start; a stack dropped afterwards fused in {t_second:.1f} s")
print(f"   peak RSS {hwm // 1024} MiB (now {rss // 1024} MiB); jobs {n_jobs}; 'ignored' lines {ignored}; summary lines {len(more)}: {more[-1][:160] if more else ''}; exit {rc}")
os.system(f"rm -rf {drop}")

# 2. A TIFF written over 60 s.
w = setup("slow", 10)
log = open(os.path.join(w, "serve.log"), "wb")
proc = subprocess.Popen([a.binary, "serve", "--config", f"{w}/focusd.yaml"], stdout=subprocess.DEVNULL, stderr=log)
time.sleep(1)
data = ms.tiff_bytes(ms.stack(3, 512, 5)); target = os.path.join(w, "drop", "slow.tif")
early = []
with open(target, "wb") as f:
    n = 10
    for c in range(n):
        f.write(data[c * len(data) // n:(c + 1) * len(data) // n]); f.flush()
        time.sleep(a.slow_seconds / n)
        if jobs(w): early.append(c)
t_closed = time.time()
done = wait(lambda: jobs(w).get("slow", ("",))[0] == "done", 120)
j = jobs(w).get("slow", ("", "[]"))
whole = hashlib.sha256(data).hexdigest() in (j[1] or "")
proc.send_signal(signal.SIGTERM); rc = proc.wait(60)
ok = done and not early and whole and rc == 0
ok_all &= ok
print(f"== TIFF written over {a.slow_seconds:.0f} s: {'PASS' if ok else 'FAIL'}")
print(f"   {len(data)} bytes in 10 chunks; jobs queued while writing: {len(early)}; fused {time.time() - t_closed:.1f} s after close: {done}; sidecar/journal hash = whole file: {whole}; exit {rc}")
print("RESULT:", "PASS" if ok_all else "FAIL", f"(work folder {base})")
sys.exit(0 if ok_all else 1)
PY
