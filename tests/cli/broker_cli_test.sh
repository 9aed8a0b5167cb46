#!/usr/bin/env bash
# Black-box test of `tearline-broker` start-up and signals: every start-up
# error is one clear line on stderr and a non-zero exit (never half-secured);
# SIGHUP reloads; SIGTERM stops cleanly with exit 0.
# Usage: broker_cli_test.sh PATH/TO/tearline-broker PATH/TO/tearline SOURCE_DIR
set -euo pipefail

BROKER=${1:?tearline-broker}
TL=${2:?tearline}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-broker-cli.XXXXXX")
PID=
cleanup() { [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PKI=$WORK/pki

write_config() {  # write_config FILE KEY DIRECTORY POLICY
  cat >"$1" <<TOML
[broker]
endpoint = "tcp://127.0.0.1:0"
key_file = "$2"
directory = "$3"
policy = "$4"
data_dir = "$WORK/data"
TOML
}

# expect_startup_error CONFIG PATTERN: exits non-zero with one stderr line matching PATTERN.
expect_startup_error() {
  local rc=0
  timeout 10 "$BROKER" --config "$1" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc -ne 0 && $rc -ne 124 ]] || fail "broker with $1 exited $rc, expected a start-up error"
  [[ $(wc -l <"$WORK/err") -eq 1 ]] || { cat "$WORK/err"; fail "expected exactly one line on stderr"; }
  grep -qE -- "$2" "$WORK/err" || { cat "$WORK/err"; fail "stderr lacks /$2/"; }
}

# Missing config file.
expect_startup_error "$WORK/nope.toml" "IO_ERROR: cannot open .*nope.toml"
# Bad TOML.
echo "[broker" >"$WORK/bad.toml"
expect_startup_error "$WORK/bad.toml" "INVALID_FIELD"
# Unknown key.
write_config "$WORK/unknown.toml" "$PKI/keys/broker.key" "$PKI/directory" "$SRC/certs/policy.toml"
echo "colour = 1" >>"$WORK/unknown.toml"
expect_startup_error "$WORK/unknown.toml" "unknown key broker.colour"
# Broker key readable by others.
cp "$PKI/keys/broker.key" "$WORK/open.key"
chmod 0644 "$WORK/open.key"
write_config "$WORK/perm.toml" "$WORK/open.key" "$PKI/directory" "$SRC/certs/policy.toml"
expect_startup_error "$WORK/perm.toml" "KEY_FILE: .*mode 0644"
# Empty trust store.
mkdir -p "$WORK/emptydir"
cp -r "$PKI/directory/." "$WORK/emptydir/"
echo "# nothing pinned" >"$WORK/emptydir/trust.toml"
write_config "$WORK/empty.toml" "$PKI/keys/broker.key" "$WORK/emptydir" "$SRC/certs/policy.toml"
expect_startup_error "$WORK/empty.toml" "EMPTY_TRUST_STORE"
# Missing policy file.
write_config "$WORK/nopolicy.toml" "$PKI/keys/broker.key" "$PKI/directory" "$WORK/missing-policy.toml"
expect_startup_error "$WORK/nopolicy.toml" "IO_ERROR"

# A good broker: starts, reloads on SIGHUP, stops cleanly on SIGTERM.
write_config "$WORK/good.toml" "$PKI/keys/broker.key" "$PKI/directory" "$SRC/certs/policy.toml"
sed -i 's|tcp://127.0.0.1:0|tcp://127.0.0.1:*|' "$WORK/good.toml"
"$BROKER" --config "$WORK/good.toml" 2>"$WORK/log" &
PID=$!
for _ in $(seq 50); do grep -q "event=started" "$WORK/log" && break; sleep 0.1; done
grep -q "event=started" "$WORK/log" || { cat "$WORK/log"; fail "broker did not start"; }
kill -HUP "$PID"
for _ in $(seq 50); do grep -q "event=reloaded" "$WORK/log" && break; sleep 0.1; done
grep -q 'event=reloaded why="SIGHUP"' "$WORK/log" || { cat "$WORK/log"; fail "no reload on SIGHUP"; }
# A reload that fails keeps the last good state.
cp "$PKI/directory/trust.toml" "$WORK/trust.bak"
echo "# nothing pinned" >"$PKI/directory/trust.toml"
kill -HUP "$PID"
for _ in $(seq 50); do grep -q "event=reload_failed" "$WORK/log" && break; sleep 0.1; done
grep -q "event=reload_failed.*EMPTY_TRUST_STORE.*keeping the last good state" "$WORK/log" || { cat "$WORK/log"; fail "failed reload not reported"; }
kill -0 "$PID" || fail "broker died after a failed reload"
cp "$WORK/trust.bak" "$PKI/directory/trust.toml"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
[[ $rc -eq 0 ]] || { cat "$WORK/log"; fail "broker exited $rc on SIGTERM"; }
grep -q "event=stopping" "$WORK/log" || fail "no clean stop logged"
echo "broker_cli: all checks passed"
