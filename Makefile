# sitegate: the README's two commands are `make demo` and `make test`.
SWIFT ?= swift
BUILD_FLAGS ?=
export SITEGATE_BIN := $(CURDIR)/.build/debug/sitegate

.PHONY: all deps build test demo release bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

# Builds everything, then runs unit and integration tests against real mosquitto and simulator processes.
test: deps
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS)

demo: build
	@scripts/demo.sh

# A static-stdlib, stripped release binary: the footprint figure we track.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib -Xlinker -s
	@ls -l .build/release/sitegate

clean:
	rm -rf .build

# Every benchmark in benchmarks/, written to benchmarks/report.md (release builds: several minutes).
bench: deps
	@scripts/bench.sh
