# `make demo` builds and plays the Cucuta joint-unit demo (a broker and seven
# agency nodes, each its own process); `make test` runs every test. Both
# install missing Debian packages, configure and build first.
BUILD      ?= build
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS  ?= 2
ifeq ($(CI),true)
CMAKE_ARGS += -DTEARLINE_WERROR=ON
endif

.PHONY: all deps build demo test asan fuzz clean

all: build

deps:
	@scripts/install-deps.sh build

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/client/tearline demo

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTEARLINE_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) --repeat until-pass:2

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

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
