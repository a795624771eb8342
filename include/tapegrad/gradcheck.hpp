// SPDX-License-Identifier: MIT
// gradcheck: compares the tape's gradients with central finite differences, in double precision.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tapegrad/autograd.hpp"
#include "tapegrad/error.hpp"

namespace tapegrad {

/// Tolerances for gradcheck, with PyTorch's defaults.
struct GradcheckOptions {
  GradcheckOptions& eps(double v) {
    eps_ = v;
    return *this;
  }
  GradcheckOptions& atol(double v) {
    atol_ = v;
    return *this;
  }
  GradcheckOptions& rtol(double v) {
    rtol_ = v;
    return *this;
  }
  double eps() const { return eps_; }
  double atol() const { return atol_; }
  double rtol() const { return rtol_; }

 private:
  double eps_ = 1e-6, atol_ = 1e-5, rtol_ = 1e-3;
};

/// Outcome of gradcheck: converts to bool; `message` names the first mismatching entry.
struct GradcheckResult {
  bool ok = true;
  std::string message;
  explicit operator bool() const noexcept { return ok; }
};

/// Checks d f(inputs) / d inputs[i] for every input that requires grad: the Jacobian from
/// backward() against central differences (f(x + eps) - f(x - eps)) / 2 eps, entry by entry,
/// with |analytical - numerical| <= atol + rtol * |numerical|. The caller's tensors are not
/// touched: f is evaluated on copies. Like torch.autograd.gradcheck, but callable from C++.
/// Example: `REQUIRE(gradcheck([](auto& x) { return tapegrad::exp(x[0]); }, {x}));`
inline GradcheckResult gradcheck(const std::function<Tensor<double>(const std::vector<Tensor<double>>&)>& f,
                                 const std::vector<Tensor<double>>& inputs,
                                 const GradcheckOptions& options = GradcheckOptions()) {
  std::vector<Tensor<double>> xs;
  for (const auto& in : inputs) {
    Tensor<double> copy = detail::copy_of(in.detach());
    if (in.requires_grad()) copy.requires_grad_();
    xs.push_back(copy);
  }
  Tensor<double> out = f(xs);
  const std::int64_t n_out = out.numel();

  // Analytical Jacobian, one backward per output element (row).
  std::vector<std::vector<std::vector<double>>> analytical(xs.size());
  for (std::size_t k = 0; k < xs.size(); ++k)
    if (xs[k].requires_grad())
      analytical[k].assign(static_cast<std::size_t>(n_out), std::vector<double>(static_cast<std::size_t>(xs[k].numel()), 0.0));
  if (out.requires_grad()) {
    for (std::int64_t r = 0; r < n_out; ++r) {
      for (auto& x : xs)
        if (x.requires_grad()) x.mutable_grad() = Tensor<double>();
      Tensor<double> seed = detail::zeros_of<double>(out.shape());
      seed.data()[r] = 1.0;
      out.backward(seed, true);
      for (std::size_t k = 0; k < xs.size(); ++k) {
        if (!xs[k].requires_grad() || !xs[k].grad().defined()) continue;
        const Tensor<double> g = xs[k].grad().to_dense();
        for (std::int64_t c = 0; c < g.numel(); ++c)
          analytical[k][static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] = g.data()[c];
      }
    }
  }

  // Numerical Jacobian, one pair of evaluations per input element (column).
  NoGradGuard no_grad;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    if (!xs[k].requires_grad()) continue;
    for (std::int64_t c = 0; c < xs[k].numel(); ++c) {
      double* p = xs[k].data() + c;
      const double saved = *p;
      *p = saved + options.eps();
      const Tensor<double> plus = f(xs);
      *p = saved - options.eps();
      const Tensor<double> minus = f(xs);
      *p = saved;
      for (std::int64_t r = 0; r < n_out; ++r) {
        const double numerical = (plus.data()[r] - minus.data()[r]) / (2 * options.eps());
        const double a = analytical[k][static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
        if (!(std::abs(a - numerical) <= options.atol() + options.rtol() * std::abs(numerical)))
          return {false, detail::cat("gradcheck: d output[", r, "] / d input", k, "[", c, "]: analytical ", a,
                                     ", numerical ", numerical, " (atol ", options.atol(), ", rtol ", options.rtol(), ")")};
      }
    }
  }
  return {};
}

}  // namespace tapegrad
