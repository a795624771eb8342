// SPDX-License-Identifier: MIT
// Losses (nll_loss, cross_entropy, mse_loss) and cosine_similarity, with PyTorch 1.13's formulas.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "tapegrad/ops/activation.hpp"
#include "tapegrad/ops/pointwise.hpp"
#include "tapegrad/ops/reduce.hpp"
#include "tapegrad/ops/shape.hpp"

namespace tapegrad {

/// How a loss combines its per-element values: keep them all, average them, or add them up.
enum class Reduction { None, Mean, Sum };

/// Options of nll_loss. T is the element type of the class weights; options for float convert to
/// options for double (and back), so `NLLLossOptions().ignore_index(0)` serves every input type.
/// Example: `nll_loss(log_probs, target, NLLLossOptions().ignore_index(0).reduction(Reduction::Sum))`.
template <class T = float>
class NLLLossOptions {
 public:
  NLLLossOptions() = default;
  template <class U>
  NLLLossOptions(const NLLLossOptions<U>& other)  // NOLINT: implicit, see the class comment
      : weight_(other.weight().defined() ? other.weight().detach().template to<T>() : Tensor<T>()),
        ignore_index_(other.ignore_index()),
        reduction_(other.reduction()) {}

  /// A manual rescaling weight per class, shape [C]; it receives no gradient, as in PyTorch.
  NLLLossOptions& weight(const Tensor<T>& w) {
    weight_ = w;
    return *this;
  }
  /// Targets with this value are skipped and do not count towards the mean.
  NLLLossOptions& ignore_index(std::int64_t index) {
    ignore_index_ = index;
    return *this;
  }
  /// None keeps one loss per target, Mean (the default) averages them, Sum adds them up.
  NLLLossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  /// The values set above (an undefined weight means every class weighs 1).
  const Tensor<T>& weight() const { return weight_; }
  std::int64_t ignore_index() const { return ignore_index_; }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor<T> weight_;
  std::int64_t ignore_index_ = -100;
  Reduction reduction_ = Reduction::Mean;
};

/// Options of cross_entropy (class-index targets), the same as NLLLossOptions.
/// Example: `cross_entropy(logits, target, CrossEntropyOptions().ignore_index(0).reduction(Reduction::Sum))`.
template <class T = float>
class CrossEntropyOptions {
 public:
  CrossEntropyOptions() = default;
  template <class U>
  CrossEntropyOptions(const CrossEntropyOptions<U>& other)  // NOLINT: implicit, see NLLLossOptions
      : weight_(other.weight().defined() ? other.weight().detach().template to<T>() : Tensor<T>()),
        ignore_index_(other.ignore_index()),
        reduction_(other.reduction()) {}

  /// A manual rescaling weight per class, shape [C]; it receives no gradient, as in PyTorch.
  CrossEntropyOptions& weight(const Tensor<T>& w) {
    weight_ = w;
    return *this;
  }
  /// Targets with this value are skipped and do not count towards the mean.
  CrossEntropyOptions& ignore_index(std::int64_t index) {
    ignore_index_ = index;
    return *this;
  }
  /// None keeps one loss per target, Mean (the default) averages them, Sum adds them up.
  CrossEntropyOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  /// The values set above (an undefined weight means every class weighs 1).
  const Tensor<T>& weight() const { return weight_; }
  std::int64_t ignore_index() const { return ignore_index_; }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor<T> weight_;
  std::int64_t ignore_index_ = -100;
  Reduction reduction_ = Reduction::Mean;
};

/// Options of mse_loss. Example: `mse_loss(pred, target, MSELossOptions().reduction(Reduction::Sum))`.
class MSELossOptions {
 public:
  /// None keeps one loss per target, Mean (the default) averages them, Sum adds them up.
  MSELossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  Reduction reduction() const { return reduction_; }

 private:
  Reduction reduction_ = Reduction::Mean;
};

namespace detail {

/// Where nll_loss reads: input [N, C, d...] (or [C]) as `batch` blocks of C x `inner` values.
struct NllLayout {
  std::int64_t batch = 1, classes = 0, inner = 1;
};

/// Checks the input, target and weight of nll_loss / cross_entropy (named `op` in messages).
template <class T, class I>
NllLayout check_nll(const char* op, const Tensor<T>& input, const Tensor<I>& target, const Tensor<T>& weight,
                    std::int64_t ignore_index) {
  static_assert(is_index_v<I>, "nll_loss: target must be a Tensor<std::int64_t> or Tensor<std::int32_t> of class indices");
  const Shape& s = input.shape();
  if (s.empty())
    throw ShapeError(cat(op, ": input must have a class dimension ([C], [N, C] or [N, C, d1, ...]), got a 0-d tensor"));
  NllLayout layout;
  Shape expected;
  if (s.size() == 1) {
    layout.classes = s[0];
  } else {
    layout.batch = s[0];
    layout.classes = s[1];
    expected.push_back(s[0]);
    for (std::size_t k = 2; k < s.size(); ++k) {
      expected.push_back(s[k]);
      layout.inner *= s[k];
    }
  }
  if (target.shape() != expected)
    throw ShapeError(cat(op, ": target of shape ", shape_str(target.shape()), " does not fit input of shape ", shape_str(s),
                         "; expected target shape ", shape_str(expected),
                         " (input [C] takes a 0-d target, [N, C, d1, ...] takes [N, d1, ...])"));
  if (weight.defined() && weight.shape() != Shape{layout.classes})
    throw ShapeError(cat(op, ": weight must have shape [", layout.classes, "] (one value per class of input shape ",
                         shape_str(s), "), got ", shape_str(weight.shape())));
  if (weight.defined()) weight.data();  // throws for a sparse weight, before any work
  const I* t = target.data();
  for (std::int64_t i = 0, n = target.numel(); i < n; ++i)
    if (t[i] != ignore_index && (t[i] < 0 || t[i] >= layout.classes))
      throw IndexError(cat(op, ": target ", t[i], at_position(target.shape(), i), " is out of range [0, ", layout.classes,
                           ") for input of shape ", shape_str(s), " (and is not ignore_index ", ignore_index, ")"));
  return layout;
}

/// The negative log likelihood of already checked arguments; records NllLossBackward0.
template <class T, class I>
Tensor<T> nll_loss_checked(const Tensor<T>& log_probs, const Tensor<I>& target, const Tensor<T>& weight,
                           std::int64_t ignore_index, Reduction reduction, const NllLayout& layout) {
  const std::int64_t n = target.numel(), C = layout.classes, inner = layout.inner;
  const T* x = log_probs.data();
  const I* t = target.data();
  const T* w = weight.defined() ? weight.data() : nullptr;
  // Each target's input offset (-1 when ignored) and weight: what forward and backward share.
  std::vector<std::int64_t> at(static_cast<std::size_t>(n));
  std::vector<T> wt(static_cast<std::size_t>(n));
  acc_t<T> total_weight = 0, sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto u = static_cast<std::size_t>(i);
    if (t[i] == ignore_index) {
      at[u] = -1;
      wt[u] = 0;
      continue;
    }
    at[u] = ((i / inner) * C + t[i]) * inner + i % inner;
    wt[u] = w ? w[t[i]] : T(1);
    total_weight += wt[u];
    sum -= static_cast<acc_t<T>>(wt[u]) * x[at[u]];
  }
  Tensor<T> out;
  if (reduction == Reduction::None) {
    out = make_tensor<T>(target.shape());
    for (std::int64_t i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      out.data()[i] = at[u] < 0 ? T(0) : -wt[u] * x[at[u]];
    }
  } else {
    out = scalar_tensor<T>(static_cast<T>(reduction == Reduction::Mean ? sum / total_weight : sum));
  }
  if (should_record(log_probs)) {
    const acc_t<T> scale = reduction == Reduction::Mean ? 1 / total_weight : 1;
    record(out, "NllLossBackward0", edges(log_probs),
           [at = std::move(at), wt = std::move(wt), in_shape = log_probs.shape(), reduction, scale](
               const Tensor<T>& g, GradSink& grads) {
             Tensor<T> gx = zeros_of<T>(in_shape);
             T* o = gx.data();
             const T* gv = g.data();
             for (std::size_t i = 0; i < at.size(); ++i) {
               if (at[i] < 0) continue;
               const T gi = reduction == Reduction::None ? gv[i] : static_cast<T>(gv[0] * scale);
               o[at[i]] = -wt[i] * gi;
             }
             grads.add(0, gx);
           });
  }
  return out;
}

}  // namespace detail

/// The negative log likelihood loss for class-index targets: -log_probs[n, target[n]] (times the
/// class weight), reduced as asked. log_probs is [C], [N, C] or [N, C, d1, ...] and target is 0-d,
/// [N] or [N, d1, ...]. The weighted mean divides by the summed weights of the counted targets,
/// as in PyTorch (NaN when every target is ignored).
template <class T, class I>
Tensor<T> nll_loss(const Tensor<T>& log_probs, const Tensor<I>& target,
                   const NLLLossOptions<detail::scalar_t<T>>& options = {}) {
  static_assert(std::is_floating_point_v<T>, "nll_loss: needs a floating-point input");
  const auto layout = detail::check_nll("nll_loss", log_probs, target, options.weight(), options.ignore_index());
  return detail::nll_loss_checked(log_probs, target, options.weight(), options.ignore_index(), options.reduction(), layout);
}

/// Cross entropy between logits and class-index targets: nll_loss(log_softmax(input, class dim),
/// target), with the class dim 1 (or 0 for a 1-d input), exactly as PyTorch composes it.
template <class T, class I>
Tensor<T> cross_entropy(const Tensor<T>& input, const Tensor<I>& target,
                        const CrossEntropyOptions<detail::scalar_t<T>>& options = {}) {
  static_assert(std::is_floating_point_v<T>, "cross_entropy: needs a floating-point input");
  const auto layout = detail::check_nll("cross_entropy", input, target, options.weight(), options.ignore_index());
  const Tensor<T> log_probs = log_softmax(input, input.dim() == 1 ? 0 : 1);
  return detail::nll_loss_checked(log_probs, target, options.weight(), options.ignore_index(), options.reduction(), layout);
}

/// The squared error (input - target)^2, reduced as asked. Unlike PyTorch, which broadcasts
/// different shapes with a warning (a [N] vs [N, 1] mix-up silently becomes [N, N]), the shapes
/// must be equal.
template <class T>
Tensor<T> mse_loss(const Tensor<T>& input, const Tensor<T>& target, const MSELossOptions& options = {}) {
  static_assert(std::is_floating_point_v<T>, "mse_loss: needs floating-point tensors");
  if (input.shape() != target.shape())
    throw ShapeError(detail::cat("mse_loss: input of shape ", detail::shape_str(input.shape()), " and target of shape ",
                                 detail::shape_str(target.shape()),
                                 " differ; mse_loss needs equal shapes (PyTorch would broadcast them, which is rarely "
                                 "intended). Reshape one of them"));
  Tensor<T> diff = detail::map2(input, target, [](T x, T y) { return x - y; });
  const Reduction reduction = options.reduction();
  const std::int64_t n = diff.numel();
  Tensor<T> out;
  if (reduction == Reduction::None) {
    out = detail::map(diff, [](T d) { return d * d; });
  } else {
    detail::acc_t<T> sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += static_cast<detail::acc_t<T>>(diff.data()[i]) * diff.data()[i];
    out = scalar_tensor<T>(static_cast<T>(reduction == Reduction::Mean ? sum / static_cast<detail::acc_t<T>>(n) : sum));
  }
  if (detail::should_record(input, target))
    detail::record(out, "MseLossBackward0", detail::edges(input, target),
                   [diff, reduction, n](const Tensor<T>& g, detail::GradSink& grads) {
                     Tensor<T> gx;
                     if (reduction == Reduction::None) {
                       gx = detail::map2(diff, g, [](T d, T gv) { return 2 * d * gv; });
                     } else {
                       const T scale = 2 * g.data()[0] / (reduction == Reduction::Mean ? static_cast<T>(n) : T(1));
                       gx = detail::map(diff, [scale](T d) { return scale * d; });
                     }
                     if (grads.wants(1)) grads.add(1, detail::map(gx, [](T v) { return -v; }));
                     grads.add(0, gx);
                   });
  return out;
}

/// Cosine similarity of x1 and x2 (broadcast together) along `dim`, by PyTorch 1.13's formula:
/// sum((x1 / n1) * (x2 / n2)) with n = sqrt(max(sum(x^2), eps^2)). Like PyTorch, the gradient
/// treats the eps clamp as the identity (it differs from the true derivative only for vectors
/// shorter than eps).
template <class T>
Tensor<T> cosine_similarity(const Tensor<T>& x1, const Tensor<T>& x2, std::int64_t dim = 1, double eps = 1e-8) {
  static_assert(std::is_floating_point_v<T>, "cosine_similarity: needs floating-point tensors");
  using A = detail::acc_t<T>;
  const Shape shape = detail::broadcast_shapes("cosine_similarity", x1.shape(), x2.shape());
  const auto d = static_cast<std::size_t>(detail::normalize_dim("cosine_similarity", dim, static_cast<std::int64_t>(shape.size())));
  const Tensor<T> a = x1.shape() == shape ? x1 : detail::expand_copy(x1, shape);
  const Tensor<T> b = x2.shape() == shape ? x2 : detail::expand_copy(x2, shape);
  const std::int64_t len = shape.empty() ? 1 : shape[d];
  Shape out_shape = shape;
  if (!shape.empty()) out_shape.erase(out_shape.begin() + static_cast<std::ptrdiff_t>(d));
  Tensor<T> out = detail::make_tensor<T>(out_shape);
  std::vector<A> n1(static_cast<std::size_t>(out.numel())), n2(n1.size());
  const T *pa = a.data(), *pb = b.data();
  const A floor = static_cast<A>(eps) * static_cast<A>(eps);
  std::size_t line = 0;
  detail::for_each_line(shape, d, [&](std::int64_t start, std::int64_t stride) {
    A s1 = 0, s2 = 0;
    for (std::int64_t k = 0; k < len; ++k) {
      const A u = pa[start + k * stride], v = pb[start + k * stride];
      s1 += u * u;
      s2 += v * v;
    }
    n1[line] = std::sqrt(std::max(s1, floor));
    n2[line] = std::sqrt(std::max(s2, floor));
    A dot = 0;
    for (std::int64_t k = 0; k < len; ++k) dot += (pa[start + k * stride] / n1[line]) * (pb[start + k * stride] / n2[line]);
    out.data()[line++] = static_cast<T>(dot);
  });
  if (detail::should_record(x1, x2))
    detail::record(out, "SumBackward1", detail::edges(x1, x2),
                   [sa = detail::save(a), sb = detail::save(b), y = detail::save(out), n1 = std::move(n1), n2 = std::move(n2), s1 = x1.shape(), s2 = x2.shape(),
                    d, len](const Tensor<T>& g, detail::GradSink& grads) {
                     // With u = x1/n1, v = x2/n2 and y = sum(u v): dx1 = g/n1 (v - y u), dx2 = g/n2 (u - y v).
                     Tensor<T> ga = detail::make_tensor<T>(sa.shape()), gb = detail::make_tensor<T>(sb.shape());
                     const T *xa = sa.data(), *xb = sb.data(), *gv = g.data(), *yv = y.data();
                     T *oa = ga.data(), *ob = gb.data();
                     std::size_t row = 0;
                     detail::for_each_line(sa.shape(), d, [&](std::int64_t start, std::int64_t stride) {
                       const A m1 = n1[row], m2 = n2[row], gl = gv[row], yl = yv[row];
                       for (std::int64_t k = 0; k < len; ++k) {
                         const std::int64_t i = start + k * stride;
                         const A u = xa[i] / m1, v = xb[i] / m2;
                         oa[i] = static_cast<T>(gl / m1 * (v - yl * u));
                         ob[i] = static_cast<T>(gl / m2 * (u - yl * v));
                       }
                       ++row;
                     });
                     if (grads.wants(0)) grads.add(0, detail::sum_to(ga, s1));
                     if (grads.wants(1)) grads.add(1, detail::sum_to(gb, s2));
                   });
  return out;
}

}  // namespace tapegrad
