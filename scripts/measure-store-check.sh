#!/usr/bin/env bash
# Measures the start-up check of the broker's store (docs/reliability.md,
# section 7): the time of PRAGMA quick_check and PRAGMA integrity_check on a
# store of about SIZE_MIB MiB (default 1024) with the broker's schema:
# reports of 2-6 KiB (random bytes) with their unique ids and time index,
# and two audit entries per report. Not part of `make test` (minutes, 1 GiB
# of disk). Usage: scripts/measure-store-check.sh [SIZE_MIB] [DIR]
# Prints one line per check: "<check> <seconds> s (<cache>)". Runs each
# check with a warm page cache and, when it can drop the caches (root),
# with a cold one.
set -euo pipefail
size_mib=${1:-1024}
dir=${2:-$(mktemp -d)}
mkdir -p "$dir"
db="$dir/tearline.db"
command -v sqlite3 >/dev/null && command -v bc >/dev/null ||
  { echo "measure-store-check: needs sqlite3 and bc (scripts/install-deps.sh measure)" >&2; exit 2; }
rm -f "$db" "$db-wal" "$db-shm"
reports=$((size_mib * 1024 / 5)) # about 4 KiB of report and 1 KiB of audit and index each
start=$(date +%s.%N)
sqlite3 "$db" >/dev/null <<SQL
PRAGMA page_size=4096;
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
CREATE TABLE reports(seq INTEGER PRIMARY KEY, report_id BLOB NOT NULL UNIQUE, originator TEXT NOT NULL,
  agency TEXT NOT NULL, country TEXT NOT NULL, topic TEXT NOT NULL, sequence INTEGER NOT NULL,
  accepted_ms INTEGER NOT NULL, bytes BLOB NOT NULL, receipt BLOB NOT NULL DEFAULT x'');
CREATE INDEX reports_by_time ON reports(accepted_ms);
CREATE TABLE audit(idx INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, event TEXT NOT NULL, node TEXT NOT NULL,
  report TEXT NOT NULL, decision TEXT NOT NULL, detail TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $reports)
INSERT INTO reports SELECT i, randomblob(16), 'diran-bogota-hq', 'DIRAN', 'COL', 'intel.seizures', i,
  1700000000000 + i, randomblob(2048 + abs(random()) % 4096), randomblob(180) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2 * $reports)
INSERT INTO audit SELECT i, 1700000000000 + i, 'delivery', 'dea-bogota-analyst', hex(randomblob(16)), 'delivered',
  'seq ' || i || ' sections 2', randomblob(32), randomblob(32) FROM n;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
made=$(date +%s.%N)
echo "store: $(du -m "$db" | cut -f1) MiB, $reports reports, $((2 * reports)) audit entries," \
  "made in $(printf %.0f "$(echo "$made - $start" | bc)") s"
time_check() { # check cache
  local t0 t1 result
  t0=$(date +%s.%N)
  result=$(sqlite3 "$db" "PRAGMA $1;")
  t1=$(date +%s.%N)
  echo "$1 $(printf %.2f "$(echo "$t1 - $t0" | bc)") s ($2 cache): $result"
}
for check in quick_check integrity_check; do
  cat "$db" >/dev/null
  time_check "$check" warm
  if sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then time_check "$check" cold; fi
done
[[ $# -ge 2 ]] || rm -rf "$dir"
