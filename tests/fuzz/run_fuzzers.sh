#!/usr/bin/env bash
# Runs every fuzz target of a TEARLINE_FUZZ build. Usage:
#   tests/fuzz/run_fuzzers.sh BUILD_DIR [SECONDS=60] [JOBS=2]
# Writes the seeds (make_seeds) into BUILD_DIR/corpus/<target>/, then runs each
# target for SECONDS on its corpus, JOBS at a time, with artifacts in
# BUILD_DIR/artifacts/<target>/ and output in BUILD_DIR/fuzz-logs/<target>.log.
# Prints one line per target; exits 1 when any crash, leak, timeout or OOM
# artifact appears, or a target fails without leaving one.
set -euo pipefail

build=${1:?usage: run_fuzzers.sh BUILD_DIR [SECONDS] [JOBS]}
seconds=${2:-60}
jobs=${3:-2}
bin=$build/tests/fuzz
corpus=$build/corpus
artifacts=$build/artifacts
logs=$build/fuzz-logs

"$bin/make_seeds" "$corpus" >/dev/null
rm -rf "$artifacts" "$logs"
mkdir -p "$logs"

targets=()
for exe in "$bin"/fuzz_*; do
  [[ -x $exe ]] && targets+=("$(basename "$exe")")
done

run_one() {
  local t=$1 rc=0
  mkdir -p "$artifacts/$t" "$corpus/$t"
  "$bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t/" "$corpus/$t" >"$logs/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$logs/$t.rc"
}

echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  if ((++running >= jobs)); then
    wait -n || true
    ((running--))
  fi
done
wait

failed=0
for t in "${targets[@]}"; do
  log=$logs/$t.log
  stats=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$log" | tail -n 1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)\/.*/cov \1  ft \2  corpus \3/p' <<<"$stats")
  runs=$(sed -nE 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *//p' "$log")
  found=$(find "$artifacts/$t" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \))
  result=ok
  if [[ -n $found ]]; then
    result="FAILED: $(echo $found)"
    failed=1
  elif [[ $(cat "$logs/$t.rc") != 0 ]]; then
    result="FAILED: exit $(cat "$logs/$t.rc"), see $log"
    failed=1
  fi
  printf '%-22s %10s runs %8s exec/s  %-36s %s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "$result"
done
if ((failed)); then
  echo "fuzz: failures; reproduce with BUILD/tests/fuzz/<target> <artifact>, then save the input under" \
       "tests/fuzz/regressions/<target>/ (tests/fuzz/README.md)" >&2
  exit 1
fi
