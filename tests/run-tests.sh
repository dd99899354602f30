#!/usr/bin/env bash
# Runs every test project (already built) and ends with one plain line: "N passed, N failed[, N skipped]".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${1:-Release}"
shift || true
RESULTS="$ROOT/.rtmtl/test-results"
rm -rf "$RESULTS"; mkdir -p "$RESULTS"
status=0
for proj in "$ROOT"/tests/*/*.csproj; do
  name="$(basename "$proj" .csproj)"
  echo "== $name"
  dotnet test "$proj" -c "$CONFIG" --no-build --nologo --logger "trx;LogFileName=$name.trx" --results-directory "$RESULTS" "$@" \
    | grep -vE '^\s*$' | grep -E 'Failed |Passed!|Failed!|error|Error Message|Assert|^\s+at RealtimeMtl' | head -200
  [ "${PIPESTATUS[0]}" -ne 0 ] && status=1
done
# The engine's tests again, on the GPU flavour of ONNX Runtime (bin-gpu/), which falls back to CPU here.
if [ -z "${RTMTL_SKIP_GPU_FLAVOUR:-}" ]; then
  echo "== RealtimeMtl.Cli.Tests (GPU flavour)"
  dotnet test "$ROOT/tests/Cli.Tests/RealtimeMtl.Cli.Tests.csproj" -c "$CONFIG" -p:RtmtlGpu=true --no-build --nologo \
    --logger "trx;LogFileName=RealtimeMtl.Cli.Tests.gpu.trx" --results-directory "$RESULTS" "$@" \
    | grep -vE '^\s*$' | grep -E 'Failed |Passed!|Failed!|error|Error Message|Assert|^\s+at RealtimeMtl' | head -200
  [ "${PIPESTATUS[0]}" -ne 0 ] && status=1
fi
passed=0; failed=0; skipped=0
for trx in "$RESULTS"/*.trx; do
  [ -f "$trx" ] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
  p=$(echo "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p'); f=$(echo "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')
  t=$(echo "$counters" | sed -n 's/.* total="\([0-9]*\)".*/\1/p'); e=$(echo "$counters" | sed -n 's/.* executed="\([0-9]*\)".*/\1/p')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then echo "no test results were produced"; status=1; fi
[ "$failed" -gt 0 ] && status=1
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
exit $status
