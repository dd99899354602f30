#!/usr/bin/env bash
# The GPU check anyone can run. Never part of CI.
#
#   tests/gpu/check.sh pack [OUT]      on a machine with the .NET 10 SDK (this repository's ./rtmtl set-up):
#                                      self-contained GPU publish of the engine + the native libraries OpenCV needs
#                                      + models (shipped light fp32/int8/fp16, paper-sized MTL_SSW fp32/fp16) + a
#                                      640x480 clip, packed as an xz tar split into OUT/partN/ folders of 40 MiB
#                                      (default OUT: gpu-check/)
#   tests/gpu/check.sh measure DIR     on the GPU machine, from a copy of this repository (NVIDIA driver, CUDA 13 +
#                                      cuDNN 9 libraries; no .NET needed): DIR holds the parts; unpacks, runs the matrix
#                                      below and prints one markdown table
#
# The matrix: model-only p50 (rtmtl bench --model-only, warm-up excluded) for cpu / cuda (plain, iobinding,
# cudagraph) / tensorrt; pipeline FPS over the clip with side layout and recording, its efficiency (pipeline FPS /
# model-only FPS); at camera rate (--realtime, 30 FPS) end-to-end latency p50/p99, drops, and the frames recorded
# with their rate. Each step has a time limit; a step that fails prints its reason in the table and the rest go on.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mode="${1:-}"; shift || true

pack() {
  set -e
  local out="${1:-$ROOT/gpu-check}"
  local stage; stage="$(mktemp -d)"
  mkdir -p "$out"
  echo "check.sh: self-contained GPU publish of the engine" >&2
  dotnet publish "$ROOT/src/Cli/RealtimeMtl.Cli.csproj" -c Release -r linux-x64 --self-contained -p:RtmtlGpu=true \
    -o "$stage/rtmtl/app" -nologo -v q -clp:ErrorsOnly >&2
  # The Gpu meta-package also brings the Windows natives; a linux-x64 bundle does not need them.
  rm -f "$stage/rtmtl/app/"*.pdb "$stage/rtmtl/app/"onnxruntime*.dll
  # OpenCV's native library links GTK and friends, which a GPU server lacks: carry every library ldd resolves,
  # except the C runtime and libstdc++, which the target's (newer) system provides.
  mkdir -p "$stage/rtmtl/lib"
  ldd "$stage/rtmtl/app/libOpenCvSharpExtern.so" | awk '/=> \//{print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libstdc++.so*|libgcc_s.so*|libresolv.so*) ;;
      *) cp -L "$lib" "$stage/rtmtl/lib/" ;;
    esac
  done
  echo "check.sh: models" >&2
  mkdir -p "$stage/rtmtl/models" "$ROOT/out/gpu"
  # The shipped models travel with the repository (models/); the bundle carries only what is made here.
  "$ROOT/rtmtl" export --onnx "$ROOT/models/mtl_ssw_light.onnx" --precision fp16 --no-eval --out "$ROOT/out/gpu/mtl_ssw_light.fp16.onnx" >&2
  # Untrained paper-sized network for timing only; tiled weights make it compress from 352 MB to a few MB.
  "$ROOT/rtmtl" export --untrained mtl_ssw --size paper --tiled-weights --out "$ROOT/out/gpu/mtl_ssw_paper.onnx" >&2
  "$ROOT/rtmtl" export --onnx "$ROOT/out/gpu/mtl_ssw_paper.onnx" --precision fp16 --no-eval --out "$ROOT/out/gpu/mtl_ssw_paper.fp16.onnx" >&2
  cp "$ROOT/out/gpu/"*.onnx "$stage/rtmtl/models/"
  echo "check.sh: 640x480 clip (10 s at 30 FPS)" >&2
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=640x480:rate=30:duration=10" -c:v libx264 -preset veryfast -pix_fmt yuv420p "$stage/rtmtl/clip640x480.mp4"
  cp "$0" "$stage/rtmtl/check.sh"
  echo "check.sh: packing" >&2
  rm -rf "$out"/part* "$out/bundle.tar.gz"
  # xz: the CUDA provider's fat binaries shrink to 186 MB (gzip: 231 MB). Parts of 40 MiB, so that one part and
  # the repository (about 22 MiB with its models) fit one 64 MiB transfer.
  tar -C "$stage" -cf - rtmtl | xz -6 -T0 > "$out/bundle.tar.xz"
  local i=1
  split -b 40m -d "$out/bundle.tar.xz" "$out/bundle.part."
  for p in "$out"/bundle.part.*; do mkdir -p "$out/part$i"; mv "$p" "$out/part$i/"; i=$((i + 1)); done
  rm -f "$out/bundle.tar.xz"
  rm -rf "$stage"
  du -sh "$out"/part* >&2
  echo "check.sh: copy the part folders to the GPU machine, then: bash check.sh measure DIR  (check.sh is inside the bundle too)" >&2
}

measure() {
  local dir="${1:?usage: check.sh measure DIR}"
  local work="${RTMTL_GPU_CHECK_WORK:-/tmp/rtmtl-gpu}"
  mkdir -p "$work"
  if [ ! -x "$work/rtmtl/app/rtmtl" ]; then
    # xz, or Python's lzma where the xz program is missing.
    local unxz="xz -dc"; command -v xz >/dev/null 2>&1 || unxz="python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)'"
    cat $(find "$dir" -name 'bundle.part.*' | sort) | eval "$unxz" | tar -C "$work" -xf -
  fi
  local b="$work/rtmtl"
  for f in "$ROOT"/models/mtl_ssw_light.onnx "$ROOT"/models/mtl_ssw_light.int8.onnx; do [ -f "$b/models/$(basename "$f")" ] || cp "$f" "$b/models/"; done
  local cuda_libs=""
  for d in /usr/local/cuda-13.0/targets/x86_64-linux/lib /usr/local/cuda/lib64 \
           /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu13/lib /opt/torch/.venv/lib/python3*/site-packages/nvidia/cudnn/lib \
           /usr/lib/x86_64-linux-gnu; do
    [ -d "$d" ] && cuda_libs="$cuda_libs:$d"
  done
  export LD_LIBRARY_PATH="$b/lib$cuda_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
  local r="$work/results"; rm -rf "$r"; mkdir -p "$r"
  local rt="$b/app/rtmtl" m="$b/models" clip="$b/clip640x480.mp4"
  local gpu; gpu="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"
  echo "GPU: ${gpu:-none found}; cores: $(nproc)" >&2

  step() { # step NAME SECONDS command...
    local name="$1" limit="$2"; shift 2
    echo "== $name" >&2
    timeout "$limit" "$@" >"$r/$name.out" 2>"$r/$name.err"; echo $? >"$r/$name.rc"
    tail -n 3 "$r/$name.err" >&2
  }
  # RTMTL_GPU_CHECK_QUICK=1: a dry run of the script itself (a few frames per step), e.g. on a CPU-only machine.
  local quick="${RTMTL_GPU_CHECK_QUICK:-}" maxf=()
  [ -n "$quick" ] && maxf=(--max-frames 3)
  bench() { # bench NAME MODEL DEVICE PATH FRAMES
    local frames="$5"; [ -n "$quick" ] && frames=2
    step "$1" 120 "$rt" bench --model "$m/$2" --device "$3" --gpu-path "$4" --model-only --no-peers --frames "$frames" --json "$r/$1.json"
  }
  # Model only, warm-up excluded.
  bench light-cpu mtl_ssw_light.onnx cpu plain 300
  for p in plain iobinding cudagraph; do
    bench "light-cuda-$p" mtl_ssw_light.onnx cuda "$p" 1000
    bench "light-fp16-cuda-$p" mtl_ssw_light.fp16.onnx cuda "$p" 1000
    bench "paper-cuda-$p" mtl_ssw_paper.onnx cuda "$p" 300
    bench "paper-fp16-cuda-$p" mtl_ssw_paper.fp16.onnx cuda "$p" 300
  done
  bench light-int8-cuda-plain mtl_ssw_light.int8.onnx cuda plain 1000
  bench light-tensorrt mtl_ssw_light.onnx tensorrt auto 300
  bench paper-cpu mtl_ssw_paper.onnx cpu plain 5
  # Pipeline over the clip (as fast as it decodes), side layout; with and without recording.
  run() { # run NAME MODEL DEVICE extra...
    local name="$1" model="$2" device="$3"; shift 3
    step "$name" 180 "$rt" run --source "$clip" --model "$m/$model" --device "$device" --quiet --stats-json "$r/$name.json" "${maxf[@]}" "$@"
  }
  run light-run-cuda mtl_ssw_light.onnx cuda
  run light-run-cuda-rec mtl_ssw_light.onnx cuda --record "$r/light.mp4"
  run light-run-cpu mtl_ssw_light.onnx cpu
  run paper-run-cuda-rec mtl_ssw_paper.onnx cuda --record "$r/paper.mp4"
  run paper-fp16-run-cuda-rec mtl_ssw_paper.fp16.onnx cuda --record "$r/paper16.mp4"
  # Camera rate: the clip paced at its 30 FPS, recorded.
  run paper-fp16-realtime mtl_ssw_paper.fp16.onnx cuda --realtime --record "$r/paper16-rt.mp4"
  run light-realtime mtl_ssw_light.onnx cuda --realtime --record "$r/light-rt.mp4"
  step tensorrt-run 120 "$rt" run --source "$clip" --model "$m/mtl_ssw_light.onnx" --device tensorrt --max-frames 30 --quiet

  local py; py="$(command -v python3 || ls /opt/torch/.venv/bin/python 2>/dev/null)"
  "$py" - "$r" "${gpu:-unknown GPU}" <<'PY'
import json, os, re, sys
r, gpu = sys.argv[1], sys.argv[2]
def load(n):
    try: return json.load(open(os.path.join(r, n + ".json")))
    except Exception: return None
def why(n):
    try: rc = open(os.path.join(r, n + ".rc")).read().strip()
    except Exception: return "not run"
    err = open(os.path.join(r, n + ".err")).read().strip().splitlines()
    return f"failed (exit {rc}): " + (err[-1][:120] if err else "")
print(f"GPU: {gpu}\n")
print("| model-only (rtmtl bench --model-only, warm-up excluded) | device / path | p50 ms | FPS | warm-up ms |")
print("|---|---|---|---|---|")
for n in sorted(f[:-5] for f in os.listdir(r) if f.endswith(".json")):
    j = load(n)
    if j is None or "model" not in j: continue
    m = j["model"]
    print(f"| {n} | {j['device']['used']} / {j['device'].get('gpu_path','')} | {m['p50_ms']:.2f} | {m['fps']:.1f} | {m['warm_up_ms']:.0f} |")
for n in sorted(f[:-3] for f in os.listdir(r) if f.endswith(".rc") and f != "tensorrt-run.rc"):
    if load(n) is None: print(f"| {n} | | {why(n)} | | |")
print()
print("| pipeline (rtmtl run over the 640x480 clip, side layout) | device | FPS | efficiency | model p50 ms | e2e p50 / p99 ms | dropped | recorded |")
print("|---|---|---|---|---|---|---|---|")
ref = {"light": load("light-cuda-iobinding") or load("light-cuda-plain"), "paper": load("paper-cuda-iobinding") or load("paper-cuda-plain"),
       "paper-fp16": load("paper-fp16-cuda-iobinding") or load("paper-fp16-cuda-plain")}
for n in ["light-run-cuda", "light-run-cuda-rec", "light-run-cpu", "paper-run-cuda-rec", "paper-fp16-run-cuda-rec", "paper-fp16-realtime", "light-realtime"]:
    j = load(n)
    if j is None: print(f"| {n} | | {why(n)} | | | | | |"); continue
    st = j["stages"]; e2e = st.get("end-to-end", {}); mod = st.get("model", {})
    key = "paper-fp16" if n.startswith("paper-fp16") else n.split("-")[0]
    base = ref.get(key) if j["device"] != "cpu" else load("light-cpu")
    eff = f"{j['fps'] / base['model']['fps']:.2f}" if base and j.get("fps") else "-"
    rec = next((x for x in j.get("notes", []) if x.startswith("record")), "")
    m = re.search(r": (\d+) frames at ([\d.]+) FPS", rec)
    recs = f"{m.group(1)} at {m.group(2)} FPS" if m else "-"
    print(f"| {n} | {j['device']} | {j['fps']:.1f} | {eff} | {mod.get('p50', 0):.2f} | {e2e.get('p50', 0):.1f} / {e2e.get('p99', 0):.1f} | {j['dropped_at_source']} | {recs} |")
err = open(os.path.join(r, "tensorrt-run.err")).read().strip().splitlines() if os.path.exists(os.path.join(r, "tensorrt-run.err")) else []
print(f"\n--device tensorrt: {err[0] if err else 'no fallback line (TensorRT ran)'}")
PY
}

case "$mode" in
  pack) pack "$@" ;;
  measure) measure "$@" ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
