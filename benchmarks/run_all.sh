#!/usr/bin/env bash
# Runs the whole benchmark suite and writes each program's report to OUT_DIR (default
# bench-results/). Build first, in Release, with OpenMP so that 2 threads are measured too:
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_OPENMP=ON -DTAPEGRAD_BUILD_BENCHMARKS=ON
#   (add -DTAPEGRAD_BENCH_NATIVE=ON for -march=native figures; the default has no -march)
#   cmake --build build -j2 --target bench_tape bench_linear bench_linear_blas bench_end_to_end bench_embedding bench_memory
# Usage: benchmarks/run_all.sh [OUT_DIR]     Environment: BUILD_DIR (default build).
# Check `uptime` first: other processes on a 2-vCPU machine distort the 2-thread figures most.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD_DIR:-$root/build}/benchmarks
out=${1:-bench-results}
mkdir -p "$out"
for program in bench_tape bench_linear bench_linear_blas bench_end_to_end bench_embedding bench_memory; do
  if [[ -x $bin/$program ]]; then
    echo "== $program ($(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg))"
    "$bin/$program" | tee "$out/$program.txt"
  fi
done
"$root/benchmarks/compile_time.sh" 3 | tee "$out/compile_time.txt"
