#!/usr/bin/env bash
# Resource faults: focusd serve with two drop folders, "faulty" and "healthy", while the faulty one's
# output (or the state directory, or memory) fails. Checks that the failing job fails cleanly (retried,
# or failed/quarantined with its reason), no temporary file is left, and the healthy folder keeps being
# served. Needs root (mounts small tmpfs file systems).
#
#   scripts/resource-faults.sh [--binary .build/release/focusd] [--work DIR] [SCENARIO…]
#   scenarios: disk-full read-only-output state-unavailable memory-limit (default: all)
here=$(cd "$(dirname "$0")/.." && pwd)
exec python3 - "$here" "$@" <<'PY'
import argparse, glob, os, signal, sqlite3, subprocess, sys, tempfile, time, importlib.util
here = sys.argv[1]
p = argparse.ArgumentParser(prog="resource-faults.sh")
p.add_argument("--binary", default=os.path.join(here, ".build/release/focusd"))
p.add_argument("--work")
p.add_argument("scenarios", nargs="*", default=["disk-full", "read-only-output", "state-unavailable", "memory-limit"])
a = p.parse_args(sys.argv[2:])
spec = importlib.util.spec_from_file_location("ms", os.path.join(here, "scripts/make-stack.py"))
ms = importlib.util.module_from_spec(spec); spec.loader.exec_module(ms)
base = a.work or tempfile.mkdtemp(prefix="focusd-faults-")
results = []

def sh(cmd): return subprocess.run(cmd, shell=True, capture_output=True, text=True)
def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = sh(f"mount -t tmpfs -o size={size} tmpfs {path}")
    if r.returncode: sys.exit(f"cannot mount a tmpfs at {path} ({r.stderr.strip()}); run as root")
def umount(path):
    if sh(f"umount {path}").returncode: sh(f"umount -l {path}")

def setup(name, output=None, state=None):
    w = os.path.join(base, name)
    for d in ("drop-faulty", "drop-healthy", "out-healthy", "quarantine", "staging"): os.makedirs(os.path.join(w, d), exist_ok=True)
    out = output or os.path.join(w, "out-faulty"); os.makedirs(out, exist_ok=True)
    st = state or os.path.join(w, "state"); os.makedirs(st, exist_ok=True)
    open(os.path.join(w, "focusd.yaml"), "w").write(f"""state_directory: {st}
log_level: debug
poll_interval_seconds: 0.05
drop_folders:
  - path: {w}/drop-faulty
    name: faulty
    output: {out}
    quarantine: {w}/quarantine
    profile: {{ engine: reference }}
    detection: {{ stable_seconds: 0.3 }}
    retry: {{ max_attempts: 3, backoff_seconds: 1, max_backoff_seconds: 2 }}
  - path: {w}/drop-healthy
    name: healthy
    output: {w}/out-healthy
    quarantine: {w}/quarantine
    profile: {{ engine: reference }}
    detection: {{ stable_seconds: 0.3 }}
""")
    return w, out, st

def put(w, folder, name, seed, size=64, slices=3):
    staging = os.path.join(w, "staging", name + ".tif")
    open(staging, "wb").write(ms.tiff_bytes(ms.stack(seed, size, slices)))
    os.rename(staging, os.path.join(w, folder, name + ".tif"))

def serve(w, prefix=""):
    log = open(os.path.join(w, "serve.log"), "ab")
    return subprocess.Popen(f"{prefix} exec {a.binary} serve --config {w}/focusd.yaml", shell=True, stdout=subprocess.DEVNULL, stderr=log)

def jobs(st):
    try:
        db = sqlite3.connect(f"file:{st}/journal.sqlite?mode=ro", uri=True)
        try: return {s: (state, att, err) for s, state, att, err in db.execute("select stack, state, attempts, error from job")}
        finally: db.close()
    except Exception as e:
        return {}

def wait(cond, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if cond(): return True
        time.sleep(0.2)
    return cond()

def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try: proc.wait(30)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()
    return proc.returncode

def temporaries(folder): return [f for f in os.listdir(folder) if f.startswith(".")] if os.path.isdir(folder) else []
def log(w): return open(os.path.join(w, "serve.log"), errors="replace").read()
def report(name, ok, lines):
    results.append((name, ok))
    print(f"== {name}: {'PASS' if ok else 'FAIL'}")
    for l in lines: print("   " + l)

def disk_full():
    mnt = os.path.join(base, "disk-full-mnt"); mount_tmpfs(mnt, "1m")
    try:
        w, out, st = setup("disk-full", output=mnt)
        # Leave 136 KiB: room for a 256×256 stack's fused image (33 pages of 4 KiB) and its depth map
        # (1 page), not for the sidecar as well — a set that can be written only in part.
        total_free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize // 1024
        sh(f"dd if=/dev/zero of={mnt}/filler bs=1k count={total_free - 136} 2>/dev/null")
        free_kib = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize // 1024
        proc = serve(w)
        # Watched every 10 ms from the moment the stack arrives: never a fused image without its
        # depth map and sidecar, never a sidecar without its images.
        partial, stop_watch = [], []
        import threading
        def watch():
            full = {"big-ro-crate-metadata.json", "big_depth.tif", "big_fused.tif"}
            while not stop_watch:
                seen = {f for f in os.listdir(mnt) if f.startswith("big") and not f.startswith(".")}
                if seen and seen != full: partial.append(sorted(seen))
                time.sleep(0.01)
        watcher = threading.Thread(target=watch); watcher.start()
        put(w, "drop-faulty", "big", 1, size=256)
        retried = wait(lambda: "No space left on device" in log(w) and "will retry" in log(w), 30)
        put(w, "drop-healthy", "ok1", 2)
        healthy = wait(lambda: jobs(st).get("ok1", ("",))[0] == "done", 30)
        temps_while_full = temporaries(mnt)
        visible_while_full = sorted(f for f in os.listdir(mnt) if f != "filler")
        enospc_on = sorted(set(l.split("No space left")[0][-80:].split("/")[-1] for l in log(w).splitlines() if "No space left" in l))[:3]
        os.unlink(f"{mnt}/filler")                      # space freed: the next retry succeeds
        recovered = wait(lambda: jobs(st).get("big", ("",))[0] == "done", 30)
        stop_watch.append(True); watcher.join()
        j = jobs(st); rc = stop(proc)
        lines = [f"output on a 1 MiB tmpfs with {free_kib} KiB free; job 'big': {j.get('big')}",
                 f"ENOSPC logged and retried: {retried} (while writing: {enospc_on}); healthy folder served meanwhile: {healthy}",
                 f"visible in the full output folder while full: {visible_while_full}; temporary files: {temps_while_full}",
                 f"partial sets seen by the 10 ms watcher at any time: {len(partial)} {partial[:3]}",
                 f"files after recovery: {sorted(f for f in os.listdir(mnt))}; temporaries: {temporaries(mnt)}; exit {rc}"]
        report("disk-full", retried and healthy and recovered and not partial and not visible_while_full and not temps_while_full
               and not temporaries(mnt) and rc == 0, lines)
    finally:
        umount(mnt)

def read_only_output():
    mnt = os.path.join(base, "ro-mnt"); mount_tmpfs(mnt, "8m")
    try:
        sh(f"mount -o remount,ro {mnt}")
        w, out, st = setup("read-only-output", output=mnt)
        proc = serve(w)
        started = wait(lambda: "msg=serving" in log(w), 20)
        put(w, "drop-faulty", "ro", 3)
        put(w, "drop-healthy", "ok2", 4)
        settled = wait(lambda: jobs(st).get("ro", ("",))[0] in ("failed", "quarantined") and jobs(st).get("ok2", ("",))[0] == "done", 60)
        j = jobs(st); rc = stop(proc)
        err = (j.get("ro") or ("", 0, ""))[2] or ""
        lines = [f"output folder on a read-only tmpfs (root ignores chmod 555); daemon started: {started}",
                 f"job 'ro': state {j.get('ro', ('?',))[0]}, attempts {j.get('ro', ('', '?'))[1]}, error: {err[:160]}",
                 f"healthy folder: {j.get('ok2', ('?',))[0]}; exit {rc}"]
        report("read-only-output", settled and "Read-only file system" in err and rc == 0, lines)
    finally:
        umount(mnt)

def state_unavailable():
    mnt = os.path.join(base, "state-mnt"); mount_tmpfs(mnt, "8m")
    try:
        # 1. A state directory that cannot be written at start-up: exit 1 with the reason.
        sh(f"mount -o remount,ro {mnt}")
        w, out, st = setup("state-unavailable", state=mnt)
        proc = serve(w); rc1 = proc.wait(30)
        first = [l for l in log(w).splitlines() if "critical" in l or "error" in l][-1:] or log(w).splitlines()[-1:]
        # 2. The state directory's file system fills up while serving (a read-only remount is refused
        #    with EBUSY while the journal is open for writing): intake cannot record stacks; the daemon
        #    keeps running and records them once there is space again.
        sh(f"mount -o remount,rw {mnt}")
        proc = serve(w)
        wait(lambda: "msg=serving" in log(w), 20)
        put(w, "drop-healthy", "before", 5)
        before = wait(lambda: jobs(mnt).get("before", ("",))[0] == "done", 30)
        sh(f"dd if=/dev/zero of={mnt}/filler bs=4k 2>/dev/null; sync")
        free_kb = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize // 1024
        for i in range(3): put(w, "drop-healthy", f"during{i}", 6 + i)
        time.sleep(5)
        alive = proc.poll() is None
        during_log = [l for l in log(w).splitlines() if "during" in l and ("error" in l or "warning" in l)][-2:]
        os.unlink(f"{mnt}/filler")
        after = wait(lambda: all(jobs(mnt).get(f"during{i}", ("",))[0] == "done" for i in range(3)), 40)
        rc2 = stop(proc)
        lines = [f"read-only state directory at start: exit {rc1}: {first[0][:200] if first else ''}",
                 f"state directory full while serving ({free_kb} KiB free): daemon still running {alive}; log: {' | '.join(l[:220] for l in during_log) or 'nothing'}",
                 f"stacks dropped meanwhile fused once there was space: {after}; exit {rc2}; jobs {jobs(mnt)}"]
        report("state-unavailable", rc1 == 1 and before and alive and after and rc2 == 0, lines)
    finally:
        umount(mnt)

def memory_limit():
    w, out, st = setup("memory-limit")
    # A 4096×4096×4 16-bit stack (128 MiB of TIFF) needs far more than the 1 GiB address space given.
    big = ms.stack(7, 4096, 4)
    staging = os.path.join(w, "staging", "huge.tif"); open(staging, "wb").write(ms.tiff_bytes(big)); del big
    os.rename(staging, os.path.join(w, "drop-faulty", "huge.tif"))
    put(w, "drop-healthy", "small", 8)
    restarts = 0
    # Like systemd's Restart=on-failure: start again after each crash, at most 6 times.
    while restarts < 6:
        proc = serve(w, prefix="ulimit -v 1048576;")
        end = time.time() + 60
        while time.time() < end and proc.poll() is None:
            j = jobs(st)
            if j.get("huge", ("",))[0] in ("done", "failed", "quarantined") and j.get("small", ("",))[0] == "done": break
            time.sleep(0.3)
        if proc.poll() is None: break
        restarts += 1
    j = jobs(st); rc = stop(proc)
    lines = [f"ulimit -v 1 GiB; daemon (re)starts after crashes: {restarts}",
             f"job 'huge': {(j.get('huge') or ('?', '?', ''))[:2]} error: {((j.get('huge') or ('', '', ''))[2] or '')[:200]}",
             f"job 'small' (healthy folder): {(j.get('small') or ('?',))[0]}; temporaries left: {temporaries(out)}; exit {rc}"]
    report("memory-limit", j.get("small", ("",))[0] == "done" and j.get("huge", ("",))[0] in ("failed", "quarantined") and not temporaries(out), lines)

for s in a.scenarios:
    {"disk-full": disk_full, "read-only-output": read_only_output, "state-unavailable": state_unavailable, "memory-limit": memory_limit}[s]()
print("RESULT:", "PASS" if all(ok for _, ok in results) else "FAIL", f"(work folder {base})")
sys.exit(0 if all(ok for _, ok in results) else 1)
PY
