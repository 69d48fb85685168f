# A thin front to CMake. `make demo` and `make test` are the README's two
# commands: each installs what is missing first (scripts/bootstrap).
JOBS := $(shell nproc)

.PHONY: all build demo test bench fuzz bootstrap install clean format

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j$(JOBS)

demo: build
	@scripts/demo build

test: bootstrap
	@scripts/test

bench:
	@scripts/bootstrap bench
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTULIP_BENCH=ON -DTULIP_TESTS=OFF -DTULIP_EXAMPLES=OFF >/dev/null
	@cmake --build build-bench -j$(JOBS)
	@bench/run build-bench
	@bench/echo build-bench
	@flock /tmp/tulip-bench.lock bench/http_server build-bench
	@flock /tmp/tulip-bench.lock bench/http_client build-bench

# Each libFuzzer target in fuzz/ over its corpus for FUZZ_TIME seconds (new inputs go
# to build-fuzz/corpus/<name>, the seeds in fuzz/corpus/<name> stay as they are).
FUZZ_TIME ?= 60
fuzz: bootstrap
	@scripts/fuzz $(FUZZ_TIME)

install: build
	@cmake --install build

format:
	@clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/*.c' 'tests/*.h' 'examples/*.c' 'bench/*.c' 'fuzz/*.c')

clean:
	@rm -rf build build-asan build-ucontext build-bench build-fuzz
