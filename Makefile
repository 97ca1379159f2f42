# sitegate: the README's two commands are `make demo` and `make test`.
SWIFT ?= swift
BUILD_FLAGS ?=
# The build folder: the --scratch-path given in BUILD_FLAGS (a worktree's own, say), else .build. The tests and
# the demo run the binary built there.
SCRATCH_PATH ?= $(or $(lastword $(shell printf '%s\n' $(BUILD_FLAGS) | \
	sed -n -e 's/^--scratch-path=//p' -e '/^--scratch-path$$/{n;p;}')),.build)
export SITEGATE_BIN := $(abspath $(SCRATCH_PATH))/debug/sitegate
RELEASE_BIN := $(abspath $(SCRATCH_PATH))/release/sitegate
# The Python test tools (jsonschema, pymodbus) live in a virtual environment in the build folder, made by
# scripts/install-deps.sh: Debian's python3 refuses system-wide pip installs. Tests and scripts run $SITEGATE_PYTHON.
export SITEGATE_PYTHON_VENV := $(abspath $(SCRATCH_PATH))/python
export SITEGATE_PYTHON := $(SITEGATE_PYTHON_VENV)/bin/python3

# Installing: PREFIX=/usr/local by default, PREFIX=/usr for a package; DESTDIR stages into a folder.
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps build test demo release symbol-order install deb package-test test-fresh test-system bench bench-park soak fuzz fuzz-short test-tsan test-asan clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

# Builds everything, runs a short fuzz of the loaders and decoders, then every unit and integration test against
# real mosquitto, simulator, socat and pymodbus processes.
test: deps fuzz-short
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS)

# The concurrency-heavy suites under ThreadSanitizer; the agent they start is built with it too and exits 66 on a
# race. A separate build folder: sanitizer builds cannot share one with the normal build.
TSAN_SUITES = SitegateBufferTests|SitegateCoreTests|EndToEndTests|BrokerOutageTests|BrokerFailoverTests|BrokerNoAnswerTests|MQTTSecurityTests|AnnouncementTests|MQTTClientTests|SimulatorTests
test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	SITEGATE_BIN=$(CURDIR)/.build-tsan/debug/sitegate TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
		$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --filter '$(TSAN_SUITES)'

# Every suite but the long crash-safety runs under AddressSanitizer.
test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	SITEGATE_BIN=$(CURDIR)/.build-asan/debug/sitegate ASAN_OPTIONS="detect_leaks=0" \
		$(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --skip CrashSafetyTests

# libFuzzer: a short run of each target (part of make test) and a long one (FUZZ_SECONDS, default 600 per target).
fuzz-short: deps
	@scripts/fuzz.sh 20
fuzz: deps
	@scripts/fuzz.sh $${FUZZ_SECONDS:-600}

# The soak run: SOAK_MINUTES (default 30) against faulty simulated meters and a restarting broker.
soak: deps
	$(SWIFT) build -c release --product sitegate
	$(SITEGATE_PYTHON) benchmarks/soak.py .build/release/sitegate $${SOAK_MINUTES:-30}

demo: build
	@scripts/demo.sh

# A static-stdlib, stripped release binary: the footprint figure we track. No Swift runtime needed to run it, no
# RUNPATH ($ORIGIN, which SwiftPM adds by default and Debian forbids), relocations read-only before main (-z now):
# the binary the package ships (debian/rules builds it with the same flags).
# RELEASE_LAYOUT packs the code the agent runs (docs/performance.md, "Memory"): every function in a section of its
# own, linked by lld with the functions the footprint load runs first (packaging/link/, `make symbol-order`);
# relative relocations packed (DT_RELR, glibc 2.36), which the loader no longer reads a megabyte of; no dynamic
# symbol table for the executable's own functions, which nothing looks up.
LINK_DIR := $(CURDIR)/packaging/link
RELEASE_LAYOUT = -Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -use-ld=lld \
	-Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic \
	-Xlinker --symbol-ordering-file=$(LINK_DIR)/symbol-order.txt -Xlinker --no-warn-symbol-ordering \
	-Xlinker -T -Xlinker $(LINK_DIR)/hot-text.ld
RELEASE_FLAGS = -c release --static-swift-stdlib -Xlinker -z -Xlinker now --disable-local-rpath $(RELEASE_LAYOUT)
release: deps
	$(SWIFT) build $(RELEASE_FLAGS) -Xlinker -s --scratch-path $(SCRATCH_PATH)
	@ls -l $(RELEASE_BIN)

# Regenerates packaging/link/ (a few minutes, needs valgrind): the release build with symbols in its own build
# folder, then the functions it runs under the footprint load (scripts/symbol_order.py).
symbol-order: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product sitegate --scratch-path .build-symbol-order
	@scripts/install-deps.sh valgrind
	python3 scripts/symbol_order.py .build-symbol-order/release/sitegate

# The release binary, device maps, docs, the systemd unit and sysusers file, and an example /etc/sitegate/site.yaml
# that never replaces an existing one (scripts/install.sh).
install: release
	PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) SITEGATE_RELEASE_BIN=$(RELEASE_BIN) scripts/install.sh

# out/sitegate_VERSION_ARCH.deb, built by debhelper from debian/ (dpkg-buildpackage; debian/rules runs the release
# build `make release` runs, in this build folder). -d: the Swift toolchain is not a Debian package. The version is
# debian/changelog's top entry, which `sitegate --version` also reports.
DEB = out/sitegate_$$(dpkg-parsechangelog -l debian/changelog -S Version)_$$(dpkg --print-architecture)
deb: deps
	@scripts/install-deps.sh debhelper dpkg-dev python3
	mkdir -p out
	SWIFT=$(SWIFT) SITEGATE_SCRATCH_PATH=$(abspath $(SCRATCH_PATH)) dpkg-buildpackage -b -d -us -uc \
		--buildinfo-file=$(DEB).buildinfo --buildinfo-option=-uout --changes-file=$(DEB).changes --changes-option=-uout
	@ls -l $(DEB).deb

# Builds the release binary and the .deb (a few minutes), then checks the package: lintian (0 errors, 0 warnings),
# its fields, maintainer scripts, files, man pages, completions, unit and example config. Not part of `test`.
package-test: deb
	@scripts/install-deps.sh lintian
	scripts/test-deb.sh $(DEB).deb

# The README's commands (make test, make demo) on a pristine Debian 12 with only the Swift toolchain: a throwaway
# overlay of a debootstrapped root cached in /var/cache/sitegate-fresh, a clean clone of HEAD inside. Needs root.
test-fresh:
	scripts/test-fresh.sh

# The .deb under a live systemd: Debian 12 booted in systemd-nspawn (same cached root), the package installed,
# upgraded, removed and purged, checked against the simulator and mosquitto inside. Needs root.
test-system: deb
	scripts/test-system.sh $(DEB).deb

clean:
	rm -rf $(SCRATCH_PATH)

# Every benchmark in benchmarks/, written to benchmarks/report.md (release builds: several minutes).
bench: deps
	@scripts/bench.sh

# Park scale (issue 16, item 4): 2,000 meters, 60,000 points on 16 buses (RTU lines over socat ptys, the rest TCP),
# a few minutes: check, plan, start-up, steady CPU and RSS, missed ticks, where the memory goes. PARK_ARGS: e.g.
# --quick (the main run only), --rtu-buses 8, --baud 19200 (benchmarks/park.py --help).
bench-park: deps
	$(SWIFT) build -c release --product sitegate $(BUILD_FLAGS)
	python3 benchmarks/park.py $(RELEASE_BIN) $(PARK_ARGS)
