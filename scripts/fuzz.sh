#!/usr/bin/env bash
# libFuzzer runs of the loader and decoding targets, SECONDS each (first argument, default 20).
# Builds them in their own folder with -sanitize=fuzzer (the toolchain's libFuzzer) and AddressSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
scratch=.build-fuzz
flags=(-c debug --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING)
for target in fuzz-loaders fuzz-decoding; do
  swift build "${flags[@]}" --product "$target" 2>&1 | grep -E "error|warning: unre|Compiling fuzz|Build of" || true
done
bin="$(swift build "${flags[@]}" --show-bin-path)"
work="$(mktemp -d /tmp/sitegate-fuzz.XXXXXX)"
mkdir -p "$work/loaders" "$work/decoding"
cp benchmarks/fuzz-corpus/loaders/* "$work/loaders/"
for target in loaders decoding; do
  echo "== fuzz-$target for ${seconds}s"
  "$bin/fuzz-$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1 "$work/$target" \
    2> "$work/fuzz-$target.log" || { tail -n 40 "$work/fuzz-$target.log"; echo "fuzz-$target FAILED (log: $work)"; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/fuzz-$target.log" | tr '\n' ' '
  echo
done
echo "fuzzing found nothing (corpus and logs: $work)"
