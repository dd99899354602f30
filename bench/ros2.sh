#!/usr/bin/env bash
# ROS 2 over DDS, measured (docs/robots.md has the figures). After ./rtmtl build, with cyclonedds-dev, cyclonedds-tools (idlc) and gcc:
#   bench/ros2.sh [TRIALS=3]      SIZES="640x480" bench/ros2.sh 3 runs one size; FRAMES=600 runs longer (default 120);
#                                 PROFILE=1 adds where the robot case's CPU goes (perf); PIN=1 runs the engine on
#                                 core 0 and the subscriber on core 1 (taskset), as on a robot whose planner has cores
#                                 of its own: the ratio is then the publishing's cost to the engine alone
# 1. Publish cost: the engine's frame rate on replayed synthetic frames (unpaced, so the rate is what the engine can
#    do) without --ros2; with --ros2 and no subscriber; with a subscriber to depth, labels and camera_info (what a
#    planner reads); with a subscriber to every topic (image and overlay too: the picture is then drawn), at 320x240,
#    640x480 and 1280x720; trials in turn, the median of each. The subscriber peer runs on the same 2 cores.
#    Also the bytes of one message per topic (the engine's own count).
# 2. Latency: a camera peer publishes 640x480 at 30 FPS stamped with the wall clock; the engine reads it
#    (--source ros2:...) and publishes; a subscriber peer takes the depth message: receipt minus stamp, p50 and p99,
#    beside the engine's own model time.
# Everything stays on loopback (CYCLONEDDS_URI below) on a domain of its own.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRIALS="${1:-3}"
RTMTL=(dotnet "$ROOT/src/Cli/bin/Release/net10.0/rtmtl.dll")
PEER=()
if [ -n "${PIN:-}" ]; then RTMTL=(taskset -c 0 "${RTMTL[@]}"); PEER=(taskset -c 1); fi
export CYCLONEDDS_URI='<CycloneDDS><Domain><General><Interfaces><NetworkInterface address="127.0.0.1"/></Interfaces><AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex><Peers><Peer address="127.0.0.1"/></Peers></Discovery></Domain></CycloneDDS>'
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-77}"
WORK="$(mktemp -d /tmp/rtmtl-ros2-bench-XXXX)"
cp "$ROOT"/tests/clients/dds/* "$WORK/"
(cd "$WORK" && idlc ros2_types.idl 2>/dev/null && gcc -O2 -o peer_sub peer_sub.c ros2_types.c -lddsc && gcc -O2 -o peer_pub peer_pub.c ros2_types.c -lddsc)
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== publish cost (frames/s of the engine, and the engine process's own CPU time a frame (user + system), median of $TRIALS trials; CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores${PIN:+; the engine on core 0, the subscriber on core 1})"
echo "| size | without --ros2 | --ros2, no subscriber | --ros2, depth + labels + camera_info read | --ros2, every topic read (draws the overlay) | one message per topic |"
echo "|---|---:|---:|---:|---:|---|"
run() { # run NAME SIZE [engine options...]: one trial; its frames/s to $WORK/NAME, the engine's CPU ms a frame to $WORK/NAME.cpu
  local name="$1" size="$2"; shift 2
  python3 - "$WORK/$name" "${RTMTL[@]}" run --source "synthetic:frames=${FRAMES:-120},size=$size,cycle=30" --stats-json "$WORK/$name.json" "$@" <<'PY'
import json, resource, subprocess, sys
out, cmd = sys.argv[1], sys.argv[2:]
with open(out + ".log", "w") as log:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=log, check=False)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
s = json.load(open(out + ".json"))
open(out, "a").write(f"{s['fps']}\n")
open(out + ".cpu", "a").write(f"{(u.ru_utime + u.ru_stime) * 1000 / s['frames']}\n")
PY
}
with_sub() { # with_sub TOPICS... -- run args: a subscriber peer on the topics while the engine runs
  local topics=(); while [ "$1" != "--" ]; do topics+=("$1"); shift; done; shift
  "${PEER[@]}" "$WORK/peer_sub" 300 0 "${topics[@]}" >/dev/null 2>&1 & local sub=$!
  sleep 1
  run "$@"
  kill "$sub" 2>/dev/null || true; wait "$sub" 2>/dev/null || true
}
for size in ${SIZES:-320x240 640x480 1280x720}; do
  for w in off none robot all; do : >"$WORK/$w"; : >"$WORK/$w.cpu"; done
  for t in $(seq "$TRIALS"); do
    run off "$size"
    run none "$size" --ros2
    with_sub /rtmtl/depth=image:be /rtmtl/labels=image:be /rtmtl/camera_info=info:be -- robot "$size" --ros2
    with_sub /rtmtl/image=image:be /rtmtl/overlay=image:be /rtmtl/labels=image:be /rtmtl/depth=image:be /rtmtl/camera_info=info:be -- all "$size" --ros2
  done
  off=$(median <"$WORK/off"); none=$(median <"$WORK/none"); robot=$(median <"$WORK/robot"); all=$(median <"$WORK/all")
  coff=$(median <"$WORK/off.cpu"); cnone=$(median <"$WORK/none.cpu"); crobot=$(median <"$WORK/robot.cpu"); call=$(median <"$WORK/all.cpu")
  ratio() { python3 -c "print(f'{$1:.1f} ({$1/$off:.2f}x); CPU {$2:.1f} ms ({$2/$coff:.2f}x)')"; }
  wire=$(sed -n 's/.*; a message on //p' "$WORK/all.log" | tail -1 | sed 's#/rtmtl/##g')
  echo "| $size | $(python3 -c "print(f'{$off:.1f}; CPU {$coff:.1f} ms')") | $(ratio "$none" "$cnone") | $(ratio "$robot" "$crobot") | $(ratio "$all" "$call") | $wire |"
done
if [ -n "${PROFILE:-}" ] && command -v perf >/dev/null; then
  # Where the robot case's time goes: perf on the engine alone (600 frames at 640x480, the depth + labels + camera_info
  # subscriber running), the engine's ROS 2 code and Cyclone against everything else.
  echo
  echo "== profile, 640x480, depth + labels + camera_info read: the engine's CPU samples (perf record, 600 frames)"
  "$WORK/peer_sub" 300 0 /rtmtl/depth=image:be /rtmtl/labels=image:be /rtmtl/camera_info=info:be >/dev/null 2>&1 & sub=$!
  sleep 1
  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -q -F 1999 -o "$WORK/perf.data" "${RTMTL[@]}" run \
    --source "synthetic:frames=600,size=640x480,cycle=30" --ros2 -q >/dev/null 2>&1
  kill "$sub" 2>/dev/null || true; wait "$sub" 2>/dev/null || true
  perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --percent-limit 0 2>/dev/null | python3 -c '
import re, sys
ros = dds = kernel = 0.0
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+(.+?)\s+\[.\]\s+(.*)", line)
    if not m: continue
    pct, dso, sym = float(m.group(1)), m.group(2), m.group(3)
    if "libddsc" in dso or "rtmtl_dds" in dso: dds += pct
    elif re.search(r"RealtimeMtl\.Ros2|RosFrameMessages|CdrWriter|RealtimeMtl\.Common\.Ros", sym): ros += pct
    elif dso.startswith("[kernel"): kernel += pct
print(f"ROS 2 message building and publishing (managed) {ros:.2f} %, Cyclone DDS and the shim {dds:.2f} %, the kernel {kernel:.2f} % "
      "(all of its work: scheduling, memory, the UDP sends)")'
fi
echo
echo "== latency, 640x480 at 30 FPS: camera publish -> engine -> depth message received (loopback)"
python3 - "$WORK" <<'PY'
import random, sys
w, h, n = 640, 480, 4
rng = random.Random(1)
with open(sys.argv[1] + "/f640.bgr", "wb") as f:
    for i in range(n):
        row = bytearray()
        for y in range(h):
            for x in range(w):
                row += bytes(((x + 7 * i) % 256, (2 * y) % 256, rng.randrange(60)))
        f.write(row)
PY
"$WORK/peer_sub" 60 300 /rtmtl/depth=image:be >"$WORK/lat.txt" 2>&1 & sub=$!
sleep 1
"${RTMTL[@]}" run --source ros2:/cam/image_raw,giveup=3 --ros2 --stats-json "$WORK/lat.json" >/dev/null 2>"$WORK/lat.log" & eng=$!
STAMP_NOW=1 "$WORK/peer_pub" /cam "$WORK/f640.bgr" 640 480 300 30 >/dev/null
wait "$eng" || true; kill "$sub" 2>/dev/null || true; wait "$sub" 2>/dev/null || true
python3 - "$WORK" <<'PY'
import json, sys
d = sys.argv[1]
rows = [l.split() for l in open(d + "/lat.txt")]
lat = sorted((int(f[-1]) - (int(f[2]) * 10**9 + int(f[3]))) / 1e6 for f in rows if len(f) >= 10 and f[0] == "image")
s = json.load(open(d + "/lat.json"))
model = s["stages"].get("model", {}).get("p50", float("nan"))
infer = s["stages"].get("infer", {}).get("p50", float("nan"))
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
print(f"{len(lat)} of 300 depth messages received, {s['frames']} frames processed, {s['dropped_at_source']} dropped at the source")
print(f"camera publish -> depth received: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms; of it the model p50 {model:.1f} ms (infer stage {infer:.1f} ms)")
PY
rm -rf "$WORK"
