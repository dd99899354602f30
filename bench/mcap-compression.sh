#!/usr/bin/env bash
# MCAP chunk compression, measured (docs/recording.md has the table). After ./rtmtl build:
#   bench/mcap-compression.sh [FRAMES=90]
# One camera of synthetic frames (unpaced: the rate is what the engine can do), --record-mcap with each of
# none, lz4 and zstd, at 320x240 and 640x480: bytes a frame on disk, compression time a frame (on the writer's own
# task, off the engine's path), the engine's frame rate and its mcap stage (the sink's time a frame, p50).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRAMES="${1:-90}"
RTMTL=(dotnet "$ROOT/src/Cli/bin/Release/net10.0/rtmtl.dll")
WORK="$(mktemp -d /tmp/rtmtl-mcap-bench-XXXX)"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $FRAMES frames each"
echo "| size | compression | bytes a frame | vs none | compressing, ms a frame | engine frames/s | mcap stage p50 ms |"
echo "|---|---|---:|---:|---:|---:|---:|"
for size in 320x240 640x480; do
  none=0
  for c in none lz4 zstd; do
    "${RTMTL[@]}" run --source "synthetic:frames=$FRAMES,size=$size,cycle=30" --record-mcap "$WORK/$c.mcap" --mcap-compression "$c" \
      --stats-json "$WORK/$c.json" >/dev/null 2>"$WORK/$c.log"
    bytes=$(stat -c %s "$WORK/$c.mcap")
    [ "$c" = none ] && none=$bytes
    ms=$(sed -n 's/.*, \([0-9]*\) ms compressing.*/\1/p' "$WORK/$c.log" | tail -1)
    python3 - "$WORK/$c.json" "$size" "$c" "$bytes" "$none" "${ms:-0}" "$FRAMES" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); size, c, b, none, ms, n = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
stage = s["stages"].get("mcap", {}).get("p50", float("nan"))
print(f"| {size} | {c} | {b / n / 1e6:.2f} MB | {b / none:.2f}x | {ms / n:.1f} | {s['fps']:.1f} | {stage:.1f} |")
PY
  done
done
rm -rf "$WORK"
