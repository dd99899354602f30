#!/usr/bin/env bash
# What capping LibTorch's oneDNN costs in training speed: `rtmtl train` steps per second with oneDNN uncapped
# (RTMTL_ONEDNN=native), capped at AVX2, and capped at SSE4.1 (what rtmtl-train applies where oneDNN is unsafe),
# alternated over ROUNDS rounds on one machine; prints each rate and the ratios to uncapped.
#   bench/onednn-cost.sh [ROUNDS=2] [SAMPLES=96] [BATCH=8] [SIZE=light]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${1:-2}"; SAMPLES="${2:-96}"; BATCH="${3:-8}"; SIZE="${4:-light}"
TRAIN="${RTMTL_TRAIN:-$ROOT/src/Training/bin/Release/net10.0/rtmtl-train.dll}"
[ -f "$TRAIN" ] || { echo "build first: ./rtmtl build" >&2; exit 2; }
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
declare -A total
for r in $(seq "$ROUNDS"); do
  for mode in native avx2 sse41; do
    RTMTL_ONEDNN=$mode dotnet "$TRAIN" train --size "$SIZE" --epochs 1 --train-samples "$SAMPLES" --limit "$SAMPLES" --val-samples 4 \
      --batch "$BATCH" --seed 1 -q --pretrained none --out "$WORK/$mode-$r" >/dev/null 2>"$WORK/$mode-$r.err" || { cat "$WORK/$mode-$r.err" >&2; exit 1; }
    secs=$(grep '"type":"epoch"' "$WORK/$mode-$r/log.jsonl" | sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p')
    rate=$(python3 -c "print(f'{($SAMPLES // $BATCH) / $secs:.3f}')")
    echo "round $r  RTMTL_ONEDNN=$mode  $((SAMPLES / BATCH)) steps in ${secs} s  = $rate steps/s"
    total[$mode]=$(python3 -c "print(${total[$mode]:-0} + $rate)")
  done
done
for mode in avx2 sse41; do
  python3 -c "print(f'$mode / native = {${total[$mode]} / ${total[native]}:.3f}')"
done
