#!/usr/bin/env bash
# Micro-benchmarks (Google Benchmark): Google Benchmark JSON on stdout.
# Extra arguments go to the benchmark binary, e.g.
#   scripts/bench.sh --benchmark_filter=parse --benchmark_repetitions=5
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
exec build/perf/spr_bench --benchmark_format=json "$@"
