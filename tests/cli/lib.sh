# Shared helpers of the black-box CLI tests (sourced, not run). The caller
# sets TL (the tearline binary) and WORK (its temporary folder) first.

fail() { echo "FAIL: $*" >&2; exit 1; }

# run EXPECTED_EXIT ARGS...: runs tearline (never longer than 20 s), keeps
# stdout/stderr in $WORK/out, $WORK/err, and fails on another exit code.
run() {
  local expected=$1 rc=0
  shift
  timeout 20 "$TL" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  if [[ $rc -ne $expected ]]; then
    echo "--- stdout"; cat "$WORK/out"; echo "--- stderr"; cat "$WORK/err"
    fail "tearline $* exited $rc, expected $expected"
  fi
}
out_has() { grep -qE -- "$1" "$WORK/out" || { cat "$WORK/out"; fail "stdout lacks /$1/"; }; }
out_lacks() { ! grep -qE -- "$1" "$WORK/out" || { cat "$WORK/out"; fail "stdout has /$1/"; }; }
no_err() { [[ ! -s $WORK/err ]] || { cat "$WORK/err"; fail "unexpected stderr"; }; }
no_out() { [[ ! -s $WORK/out ]] || { cat "$WORK/out"; fail "unexpected stdout"; }; }
# One line on stderr, matching every pattern given.
one_err_line() {
  local lines
  lines=$(wc -l <"$WORK/err")
  [[ $lines -eq 1 ]] || { cat "$WORK/err"; fail "stderr has $lines lines, expected exactly 1"; }
  for pattern in "$@"; do
    grep -qE -- "$pattern" "$WORK/err" || { cat "$WORK/err"; fail "stderr lacks /$pattern/"; }
  done
}
# XORs the byte at OFFSET (negative: from the end) of FILE with 0x01.
flip_byte() {
  local file=$1 offset=$2 size byte
  size=$(stat -c %s "$file")
  ((offset < 0)) && offset=$((size + offset))
  byte=$(od -An -tu1 -j "$offset" -N1 "$file" | tr -d ' ')
  printf "\\$(printf %03o $((byte ^ 1)))" | dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}
