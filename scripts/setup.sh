# Sourced by scripts/test and scripts/demo: installs the Debian packages a build needs, if missing.
# Usage: ensure_packages pkg...   (runs apt-get as root, or through sudo when available)
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing Debian packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo="sudo"
    else
      echo "error: missing packages ${missing[*]}; run as root or install them with apt-get" >&2
      return 1
    fi
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# What every build needs: a compiler, CMake, Eigen, Catch2 (tests) and pkg-config (consumer tests).
# OpenBLAS is optional for users; with it the default build runs its matrix products on kernels
# chosen for the CPU at run time (TAPEGRAD_USE_BLAS=AUTO), which is what the tests check.
BUILD_PACKAGES=(g++ make cmake libeigen3-dev catch2 pkg-config git ca-certificates libopenblas-dev)
# The test suite also runs every test executable on emulated CPUs (qemu-user), compares against
# fastText (the fastText benchmark's smoke test) and runs the distributed tests under Open MPI.
MPI_PACKAGES=(libopenmpi-dev openmpi-bin)
TEST_PACKAGES=(qemu-user fasttext "${MPI_PACKAGES[@]}")
# The interop tests read and write model files with the real PyTorch and NumPy (/usr/bin/python3).
INTEROP_PACKAGES=(python3 python3-torch python3-numpy)

# bench_fasttext builds its corpus from the apt package index, which Docker images ship without:
# fetch it when it is missing (apt-get update).
ensure_apt_index() {
  ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 && return 0
  echo "Fetching the apt package index (the fastText benchmark's corpus)"
  if [ "$(id -u)" -ne 0 ]; then sudo apt-get update -q; else apt-get update -q; fi
}
