#!/usr/bin/env bash
# Runs every test project (already built) and ends with one plain line: "N passed, N failed[, N skipped]".
# A test host that dies (a native crash, say) cannot hide: the runner names the project and the test that was
# running, counts the tests that never ran, and the last line says so, e.g.
#   "290 passed, 0 failed, 42 not run (test host crashed in RealtimeMtl.Training.Tests)"; the exit code is then 1.
# RTMTL_TEST_PROJECTS (paths of .csproj files) and RTMTL_TEST_RESULTS (a folder) override what runs and where results go.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${1:-Release}"
shift || true
# LibTorch in the training tests' host is as quiet as rtmtl-train (NNPACK's per-thread "Unsupported hardware" lines).
export TORCH_CPP_LOG_LEVEL="${TORCH_CPP_LOG_LEVEL:-ERROR}"
RESULTS="${RTMTL_TEST_RESULTS:-$ROOT/.rtmtl/test-results}"
rm -rf "$RESULTS"; mkdir -p "$RESULTS"
status=0
passed=0; failed=0; skipped=0; notrun=0; crashed=(); retried=()

counter() { echo "$1" | sed -n "s/.* $2=\"\([0-9]*\)\".*/\1/p"; }

# run_project NAME CSPROJ [dotnet test args...]
run_project() {
  local name="$1" proj="$2"; shift 2
  local log="$RESULTS/$name.log" trace="$RESULTS/$name.trace" trx="$RESULTS/$name.trx"
  : >"$trace"
  echo "== $name"
  RTMTL_TEST_TRACE="$trace" dotnet test "$proj" -c "$CONFIG" --no-build --nologo --logger "trx;LogFileName=$name.trx" \
    --results-directory "$RESULTS" "$@" >"$log" 2>&1
  local rc=$?
  grep -vE '^\s*$' "$log" | grep -E 'Failed |Passed!|Failed!|error|Error Message|Assert|^\s+at RealtimeMtl|aborted|crashed' | head -200
  local c p=0 f=0 t=0 e=0
  if [ -f "$trx" ]; then
    c="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
    p=$(counter "$c" passed); f=$(counter "$c" failed); t=$(counter "$c" total); e=$(counter "$c" executed)
  fi
  p=${p:-0}; f=${f:-0}; t=${t:-0}; e=${e:-0}
  if grep -qE 'Test host process crashed|The active test run was aborted|Test Run Aborted' "$log"; then
    # Results still buffered in the dead host are lost; the trace says what finished and what was running.
    local ended listed running
    ended=$(grep -c '^end ' "$trace")
    running=$(awk '$1=="start"{s[$2]++} $1=="end"{s[$2]--} END{for(k in s) if(s[k]>0) print k}' "$trace" | paste -sd, -)
    listed=$(dotnet test "$proj" -c "$CONFIG" --no-build --nologo --list-tests "$@" 2>/dev/null \
      | sed -n '/The following Tests are available:/,$p' | grep -c '^    ')
    [ "$ended" -gt $((p + f)) ] && p=$((ended - f))
    local missing=$((listed - p - f)); [ "$missing" -lt 0 ] && missing=0
    echo "!! the test host of $name crashed${running:+ while running $running}; $missing of its $listed tests never ran"
    # A test host that dies in native code (LibTorch's rare use-after-free, issue 36) runs once more, said here and in
    # the summary; a second crash counts. A failed test is never run again. RTMTL_TEST_RETRY_CRASH=0 turns this off.
    if [ -z "${RTMTL_RETRYING:-}" ] && [ "${RTMTL_TEST_RETRY_CRASH:-1}" = "1" ]; then
      dmesg 2>/dev/null | grep -E 'segfault|trap' | tail -3 | sed 's/^/   kernel: /'
      echo "!! running $name once more (a crashed host, not a failed test)"
      retried+=("$name${running:+ (while running $running)}")
      RTMTL_RETRYING=1 run_project "$name" "$proj" "$@"
      return
    fi
    notrun=$((notrun + missing)); crashed+=("$name"); status=1; t=$((p + f)); e=$t
  fi
  [ "$rc" -ne 0 ] && status=1
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + t - e))
}

# The house style (.editorconfig): everything dotnet format checks (whitespace, style, import order), and no line of
# C# in src/, tests/ or bench/ over 150 columns. Counted as one check in the summary; `dotnet format RealtimeMtl.sln`
# fixes what the first lists.
if [ -z "${RTMTL_TEST_PROJECTS:-}" ]; then
  echo "== style (dotnet format --verify-no-changes; lines of at most 150 columns)"
  long="$(cd "$ROOT" && find src tests bench -name '*.cs' -not -path '*/obj/*' -not -path '*/obj-*/*' -not -path '*/bin/*' -not -path '*/bin-*/*' -print0 \
    | xargs -0 awk 'length > 150 { print FILENAME ":" FNR ": " length " columns" }')"
  if style_log="$(dotnet format "$ROOT/RealtimeMtl.sln" --verify-no-changes -v q 2>&1)" && [ -z "$long" ]; then
    passed=$((passed + 1))
  else
    echo "$style_log" | grep -E 'error' | sed "s#$ROOT/##" | head -20
    [ -n "$long" ] && echo "$long" | head -20 && echo "  lines over 150 columns: $(echo "$long" | wc -l) (.editorconfig's max_line_length)"
    echo "  Failed style: run 'dotnet format RealtimeMtl.sln', wrap the long lines, and commit the result"
    failed=$((failed + 1)); status=1
  fi
fi

if [ -n "${RTMTL_TEST_PROJECTS:-}" ]; then projects=($RTMTL_TEST_PROJECTS); else projects=("$ROOT"/tests/*/*.Tests.csproj); fi
for proj in "${projects[@]}"; do
  run_project "$(basename "$proj" .csproj)" "$proj" "$@"
done
# The engine's tests that touch execution providers, the model and the recorder's encoder choice (trait Flavour=gpu),
# again on the GPU flavour of ONNX Runtime (bin-gpu/), which falls back to CPU here: the flavour cannot rot, and the
# rest of Cli.Tests (the same code either way) does not run twice.
if [ -z "${RTMTL_SKIP_GPU_FLAVOUR:-}" ] && [ -z "${RTMTL_TEST_PROJECTS:-}" ]; then
  run_project "RealtimeMtl.Cli.Tests.gpu" "$ROOT/tests/Cli.Tests/RealtimeMtl.Cli.Tests.csproj" -p:RtmtlGpu=true --filter "Flavour=gpu" "$@"
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$notrun" -eq 0 ]; then echo "no test results were produced"; status=1; fi
[ "$failed" -gt 0 ] && status=1
for r in "${retried[@]}"; do echo "note: the test host of $r crashed once and its tests were run again"; done
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
if [ "${#crashed[@]}" -gt 0 ]; then
  line="$line, $notrun not run (test host crashed in $(IFS=,; echo "${crashed[*]}" | sed 's/,/, /g'))"; status=1
fi
echo "$line"
exit $status
