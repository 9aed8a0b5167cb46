#!/usr/bin/env bash
# Follows docs/quickstart.md as written, so the page cannot drift from what
# works: its fenced blocks, in order, in an empty temporary folder with the
# built binaries first on PATH (the convention is stated at the end of the page):
#   ```sh                   run in one shell (set -euo pipefail), in order
#   ```sh skip              not run (the PATH setup, which this script does)
#   ```sh terminal=NAME     run in the background, output in NAME.log; then
#                           wait for `event=started` (a broker) or for
#                           `subscribed as ID` (a subscriber, on its stderr)
#   ```text [from=NAME]     every line must be a whole line of the output of
#                           the main shell (or of terminal NAME); "..." in a
#                           line stands for any text
# The port 7911 is replaced by a free one. The roster and the policy written by
# the page must be packaging/examples' (installed as the examples).
# Usage: quickstart_test.sh TEARLINE_DIR BROKER_DIR SOURCE_DIR
set -euo pipefail

TL_DIR=${1:?directory of tearline}
BROKER_DIR=${2:?directory of tearline-broker}
SRC=${3:?source dir}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tearline-quickstart.XXXXXX")
# Each terminal is a session of its own (setsid): its pid is its process
# group, which cleanup ends with everything in it.
cleanup() {
  if [[ -f $WORK/terminals ]]; then
    while read -r _ pid; do kill -9 -- "-$pid" 2>/dev/null || true; done <"$WORK/terminals"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The page, split into steps: WORK/steps/NNN.KIND[.NAME] (KIND sh, bg, text).
mkdir -p "$WORK/steps" "$WORK/run"
sed "s/7911/$PORT/g" "$SRC/docs/quickstart.md" | python3 -c '
import os, re, sys
steps, n, block, info = sys.argv[1], 0, None, None
for line in sys.stdin:
    if block is None:
        m = re.match(r"^```(\w+)(.*)$", line.rstrip("\n"))
        if m:
            block, info = [], (m.group(1), m.group(2).split())
        continue
    if line.rstrip("\n") == "```":
        lang, words = info
        attrs = dict(w.split("=", 1) for w in words if "=" in w)
        kind = None
        if lang == "sh" and "skip" not in words:
            kind = "bg." + attrs["terminal"] if "terminal" in attrs else "sh"
        elif lang == "text":
            kind = "text." + attrs.get("from", "main")
        if kind:
            n += 1
            with open(os.path.join(steps, "%03d.%s" % (n, kind)), "w") as f:
                f.write("".join(block))
        block = None
        continue
    block.append(line)
' "$WORK/steps"
[[ $(ls "$WORK/steps" | grep -c '\.sh$') -ge 5 ]] || fail "docs/quickstart.md: too few sh blocks"

# The driver: the sh blocks in one shell, terminals started by helpers.
{
  echo 'set -euo pipefail'
  echo "export PATH=\"$TL_DIR:$BROKER_DIR:\$PATH\""
  cat <<'HELPERS'
LOGS=$1
wait_for() {  # FILE TEXT PID: until FILE has TEXT (10 s), failing when PID ended
  for _ in $(seq 100); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { cat "$1" >&2; echo "FAIL: a terminal ended before '$2'" >&2; exit 1; }
    sleep 0.1
  done
  cat "$1" >&2; echo "FAIL: no '$2' in $1" >&2; exit 1
}
terminal() {  # NAME COMMANDS: NAME.log, and NAME.rc (its exit code) once it ends
  printf '%s\n' 'set -euo pipefail' "$2" >"$LOGS/$1.sh"
  setsid bash -c 'bash "$0" >"$1" 2>&1; echo $? >"$2"' "$LOGS/$1.sh" "$LOGS/$1.log" "$LOGS/$1.rc" &
  local pid=$!
  echo "$1 $pid" >>"$LOGS/terminals"
  if [[ $2 == *tearline-broker* ]]; then
    echo "$1" >"$LOGS/broker-terminal"
    wait_for "$LOGS/$1.log" "event=started" "$pid"
  elif [[ $2 =~ tearline\ subscribe.*--node\ ([a-z0-9_-]+) ]]; then
    wait_for "$LOGS/$1.log" "subscribed as ${BASH_REMATCH[1]} " "$pid"
  fi
}
HELPERS
  for step in "$WORK"/steps/*; do
    case $step in
      *.sh) cat "$step" ;;
      *.bg.*)
        printf 'terminal %q %q\n' "${step##*.bg.}" "$(cat "$step")"
        ;;
    esac
  done
} >"$WORK/driver.sh"

echo "== docs/quickstart.md, block by block"
(cd "$WORK/run" && timeout 60 bash "$WORK/driver.sh" "$WORK" >"$WORK/main.log" 2>&1) || {
  cat "$WORK/main.log"; for f in "$WORK"/*.log; do echo "--- $f"; cat "$f"; done
  fail "a block of docs/quickstart.md failed"
}
# The terminals other than the broker's end by themselves (--count), with 0.
BROKER_TERMINAL=$(cat "$WORK/broker-terminal")
while read -r name pid; do
  [[ $name == "$BROKER_TERMINAL" ]] && continue
  for _ in $(seq 200); do [[ -f $WORK/$name.rc ]] && break; sleep 0.1; done
  [[ -f $WORK/$name.rc ]] || { cat "$WORK/$name.log"; fail "terminal $name did not end"; }
  [[ $(cat "$WORK/$name.rc") == 0 ]] || { cat "$WORK/$name.log"; fail "terminal $name exited $(cat "$WORK/$name.rc")"; }
done <"$WORK/terminals"
# Ctrl-C in the broker's terminal: a clean stop.
BROKER_PID=$(awk -v n="$BROKER_TERMINAL" '$1 == n { print $2 }' "$WORK/terminals")
kill -INT -- "-$BROKER_PID"
for _ in $(seq 100); do [[ -f $WORK/$BROKER_TERMINAL.rc ]] && break; sleep 0.1; done
[[ $(cat "$WORK/$BROKER_TERMINAL.rc" 2>/dev/null) == 0 ]] || { cat "$WORK/$BROKER_TERMINAL.log"; fail "the broker did not stop cleanly"; }

echo "== the outputs the page shows"
python3 - "$WORK" <<'PY' || fail "an output differs from what docs/quickstart.md shows"
import glob, os, re, sys
work = sys.argv[1]
for step in sorted(glob.glob(os.path.join(work, "steps", "*.text.*"))):
    log = os.path.join(work, step.rsplit(".text.", 1)[1] + ".log")
    printed = open(log).read().splitlines()
    for line in open(step).read().splitlines():
        if not line:
            continue
        # The line as a whole-line pattern; "..." matches any text.
        pattern = re.compile(".+".join(map(re.escape, line.split("..."))))
        if not any(pattern.fullmatch(p) for p in printed):
            sys.exit("%s lacks the line: %s\n--- it printed:\n%s" % (os.path.basename(log), line, "\n".join(printed)))
PY

echo "== the page's roster and policy are the installed examples"
for f in roster.toml policy.toml; do
  written=$(find "$WORK/run" -maxdepth 2 -name "$f" | head -1)
  cmp "$written" "$SRC/packaging/examples/$f" || fail "docs/quickstart.md's $f differs from packaging/examples/$f"
done
echo "quickstart: OK"
