// SPDX-License-Identifier: MIT
// Linear forward and forward + backward against libtorch and the bare GEMMs of this build (the BLAS
// by default; bench_linear_eigen is the same program on Eigen's GEMM), at (B, in, out) =
// (1, 768, 768), (8, 512, 512), (32, 512, 512), (256, 1024, 1024), (4096, 300, 2). The FMA peak is
// measured on this host with the widest FMA its CPU has.
#include <tapegrad/tapegrad.hpp>

#include "suite.hpp"

namespace tg = tapegrad;

namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::Matrix<float, 1, Eigen::Dynamic>;

struct Shape3 {
  std::int64_t b, in, out;
};

void run_shape(const Shape3& s, double peak) {
  const std::string name = "(" + std::to_string(s.b) + "," + std::to_string(s.in) + "," + std::to_string(s.out) + ")";
  tg::nn::Linear<float> lin(tg::nn::LinearOptions(s.in, s.out));
  tg::Tensor<float> x = tg::empty<float>({s.b, s.in});
  bench::fill_unit_variance(x.data(), s.b * s.in);
  tg::Tensor<float> g = tg::empty<float>({s.b, s.out});
  bench::fill_unit_variance(g.data(), s.b * s.out, 3);

  // The bare GEMMs on the same data into preallocated outputs: the reference.
  auto raw = std::make_shared<std::tuple<Mat, Mat, Mat, Vec>>(Mat(s.b, s.out), Mat(s.b, s.in), Mat(s.out, s.in), Vec(s.out));
  const Eigen::Map<const Mat> xm(x.data(), s.b, s.in), wm(lin.weight.data(), s.out, s.in), gm(g.data(), s.b, s.out);
  const Eigen::Map<const Vec> bm(lin.bias.data(), s.out);
  // The same GEMM entry point the library uses (the BLAS, or Eigen), without tensors or tape.
  auto ref_fwd = [raw, xm, wm, bm, s] {
    Mat& y = std::get<0>(*raw);
    y.rowwise() = bm;
    tg::detail::gemm(false, true, s.b, s.out, s.in, xm.data(), s.in, wm.data(), s.in, y.data(), s.out, true);
    bench::keep(y.data());
  };
  auto ref_fwd_bwd = [raw, xm, wm, bm, gm, ref_fwd, s] {
    ref_fwd();
    tg::detail::gemm(false, false, s.b, s.in, s.out, gm.data(), s.out, wm.data(), s.in, std::get<1>(*raw).data(), s.in, false);
    tg::detail::gemm(true, false, s.out, s.in, s.b, gm.data(), s.out, xm.data(), s.in, std::get<2>(*raw).data(), s.in, false);
    std::get<3>(*raw) = gm.colwise().sum();
    bench::keep(std::get<3>(*raw).data());
  };

  const double flop = 2.0 * static_cast<double>(s.b * s.in * s.out);
  bench::Case fwd{"fwd " + name,
                  [&lin, x] {
                    tg::NoGradGuard no_grad;
                    auto y = lin(x);
                    bench::keep(y.data());
                  },
                  torch_peer::linear(s.b, s.in, s.out, false), ref_fwd, flop, true, ""};
  const bench::Result rf = bench::run(fwd);

  tg::Tensor<float> xg = x.detach().requires_grad_();
  bench::Case fb{"fwd+bwd " + name,
                 [&lin, xg, g]() mutable {
                   lin.weight.mutable_grad() = tg::Tensor<float>();
                   lin.bias.mutable_grad() = tg::Tensor<float>();
                   xg.mutable_grad() = tg::Tensor<float>();
                   lin(xg).backward(g);
                 },
                 torch_peer::linear(s.b, s.in, s.out, true), ref_fwd_bwd, 3 * flop, true, ""};
  const bench::Result rb = bench::run(fb);
  std::printf("%-38s fwd %.0f%%, fwd+bwd %.0f%% of the FMA peak (1 thread); the bare GEMM %.0f%%", "",
              100 * flop / rf.tapegrad / peak, 100 * 3 * flop / rb.tapegrad / peak, 100 * flop / rf.reference / peak);
  if (rf.libtorch > 0) std::printf("; libtorch %.0f%%, %.0f%%", 100 * flop / rf.libtorch / peak, 100 * 3 * flop / rb.libtorch / peak);
  std::printf("\n");
}

}  // namespace

int main(int, char** argv) {
  bench::run_libtorch_at_its_best(argv);
  bench::print_header(tg::detail::gemm_uses_blas() ? "Linear, matrix products on the BLAS (the default when found), float32"
                                                  : "Linear, matrix products on Eigen's GEMM, float32");
  std::printf("FLOP: fwd 2*B*in*out, fwd+bwd 6*B*in*out. reference: the bare GEMMs (+ bias) on the same data, into\n"
              "preallocated outputs. libtorch fwd runs under NoGradGuard; fwd+bwd resets all grads to none each time.\n");
  const bench::FmaPeak fma = bench::fma_peak();
  const double peak = fma.gflops * 1e9;
  std::printf("measured fp32 peak of this host, 1 thread: %.0f GFLOP/s with %s (chosen by cpuid at run time)\n",
              fma.gflops, fma.isa);
  bench::print_columns();
  std::vector<Shape3> shapes{{1, 768, 768}, {8, 512, 512}, {32, 512, 512}, {256, 1024, 1024}, {4096, 300, 2}};
  if (bench::quick()) shapes = {{1, 64, 64}, {32, 64, 32}};
  for (const Shape3& s : shapes) run_shape(s, peak);
  bench::print_footer();
  return 0;
}
