# Thin wrapper around CMake. `make` builds, `make test` builds and runs every
# test, `make sanitize` runs them under ASan + UBSan, `make fuzz` fuzzes the
# checkpoint readers.
BUILD    ?= build
JOBS     ?= $(shell nproc)
PACKAGES := cmake g++ libeigen3-dev libstb-dev doctest-dev
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FUZZ_PACKAGES := clang libclang-rt-dev libomp-dev
FUZZ_SECONDS  ?= 60
FUZZ_TARGETS  := fuzz_pickle fuzz_torch_checkpoint

.PHONY: all deps build test sanitize fuzz clean

all: build

# Installs the Debian packages the build needs, if any is missing.
deps:
	@missing=""; for p in $(PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "stylegrad: installing missing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing \
	    || { echo "stylegrad: could not install$$missing; install them with: sudo apt-get install$$missing" >&2; exit 1; }; \
	fi

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

sanitize: deps
	@cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTYLEGRAD_SANITIZE=ON -DSTYLEGRAD_CUDA=OFF >/dev/null
	@cmake --build build-sanitize -j $(JOBS)
	cd build-sanitize && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer + ASan + UBSan, built with clang: each target in fuzz/ runs for
# FUZZ_SECONDS, seeded with tests/data/checkpoints; its corpus grows in
# build-fuzz/corpus/<target> and a crashing input is saved as build-fuzz/<target>-crash-*.
fuzz: deps
	@$(MAKE) --no-print-directory deps PACKAGES="$(FUZZ_PACKAGES)"
	@cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSTYLEGRAD_FUZZ=ON -DSTYLEGRAD_CUDA=OFF -DSTYLEGRAD_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$target; \
	  echo "== $$target: $(FUZZ_SECONDS) s"; \
	  build-fuzz/$$target -max_total_time=$(FUZZ_SECONDS) -timeout=10 -artifact_prefix=build-fuzz/$$target- \
	    build-fuzz/corpus/$$target tests/data/checkpoints || exit 1; \
	done

clean:
	rm -rf $(BUILD) build-sanitize build-fuzz
