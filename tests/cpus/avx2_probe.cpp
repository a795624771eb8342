// SPDX-License-Identifier: MIT
// Built with -mavx2 -mfma on purpose: under `qemu-x86_64 -cpu Nehalem` it must die of SIGILL. The
// ctest entry that expects this proves the emulated CPU really refuses what it lacks, so the
// Nehalem runs of the test suite would catch a kernel chosen for the wrong CPU.
#include <immintrin.h>

#include <cstdio>

int main(int argc, char**) {
  __m256 a = _mm256_set1_ps(static_cast<float>(argc));
  a = _mm256_fmadd_ps(a, a, a);
  float out[8];
  _mm256_storeu_ps(out, a);
  std::printf("%f\n", static_cast<double>(out[0]));
  return 0;
}
