#!/usr/bin/env bash
# The installed tree, as users get it (packaging/CMakeLists.txt): installs the
# build into a temporary root (`cmake --install BUILD --prefix ROOT`), checks the
# layout, runs the installed `tearline --version`, makes a PKI with the
# installed `tearline certs`, starts the installed broker on it, and does a
# publish/subscribe round with the installed `tearline`; a program built on the
# installed client library through find_package(tearline) publishes too, and
# pkg-config finds the library. The bash completion completes from --help.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR [CXX_FLAGS]
#   CXX_FLAGS: compile and link flags of the program on the library (the
#   sanitizer of a sanitizer build, whose archive needs its runtime)
set -euo pipefail

BUILD=${1:?build dir}
SRC=${2:?source dir}
CLIENT_FLAGS=${3:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-package.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
TL=$WORK/root/bin/tearline  # lib.sh's run() runs $TL
source "$(dirname "$0")/lib.sh"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ROOT=$WORK/root

echo "== cmake --install into a temporary root"
cmake --install "$BUILD" --prefix "$ROOT" >"$WORK/install.log" || { cat "$WORK/install.log"; fail "install failed"; }
LIBDIR=$(cd "$ROOT" && find . -name libtearline_client.a | head -1)
[[ -n $LIBDIR ]] || fail "no libtearline_client.a installed"
LIBDIR=$(dirname "${LIBDIR#./}")  # lib, or lib/<multiarch> under the prefix /usr
for f in bin/tearline bin/tearline-broker include/tearline/client.h include/tearline/codes.h \
  include/tearline/status.h "$LIBDIR/cmake/tearline/tearlineConfig.cmake" \
  "$LIBDIR/cmake/tearline/tearlineConfigVersion.cmake" "$LIBDIR/pkgconfig/tearline.pc" \
  lib/systemd/system/tearline-broker.service share/doc/tearline/examples/broker.toml \
  share/doc/tearline/examples/policy.toml share/doc/tearline/examples/roster.toml \
  share/doc/tearline/examples/client/publish_one.cc share/bash-completion/completions/tearline \
  share/bash-completion/completions/tearline-broker; do
  [[ -f $ROOT/$f ]] || fail "not installed: $f"
done
if command -v help2man >/dev/null; then
  for page in tearline tearline-broker; do
    grep -q "^\.TH \"\?${page^^}" "$ROOT/share/man/man1/$page.1" || fail "man page $page.1 missing or not from help2man"
  done
fi
grep -qxF 'ExecReload=/bin/kill -HUP $MAINPID' "$ROOT/lib/systemd/system/tearline-broker.service" ||
  fail "the unit has no ExecReload sending SIGHUP"

echo "== the installed tearline --version"
run 0 --version
grep -qxE 'tearline [0-9]+\.[0-9]+\.[0-9]+ \(git ([0-9a-f]{7}(-dirty)?|unknown)\)' "$WORK/out" ||
  { cat "$WORK/out"; fail "--version prints '$(cat "$WORK/out")'"; }
no_err

echo "== a PKI from the installed example roster, the installed broker"
run 0 certs demo --roster "$ROOT/share/doc/tearline/examples/roster.toml" --out "$WORK/pki"
PORT=$(free_port)
EP=tcp://127.0.0.1:$PORT
cat >"$WORK/broker.toml" <<TOML
[broker]
endpoint = "$EP"
key_file = "$WORK/pki/keys/broker.key"
directory = "$WORK/pki/directory"
policy = "$ROOT/share/doc/tearline/examples/policy.toml"
data_dir = "$WORK/data"
TOML
"$ROOT/bin/tearline-broker" --config "$WORK/broker.toml" 2>"$WORK/broker.log" &
BROKER_PID=$!
PIDS+=("$BROKER_PID")
for _ in $(seq 100); do grep -q "event=started" "$WORK/broker.log" && break; sleep 0.1; done
grep -q "event=started endpoint=$EP" "$WORK/broker.log" || { cat "$WORK/broker.log"; fail "broker did not start"; }
AS=(--pki "$WORK/pki" --broker "$EP")

echo "== publish and subscribe with the installed tearline"
timeout 30 "$TL" subscribe "${AS[@]}" --node gdf-roma-analyst --topic 'cases.>' --count 2 >"$WORK/sub.out" 2>&1 &
SUB=$!
PIDS+=("$SUB")
for _ in $(seq 100); do grep -q "^subscribed as gdf-roma-analyst " "$WORK/sub.out" && break; sleep 0.1; done
grep -q "^subscribed as gdf-roma-analyst " "$WORK/sub.out" || { cat "$WORK/sub.out"; fail "the subscriber did not subscribe"; }
run 0 publish "${AS[@]}" --node bka-wiesbaden-analyst --topic cases.seizures.gioia-tauro --classification CONFIDENTIAL \
  --rel DEU,ITA --text "from the installed tearline"
out_has '^ACCEPTED report=[0-9a-f]{32} seq=1$'

echo "== a program on the installed library (find_package(tearline))"
cmake -S "$ROOT/share/doc/tearline/examples/client" -B "$WORK/client-build" -DCMAKE_PREFIX_PATH="$ROOT" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="$CLIENT_FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$CLIENT_FLAGS" \
  >"$WORK/client.log" 2>&1 || { cat "$WORK/client.log"; fail "find_package(tearline) failed"; }
cmake --build "$WORK/client-build" >>"$WORK/client.log" 2>&1 || { cat "$WORK/client.log"; fail "building on tearline::client failed"; }
timeout 20 "$WORK/client-build/publish_one" "$EP" "$WORK/pki" gdf-napoli-ops cases.seizures.gioia-tauro DEU,ITA \
  "from the installed library" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/out" "$WORK/err"; fail "publish_one failed"; }
out_has '^ACCEPTED seq=2$'

wait "$SUB" || { cat "$WORK/sub.out"; fail "the installed subscriber exited $?"; }
grep -qxF '    | from the installed tearline' "$WORK/sub.out" || { cat "$WORK/sub.out"; fail "report 1 not received"; }
grep -qxF '    | from the installed library' "$WORK/sub.out" || { cat "$WORK/sub.out"; fail "report 2 not received"; }

echo "== pkg-config tearline"
PC=(env PKG_CONFIG_PATH="$ROOT/$LIBDIR/pkgconfig" pkg-config)
[[ $("${PC[@]}" --modversion tearline) == "$(sed -n 's/^tearline \([0-9.]*\) .*/\1/p' <<<"$("$TL" --version)")" ]] ||
  fail "pkg-config --modversion differs from --version"
include_dir=$("${PC[@]}" --cflags-only-I tearline | awk '{ print substr($1, 3) }')
[[ $(realpath -m "$include_dir") == "$(realpath "$ROOT/include")" ]] ||
  fail "pkg-config --cflags names $include_dir, not the installed include folder"
[[ $("${PC[@]}" --libs tearline) == *"-ltearline_client"* ]] || fail "pkg-config --libs lacks -ltearline_client"

echo "== bash completion from --help"
complete_words() {  # WORDS...: what completing the last word offers
  (
    PATH=$ROOT/bin:$PATH
    source "$ROOT/share/bash-completion/completions/tearline"
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _tearline
    printf '%s\n' "${COMPREPLY[@]}"
  )
}
[[ $(complete_words tearline pub) == publish ]] || fail "completing 'tearline pub': $(complete_words tearline pub)"
[[ $(complete_words tearline certs iss) == issue ]] || fail "completing 'tearline certs iss'"
[[ $(complete_words tearline publish --cla) == --classification ]] || fail "completing 'tearline publish --cla'"
kill -TERM "$BROKER_PID"
wait "$BROKER_PID" || { cat "$WORK/broker.log"; fail "the installed broker did not stop cleanly"; }
echo "package: OK"
