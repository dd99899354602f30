#!/usr/bin/env bash
# Stress for the suite's one native crash (a use after free in libtorch_cpu.so in the Training.Tests host): runs the
# test classes that use LibTorch in the test host, plus the paper-sized export that ran beside them, ROUNDS times,
# JOBS test hosts at once, with oneDNN capped as on a VM without CPU cache information. Prints one line per round and
# ends with "N passed, N failed" (a round fails when its host crashes or a test fails).
#   tests/stress/libtorch-in-process.sh [ROUNDS=50] [JOBS=2]      (after ./rtmtl build)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS="${1:-50}"; JOBS="${2:-2}"
LOGS="$(mktemp -d /tmp/rtmtl-stress-XXXX)"
FILTER="FullyQualifiedName~PretrainedBackboneTests|FullyQualifiedName~OnnxParityTests|FullyQualifiedName~TrainingSmokeTests"
FILTER="$FILTER|FullyQualifiedName~Fp16_of_an_untrained_paper_sized_model"
export RTMTL_ONEDNN="${RTMTL_ONEDNN:-SSE41}" TORCH_CPP_LOG_LEVEL=ERROR
round() {
  local i="$1" log="$LOGS/round-$1.log"
  if dotnet test "$ROOT/tests/Training.Tests/RealtimeMtl.Training.Tests.csproj" -c Release --no-build --nologo \
      --filter "$FILTER" >"$log" 2>&1 && ! grep -qE 'Test host process crashed|Test Run Aborted' "$log"; then
    echo "round $i: passed ($(grep -oE 'Passed: +[0-9]+' "$log" | head -1))"
  else
    echo "round $i: FAILED (log $log)"; grep -E 'crashed|Failed |Error Message' "$log" | head -5
  fi
}
export -f round; export ROOT LOGS FILTER
seq 1 "$ROUNDS" | xargs -P "$JOBS" -I{} bash -c 'round {}' | tee "$LOGS/summary.txt"
passed=$(grep -c ': passed' "$LOGS/summary.txt"); failed=$(grep -c ': FAILED' "$LOGS/summary.txt")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
