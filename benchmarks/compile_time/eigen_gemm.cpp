// SPDX-License-Identifier: MIT
// Compile-time baseline: only <Eigen/Dense>, one GEMM. See compile_time.sh.
#include <Eigen/Dense>

#include <cstdio>

int main() {
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(64, 64), b = Eigen::MatrixXf::Random(64, 64);
  const Eigen::MatrixXf c = a * b;
  std::printf("%f\n", static_cast<double>(c.sum()));
  return 0;
}
