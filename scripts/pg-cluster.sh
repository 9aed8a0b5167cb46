#!/usr/bin/env bash
# A private PostgreSQL 15 cluster in a folder, for a broker's store
# (storage.store = "postgresql", docs/scale-out.md) when no server is at
# hand: the CLI tests use it. Never the system service.
#
#   pg-cluster.sh start DIR            initdb into DIR/data (DIR new or empty),
#                                      start the server on a unix socket in DIR
#                                      only (no TCP), create the database
#                                      `tearline`, print its connection string
#   pg-cluster.sh standby PRIMARY DIR  a streaming standby of the cluster in
#                                      PRIMARY (pg_basebackup), started in DIR
#                                      and made PRIMARY's synchronous standby:
#                                      from then on a COMMIT on PRIMARY returns
#                                      once DIR has flushed it; prints DIR's
#                                      connection string
#   pg-cluster.sh promote DIR          make the standby in DIR a primary
#   pg-cluster.sh stop DIR             stop it (fast shutdown); DIR stays
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
usage="usage: pg-cluster.sh start DIR | standby PRIMARY DIR | promote DIR | stop DIR"
case ${1:-} in
  start | promote | stop) [[ $# -eq 2 ]] || die "$usage" 2 ;;
  standby) [[ $# -eq 3 ]] || die "$usage" 2 ;;
  *) die "$usage" 2 ;;
esac
cmd=$1
dir=${!#}
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
fail_with_log() {
  cat "$dir"/*.out "$dir/server.log" 2>/dev/null >&2 || true
  die "$1"
}
# absolute PATH: PATH made absolute, checked for what a socket path and the
# server's configuration take: plain characters, short enough for a socket.
absolute() {
  [[ $1 =~ ^[A-Za-z0-9_./+-]+$ ]] || die "$1: use a folder path of letters, digits and _ . / + - only" 2
  [[ -d $1 ]] || die "no cluster in $1" 2
  local abs
  abs=$(cd "$1" && pwd)
  ((${#abs} <= 80)) || die "$abs: the path is too long for a unix socket; use a shorter one (e.g. under /tmp)" 2
  echo "$abs"
}
conninfo() { echo "host='$1' port=5432 user=postgres dbname=tearline"; }

if [[ $cmd == start || $cmd == standby ]]; then mkdir -p "$dir"; fi
dir=$(absolute "$dir")

case $cmd in
  stop | promote)
    [[ -f $dir/data/PG_VERSION ]] || die "no cluster in $dir" 2
    if [[ $cmd == stop ]]; then
      as_owner pg_ctl -D "$dir/data" -m fast -w stop >"$dir/pg_ctl-stop.out" 2>&1 || fail_with_log "pg_ctl stop failed"
    else
      as_owner pg_ctl -D "$dir/data" -w -t 60 promote >"$dir/pg_ctl-promote.out" 2>&1 ||
        fail_with_log "pg_ctl promote failed"
    fi
    exit 0
    ;;
esac

[[ -z $(ls -A "$dir") ]] || die "$dir is not empty: give a new or empty folder" 2
chmod 0700 "$dir"
if [[ $EUID -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "no postgres account to run the server as: install the Debian package postgresql" 2
  chown postgres:postgres "$dir"
  runuser -u postgres -- test -w "$dir" ||
    die "the postgres account cannot reach $dir (a parent folder is closed to it): use a folder under /tmp" 2
fi

if [[ $cmd == standby ]]; then
  primary=$(absolute "$2")
  [[ -f $primary/data/PG_VERSION ]] || die "no cluster in $primary" 2
  # -R writes primary_conninfo (and standby.signal); application_name is
  # the name the primary's synchronous_standby_names waits for.
  as_owner pg_basebackup -h "$primary" -p 5432 -U postgres -D "$dir/data" -R -X stream -c fast \
    >"$dir/pg_basebackup.out" 2>&1 || fail_with_log "pg_basebackup from $primary failed"
  cat >>"$dir/data/postgresql.auto.conf" <<CONF
primary_conninfo = 'host=$primary port=5432 user=postgres application_name=tearline_standby'
unix_socket_directories = '$dir'
CONF
  as_owner pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start >"$dir/pg_ctl.out" 2>&1 ||
    fail_with_log "the standby did not start"
  # Synchronous from here on: the primary waits for this standby at COMMIT.
  psql -q -h "$primary" -p 5432 -U postgres -d postgres \
    -c "ALTER SYSTEM SET synchronous_standby_names = 'tearline_standby'" \
    -c "ALTER SYSTEM SET synchronous_commit = 'on'" -c "SELECT pg_reload_conf()" >/dev/null ||
    die "cannot make the standby synchronous on $primary"
  for _ in $(seq 300); do
    state=$(psql -tA -h "$primary" -p 5432 -U postgres -d postgres \
      -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'tearline_standby'")
    [[ $state == sync ]] && { conninfo "$dir"; exit 0; }
    sleep 0.1
  done
  fail_with_log "the standby did not become synchronous within 30 s"
fi

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
conninfo "$dir"
