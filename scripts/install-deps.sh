#!/usr/bin/env bash
# Installs the Debian packages tearline needs, and only those that are missing.
# Idempotent; silent when everything is present. Usage: install-deps.sh [build|fuzz|tsan|bench|format|tidy|measure]...
set -euo pipefail

# iso-codes: the ISO 3166-1 list the country table is generated from
# (cmake/Countries.cmake); help2man: the man pages (packaging/); dpkg-dev:
# dpkg-shlibdeps for `make deb`; faketime: libfaketime, which steps the broker's
# wall clock in tests/cli/clock_step_test.sh; sqlite3: the SQLite shell, with
# which the storage tests damage and inspect copies of a store; libpqxx-dev and
# libpq-dev: the PostgreSQL store (broker/pg_store.h); postgresql: initdb and
# pg_ctl, with which its tests start a private cluster (tests/support/pg_cluster.h);
# libcpp-httplib-dev: the broker's metrics endpoint; prometheus: the server
# tests/cli/metrics_prometheus_test.sh starts to scrape it; chromium,
# chromium-driver and python3-selenium: the browser tests/cli/live_view_test.sh
# opens the live view in; python3-zmq, python3-nacl, python3-protobuf and
# python3-pytest: the Python client (python/, docs/python.md) and its tests;
# python3-pyflakes: its lint (ctest python_lint).
packages=(cmake make g++ pkg-config libsodium-dev libzmq3-dev cppzmq-dev libprotobuf-dev
          protobuf-compiler catch2 libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
          libsqlite3-dev sqlite3 libpq-dev libpqxx-dev postgresql lld iso-codes help2man dpkg-dev faketime
          libcpp-httplib-dev prometheus chromium chromium-driver python3-selenium
          python3-zmq python3-nacl python3-protobuf python3-pytest python3-pyflakes)
for extra in "$@"; do
  case "$extra" in
    build) ;;
    fuzz)  packages+=(clang-16 libclang-rt-16-dev) ;;
    # llvm-16 for llvm-symbolizer-16, which the TSan runtime runs to read stacks.
    tsan)  packages+=(clang-16 libclang-rt-16-dev llvm-16) ;;
    bench) packages+=(nats-server libnats-dev openssl linux-perf) ;;
    format) packages+=(clang-format-16) ;;
    # libnats-dev so that the bench is in the compile commands and checked too.
    tidy)  packages+=(clang-tidy-22 ninja-build libnats-dev) ;;
    # scripts/measure-store-check.sh: bc for the figures.
    measure) packages+=(bc) ;;
    *) echo "install-deps: unknown group '$extra'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
