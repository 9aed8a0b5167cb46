#!/usr/bin/env bash
# A private PostgreSQL 15 cluster in a folder, for a broker's store
# (storage.store = "postgresql", docs/scale-out.md) when no server is at
# hand: the demo and the CLI tests use it. Never the system service.
#
#   scripts/pg-cluster.sh start DIR   initdb into DIR/data (DIR new or empty),
#                                     start the server on a unix socket in DIR
#                                     only (no TCP), create the database
#                                     `tearline`, print its connection string
#   scripts/pg-cluster.sh stop DIR    stop it (fast shutdown); DIR stays
#
# The server runs with fsync on and trust authentication for local
# sockets (DIR is the cluster owner's alone, mode 0700). initdb refuses to
# run as root, so as root the server runs as the `postgres` account the
# Debian package creates, and DIR is handed to it. TEARLINE_PG_BINDIR
# overrides where the server programs are (default
# /usr/lib/postgresql/15/bin). Exit 0 done, 2 bad usage or a non-empty DIR,
# 1 the server failed (its log follows on stderr).
set -euo pipefail

die() { echo "pg-cluster.sh: $1" >&2; exit "${2:-1}"; }
[[ $# -eq 2 && ($1 == start || $1 == stop) ]] || die "usage: pg-cluster.sh start|stop DIR" 2
cmd=$1
dir=$2
bindir=${TEARLINE_PG_BINDIR:-/usr/lib/postgresql/15/bin}
[[ -x $bindir/initdb && -x $bindir/pg_ctl ]] ||
  die "the PostgreSQL 15 server programs are not in $bindir: install the Debian package postgresql (scripts/install-deps.sh does)" 2

# as_owner PROGRAM ARGS...: runs a server program as the cluster's owner.
as_owner() {
  if [[ $EUID -eq 0 ]]; then
    runuser -u postgres -- env -C "$dir" "$bindir/$1" "${@:2}"
  else
    "$bindir/$1" "${@:2}"
  fi
}

# The folder goes into the server's configuration and the socket path:
# plain characters only, and short enough for a socket (107 bytes).
[[ $dir =~ ^[A-Za-z0-9_./+-]+$ ]] || die "$dir: use a folder path of letters, digits and _ . / + - only" 2
[[ $cmd == stop ]] || mkdir -p "$dir"
[[ -d $dir ]] || die "no cluster in $dir" 2
dir=$(cd "$dir" && pwd)
((${#dir} <= 80)) || die "$dir: the path is too long for a unix socket; use a shorter one (e.g. under /tmp)" 2

if [[ $cmd == stop ]]; then
  [[ -f $dir/data/PG_VERSION ]] || die "no cluster in $dir" 2
  as_owner pg_ctl -D "$dir/data" -m fast -w stop >"$dir/pg_ctl-stop.out" 2>&1 || {
    cat "$dir/pg_ctl-stop.out" >&2
    die "pg_ctl stop failed"
  }
  exit 0
fi

[[ -z $(ls -A "$dir") ]] || die "$dir is not empty: give a new or empty folder" 2
chmod 0700 "$dir"
if [[ $EUID -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "no postgres account to run the server as: install the Debian package postgresql" 2
  chown postgres:postgres "$dir"
  runuser -u postgres -- test -w "$dir" ||
    die "the postgres account cannot reach $dir (a parent folder is closed to it): use a folder under /tmp" 2
fi
fail_with_log() {
  cat "$dir"/*.out "$dir/server.log" 2>/dev/null >&2 || true
  die "$1"
}
as_owner initdb -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C >"$dir/initdb.out" 2>&1 ||
  fail_with_log "initdb failed"
cat >>"$dir/data/postgresql.conf" <<CONF

# scripts/pg-cluster.sh
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
fsync = on
max_connections = 50
shared_buffers = 32MB
CONF
as_owner pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start >"$dir/pg_ctl.out" 2>&1 ||
  fail_with_log "the server did not start"
as_owner createdb -h "$dir" -p 5432 -U postgres tearline >"$dir/createdb.out" 2>&1 ||
  fail_with_log "createdb tearline failed"
echo "host='$dir' port=5432 user=postgres dbname=tearline"
