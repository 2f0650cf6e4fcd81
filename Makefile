# Thin wrapper around CMake. `make` builds, `make test` builds and runs every
# test (the unit tests, then ONNX's backend node tests from Debian's
# libonnx-testdata: `make conformance`), `make sanitize` runs the unit tests under ASan + UBSan.
BUILD    ?= build
JOBS     ?= $(shell nproc)
PACKAGES := cmake g++ libeigen3-dev libstb-dev doctest-dev
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test sanitize demo conformance clean

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

# A short style transfer on the bundled images; writes demo-out/index.html.
demo: build
	scripts/demo.sh

# ONNX's node tests, in /usr/share/libonnx-testdata/data/node. Fails if any test fails.
conformance: build
	$(call install_missing,libonnx-testdata)
	./$(BUILD)/stylegrad conformance

clean:
	rm -rf $(BUILD) build-sanitize
