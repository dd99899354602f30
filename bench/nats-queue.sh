#!/usr/bin/env bash
# The many-machines work queue, measured on this machine against a real nats-server:
#   - jobs per minute with 1 and 2 workers (N short clips);
#   - the queue's overhead per job: submit -> a worker starts it, submit -> first frame (idle workers), and
#     engine end -> outputs committed and acknowledged;
#   - the camera take-over gap: SIGKILL the worker holding a live camera, time until its frames resume on the bus
#     from another worker (with the default --ack-wait 10 s).
# Usage: bench/nats-queue.sh [CLIPS=12] [FRAMES=60] [SIZE=320x240]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLIPS="${1:-12}" FRAMES="${2:-60}" SIZE="${3:-320x240}"
RTMTL="$ROOT/rtmtl"
W="$(mktemp -d /tmp/rtmtl-nats-bench.XXXX)"
trap 'kill $(jobs -p) 2>/dev/null; pkill -P $$ 2>/dev/null; rm -rf "$W"' EXIT
TOKEN=bench-token-123
"$RTMTL" build >/dev/null
mkdir -p "$W/in" "$W/store"
for i in $(seq -w 1 "$CLIPS"); do
  ffmpeg -v error -f lavfi -i "testsrc=size=$SIZE:rate=30" -frames:v "$FRAMES" -pix_fmt yuv420p "$W/in/clip$i.mp4"
done
nats-server -js -sd "$W/store" -a 127.0.0.1 -p 14299 --auth $TOKEN >"$W/nats.log" 2>&1 &
sleep 1
NATS="--nats nats://127.0.0.1:14299 --token $TOKEN"

REPORT="python3 $ROOT/bench/nats-queue-report.py"

echo "| workers | jobs | wall (submit to last done) | jobs/min | frames/s | workers used | engine end -> committed (median) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for workers in 1 2; do
  q="bench$workers"
  pids=()
  for k in $(seq 1 "$workers"); do
    "$RTMTL" worker $NATS --queue "$q" --input-root "$W/in" --out-root "$W/out$workers" --name "w$k" --threads $((2 / workers)) 2>"$W/w$workers-$k.log" &
    pids+=($!)
  done
  for k in $(seq 1 "$workers"); do until grep -q 'pulling jobs' "$W/w$workers-$k.log"; do sleep 0.2; done; done
  "$RTMTL" submit $NATS --queue "$q" --input-root "$W/in" "$W/in" >/dev/null
  until "$RTMTL" jobs $NATS --queue "$q" --json | $REPORT final; do sleep 1; done
  "$RTMTL" jobs $NATS --queue "$q" --json | $REPORT row "$workers"
  kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
done

# Overhead of one job on an idle worker: submit -> started, submit -> first frame.
"$RTMTL" worker $NATS --queue idle --input-root "$W/in" --out-root "$W/out-idle" --name idle 2>"$W/idle.log" &
ipid=$!
until grep -q 'pulling jobs' "$W/idle.log"; do sleep 0.2; done
for i in 1 2 3; do
  "$RTMTL" submit $NATS --queue idle --input-root "$W/in" "$W/in/clip0$i.mp4" >/dev/null
  until "$RTMTL" jobs $NATS --queue idle --json | $REPORT final; do sleep 0.5; done
done
"$RTMTL" jobs $NATS --queue idle --json | $REPORT idle
kill -TERM $ipid; wait $ipid 2>/dev/null || true

# Camera take-over with the default ack wait.
for n in a b; do
  "$RTMTL" worker $NATS --queue cams --out-root "$W/out-cams" --name "cam-$n" 2>"$W/cam-$n.log" &
  eval "pid_$n=$!"
done
for n in a b; do until grep -q 'pulling jobs' "$W/cam-$n.log"; do sleep 0.2; done; done
(cd "$ROOT/clients/nats" && node consume.mjs --server nats://127.0.0.1:14299 --token $TOKEN --subject rtmtl.frames.yard --json) 2>/dev/null \
  | while read -r line; do echo "$(date +%s.%N)"; done >"$W/arrivals" &
"$RTMTL" submit $NATS --queue cams --source yard=synthetic:seed=2,frames=100000,size=$SIZE,fps=10 >/dev/null
sleep 5
holder=$("$RTMTL" jobs $NATS --queue cams --json | $REPORT holder)
if [ "$holder" = cam-a ]; then victim=$pid_a; else victim=$pid_b; fi
killed=$(date +%s.%N); kill -KILL "$victim"
sleep 20
python3 - "$W/arrivals" "$killed" <<'PY'
import sys
t=[float(l) for l in open(sys.argv[1])]; k=float(sys.argv[2])
before=max(x for x in t if x<=k); after=min(x for x in t if x>k+0.2)
print(f"camera take-over (ack wait 10 s): last frame before the SIGKILL -> first frame from the other worker: {after-before:.1f} s")
PY

# Bytes per frame on the bus, without and with --publish-maps (the example consumer prints each message's size).
for maps in "" "--publish-maps"; do
  for size in 160x120 320x240 640x480; do
    (cd "$ROOT/clients/nats" && node consume.mjs --server nats://127.0.0.1:14299 --token $TOKEN --subject rtmtl.frames.m --max 30 --json >"$W/bytes" 2>/dev/null) &
    cpid=$!
    sleep 1
    "$RTMTL" run --source "synthetic:frames=30,size=$size" --publish nats://127.0.0.1:14299 --nats-token $TOKEN --camera-name m $maps --quiet >/dev/null 2>&1
    wait $cpid || true
    python3 -c "import json,sys; b=sorted(json.loads(l)['bytes'] for l in open(sys.argv[1])); print(f'bus message at {sys.argv[2]}, {sys.argv[3]}: median {b[len(b)//2]} B a frame ({len(b)} frames)')" \
      "$W/bytes" "$size" "${maps:-without maps}"
  done
done
