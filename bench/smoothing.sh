#!/usr/bin/env bash
# --smooth measured (docs/smoothing.md has the tables). After ./rtmtl build, with ffmpeg:
#   bench/smoothing.sh [quality|cost|profile|all=all (quality and cost)] [FRAMES=90]
# quality: rtmtl eval --video on each case with --smooth off, hysteresis and flow: flicker (share of pixels whose
#   class changes a frame), flicker along the optical flow, median relative depth change, and against ground truth
#   (synthetic cases) mIoU, depth RMSE and the label error within 3 px of object boundaries.
#   Cases: the randomised synthetic world (sensor noise, JPEG) with a static camera, a walk and fast turns, on seeds
#   SEEDS (default 1 to 8: the weights were tuned on 1, the forward-backward slack and the camera's motion chosen on 1
#   to 3, and 4 to 8 are held out); a real street photograph (Debian's opencv-doc,
#   bench/real-photos.sh) animated static, pan, zoom and shake with grain and H.264 (bench/photo-clip.sh), never tuned on.
#   Ends with flow against off over the seeds (bench/smoothing-summary.py): mean change, range, seeds made worse.
# cost: the engine's frame rate, its ratio to off within each trial, the engine process's CPU time a frame (user +
#   system, start-up included) and its post-processing stage (p50) with --smooth off, flow and hysteresis, on 600
#   replayed 640x480 synthetic frames (unpaced); TRIALS=5 trials, the modes in turn within each, medians.
# profile: the share of the engine's CPU samples (perf record, 600 replayed 640x480 frames) spent in the fusion
#   (FlowFusion, Common/Motion and the grey conversion and resize they call), with --smooth flow against off: steadier
#   than frame rates on a VM whose speed swings by 10 % from run to run. Needs perf.
# RTMTL_FUSION=... (src/Inference/PostProcessing/FlowFusion.cs) tries other weights.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WHAT="${1:-all}"; FRAMES="${2:-90}"
if [[ "$WHAT" == profile ]]; then
  command -v perf >/dev/null || { echo "bench/smoothing.sh profile needs perf (apt-get install linux-perf)" >&2; exit 2; }
  WORK="$(mktemp -d /tmp/rtmtl-smoothing-XXXX)"
  export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
  for mode in off flow; do
    perf record -q -F 1999 -o "$WORK/$mode.data" dotnet "$ROOT/src/Cli/bin/Release/net10.0/rtmtl.dll" run \
      --source "synthetic:frames=600,size=640x480,cycle=30" --smooth "$mode" -q >/dev/null 2>&1
    perf report -i "$WORK/$mode.data" --no-children --sort symbol --percent-limit 0 2>/dev/null >"$WORK/$mode.txt"
  done
  python3 - "$WORK" <<'PY'
import re, sys
share = {}
for mode in ("off", "flow"):
    own = cv = 0.0
    for line in open(f"{sys.argv[1]}/{mode}.txt"):
        m = re.match(r"\s*([\d.]+)%\s+\[.\]\s+(.*)", line)
        if not m: continue
        pct, sym = float(m.group(1)), m.group(2)
        if re.search(r"RealtimeMtl\.(Common\.Motion|Inference\.PostProcessing\.FlowFusion)", sym): own += pct
        elif re.search(r"RGB2Gray|resizeAreaFast|resizeGeneric", sym): cv += pct
    share[mode] = (own, cv)
own, cv = share["flow"][0], share["flow"][1] - share["off"][1]
print(f"--smooth flow: {own:.2f} % of the engine's CPU samples in FlowFusion and Common/Motion, {cv:.2f} % more in OpenCV's grey "
      f"conversion and resizes (whole-factor area, bilinear) than with off; {own + cv:.2f} % in all (600 frames, 640x480)")
PY
  exit 0
fi
RTMTL=(dotnet "$ROOT/src/Cli/bin/Release/net10.0/rtmtl.dll")
WORK="$(mktemp -d /tmp/rtmtl-smoothing-XXXX)"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; model: models/mtl_ssw_light.onnx (256x192)"

if [[ "$WHAT" == quality || "$WHAT" == all ]]; then
  PHOTOS="$("$ROOT/bench/real-photos.sh")"
  cases=()
  for seed in ${SEEDS:-1 2 3 4 5 6 7 8}; do for motion in static walk turns; do
    cases+=("synthetic $motion, seed $seed|synthetic:world=randomised,motion=$motion,seed=$seed,frames=$FRAMES,size=320x240")
  done; done
  for motion in static pan zoom shake; do
    "$ROOT/bench/photo-clip.sh" "$PHOTOS/leuvenA.jpg" "$motion" "$WORK/street-$motion.mp4" "$FRAMES"
    cases+=("street photo, $motion|$WORK/street-$motion.mp4")
  done
  echo
  echo "| case | --smooth | flicker | along the flow | depth change | mIoU | RMSE (m) | boundary error |" | tee "$WORK/quality.md"
  echo "|---|---|---:|---:|---:|---:|---:|---:|" | tee -a "$WORK/quality.md"
  for c in "${cases[@]}"; do
    name="${c%%|*}"; src="${c#*|}"
    for mode in off hysteresis flow; do
      json="$WORK/q.json"
      "${RTMTL[@]}" eval --video "$src" --max-frames "$FRAMES" --smooth "$mode" --json "$json" >/dev/null
      python3 - "$json" "$name" "$mode" <<'PY' | tee -a "$WORK/quality.md"
import json, sys
d = json.load(open(sys.argv[1]))
pct = lambda v: "" if v is None else f"{v * 100:.2f} %"
rmse = d.get("depth_rmse")
print(f"| {sys.argv[2]} | {sys.argv[3]} | {pct(d['label_flicker'])} | {pct(d['label_flicker_along_flow'])} | {pct(d['depth_relative_change'])} "
      f"| {pct(d.get('mean_iou'))} | {'' if rmse is None else f'{rmse:.4f}'} | {pct(d.get('boundary_error'))} |")
PY
    done
  done
  echo
  echo "Flow against off over the seeds (mean change, range, seeds where it went the wrong way):"
  echo
  python3 "$ROOT/bench/smoothing-summary.py" "$WORK/quality.md"
fi

if [[ "$WHAT" == cost || "$WHAT" == all ]]; then
  TRIALS="${TRIALS:-5}"
  echo
  echo "| --smooth | frames/s (median of $TRIALS) | against off (median of the trials' ratios) | engine CPU a frame (ms, median) | post-processing p50 (ms) |"
  echo "|---|---:|---:|---:|---:|"
  for trial in $(seq "$TRIALS"); do for mode in off flow hysteresis; do
    python3 - "$WORK/cost-$mode-$trial" "${RTMTL[@]}" run --source "synthetic:frames=600,size=640x480,cycle=30" --smooth "$mode" \
      --stats-json "$WORK/cost-$mode-$trial.json" -q <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, check=True)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1] + ".cpu", "w").write(f"{u.ru_utime + u.ru_stime}\n")
PY
  done; done
  python3 - "$WORK" "$TRIALS" <<'PY'
import json, statistics, sys
w, n = sys.argv[1], int(sys.argv[2])
runs = {m: [json.load(open(f"{w}/cost-{m}-{t}.json")) for t in range(1, n + 1)] for m in ("off", "flow", "hysteresis")}
cpu = {m: [float(open(f"{w}/cost-{m}-{t}.cpu").read()) * 1000 / runs[m][t - 1]["frames"] for t in range(1, n + 1)] for m in runs}
for m in ("off", "flow", "hysteresis"):
    fps = [r["fps"] for r in runs[m]]
    ratio = statistics.median(f / o["fps"] for f, o in zip(fps, runs["off"]))
    post = statistics.median(r["stages"]["post"]["p50"] for r in runs[m])
    print(f"| {m} | {statistics.median(fps):.1f} | {ratio:.2f}x | {statistics.median(cpu[m]):.1f} | {post:.2f} |")
PY
fi
