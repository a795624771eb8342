#!/bin/sh
# Runs bench_distributed at 1, 2 and 4 ranks (one process per rank, one BLAS thread each; on a
# 2-core machine 4 ranks are oversubscribed, and the program says so).
#
# Pass 1, Open MPI's default transport (shared memory on one host): the times. It asks for Open MPI's
# pml monitoring, whose wire-byte counter the program reads where it works (not in Open MPI 4.1:
# open-mpi/ompi#9260). Pass 2, 2 and 4 ranks over TCP only (--mca btl self,tcp): the bytes each
# rank wrote to its sockets, against the cost model. The collectives' algorithms, and so the bytes,
# do not depend on the transport.
#
# Builds nothing: pass the build directory (default: build), configured with -DTAPEGRAD_MPI=ON.
#   benchmarks/distributed/run.sh build-bench
# Further arguments go to mpirun (e.g. --mca coll_libnbc_iallreduce_algorithm 1 to force the ring).
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
program="$build/benchmarks/distributed/bench_distributed"
if [ ! -x "$program" ]; then
  echo "run.sh: $program not found; build it with: cmake --build $build --target bench_distributed" >&2
  exit 1
fi
# Open MPI refuses to run as root (CI containers) unless told it is fine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1

echo "#### pass 1: default transport (times)"
for ranks in 1 2 4; do
  nice mpirun --oversubscribe -np "$ranks" --mca pml_monitoring_enable 1 -x OPENBLAS_NUM_THREADS "$@" "$program"
  echo
done
echo "#### pass 2: TCP only, --mca btl self,tcp (wire bytes from the kernel's count of bytes written)"
for ranks in 2 4; do
  nice mpirun --oversubscribe -np "$ranks" --mca pml_monitoring_enable 1 --mca btl self,tcp -x OPENBLAS_NUM_THREADS "$@" "$program"
  echo
done
