#!/usr/bin/env bash
# Compile time of a TU that uses the whole library (compile_time/tapegrad_step.cpp: includes
# tapegrad/tapegrad.hpp and trains the end-to-end model) against one that includes only
# <Eigen/Dense> and does one GEMM (compile_time/eigen_gemm.cpp). Target: ratio <= 2.
# The library TU is timed header-only and with opt-in separate compilation
# (-DTAPEGRAD_SEPARATE_COMPILATION; the one-off instantiate.cpp is timed on its own).
# The library TU is compiled as the default CMake build compiles it: with -DTAPEGRAD_USE_BLAS when
# OpenBLAS is installed (TAPEGRAD_USE_BLAS=AUTO), and once more without it (Eigen's GEMM).
# Reports the minimum over RUNS compiles of CPU time (user + sys: less disturbed than wall time
# by other processes on the machine) and of wall time.
# Usage: benchmarks/compile_time.sh [RUNS=3]   Environment: CXX (default g++), CXXFLAGS (default -O2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=${1:-3}
cxx=${CXX:-g++}
flags=${CXXFLAGS:--O2}
eigen=$(pkg-config --cflags eigen3 2>/dev/null || echo -I/usr/include/eigen3)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# min_time FILE [EXTRA_FLAGS]: prints "cpu wall" (seconds), the minimum of each over $runs compiles.
min_time() {
  local best_cpu=999999 best_wall=999999
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S" -o "$out/t" "$cxx" -std=c++17 $flags ${2:-} $eigen -I"$root/include" -c "$1" -o "$out/o.o"
    read -r wall user sys < "$out/t"
    best_cpu=$(awk -v a="$best_cpu" -v u="$user" -v s="$sys" 'BEGIN { c = u + s; print (c < a ? c : a) }')
    best_wall=$(awk -v a="$best_wall" -v w="$wall" 'BEGIN { print (w < a ? w : a) }')
  done
  echo "$best_cpu $best_wall"
}

blas=""
if pkg-config --exists openblas 2>/dev/null; then blas="-DTAPEGRAD_USE_BLAS"; fi
echo "compile time, $cxx $($cxx -dumpversion) -std=c++17 $flags, min over $runs runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
read -r tg_cpu tg_wall < <(min_time "$here/compile_time/tapegrad_step.cpp" "$blas")
read -r nb_cpu nb_wall < <(min_time "$here/compile_time/tapegrad_step.cpp")
read -r sep_cpu sep_wall < <(min_time "$here/compile_time/tapegrad_step.cpp" "-DTAPEGRAD_SEPARATE_COMPILATION $blas")
read -r inst_cpu inst_wall < <(runs=1 min_time "$here/compile_time/instantiate.cpp" -DTAPEGRAD_SEPARATE_COMPILATION)
read -r eg_cpu eg_wall < <(min_time "$here/compile_time/eigen_gemm.cpp")
printf "%-52s %8s %8s\n" "translation unit" "cpu s" "wall s"
printf "%-52s %8.2f %8.2f\n" "tapegrad.hpp + end-to-end training (tapegrad_step.cpp)" "$tg_cpu" "$tg_wall"
printf "%-52s %8s %8s\n" "  (as the default build: ${blas:-no BLAS installed})" "" ""
printf "%-52s %8.2f %8.2f\n" "  the same without a BLAS (Eigen's GEMM)" "$nb_cpu" "$nb_wall"
printf "%-52s %8.2f %8.2f\n" "  the same, TAPEGRAD_SEPARATE_COMPILATION" "$sep_cpu" "$sep_wall"
printf "%-52s %8.2f %8.2f\n" "  instantiate.cpp (once per program, float+double)" "$inst_cpu" "$inst_wall"
printf "%-52s %8.2f %8.2f\n" "<Eigen/Dense> + one GEMM (eigen_gemm.cpp)" "$eg_cpu" "$eg_wall"
awk -v a="$tg_cpu" -v n="$nb_cpu" -v s="$sep_cpu" -v b="$eg_cpu" 'BEGIN { printf "ratio (cpu): header-only %.2fx (without a BLAS %.2fx), separate compilation %.2fx (target <= 2x)\n", a / b, n / b, s / b }'
