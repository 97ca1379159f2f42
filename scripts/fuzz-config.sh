#!/usr/bin/env bash
# A longer run of the loader robustness tests: ITERATIONS mutated configs and maps (default 200000).
set -euo pipefail
cd "$(dirname "$0")/.."
export SITEGATE_FUZZ_ITERATIONS="${ITERATIONS:-200000}"
swift build --build-tests
swift test --skip-build --filter LoaderRobustnessTests
