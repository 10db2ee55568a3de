# The two commands AIS users know: `make deploy` and `make test`.
# Everything builds with CMake; this file only sequences it.
.PHONY: all deps build build-asan deploy kill test unit clean bench

JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAIS_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# Builds and starts a local cluster in the background (GATEWAYS, TARGETS, MOUNTPATHS, AIS_DATA_DIR).
deploy: build
	@bash scripts/deploy.sh start

# Stops the local cluster; data stays on disk.
kill:
	@bash scripts/deploy.sh stop

# Release build (warnings are errors) plus the sanitizer build, then every test under ASan+UBSan.
test: build build-asan
	@cd $(ASAN_BUILD) && ctest --output-on-failure --timeout 900

unit: build-asan
	@cd $(ASAN_BUILD) && ctest --output-on-failure -L unit

bench: build
	@bash scripts/install-deps.sh --bench
	@bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
