#!/usr/bin/env bash
# Fuzzing with libFuzzer (`swiftc -sanitize=fuzzer,address`): builds the targets in fuzz/ from the
# module sources (Package.swift's normal build is not involved) and runs them, seeded with real files.
#
#   scripts/fuzz.sh build                       build imaging-fuzz, safetensors-fuzz, yaml-fuzz into $FUZZ_WORK/bin
#   scripts/fuzz.sh run TARGET SECONDS [JOBS]   run one target (imaging | safetensors | yaml) for SECONDS
#   scripts/fuzz.sh all [IMAGING_S] [OTHER_S]   build, then imaging 600 s, safetensors and yaml 180 s each
#
# FUZZ_WORK (default /tmp/focusd-fuzz) holds the build, the corpora (seeded at run time from
# ../shared/data, models/, profiles/ — never copied into git) and crash-* reproducers. Limits per input:
# -timeout=10 s (hang), -rss_limit_mb=2048, -malloc_limit_mb=512 (an allocation larger than that is a
# finding: the readers run with a 64 MiB memory budget and must refuse bigger images from the header).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-/tmp/focusd-fuzz}
bin=$work/bin; obj=$work/obj
mkdir -p "$bin" "$obj"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6)

build() {
  local mm=$obj/modulemaps; mkdir -p "$mm/CTIFF" "$mm/CImageCodecs"
  printf 'module CTIFF {\n  header "%s"\n  link "tiff"\n  export *\n}\n' "$here/Sources/CTIFF/include/ctiff.h" > "$mm/CTIFF/module.modulemap"
  printf 'module CImageCodecs {\n  header "%s"\n  link "png"\n  link "jpeg"\n  export *\n}\n' "$here/Sources/CImageCodecs/include/cimagecodecs.h" > "$mm/CImageCodecs/module.modulemap"
  clang -c -O1 -g -fsanitize=fuzzer-no-link,address -I "$here/Sources/CTIFF/include" "$here/Sources/CTIFF/ctiff.c" -o "$obj/ctiff.o"
  for c in "$here"/Sources/CImageCodecs/*.c; do
    clang -c -O1 -g -fsanitize=fuzzer-no-link,address -I "$here/Sources/CImageCodecs/include" -I "$here/Sources/CImageCodecs" "$c" -o "$obj/cic-$(basename "$c" .c).o"
  done
  echo "building imaging-fuzz"
  swiftc "${flags[@]}" -module-name ImagingFuzz -I "$mm/CTIFF" -I "$mm/CImageCodecs" \
    "$here"/Sources/Imaging/*.swift "$here/fuzz/ImagingFuzz.swift" "$obj/ctiff.o" "$obj"/cic-*.o \
    -ltiff -lpng -ljpeg -o "$bin/imaging-fuzz"
  echo "building safetensors-fuzz"
  swiftc "${flags[@]}" -module-name SafeTensorsFuzz "$here/Sources/NN/SafeTensors.swift" "$here/fuzz/SafeTensorsFuzz.swift" -o "$bin/safetensors-fuzz"
  build_yaml
}

build_yaml() {
  echo "building yaml-fuzz"
  local yams=$here/.build/checkouts/Yams/Sources
  [ -d "$yams" ] || { echo "Yams sources not found in .build/checkouts (run swift build once)" >&2; exit 1; }
  for c in "$yams"/CYaml/src/*.c; do
    clang -c -O1 -g -fsanitize=fuzzer-no-link,address -I "$yams/CYaml/include" -I "$yams/CYaml/src" -DYAML_DECLARE_STATIC "$c" -o "$obj/yaml-$(basename "$c" .c).o"
  done
  swiftc "${flags[@]}" -module-name Yams -wmo -emit-module -emit-module-path "$obj/Yams.swiftmodule" -I "$yams/CYaml/include" \
    -D SWIFT_PACKAGE -c "$yams"/Yams/*.swift -o "$obj/Yams.o" -swift-version 5
  swiftc "${flags[@]}" -module-name YAMLFuzz -I "$obj" -I "$yams/CYaml/include" "$here/Sources/Daemon/Config/YAMLReader.swift" \
    "$here/fuzz/YAMLFuzz.swift" "$obj/Yams.o" "$obj"/yaml-*.o -o "$bin/yaml-fuzz"
}

seed() {
  local target=$1 corpus=$work/corpus/$1; mkdir -p "$corpus"
  [ -n "$(ls -A "$corpus")" ] && return 0
  local data=$here/../shared/data
  case $target in
    imaging)
      # Small real files of every container (≤ 256 kB each), plus the committed regression fixtures.
      find "$data" -type f \( -iname '*.tif' -o -iname '*.tiff' -o -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) -size -256k 2>/dev/null \
        | sort | awk 'NR % 7 == 1' | head -40 | while read -r f; do cp "$f" "$corpus/"; done
      # PNG seeds (the shared data has none): grey 8/16-bit, RGB, RGBA, palette, interlaced.
      python3 - "$corpus" <<'PY'
import struct, sys, zlib, os
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
def png(w, h, depth, ctype, interlace=0, plte=None, bpp=1):
    raw = b"".join(b"\x00" + bytes((x * 37 + y * 11) & 0xff for x in range(w * bpp)) for y in range(h))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))
    if plte: body += chunk(b"PLTE", plte)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
d = sys.argv[1]
for name, data in {"grey8.png": png(16, 16, 8, 0), "grey16.png": png(16, 16, 16, 0, bpp=2), "rgb8.png": png(16, 8, 8, 2, bpp=3),
                   "rgba8.png": png(8, 8, 8, 6, bpp=4), "palette.png": png(8, 8, 8, 3, plte=bytes(range(48))),
                   "interlaced.png": png(16, 16, 8, 0, interlace=1), "rgb16.png": png(8, 8, 16, 2, bpp=6)}.items():
    open(os.path.join(d, name), "wb").write(data)
PY
      cp "$here"/Tests/Fixtures/fuzz/imaging/* "$corpus/" 2>/dev/null || true ;;
    safetensors)
      # Model headers with a little data: the parser's interesting part is the JSON header and offsets.
      for f in "$here"/models/*.safetensors; do head -c 65536 "$f" > "$corpus/$(basename "$f").head"; done
      python3 - "$corpus" <<'PY'
import json, struct, sys, os
def st(tensors, meta=None):
    header, data, off = {}, b"", 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}; data += raw; off += len(raw)
    if meta: header["__metadata__"] = meta
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data
d = sys.argv[1]
open(os.path.join(d, "f32"), "wb").write(st({"w": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4))}, {"width": "16"}))
open(os.path.join(d, "f16bf16"), "wb").write(st({"a": ("F16", [3], b"\x00\x3c" * 3), "b": ("BF16", [1, 2], b"\x80\x3f" * 2)}))
PY
      cp "$here"/Tests/Fixtures/fuzz/safetensors/* "$corpus/" 2>/dev/null || true ;;
    yaml)
      cp "$here"/profiles/*.yaml "$corpus/" 2>/dev/null || true
      cp "$here"/Tests/Fixtures/fuzz/yaml/* "$corpus/" 2>/dev/null || true
      printf 'state_directory: /tmp/x\ndrop_folders:\n  - path: /a\n    output: /b\n    profile: { engine: reference }\n    detection: { stable_seconds: 2, marker: COMPLETE }\n    retry: { max_attempts: 4 }\n' > "$corpus/config.yaml"
      printf 'a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n' > "$corpus/aliases.yaml" ;;
  esac
}

run() {
  local target=$1 seconds=$2 jobs=${3:-1}
  seed "$target"
  mkdir -p "$work/findings/$target"
  cd "$work/findings/$target"
  echo "fuzzing $target for $seconds s (corpus $work/corpus/$target)"
  # ASan's leak checker is off: the Swift runtime's caches look like leaks at exit.
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0 "$bin/$target-fuzz" "$work/corpus/$target" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=262144 \
    -print_final_stats=1 -jobs="$jobs" -workers="$jobs" 2>&1 | tee "$work/findings/$target/run.log" | grep -E "^#[0-9]+ *(DONE|INITED)|stat::|ERROR|SUMMARY|crash-|timeout-|oom-|leak-" || true
  ls "$work/findings/$target" | grep -E '^(crash|timeout|oom|leak|slow-unit)-' || echo "no findings for $target"
}

case ${1:-all} in
  build) build ;;
  build-yaml) build_yaml ;;
  run) run "$2" "$3" "${4:-1}" ;;
  all) build; run imaging "${2:-600}"; run safetensors "${3:-180}"; run yaml "${3:-180}" ;;
  *) echo "usage: $0 build | run TARGET SECONDS | all [IMAGING_S] [OTHER_S]" >&2; exit 2 ;;
esac
