#!/usr/bin/env bash
# Black-box test of the `tearline` front end (client/cli/main.cc): --version,
# `help COMMAND`, a mistyped command named with its nearest match, and errors
# as one JSON object on stderr under a command's --json. Exact lines, exact
# exit codes (0 ok, 2 bad input, 3 unreachable). No broker: the unreachable
# case uses a port nothing listens on.
# Usage: frontend_cli_test.sh PATH/TO/tearline SOURCE_DIR
set -euo pipefail

TL=${1:?tearline}
SRC=${2:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-frontend.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
source "$(dirname "$0")/lib.sh"
err_is() { [[ $(cat "$WORK/err") == "$1" ]] || { cat "$WORK/err"; fail "stderr is not: $1"; }; }
# stderr is one JSON object: code (a full-match pattern), exit, message (a pattern), in this key order.
json_err_is() {
  python3 - "$WORK/err" "$1" "$2" "$3" <<'PY' || fail "stderr is not the expected JSON error"
import json, re, sys
text = open(sys.argv[1]).read()
lines = text.splitlines()
assert len(lines) == 1, "stderr has %d lines: %r" % (len(lines), text)
obj = json.loads(lines[0])
assert list(obj) == ["code", "exit", "message"], obj
assert re.fullmatch(sys.argv[2], obj["code"]) and obj["exit"] == int(sys.argv[3]), obj
assert re.search(sys.argv[4], obj["message"]), obj["message"]
PY
}

echo "== --version: the project version and the git revision"
run 0 --version
grep -qxE 'tearline [0-9]+\.[0-9]+\.[0-9]+ \(git ([0-9a-f]{7}(-dirty)?|unknown)\)' "$WORK/out" ||
  { cat "$WORK/out"; fail "--version"; }
version=$(sed -n 's/^project(tearline VERSION \([0-9.]*\) .*/\1/p' "$SRC/CMakeLists.txt")
out_has "^tearline $version "
no_err

echo "== help COMMAND is COMMAND --help; help alone is --help"
run 0 --help
cp "$WORK/out" "$WORK/root-help"
out_has '^Subcommands:'
out_has '^  help '
run 0 help
cmp -s "$WORK/out" "$WORK/root-help" || fail "tearline help differs from tearline --help"
for cmd in "publish" "subscribe" "certs" "certs issue" "audit show"; do
  # shellcheck disable=SC2086
  run 0 $cmd --help
  cp "$WORK/out" "$WORK/cmd-help"
  # shellcheck disable=SC2086
  run 0 help $cmd
  cmp -s "$WORK/out" "$WORK/cmd-help" || fail "tearline help $cmd differs from tearline $cmd --help"
  out_has "^Usage: .*${cmd##* }"
  no_err
done

echo "== a mistyped command: one line, its nearest match, exit 2"
run 2 pubish --topic intel.x
err_is "tearline: unknown command 'pubish'; did you mean 'publish'? (see tearline --help)"
no_out
run 2 subscirbe
err_is "tearline: unknown command 'subscirbe'; did you mean 'subscribe'? (see tearline --help)"
run 2 certs isue --pki "$WORK/pki"
err_is "tearline: unknown command 'certs isue'; did you mean 'certs issue'? (see tearline certs --help)"
run 2 certs charter creat
err_is "tearline: unknown command 'certs charter creat'; did you mean 'certs charter create'? (see tearline certs charter --help)"
run 2 pbulish  # two letters swapped: one edit
err_is "tearline: unknown command 'pbulish'; did you mean 'publish'? (see tearline --help)"
run 2 frobnicate
err_is "tearline: unknown command 'frobnicate' (see tearline --help)"
run 2 x  # one letter is no evidence of a typo
err_is "tearline: unknown command 'x' (see tearline --help)"
run 2 demo-nod  # one edit from the hidden demo-node, which is not suggested
err_is "tearline: unknown command 'demo-nod' (see tearline --help)"
run 2 help pubish
err_is "tearline: unknown command 'pubish'; did you mean 'publish'? (see tearline --help)"
no_out
run 2 help publish extra
one_err_line "^tearline: help: 'extra' is not a command of tearline publish"
no_out

echo "== errors under --json: one JSON object on stderr"
"$TL" certs demo --roster "$SRC/certs/roster.toml" --out "$WORK/pki" >/dev/null
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run 3 subscribe --json --pki "$WORK/pki" --node dea-cucuta-agent --broker "tcp://127.0.0.1:$PORT" --timeout 300
json_err_is UNAVAILABLE 3 "dea-cucuta-agent"
no_out
run 3 subscribe --pki "$WORK/pki" --node dea-cucuta-agent --broker "tcp://127.0.0.1:$PORT" --timeout 300
one_err_line "^tearline: .*dea-cucuta-agent"
grep -q '^{' "$WORK/err" && fail "an error without --json is printed as JSON"
# CLI11's own errors (a missing value, an unknown flag after --json): USAGE.
run 2 publish --json --topic
json_err_is USAGE 2 "--topic"
run 2 publish --json --node x --no-such-flag
json_err_is USAGE 2 "no-such-flag"
run 2 publish --node x --no-such-flag
one_err_line "^tearline: .*no-such-flag.* \(see --help\)$"
# A command's own bad input.
run 2 publish --json --node x --spec "$WORK/missing.toml"
json_err_is "USAGE|IO_ERROR" 2 "missing.toml"  # IO_ERROR once publish passes its reason on
# A message with bytes that are not UTF-8 (a file name) is still valid JSON.
run 2 publish --json --node x --spec "$WORK/"$'bad\xff\tname.toml'
json_err_is "USAGE|IO_ERROR" 2 'bad\\xff\tname\.toml'
echo "frontend: OK"
