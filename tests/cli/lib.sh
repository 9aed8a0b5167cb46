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

# start_metrics_broker [TOML_LINE...]: a demo PKI in $WORK/pki and a broker
# on it (policy $SRC/certs/policy.toml, store in $WORK/data, log in
# $WORK/log) with metrics_listen on a free loopback port and the [broker]
# lines given; sets BROKER_PID, ENDPOINT and HTTP (the metrics address).
# Needs TL, BROKER, SRC and WORK.
start_metrics_broker() {
  "$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
  {
    cat <<TOML
[broker]
endpoint = "tcp://127.0.0.1:*"
key_file = "$WORK/pki/keys/broker.key"
directory = "$WORK/pki/directory"
policy = "$SRC/certs/policy.toml"
data_dir = "$WORK/data"
metrics_listen = "127.0.0.1:0"
TOML
    if [[ $# -gt 0 ]]; then printf '%s\n' "$@"; fi
  } >"$WORK/broker.toml"
  "$BROKER" --config "$WORK/broker.toml" 2>"$WORK/log" &
  BROKER_PID=$!
  for _ in $(seq 300); do grep -q "event=metrics_listening" "$WORK/log" && break; sleep 0.1; done
  ENDPOINT=$(sed -n 's/.*event=started endpoint=\(tcp:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$WORK/log" | head -1)
  HTTP=$(sed -n 's/.*event=metrics_listening address=\(127\.0\.0\.1:[0-9]*\).*/\1/p' "$WORK/log" | head -1)
  [[ -n $ENDPOINT && -n $HTTP ]] || { cat "$WORK/log"; fail "the broker did not log its endpoint and metrics address"; }
}
