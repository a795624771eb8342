// SPDX-License-Identifier: MIT
// Linear forward and forward + backward against libtorch and the bare GEMMs of this build (the BLAS
// by default; bench_linear_eigen is the same program on Eigen's GEMM), at (B, in, out) =
// (1, 768, 768), (8, 512, 512), (32, 512, 512), (256, 1024, 1024), (4096, 300, 2). The FMA peak is
// measured on this host with the widest FMA its CPU has. Each shape also runs with the packed AVX2
// GEMM (detail/gemm_packed.hpp) switched off, the dispatch before it, and with every product on it.
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

  // The same programs with the packed AVX2 kernel switched off (the dispatch before it existed:
  // TAPEGRAD_GEMM_PACKED=0 does the same for any program), and the three bare products all on the
  // packed kernel, interleaved in one run so the ratios compare like with like.
  auto& packed_on = tg::detail::gemm_packed_enabled();
  const bool packed_default = packed_on.load();
  const auto without_packed = [&packed_on](const std::function<void()>& f) {
    return [&packed_on, f] {
      packed_on.store(false);
      f();
      packed_on.store(true);
    };
  };
  std::vector<std::function<void()>> fs{fwd.tapegrad, without_packed(fwd.tapegrad), fb.tapegrad,
                                        without_packed(fb.tapegrad), ref_fwd_bwd, without_packed(ref_fwd_bwd)};
  const bool has_packed = tg::detail::cpu_has_avx2_fma();
  if (has_packed)
    fs.push_back([raw, xm, wm, bm, gm, s] {
      Mat& y = std::get<0>(*raw);
      y.rowwise() = bm;
      tg::detail::gemm_packed(false, true, s.b, s.out, s.in, xm.data(), s.in, wm.data(), s.in, y.data(), s.out, true);
      tg::detail::gemm_packed(false, false, s.b, s.in, s.out, gm.data(), s.out, wm.data(), s.in, std::get<1>(*raw).data(), s.in, false);
      tg::detail::gemm_packed(true, false, s.out, s.in, s.b, gm.data(), s.out, xm.data(), s.in, std::get<2>(*raw).data(), s.in, false);
      std::get<3>(*raw) = gm.colwise().sum();
      bench::keep(std::get<3>(*raw).data());
    });
  packed_on.store(true);
  const std::vector<double> t = bench::time_interleaved(fs, bench::quick() ? 1 : 3, bench::quick() ? 1 : 3, bench::quick() ? 0.001 : 0.015);
  packed_on.store(packed_default);
  std::printf("%-38s packed AVX2 GEMM: Linear fwd %.2fx, fwd+bwd %.2fx the speed without it; bare GEMMs fwd+bwd %.0f%% "
              "of peak (without it %.0f%%)", "", t[1] / t[0], t[3] / t[2], 100 * 3 * flop / t[4] / peak, 100 * 3 * flop / t[5] / peak);
  if (has_packed) std::printf(", all three on the packed kernel %.0f%%", 100 * 3 * flop / t[6] / peak);
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
