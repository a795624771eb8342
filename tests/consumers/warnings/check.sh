#!/usr/bin/env bash
# Compiles a translation unit that includes the whole library with g++ and clang++, in C++17 and
# C++20 (and the distributed headers, with MPI), with -Wall -Wextra -Wpedantic -Wshadow -Werror. Usage: check.sh <source dir> <eigen include dir>
set -euo pipefail
src=$1
eigen=$2
status=0
for cxx in g++ clang++; do
  if ! command -v "$cxx" >/dev/null; then
    echo "skip: $cxx not installed"
    continue
  fi
  for std in c++17 c++20; do
    if "$cxx" -std=$std -Wall -Wextra -Wpedantic -Wshadow -Werror -fsyntax-only -I"$src/include" -I"$eigen" \
        "$src/tests/consumers/warnings/everything.cpp"; then
      echo "ok: $cxx -std=$std"
    else
      echo "FAILED: $cxx -std=$std"
      status=1
    fi
    # The MPI headers (tapegrad::mpi) with MPI's own include directories, when Open MPI is installed.
    if command -v mpicxx >/dev/null; then
      if "$cxx" -std=$std -Wall -Wextra -Wpedantic -Wshadow -Werror -fsyntax-only -I"$src/include" -I"$eigen" \
          $(mpicxx --showme:compile) "$src/tests/consumers/warnings/distributed.cpp"; then
        echo "ok: $cxx -std=$std distributed"
      else
        echo "FAILED: $cxx -std=$std distributed"
        status=1
      fi
    fi
  done
done
exit $status
