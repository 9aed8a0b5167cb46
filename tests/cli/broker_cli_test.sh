#!/usr/bin/env bash
# Black-box test of `tearline-broker` start-up and signals: every start-up
# error is one clear line on stderr prefixed "tearline-broker: " with exit 2
# (bad flags, bad config) or 1 (cannot start; never half-secured); one broker
# per data_dir (the store lock); SIGHUP reloads; SIGTERM stops cleanly, exit 0.
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

# expect_exit CODE PATTERN ARGS...: the broker exits CODE with one stderr
# line starting "tearline-broker: " and matching PATTERN, nothing on stdout.
expect_exit() {
  local expected=$1 pattern=$2 rc=0
  shift 2
  timeout 10 "$BROKER" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc -eq $expected ]] || { cat "$WORK/err"; fail "tearline-broker $* exited $rc, expected $expected"; }
  [[ $(wc -l <"$WORK/err") -eq 1 ]] || { cat "$WORK/err"; fail "expected exactly one line on stderr"; }
  grep -qE -- "^tearline-broker: " "$WORK/err" || { cat "$WORK/err"; fail "stderr lacks the prefix"; }
  grep -qE -- "$pattern" "$WORK/err" || { cat "$WORK/err"; fail "stderr lacks /$pattern/"; }
  [[ ! -s $WORK/out ]] || { cat "$WORK/out"; fail "unexpected stdout"; }
}
# expect_startup_error CONFIG PATTERN [CODE]: bad configuration, exit 2 unless CODE says otherwise.
expect_startup_error() { expect_exit "${3:-2}" "$2" --config "$1"; }

# The command line: --version, --help, bad flags (exit 2, never a raw parser code).
rc=0
"$BROKER" --version >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc -eq 0 && ! -s $WORK/err ]] || fail "--version exited $rc"
grep -qE '^tearline-broker [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-z-]+\)$' "$WORK/out" || { cat "$WORK/out"; fail "--version"; }
"$BROKER" --help >"$WORK/out" 2>&1 || fail "--help exited non-zero"
grep -q -- "--config" "$WORK/out" || fail "--help lacks --config"
expect_exit 2 "tearline-broker: .*--colour.* \(see --help\)$" --colour
expect_exit 2 "tearline-broker: --config is required \(see --help\)$"
expect_exit 2 "tearline-broker: .*--config.* \(see --help\)$" --config

# Missing config file.
expect_startup_error "$WORK/nope.toml" "IO_ERROR: cannot open .*nope.toml"
# Bad TOML.
echo "[broker" >"$WORK/bad.toml"
expect_startup_error "$WORK/bad.toml" "INVALID_FIELD"
# Unknown key.
write_config "$WORK/unknown.toml" "$PKI/keys/broker.key" "$PKI/directory" "$SRC/certs/policy.toml"
echo "colour = 1" >>"$WORK/unknown.toml"
expect_startup_error "$WORK/unknown.toml" "unknown key broker.colour"
# The store: an unknown backend, postgresql without its connection string,
# a connection string for SQLite.
for bad in 'store = "mysql"|storage.store must be "sqlite"' \
  'store = "postgresql"|storage.conninfo is required with store = "postgresql"' \
  'conninfo = "dbname=x"|storage.conninfo is only for store = "postgresql"'; do
  write_config "$WORK/store.toml" "$PKI/keys/broker.key" "$PKI/directory" "$SRC/certs/policy.toml"
  printf '[storage]\n%s\n' "${bad%%|*}" >>"$WORK/store.toml"
  expect_startup_error "$WORK/store.toml" "INVALID_FIELD: .*${bad#*|}"
done
# [[peer]]: what it takes, each problem named.
for bad in 'endpoint = "tcp://127.0.0.1:1"|peer.broker is required' \
  'broker = "dea-broker"\nendpoint = "http://x"|peer.endpoint must be tcp://HOST:PORT or ipc://PATH' \
  'broker = "dea-broker"\nendpoint = "tcp://127.0.0.1:1"\ncheckpoints = "yes"|peer.checkpoints' \
  'broker = "dea-broker"\nendpoint = "tcp://127.0.0.1:1"\nkeys = 1|unknown key peer.keys'; do
  write_config "$WORK/peer.toml" "$PKI/keys/broker.key" "$PKI/directory" "$SRC/certs/policy.toml"
  printf "[[peer]]\n${bad%%|*}\n" >>"$WORK/peer.toml"
  expect_startup_error "$WORK/peer.toml" "INVALID_FIELD: .*${bad#*|}"
done
# Broker key readable by others.
cp "$PKI/keys/broker.key" "$WORK/open.key"
chmod 0644 "$WORK/open.key"
write_config "$WORK/perm.toml" "$WORK/open.key" "$PKI/directory" "$SRC/certs/policy.toml"
expect_startup_error "$WORK/perm.toml" "cannot start: KEY_FILE: .*mode 0644" 1
# Empty trust store.
mkdir -p "$WORK/emptydir"
cp -r "$PKI/directory/." "$WORK/emptydir/"
echo "# nothing pinned" >"$WORK/emptydir/trust.toml"
write_config "$WORK/empty.toml" "$PKI/keys/broker.key" "$WORK/emptydir" "$SRC/certs/policy.toml"
expect_startup_error "$WORK/empty.toml" "cannot start: EMPTY_TRUST_STORE" 1
# Missing policy file.
write_config "$WORK/nopolicy.toml" "$PKI/keys/broker.key" "$PKI/directory" "$WORK/missing-policy.toml"
expect_startup_error "$WORK/nopolicy.toml" "cannot start: IO_ERROR" 1
# None of the failed starts made or touched the data_dir.
[[ ! -e $WORK/data ]] || { ls -la "$WORK/data"; fail "a start that failed created its data_dir"; }

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

# The store lock: a second broker on the same data_dir (another port) is
# refused, naming the first one's PID; the first still accepts a publish.
EP=$(sed -n 's/.*event=started endpoint=\([^ ]*\).*/\1/p' "$WORK/log")
[[ $(cat "$WORK/data/tearline.lock") == "$PID" ]] || fail "tearline.lock does not hold the broker's PID"
expect_startup_error "$WORK/good.toml" \
  "cannot start: IO_ERROR: data_dir $WORK/data is in use by another broker \(PID $PID\); stop it or choose another data_dir$" 1
timeout 20 "$TL" publish --pki "$PKI" --broker "$EP" --node fgr-liaison --topic intel.liaison.lock \
  --classification UNCLASSIFIED --text "after a refused second broker" >"$WORK/out" 2>"$WORK/err" ||
  { cat "$WORK/err"; fail "the first broker refused a publish after a second one was refused"; }
grep -qi "accepted" "$WORK/out" "$WORK/err" || { cat "$WORK/out" "$WORK/err"; fail "publish not accepted"; }

# A start that fails on the endpoint (port in use by the first broker)
# creates no store: its data_dir stays empty.
mkdir "$WORK/data2"
sed -e "s|tcp://127.0.0.1:\*|$EP|" -e "s|$WORK/data\"|$WORK/data2\"|" "$WORK/good.toml" >"$WORK/busy.toml"
expect_startup_error "$WORK/busy.toml" "cannot start: IO_ERROR: cannot listen on $EP" 1
[[ -z $(ls -A "$WORK/data2") ]] || { ls -la "$WORK/data2"; fail "a start that failed touched its data_dir"; }
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
[[ $rc -eq 0 ]] || { cat "$WORK/log"; fail "broker exited $rc on SIGTERM"; }
grep -q "event=stopping" "$WORK/log" || fail "no clean stop logged"
echo "broker_cli: all checks passed"
