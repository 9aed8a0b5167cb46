# `make demo` builds and plays the Cucuta joint-unit demo (DIRAN's and DEA's
# brokers, peered, and seven agency nodes, each its own process); `make test` runs every test. Both
# install missing Debian packages, configure and build first.
SHELL      := /bin/bash
BUILD      ?= build
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS  ?= 2
TSAN_BUILD ?= build-tsan
TIDY_BUILD ?= build-tidy
TIDY_JOBS  ?= 2
ifeq ($(CI),true)
CMAKE_ARGS += -DTEARLINE_WERROR=ON
endif

.PHONY: all deps build demo demo-pg demo-cluster test asan tsan fuzz format format-check tidy deb clean

all: build

deps:
	@scripts/install-deps.sh build

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/client/tearline demo

# The demo with the broker's store in PostgreSQL (docs/scale-out.md): a
# private server in a temporary folder (scripts/pg-cluster.sh), stopped and
# removed afterwards, whatever the demo's outcome.
demo-pg: build
	@dir=$$(mktemp -d /tmp/tearline-demo-pg.XXXXXX); \
	conninfo=$$(scripts/pg-cluster.sh start $$dir) || { rm -rf $$dir; exit 1; }; \
	rc=0; $(BUILD)/client/tearline demo --pg "$$conninfo" || rc=$$?; \
	scripts/pg-cluster.sh stop $$dir >/dev/null; rm -rf $$dir; exit $$rc

# Two brokers on one PostgreSQL store (docs/scale-out.md): DIRAN's, FUDRA's
# and FGR's nodes on the first, DEA's on a second run by DEA; the same
# routing table as `make demo`.
demo-cluster: build
	@dir=$$(mktemp -d /tmp/tearline-demo-pg.XXXXXX); \
	conninfo=$$(scripts/pg-cluster.sh start $$dir) || { rm -rf $$dir; exit 1; }; \
	rc=0; $(BUILD)/client/tearline demo --topology cluster --pg "$$conninfo" || rc=$$?; \
	scripts/pg-cluster.sh stop $$dir >/dev/null; rm -rf $$dir; exit $$rc

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTEARLINE_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ctest --output-on-failure -j $(JOBS) --repeat until-pass:2

# ThreadSanitizer (cmake/Sanitizers.cmake), built with clang-16, whose
# runtime finds llvm-symbolizer-16 (package llvm-16): without a symbolizer
# every suppressed report prints a warning on the stderr of the process, which
# the CLI tests read. tests/tsan.supp silences only reports inside the
# uninstrumented Debian libraries (libzmq, libsodium); the project's code is
# never suppressed.
#
# Only the test executables that start threads are built and run (a full
# TSan build does not fit CI's budget, docs/development.md):
#   test_crypto         secure buffers allocated and freed from several threads
#   test_store_sqlite   readers on their own threads while the writer commits
#   test_verifier_pool  the pool's worker threads
#   test_connection, test_broker_e2e, test_durability, test_limits,
#   test_protocol_states, test_subscriptions
#                       a broker in the test process (I/O, ZAP, verifier and
#                       store writer threads) with client sessions, some on
#                       threads of their own
# Every other test executable is single-threaded: the pure structures
# (SessionTable, Router, GroupCommit, ...) are driven by the test alone, as the
# I/O thread drives them. The CLI, crash and flood tests run tearline-broker
# as a child process: the same broker threads the in-process tests above
# watch, behind a front end that only adds the signal-watching thread.
#
# As in asan, a failed test is retried once (its timing under the slowdown),
# but a race is never forgiven: a TSan report makes its test exit 66
# (halt_on_error) and the target fails if any report appears in the output,
# even when the retry passed.
TSAN_TESTS := test_crypto test_store_sqlite test_verifier_pool test_connection test_broker_e2e test_durability \
              test_limits test_protocol_states test_report test_subscriptions
TSAN_OPTIONS_ALL := suppressions=$(CURDIR)/tests/tsan.supp halt_on_error=1 second_deadlock_stack=1
empty :=
space := $(empty) $(empty)
tsan:
	@scripts/install-deps.sh build tsan
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=Debug -DTEARLINE_TSAN=ON \
	       $(CMAKE_ARGS) >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(TSAN_TESTS)
	@cd $(TSAN_BUILD) && set -o pipefail && TSAN_OPTIONS="$(TSAN_OPTIONS_ALL)" ctest --output-on-failure \
	       -j $(JOBS) --repeat until-pass:2 -R '^($(subst $(space),|,$(TSAN_TESTS))): ' | tee tsan-ctest.log
	@if grep -q 'WARNING: ThreadSanitizer' $(TSAN_BUILD)/tsan-ctest.log; then \
	   echo "tsan: ThreadSanitizer reported (see $(TSAN_BUILD)/tsan-ctest.log)"; exit 1; fi

# clang-format-16 with .clang-format: `format` rewrites every tracked C++
# file, `format-check` only lists those that differ (scripts/check-format.sh).
format:
	@scripts/install-deps.sh format
	@git ls-files -z '*.cc' '*.h' | xargs -0 -n 20 -P $(JOBS) clang-format-16 -i

format-check:
	@scripts/install-deps.sh format
	@scripts/check-format.sh

# clang-tidy-22 with .clang-tidy over every project source (scripts/tidy.sh),
# from the compile commands of TIDY_BUILD (bench included); only the protobuf
# headers are generated, nothing is compiled; no unity sources, so every
# source is checked alone. Fails on any warning.
tidy:
	@scripts/install-deps.sh build tidy
	@cmake -S . -B $(TIDY_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTEARLINE_BUILD_BENCH=ON -DTEARLINE_UNITY_BUILD=OFF \
	       $(CMAKE_ARGS) >/dev/null
	@cd $(TIDY_BUILD) && ninja tearline_country_codes $$(ninja -t targets all | grep -oE '^proto/tearline/v1/[a-z_]+\.pb\.h') >/dev/null
	@scripts/tidy.sh $(TIDY_BUILD) $(TIDY_JOBS)

# libFuzzer targets (tests/fuzz/README.md): clang-16 build, seeds, then every
# target for FUZZ_SECONDS, FUZZ_JOBS at a time; fails on any crash/leak/timeout.
fuzz:
	@scripts/install-deps.sh build fuzz
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=Debug -DTEARLINE_FUZZ=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target tearline_fuzz
	@tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS)

# tearline-bench (bench/, docs/performance.md): a Release build in
# BENCH_BUILD, then the default runs (N=4 with every baseline and extra, then
# N=16), JSON in BENCH_BUILD. BENCH_ARGS replaces the default runs, e.g.
# `make bench BENCH_ARGS=--matrix` (the tables of docs/performance.md).
BENCH_BUILD ?= build-bench
BENCH_ARGS  ?=
BENCH_BIN   := $(BENCH_BUILD)/bench/tearline-bench
.PHONY: bench
bench:
	@scripts/install-deps.sh build bench
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DTEARLINE_BUILD_BENCH=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BENCH_BUILD) -j $(JOBS) --target tearline-bench tearline-broker
ifeq ($(strip $(BENCH_ARGS)),)
	@$(BENCH_BIN) run --json $(BENCH_BUILD)/bench-n4.json
	@$(BENCH_BIN) run --subscribers 16 --no-extras --json $(BENCH_BUILD)/bench-n16.json
else
	@$(BENCH_BIN) run --json $(BENCH_BUILD)/bench.json $(BENCH_ARGS)
endif

# A Debian package (CPack's DEB generator, packaging/CMakeLists.txt): both
# binaries, the client library with its headers, CMake package config and
# pkg-config file, the systemd unit, example configs, man pages and bash
# completion. Built in DEB_BUILD with the prefix /usr; the .deb lands there.
DEB_BUILD ?= build-deb
deb: deps
	@cmake -S . -B $(DEB_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
	       -DTEARLINE_BUILD_TESTS=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build $(DEB_BUILD) -j $(JOBS)
	@cd $(DEB_BUILD) && cpack -G DEB
	@ls $(DEB_BUILD)/tearline_*.deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(TIDY_BUILD) $(FUZZ_BUILD) $(DEB_BUILD)
