// SPDX-License-Identifier: MIT
// Embedding and EmbeddingBag against libtorch and the physical reference (plain loops over the
// same table): forward, forward with max_norm, dense and sparse backward, training iterations,
// bag sum/mean forward + backward, and zero_grad on a dense gradient.
// Usage: bench_embedding [substring]   (only cases whose name contains it)
#include <cstring>
#include <memory>

#include <tapegrad/tapegrad.hpp>

#include "suite.hpp"

namespace tg = tapegrad;
namespace F = tapegrad::nn::functional;

namespace {

constexpr float kLr = 0.1f;
constexpr std::int64_t kBag = 16;  // indices per bag in the EmbeddingBag cases

std::string size_name(std::int64_t v, std::int64_t d, std::int64_t b) {
  const std::string vs = v >= 1000000 ? std::to_string(v / 1000000) + "M" : std::to_string(v / 1000) + "k";
  return "V=" + vs + " D=" + std::to_string(d) + " B=" + std::to_string(b);
}

// Everything the cases of one (V, D, B) share. The reference loops read and write the same table
// as tapegrad, through raw pointers.
struct Inputs {
  std::int64_t v, d, b;
  tg::Tensor<float> weight;            // [V, D], no grad; cases make leaves that share it
  std::vector<std::int64_t> idx;       // B uniform indices
  tg::Tensor<std::int64_t> idx_t;      // the same, as a tensor
  tg::Tensor<float> grad_out;          // [B, D]
  tg::Tensor<float> bag_grad_out;      // [B / kBag, D]
  tg::Tensor<std::int64_t> offsets;    // 0, kBag, 2 kBag, ...
};

// ---- the physical references: plain loops, no framework ----------------------------------------------

struct RefBuffers {
  std::vector<float> out, grad, values;
  std::vector<std::int64_t> rows;
};

void ref_gather(const Inputs& in, float* out) {
  const float* w = in.weight.data();
  const auto row = static_cast<std::size_t>(in.d) * sizeof(float);
  for (std::int64_t i = 0; i < in.b; ++i) std::memcpy(out + i * in.d, w + in.idx[static_cast<std::size_t>(i)] * in.d, row);
}

void ref_scatter(const Inputs& in, float* grad, const float* g) {
  for (std::int64_t i = 0; i < in.b; ++i) {
    float* dst = grad + in.idx[static_cast<std::size_t>(i)] * in.d;
    const float* src = g + i * in.d;
    for (std::int64_t j = 0; j < in.d; ++j) dst[j] += src[j];
  }
}

// ---- the cases ----------------------------------------------------------------------------------------------

std::string faults_note(const std::function<void()>& f) {
  f();  // the first call allocates the buffers the later ones reuse: count steady state only
  const long f0 = bench::minor_faults();
  for (int i = 0; i < 3; ++i) f();
  const long per = (bench::minor_faults() - f0) / 3;
  return "faults/iter " + std::to_string(per);
}

void forward_cases(Inputs& in) {
  const std::string size = size_name(in.v, in.d, in.b);
  const double bytes = 2.0 * static_cast<double>(in.b * in.d) * 4;
  auto ref = std::make_shared<RefBuffers>();
  ref->out.resize(static_cast<std::size_t>(in.b * in.d));
  auto gather = [&in, ref] {
    ref_gather(in, ref->out.data());
    bench::keep(ref->out.data());
  };
  bench::Case fwd{"fwd " + size,
                  [&in] {
                    tg::NoGradGuard no_grad;
                    auto y = F::embedding(in.idx_t, in.weight);
                    bench::keep(y.data());
                  },
                  torch_peer::embedding_forward(in.v, in.d, in.idx, false), gather, bytes, false, ""};
  bench::run(fwd);

  bench::Case max_norm{"fwd max_norm=1 " + size,
                       [&in] {
                         tg::NoGradGuard no_grad;
                         auto y = F::embedding(in.idx_t, in.weight, F::EmbeddingFuncOptions().max_norm(1.0));
                         bench::keep(y.data());
                       },
                       torch_peer::embedding_forward(in.v, in.d, in.idx, true), gather, bytes, false, ""};
  max_norm.tapegrad();  // the first call renormalises the rows; the steady state only checks norms
  const bench::Result r = bench::run(max_norm);
  std::printf("%-38s %10.1f ns per looked-up row (target <= 50)", "  max_norm per row", r.tapegrad / static_cast<double>(in.b) * 1e9);
  if (r.libtorch > 0) std::printf("; libtorch %.1f ns", r.libtorch / static_cast<double>(in.b) * 1e9);
  std::printf("\n");
}

void backward_cases(Inputs& in) {
  const std::string size = size_name(in.v, in.d, in.b);
  const double vd = static_cast<double>(in.v * in.d), bd = static_cast<double>(in.b * in.d);
  auto ref = std::make_shared<RefBuffers>();
  for (bool sparse : {false, true}) {
    // The backward alone: a graph recorded once and kept, the gradient reset before each run.
    tg::Tensor<float> leaf = in.weight.detach().requires_grad_();
    tg::Tensor<float> y = F::embedding(in.idx_t, leaf, F::EmbeddingFuncOptions().sparse(sparse));
    std::function<void()> ours = [leaf, y, g = in.grad_out]() mutable {
      leaf.mutable_grad() = tg::Tensor<float>();
      y.backward(g, /*retain_graph=*/true);
    };
    std::function<void()> reference;
    double bytes;
    if (sparse) {
      ref->values.resize(static_cast<std::size_t>(in.b * in.d));
      ref->rows.resize(static_cast<std::size_t>(in.b));
      reference = [&in, ref] {
        std::memcpy(ref->values.data(), in.grad_out.data(), static_cast<std::size_t>(in.b * in.d) * sizeof(float));
        std::memcpy(ref->rows.data(), in.idx.data(), static_cast<std::size_t>(in.b) * sizeof(std::int64_t));
        bench::keep(ref->values.data());
      };
      bytes = 2 * bd * 4;
    } else {
      ref->grad.assign(static_cast<std::size_t>(in.v * in.d), 0.0f);
      reference = [&in, ref] {
        std::memset(ref->grad.data(), 0, ref->grad.size() * sizeof(float));
        ref_scatter(in, ref->grad.data(), in.grad_out.data());
        bench::keep(ref->grad.data());
      };
      bytes = (vd + 3 * bd) * 4;
    }
    bench::Case c{std::string(sparse ? "bwd sparse " : "bwd dense ") + size, ours,
                  torch_peer::embedding_backward(in.v, in.d, in.idx, sparse), reference, bytes, false,
                  faults_note(ours)};
    bench::run(c);
    ref->grad = {};
  }
}

void train_cases(Inputs& in) {
  const std::string size = size_name(in.v, in.d, in.b);
  const double vd = static_cast<double>(in.v * in.d), bd = static_cast<double>(in.b * in.d);
  auto ref = std::make_shared<RefBuffers>();
  ref->out.resize(static_cast<std::size_t>(in.b * in.d));
  for (bool sparse : {false, true}) {
    tg::Tensor<float> leaf = in.weight.detach().requires_grad_();
    auto opt = std::make_shared<tg::optim::SGD<float>>(std::vector<tg::Tensor<float>>{leaf}, tg::optim::SGDOptions(kLr));
    const auto options = F::EmbeddingFuncOptions().sparse(sparse);
    std::function<void()> ours = [&in, leaf, opt, options] {
      opt->zero_grad();
      auto y = F::embedding(in.idx_t, leaf, options);
      y.backward(in.grad_out);
      opt->step();
    };
    std::function<void()> reference;
    double bytes;
    if (sparse) {  // gather, then each looked-up row moves by its gradient row
      reference = [&in, ref] {
        ref_gather(in, ref->out.data());
        bench::keep(ref->out.data());
        float* w = in.weight.detach().data();
        const float* g = in.grad_out.data();
        for (std::int64_t i = 0; i < in.b; ++i) {
          float* row = w + in.idx[static_cast<std::size_t>(i)] * in.d;
          for (std::int64_t j = 0; j < in.d; ++j) row[j] -= kLr * g[i * in.d + j];
        }
      };
      bytes = 5 * bd * 4;
    } else {  // zero a reused V x D gradient, gather, scatter, then SGD over the whole table
      ref->grad.assign(static_cast<std::size_t>(in.v * in.d), 0.0f);
      reference = [&in, ref] {
        std::memset(ref->grad.data(), 0, ref->grad.size() * sizeof(float));
        ref_gather(in, ref->out.data());
        bench::keep(ref->out.data());
        ref_scatter(in, ref->grad.data(), in.grad_out.data());
        float* w = in.weight.detach().data();
        const float* g = ref->grad.data();
        for (std::int64_t j = 0, n = in.v * in.d; j < n; ++j) w[j] -= kLr * g[j];
      };
      bytes = (4 * vd + 5 * bd) * 4;
      // tapegrad's dense gradient knows the rows backward wrote (design.md, "Dirty rows"): up to
      // a quarter of the table it zeroes and updates only those, so its rate counts what it moves.
      std::vector<bool> seen(static_cast<std::size_t>(in.v), false);
      double unique = 0;
      for (std::int64_t k : in.idx) unique += !seen[static_cast<std::size_t>(k)] && (seen[static_cast<std::size_t>(k)] = true);
      if (unique * 4 <= static_cast<double>(in.v)) bytes = (3 * bd + 6 * unique * static_cast<double>(in.d)) * 4;
    }
    bench::Case c{std::string(sparse ? "train sparse " : "train dense ") + size, ours,
                  torch_peer::embedding_train(in.v, in.d, in.idx, sparse), reference, bytes, false, faults_note(ours)};
    bench::run(c);

    if (!sparse && in.b == 32) {  // zero_grad on the dense V x D gradient against memset of a mapped buffer
      // The gradient is first marked as written from outside backward (a non-const data()), so
      // zero_grad cannot know which rows to clear and clears all: the case the byte model counts.
      std::function<void()> zero = [opt, leaf] {
        tg::Tensor<float> g = leaf.grad();
        bench::keep(g.data());
        opt->zero_grad();
      };
      std::function<void()> memset_ref = [ref] {
        std::memset(ref->grad.data(), 0, ref->grad.size() * sizeof(float));
        bench::keep(ref->grad.data());
      };
      bench::Case z{"zero_grad dense V=" + size.substr(2, size.find(" B=") - 2), zero, {}, memset_ref, vd * 4, false,
                    faults_note(zero)};
      bench::run(z);
    }
    ref->grad = {};
  }
}

void bag_cases(Inputs& in) {
  const std::string size = size_name(in.v, in.d, in.b);
  const double vd = static_cast<double>(in.v * in.d), bd = static_cast<double>(in.b * in.d);
  const std::int64_t bags = in.b / kBag;
  auto ref = std::make_shared<RefBuffers>();
  ref->out.resize(static_cast<std::size_t>(bags * in.d));
  ref->grad.assign(static_cast<std::size_t>(in.v * in.d), 0.0f);
  for (int mode : {0, 1}) {
    tg::Tensor<float> leaf = in.weight.detach().requires_grad_();
    const auto options =
        F::EmbeddingBagFuncOptions().mode(mode == 0 ? tg::nn::EmbeddingBagMode::Sum : tg::nn::EmbeddingBagMode::Mean);
    std::function<void()> ours = [&in, leaf, options]() mutable {
      leaf.mutable_grad() = tg::Tensor<float>();
      auto y = F::embedding_bag(in.idx_t, leaf, in.offsets, tg::Tensor<float>(), options);
      y.backward(in.bag_grad_out);
    };
    // Reduce each bag, then zero a reused V x D gradient and scatter each bag's gradient row.
    std::function<void()> reference = [&in, ref, bags, mode] {
      const float* w = in.weight.data();
      const float scale = mode == 0 ? 1.0f : 1.0f / static_cast<float>(kBag);
      for (std::int64_t b = 0; b < bags; ++b) {
        float* o = ref->out.data() + b * in.d;
        std::memset(o, 0, static_cast<std::size_t>(in.d) * sizeof(float));
        for (std::int64_t i = b * kBag; i < (b + 1) * kBag; ++i) {
          const float* row = w + in.idx[static_cast<std::size_t>(i)] * in.d;
          for (std::int64_t j = 0; j < in.d; ++j) o[j] += row[j];
        }
        for (std::int64_t j = 0; j < in.d; ++j) o[j] *= scale;
      }
      bench::keep(ref->out.data());
      std::memset(ref->grad.data(), 0, ref->grad.size() * sizeof(float));
      const float* g = in.bag_grad_out.data();
      for (std::int64_t i = 0; i < in.b; ++i) {
        float* dst = ref->grad.data() + in.idx[static_cast<std::size_t>(i)] * in.d;
        const float* src = g + (i / kBag) * in.d;
        for (std::int64_t j = 0; j < in.d; ++j) dst[j] += src[j] * scale;
      }
      bench::keep(ref->grad.data());
    };
    bench::Case c{std::string(mode == 0 ? "bag sum fwd+bwd " : "bag mean fwd+bwd ") + size, ours,
                  torch_peer::embedding_bag_train(in.v, in.d, in.idx, kBag, mode), reference, (vd + 3 * bd) * 4, false,
                  faults_note(ours)};
    bench::run(c);
  }
}

bool selected(const std::string& group, const char* filter) { return !filter || group.find(filter) != std::string::npos; }

}  // namespace

int main(int argc, char** argv) {
  bench::run_libtorch_at_its_best(argv);
  const char* filter = argc > 1 ? argv[1] : nullptr;
  bench::print_header("Embedding / EmbeddingBag (float32, uniform indices)");
  std::printf("byte models (fp32): fwd 2BD; bwd dense (VD + 3BD); bwd sparse 2BD; train dense (4VD + 5BD, SGD over\n"
              "the whole table; 3BD + 6UD when the U unique rows are at most V/4, as tapegrad then touches only\n"
              "those); train sparse 5BD; bag fwd+bwd (VD + 3BD); zero_grad VD (of a gradient written outside\n"
              "backward). EmbeddingBag: bags of %lld.\n"
              "reference: plain loops on the same table (memcpy gather, memset + scatter-add, SGD loop)\n",
              static_cast<long long>(kBag));
  bench::print_columns();
  const std::vector<std::int64_t> vs = bench::quick() ? std::vector<std::int64_t>{10000} : std::vector<std::int64_t>{10000, 1000000};
  const std::vector<std::int64_t> ds = bench::quick() ? std::vector<std::int64_t>{64} : std::vector<std::int64_t>{64, 300};
  const std::vector<std::int64_t> bs = bench::quick() ? std::vector<std::int64_t>{32, 4096} : std::vector<std::int64_t>{32, 4096, 65536};
  for (std::int64_t v : vs)
    for (std::int64_t d : ds) {
      tg::Tensor<float> weight = tg::empty<float>({v, d});
      bench::fill_unit_variance(weight.data(), v * d);
      for (std::int64_t b : bs) {
        Inputs in{v, d, b, weight, bench::uniform_indices(v, b), {}, {}, {}, {}};
        in.idx_t = tg::tensor<std::int64_t>(in.idx, {b});
        in.grad_out = tg::empty<float>({b, d});
        bench::fill_unit_variance(in.grad_out.data(), b * d, 11);
        in.bag_grad_out = tg::empty<float>({b / kBag, d});
        bench::fill_unit_variance(in.bag_grad_out.data(), (b / kBag) * d, 13);
        in.offsets = tg::arange<std::int64_t>(0, static_cast<double>(b), static_cast<double>(kBag));
        const std::string size = size_name(v, d, b);
        if (selected("fwd " + size, filter)) forward_cases(in);
        if (selected("bwd " + size, filter)) backward_cases(in);
        if (selected("train " + size, filter)) train_cases(in);
        if (selected("bag " + size, filter)) bag_cases(in);
        tg::release_cached_memory();  // each size starts from the same state
      }
    }
  bench::print_footer();
  return 0;
}
