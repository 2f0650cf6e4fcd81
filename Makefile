# Thin wrapper around CMake. `make` builds, `make test` builds and runs every
# test (the unit tests, then ONNX's backend node tests from Debian's
# libonnx-testdata: `make conformance`), `make sanitize` runs the unit tests
# under ASan + UBSan, `make fuzz` fuzzes the checkpoint, safetensors, ONNX and image readers.
BUILD    ?= build
JOBS     ?= $(shell nproc)
PACKAGES := cmake g++ libeigen3-dev libstb-dev doctest-dev
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FUZZ_PACKAGES := clang libclang-rt-dev libomp-dev
FUZZ_SECONDS  ?= 60
ONNX_SEEDS    := /usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding
FUZZ_TARGETS  := fuzz_pickle fuzz_torch_checkpoint fuzz_safetensors fuzz_onnx fuzz_image

.PHONY: all deps build test sanitize demo conformance fuzz bench clean

all: build

# $(call install_missing,PACKAGES): installs those of the Debian PACKAGES that are missing.
define install_missing
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "stylegrad: installing missing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing \
	    || { echo "stylegrad: could not install$$missing; install them with: sudo apt-get install$$missing" >&2; exit 1; }; \
	fi
endef

# Installs the Debian packages the build needs, if any is missing.
deps:
	$(call install_missing,$(PACKAGES))

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The whole suite: the unit tests (ctest), then ONNX's node tests.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory conformance

sanitize: deps
	@cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTYLEGRAD_SANITIZE=ON -DSTYLEGRAD_CUDA=OFF >/dev/null
	@cmake --build build-sanitize -j $(JOBS)
	cd build-sanitize && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# A short style transfer, a tiny CycleGAN and a short SinCUT run on the bundled images; writes demo-out/index.html.
demo: build
	scripts/demo.sh

# stylegrad vs PyTorch (Debian's python3-torch, with OpenBLAS) on this machine, same run.
bench: build
	$(call install_missing,python3-torch libopenblas0-pthread)
	/usr/bin/python3 bench/compare.py --gatys

# ONNX's node tests, in /usr/share/libonnx-testdata/data/node. Fails if any test fails.
conformance: build
	$(call install_missing,libonnx-testdata)
	./$(BUILD)/stylegrad conformance

# libFuzzer + ASan + UBSan, built with clang: each target in fuzz/ runs for
# FUZZ_SECONDS, seeded with tests/data/checkpoints (fuzz_safetensors with
# tests/reference, fuzz_image with demo/images, fuzz_onnx also with ONNX's
# node tests when libonnx-testdata is installed); its corpus grows in build-fuzz/corpus/<target> and a crashing
# input is saved as build-fuzz/<target>-crash-*.
fuzz: deps
	@$(MAKE) --no-print-directory deps PACKAGES="$(FUZZ_PACKAGES)"
	@cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSTYLEGRAD_FUZZ=ON -DSTYLEGRAD_CUDA=OFF -DSTYLEGRAD_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$target; \
	  echo "== $$target: $(FUZZ_SECONDS) s"; \
	  build-fuzz/$$target -max_total_time=$(FUZZ_SECONDS) -timeout=10 -artifact_prefix=build-fuzz/$$target- \
	    build-fuzz/corpus/$$target \
	    $$( case $$target in (fuzz_safetensors) echo tests/reference ;; (fuzz_image) echo demo/images ;; (*) echo tests/data/checkpoints ;; esac ) \
	    $$( [ $$target = fuzz_onnx ] && [ -d $(ONNX_SEEDS) ] && echo $(ONNX_SEEDS) ) || exit 1; \
	done

clean:
	rm -rf $(BUILD) build-sanitize build-fuzz
