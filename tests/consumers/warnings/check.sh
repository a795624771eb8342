#!/usr/bin/env bash
# Compiles a translation unit that includes the whole library with g++ and clang++, in C++17 and
# C++20 (with the distributed headers when MPI is installed), with -Wall -Wextra -Wpedantic -Wshadow -Werror. Usage: check.sh <source dir> <eigen include dir>
set -euo pipefail
src=$1
eigen=$2
status=0
# The MPI headers (tapegrad::mpi) too, with MPI's own include directories, when Open MPI is installed.
mpi_flags=()
mpi_label=""
if command -v mpicxx >/dev/null; then
  read -r -a mpi_flags <<<"-DTAPEGRAD_CHECK_DISTRIBUTED $(mpicxx --showme:compile)"
  mpi_label=" (with the distributed headers)"
fi
for cxx in g++ clang++; do
  if ! command -v "$cxx" >/dev/null; then
    echo "skip: $cxx not installed"
    continue
  fi
  for std in c++17 c++20; do
    if "$cxx" -std=$std -Wall -Wextra -Wpedantic -Wshadow -Werror -fsyntax-only -I"$src/include" -I"$eigen" \
        "${mpi_flags[@]}" "$src/tests/consumers/warnings/everything.cpp"; then
      echo "ok: $cxx -std=$std$mpi_label"
    else
      echo "FAILED: $cxx -std=$std$mpi_label"
      status=1
    fi
  done
done
exit $status
