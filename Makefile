# The two commands AIS users know: `make deploy` and `make test`.
# Everything builds with CMake; this file only sequences it.
.PHONY: all deps build install build-asan build-tsan build-clang deploy kill status test unit fuzz clean bench bench-list bench-reb bench-s3 bench-mirror bench-ec bench-cold bench-dload bench-dsort bench-moss

JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
CLANG_BUILD ?= build-clang
V ?= 0

# $(call compile,DIR): quiet by default (one line; the log's tail if it fails), V=1 shows all.
ifeq ($(V),1)
compile = cmake --build $(1) -j $(JOBS)
else
compile = echo "make: building $(1)/ (V=1 shows the compiler output)"; \
	cmake --build $(1) -j $(JOBS) >$(1)/build.log 2>&1 || \
	{ tail -n 30 $(1)/build.log; echo "make: build failed, full log: $(1)/build.log"; exit 1; }
endif

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@$(call compile,$(BUILD))

# Installs ais, aisnode and the bash completion of ais from $(BUILD) (built first) under
# $(DESTDIR)$(PREFIX): bin/ais, bin/aisnode, share/bash-completion/completions/ais.
PREFIX ?= /usr/local
install: build
	@install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/bash-completion/completions"
	@install -m 0755 $(BUILD)/cli/ais $(BUILD)/deploy/aisnode "$(DESTDIR)$(PREFIX)/bin/"
	@install -m 0644 $(BUILD)/cli/ais-completion.bash "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/ais"
	@echo "make: installed ais, aisnode in $(DESTDIR)$(PREFIX)/bin and the completion in $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ais"

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAIS_SANITIZE=ON >/dev/null
	@$(call compile,$(ASAN_BUILD))

build-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAIS_TSAN=ON >/dev/null
	@$(call compile,$(TSAN_BUILD))

# Second compiler: the tree must build warning-free with clang too (Release, -Werror).
build-clang: deps
	@cmake -S . -B $(CLANG_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release >/dev/null
	@$(call compile,$(CLANG_BUILD))

# Builds and starts a local cluster in the background (GATEWAYS, TARGETS, MOUNTPATHS, AIS_DATA_DIR).
deploy: build
	@bash scripts/deploy.sh start

# Stops the local cluster of AIS_DATA_DIR; data stays on disk. With no cluster there it says so
# and names the data dirs of clusters that do run.
kill:
	@bash scripts/deploy.sh stop

# One line per node of the AIS_DATA_DIR cluster: running (pid) or dead (log path).
status:
	@bash scripts/deploy.sh status

# Release builds with gcc and clang (warnings are errors), then every test under ASan+UBSan and
# again under ThreadSanitizer (TSAN_OPTIONS in test/tsan.env: any report fails the run).
test: build build-clang build-asan build-tsan
	@cd $(ASAN_BUILD) && ctest --output-on-failure --timeout 900
	@cd $(TSAN_BUILD) && env $$(sed "s|TSAN_SUPP|$(CURDIR)/test/tsan.supp|" $(CURDIR)/test/tsan.env) ctest --output-on-failure --timeout 900

unit: build-asan
	@cd $(ASAN_BUILD) && ctest --output-on-failure -L unit

# libFuzzer harnesses of test/fuzz (clang, ASan+UBSan, $(FUZZ_BUILD)/): each runs FUZZ_SECS from
# its seed corpus, one at a time, then one summary line each (FUZZ=names,route picks some).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECS ?= 60
fuzz: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DAIS_SANITIZE=ON -DAIS_FUZZ=ON >/dev/null
	@echo "make: building $(FUZZ_BUILD)/ fuzz_all"; \
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all >$(FUZZ_BUILD)/build.log 2>&1 || \
	{ tail -n 30 $(FUZZ_BUILD)/build.log; echo "make: build failed, full log: $(FUZZ_BUILD)/build.log"; exit 1; }
	@bash test/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECS) $(FUZZ)

bench: build
	@bash scripts/install-deps.sh --bench
	@bash bench/run.sh

# List-objects throughput over 1M objects on 3 targets vs `find` on the same dirs (bench/list.py).
bench-list: build
	@/usr/bin/python3 bench/list.py

# /s3 (streamed through the gateway) vs /v1 via gateway and direct vs nginx, same client.
bench-s3: build
	@BENCH_SKIP_BUILD=1 BUILD=$(BUILD) bash bench/s3.sh

# Rebalance throughput vs min(disk write, loopback), GET p99 during vs before (docs/bench.md).
bench-reb: build
	@BUILD=$(BUILD) python3 bench/reb.py

# Mirrored (mirror.copies=2) or EC (2+1) PUT/GET vs plain, interleaved cells (docs/bench.md).
bench-mirror: build
	@MODE=mirror BUILD=$(BUILD) python3 bench/protect.py

bench-ec: build
	@MODE=ec BUILD=$(BUILD) python3 bench/protect.py

# Cold GET via the cluster vs a direct GET from the same (loopback, +20 ms) S3 backend.
bench-cold: build
	@BUILD=$(BUILD) /usr/bin/python3 bench/cold.py

# Downloader (1,000 x 64 KiB, 4 x 256 MiB from a local nginx) vs parallel curl to the same disk.
bench-dload: build
	@bash scripts/install-deps.sh --bench
	@BUILD=$(BUILD) /usr/bin/python3 bench/dload.py

# dSort of 100 x 10 MiB tar shards on 3 targets vs one process (libarchive) over the same files.
bench-dsort: build
	@BUILD=$(BUILD) /usr/bin/python3 bench/dsort.py

# Batch GET (/v1/ml/moss, 1,000 names a request) vs single GETs and nginx (wrk, 16 conns) over
# 100k x 4 KiB on 3 targets; batch TTFB; archpath GET in a 1 GiB indexed tar; .tar PUT vs plain.
# MOSS_ARGS="--quick" (10k objects, 64 MiB shard, about 1 minute) or e.g. "--objects 20000".
bench-moss: build
	@bash scripts/install-deps.sh --bench
	@BUILD=$(BUILD) /usr/bin/python3 bench/moss.py $(MOSS_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(CLANG_BUILD) $(FUZZ_BUILD)
