// SPDX-License-Identifier: MIT
// Losses (nll_loss, cross_entropy, the regression, binary and margin losses) and the distance
// functions (cosine_similarity, normalize, pairwise_distance), with PyTorch 1.13's formulas.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tapegrad/ops/activation.hpp"
#include "tapegrad/ops/compare.hpp"
#include "tapegrad/ops/pointwise.hpp"
#include "tapegrad/ops/reduce.hpp"
#include "tapegrad/ops/shape.hpp"
#include "tapegrad/ops/sort.hpp"

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
        reduction_(other.reduction()),
        label_smoothing_(other.label_smoothing()) {}

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
  /// Mixes the one-hot target with the uniform distribution: the target becomes
  /// (1 - label_smoothing) * one_hot + label_smoothing / C. In [0, 1]; 0 (the default) is off.
  CrossEntropyOptions& label_smoothing(double amount) {
    label_smoothing_ = amount;
    return *this;
  }
  /// The values set above (an undefined weight means every class weighs 1).
  const Tensor<T>& weight() const { return weight_; }
  std::int64_t ignore_index() const { return ignore_index_; }
  Reduction reduction() const { return reduction_; }
  double label_smoothing() const { return label_smoothing_; }

 private:
  Tensor<T> weight_;
  std::int64_t ignore_index_ = -100;
  Reduction reduction_ = Reduction::Mean;
  double label_smoothing_ = 0.0;
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

/// Options of l1_loss. Example: `l1_loss(pred, target, L1LossOptions().reduction(Reduction::Sum))`.
class L1LossOptions {
 public:
  /// None keeps one loss per element, Mean (the default) averages them, Sum adds them up.
  L1LossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  Reduction reduction() const { return reduction_; }

 private:
  Reduction reduction_ = Reduction::Mean;
};

/// Options of smooth_l1_loss. Example: `smooth_l1_loss(pred, target, SmoothL1LossOptions().beta(0.5))`.
class SmoothL1LossOptions {
 public:
  /// None keeps one loss per element, Mean (the default) averages them, Sum adds them up.
  SmoothL1LossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  /// Where the loss turns from quadratic to linear (default 1.0; >= 0, and 0 is l1_loss).
  SmoothL1LossOptions& beta(double b) {
    beta_ = b;
    return *this;
  }
  Reduction reduction() const { return reduction_; }
  double beta() const { return beta_; }

 private:
  Reduction reduction_ = Reduction::Mean;
  double beta_ = 1.0;
};

/// Options of huber_loss. Example: `huber_loss(pred, target, HuberLossOptions().delta(2.0))`.
class HuberLossOptions {
 public:
  /// None keeps one loss per element, Mean (the default) averages them, Sum adds them up.
  HuberLossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  /// Where the loss turns from quadratic to linear (default 1.0; must be > 0).
  HuberLossOptions& delta(double d) {
    delta_ = d;
    return *this;
  }
  Reduction reduction() const { return reduction_; }
  double delta() const { return delta_; }

 private:
  Reduction reduction_ = Reduction::Mean;
  double delta_ = 1.0;
};

/// Options of binary_cross_entropy. T is the element type of the weight; options for float convert
/// to options for double (and back), as NLLLossOptions.
/// Example: `binary_cross_entropy(probs, target, BCELossOptions().weight(w).reduction(Reduction::Sum))`.
template <class T = float>
class BCELossOptions {
 public:
  BCELossOptions() = default;
  template <class U>
  BCELossOptions(const BCELossOptions<U>& other)  // NOLINT: implicit, see the class comment
      : weight_(other.weight().defined() ? other.weight().detach().template to<T>() : Tensor<T>()),
        reduction_(other.reduction()) {}

  /// A manual rescaling weight of each element's loss, broadcast to the input's shape; it receives
  /// no gradient.
  BCELossOptions& weight(const Tensor<T>& w) {
    weight_ = w;
    return *this;
  }
  /// None keeps one loss per element, Mean (the default) averages them, Sum adds them up.
  BCELossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  const Tensor<T>& weight() const { return weight_; }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor<T> weight_;
  Reduction reduction_ = Reduction::Mean;
};

/// Options of binary_cross_entropy_with_logits, converting between float and double as BCELossOptions.
/// Example: `binary_cross_entropy_with_logits(logits, target, BCEWithLogitsLossOptions().pos_weight(pw))`.
template <class T = float>
class BCEWithLogitsLossOptions {
 public:
  BCEWithLogitsLossOptions() = default;
  template <class U>
  BCEWithLogitsLossOptions(const BCEWithLogitsLossOptions<U>& other)  // NOLINT: implicit, see BCELossOptions
      : weight_(other.weight().defined() ? other.weight().detach().template to<T>() : Tensor<T>()),
        pos_weight_(other.pos_weight().defined() ? other.pos_weight().detach().template to<T>() : Tensor<T>()),
        reduction_(other.reduction()) {}

  /// A manual rescaling weight of each element's loss, broadcast to the input's shape; it receives
  /// no gradient.
  BCEWithLogitsLossOptions& weight(const Tensor<T>& w) {
    weight_ = w;
    return *this;
  }
  /// A weight of the positive term, usually one per class (shape [C], broadcast over the batch):
  /// > 1 raises recall, < 1 precision. It receives no gradient.
  BCEWithLogitsLossOptions& pos_weight(const Tensor<T>& w) {
    pos_weight_ = w;
    return *this;
  }
  /// None keeps one loss per element, Mean (the default) averages them, Sum adds them up.
  BCEWithLogitsLossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  const Tensor<T>& weight() const { return weight_; }
  const Tensor<T>& pos_weight() const { return pos_weight_; }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor<T> weight_, pos_weight_;
  Reduction reduction_ = Reduction::Mean;
};

/// Options of cosine_embedding_loss. Example: `CosineEmbeddingLossOptions().margin(0.5)`.
class CosineEmbeddingLossOptions {
 public:
  /// Dissimilar pairs (y = -1) are penalised while their cosine exceeds this (default 0).
  CosineEmbeddingLossOptions& margin(double m) {
    margin_ = m;
    return *this;
  }
  /// None keeps one loss per pair, Mean (the default) averages them, Sum adds them up.
  CosineEmbeddingLossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  double margin() const { return margin_; }
  Reduction reduction() const { return reduction_; }

 private:
  double margin_ = 0.0;
  Reduction reduction_ = Reduction::Mean;
};

/// Options of margin_ranking_loss. Example: `MarginRankingLossOptions().margin(1.0)`.
class MarginRankingLossOptions {
 public:
  /// How far the preferred input must lead before the loss is 0 (default 0).
  MarginRankingLossOptions& margin(double m) {
    margin_ = m;
    return *this;
  }
  /// None keeps one loss per pair, Mean (the default) averages them, Sum adds them up.
  MarginRankingLossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  double margin() const { return margin_; }
  Reduction reduction() const { return reduction_; }

 private:
  double margin_ = 0.0;
  Reduction reduction_ = Reduction::Mean;
};

/// Options of triplet_margin_loss. Example: `TripletMarginLossOptions().margin(2.0).swap(true)`.
class TripletMarginLossOptions {
 public:
  /// How much closer the positive must be than the negative (default 1.0).
  TripletMarginLossOptions& margin(double m) {
    margin_ = m;
    return *this;
  }
  /// The norm of the pairwise distance (default 2).
  TripletMarginLossOptions& p(double norm) {
    p_ = norm;
    return *this;
  }
  /// Added to the differences before the norm, so the distance of equal vectors has a gradient (default 1e-6).
  TripletMarginLossOptions& eps(double e) {
    eps_ = e;
    return *this;
  }
  /// Use the positive-negative distance instead when it is smaller (the "distance swap"; default false).
  TripletMarginLossOptions& swap(bool on) {
    swap_ = on;
    return *this;
  }
  /// None keeps one loss per triplet, Mean (the default) averages them, Sum adds them up.
  TripletMarginLossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  double margin() const { return margin_; }
  double p() const { return p_; }
  double eps() const { return eps_; }
  bool swap() const { return swap_; }
  Reduction reduction() const { return reduction_; }

 private:
  double margin_ = 1.0, p_ = 2.0, eps_ = 1e-6;
  bool swap_ = false;
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

namespace detail {

/// PyTorch 1.13's label-smoothing term of cross_entropy: minus the (class-weighted) sum of the
/// log-probabilities over the classes, 0 at ignored targets, reduced like nll_loss (the weighted
/// mean divides by the summed weights of the counted targets).
template <class T, class I>
Tensor<T> smoothing_term(const Tensor<T>& log_probs, const Tensor<I>& target, const CrossEntropyOptions<T>& options,
                         std::int64_t class_dim, std::int64_t classes) {
  const Tensor<T>& weight = options.weight();
  Tensor<T> per_class = log_probs;
  if (weight.defined()) {
    Shape along_classes(log_probs.shape().size(), 1);
    along_classes[static_cast<std::size_t>(class_dim)] = classes;
    per_class = log_probs * weight.detach().reshape(along_classes);
  }
  Tensor<bool> ignored = make_tensor<bool>(target.shape());
  acc_t<T> counted_weight = 0;  // the mean's divisor
  for (std::int64_t i = 0, n = target.numel(); i < n; ++i) {
    const I t = target.data()[i];
    ignored.data()[i] = t == options.ignore_index();
    if (!ignored.data()[i]) counted_weight += weight.defined() ? weight.data()[t] : T(1);
  }
  const Tensor<T> smooth = masked_fill(neg(sum(per_class, class_dim)), ignored, T(0));
  switch (options.reduction()) {
    case Reduction::None: return smooth;
    case Reduction::Sum: return sum(smooth);
    case Reduction::Mean: break;
  }
  return sum(smooth) / static_cast<T>(counted_weight);
}

}  // namespace detail

/// Cross entropy between logits and class-index targets: nll_loss(log_softmax(input, class dim),
/// target), with the class dim 1 (or 0 for a 1-d input), exactly as PyTorch composes it. With
/// label_smoothing = s > 0 it is, as PyTorch 1.13, (1 - s) * that + s / C * (the smoothing term:
/// minus the class-weighted sum of the log-probabilities, reduced the same way).
template <class T, class I>
Tensor<T> cross_entropy(const Tensor<T>& input, const Tensor<I>& target,
                        const CrossEntropyOptions<detail::scalar_t<T>>& options = {}) {
  static_assert(std::is_floating_point_v<T>, "cross_entropy: needs a floating-point input");
  const double smoothing = options.label_smoothing();
  if (!(smoothing >= 0 && smoothing <= 1))
    throw ValueError(detail::cat("cross_entropy: label_smoothing = ", smoothing, " is out of range; it must be between 0.0 and 1.0"));
  const auto layout = detail::check_nll("cross_entropy", input, target, options.weight(), options.ignore_index());
  const std::int64_t class_dim = input.dim() == 1 ? 0 : 1;
  const Tensor<T> log_probs = log_softmax(input, class_dim);
  const Tensor<T> nll =
      detail::nll_loss_checked(log_probs, target, options.weight(), options.ignore_index(), options.reduction(), layout);
  if (smoothing == 0) return nll;
  const Tensor<T> smooth = detail::smoothing_term(log_probs, target, options, class_dim, layout.classes);
  return nll * static_cast<T>(1 - smoothing) + smooth * static_cast<T>(smoothing / static_cast<double>(layout.classes));
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


// ---- element-wise losses -------------------------------------------------------------------------------

namespace detail {

/// Applies a loss's reduction to its per-element values (Mean of an empty tensor is NaN, as PyTorch).
template <class T>
Tensor<T> reduce_loss(const Tensor<T>& losses, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return losses;
    case Reduction::Sum: return sum(losses);
    case Reduction::Mean: break;
  }
  return mean(losses);
}

/// Throws a ShapeError naming both shapes unless they are equal. Unlike PyTorch, which broadcasts
/// (with a warning) in l1/smooth_l1/huber, tapegrad refuses: a [N] vs [N, 1] mix-up would become [N, N].
inline void check_equal_shapes(const char* op, const char* a, const Shape& sa, const char* b, const Shape& sb) {
  if (sa != sb)
    throw ShapeError(cat(op, ": ", a, " of shape ", shape_str(sa), " and ", b, " of shape ", shape_str(sb),
                         " differ; they must have the same shape"));
}

/// A loss's per-element weight broadcast to `shape` (a detached copy: weights get no gradient), or
/// an undefined tensor when there is none.
template <class T>
Tensor<T> weight_to(const char* op, const char* what, const Tensor<T>& weight, const Shape& shape) {
  if (!weight.defined()) return weight;
  const Shape& ws = weight.shape();
  bool fits = ws.size() <= shape.size();
  for (std::size_t k = 0; fits && k < ws.size(); ++k) {
    const std::int64_t have = ws[ws.size() - 1 - k], want = shape[shape.size() - 1 - k];
    fits = have == want || have == 1;
  }
  if (!fits)
    throw ShapeError(cat(op, ": ", what, " of shape ", shape_str(ws), " does not broadcast to the input shape ",
                         shape_str(shape)));
  return expand_copy(weight.detach(), shape);
}

/// The per-element loss l[i] = value(i, x[i], t[i]) of a same-shaped input and target, recorded as
/// `node` with the derivatives dx(i, x, t) and dt(i, x, t); `i` lets them read per-element weights.
template <class T, class Value, class DX, class DT>
Tensor<T> pointwise_loss(const char* node, const Tensor<T>& input, const Tensor<T>& target, Value value, DX dx, DT dt) {
  Tensor<T> out = make_tensor<T>(input.shape());
  const T *x = input.data(), *t = target.data();
  T* o = out.data();
  for (std::int64_t i = 0, n = out.numel(); i < n; ++i) o[i] = value(i, x[i], t[i]);
  if (should_record(input, target))
    record(out, node, edges(input, target),
           [xs = save(input), ts = save(target), dx, dt](const Tensor<T>& g, GradSink& grads) {
             const T *xv = xs.data(), *tv = ts.data(), *gv = g.data();
             if (grads.wants(0)) {
               Tensor<T> gx = make_tensor<T>(g.shape());
               T* dst = gx.data();
               for (std::int64_t i = 0, n = g.numel(); i < n; ++i) dst[i] = gv[i] * dx(i, xv[i], tv[i]);
               grads.add(0, gx);
             }
             if (grads.wants(1)) {
               Tensor<T> gt = make_tensor<T>(g.shape());
               T* dst = gt.data();
               for (std::int64_t i = 0, n = g.numel(); i < n; ++i) dst[i] = gv[i] * dt(i, xv[i], tv[i]);
               grads.add(1, gt);
             }
           });
  return out;
}

template <class T>
T sign_of(T v) {
  return v > 0 ? T(1) : (v < 0 ? T(-1) : T(0));  // sign(0) = 0, as PyTorch's abs backward
}

/// Throws a ValueError naming the first element of `t` outside [0, 1] (NaN included).
template <class T>
void check_probabilities(const char* op, const char* what, const Tensor<T>& t) {
  const T* v = t.data();
  for (std::int64_t i = 0, n = t.numel(); i < n; ++i)
    if (!(v[i] >= 0 && v[i] <= 1))
      throw ValueError(cat(op, ": ", what, " ", v[i], at_position(t.shape(), i),
                           " is outside [0, 1]; every element of ", what, " must be a probability"));
}

}  // namespace detail

/// The absolute error |input - target|, reduced as asked (torch.nn.functional.l1_loss). The shapes
/// must be equal (PyTorch would broadcast them with a warning).
template <class T>
Tensor<T> l1_loss(const Tensor<T>& input, const Tensor<T>& target, const L1LossOptions& options = {}) {
  static_assert(std::is_floating_point_v<T>, "l1_loss: needs floating-point tensors");
  detail::check_equal_shapes("l1_loss", "input", input.shape(), "target", target.shape());
  const Tensor<T> losses = detail::pointwise_loss(
      "AbsBackward0", input, target, [](std::int64_t, T x, T t) { return std::abs(x - t); },
      [](std::int64_t, T x, T t) { return detail::sign_of(x - t); },
      [](std::int64_t, T x, T t) { return -detail::sign_of(x - t); });
  return detail::reduce_loss(losses, options.reduction());
}

/// The smooth L1 loss (torch.nn.functional.smooth_l1_loss): with d = input - target, 0.5 d^2 / beta
/// where |d| < beta, else |d| - 0.5 beta. beta must be >= 0; beta = 0 gives l1_loss's values (the
/// gradient at d = 0 is then -1 for input and target alike, as PyTorch's).
template <class T>
Tensor<T> smooth_l1_loss(const Tensor<T>& input, const Tensor<T>& target, const SmoothL1LossOptions& options = {}) {
  static_assert(std::is_floating_point_v<T>, "smooth_l1_loss: needs floating-point tensors");
  const double beta_value = options.beta();
  if (!(beta_value >= 0))
    throw ValueError(detail::cat("smooth_l1_loss: beta = ", beta_value, " is invalid; beta must be >= 0 (0 gives l1_loss)"));
  detail::check_equal_shapes("smooth_l1_loss", "input", input.shape(), "target", target.shape());
  const T beta = static_cast<T>(beta_value);
  // PyTorch's derivative by x of the loss at x - t: the <= and >= order makes beta = 0 give -1 at
  // d = 0, and the target's derivative is the same function with the arguments swapped (so it is
  // -1 there too, not +1): both are subgradients of |d|, kept so gradients match PyTorch's.
  auto slope = [beta](std::int64_t, T x, T t) {
    const T d = x - t;
    return d <= -beta ? T(-1) : (d >= beta ? T(1) : d / beta);
  };
  const Tensor<T> losses = detail::pointwise_loss(
      "SmoothL1LossBackward0", input, target,
      [beta](std::int64_t, T x, T t) {
        const T z = std::abs(x - t);
        return z < beta ? T(0.5) * z * z / beta : z - T(0.5) * beta;
      },
      slope, [slope](std::int64_t i, T x, T t) { return slope(i, t, x); });
  return detail::reduce_loss(losses, options.reduction());
}

/// The Huber loss (torch.nn.functional.huber_loss): with d = input - target, 0.5 d^2 where
/// |d| < delta, else delta (|d| - 0.5 delta). delta must be > 0. It is smooth_l1_loss times delta
/// (with beta = delta).
template <class T>
Tensor<T> huber_loss(const Tensor<T>& input, const Tensor<T>& target, const HuberLossOptions& options = {}) {
  static_assert(std::is_floating_point_v<T>, "huber_loss: needs floating-point tensors");
  const double delta_value = options.delta();
  if (!(delta_value > 0))
    throw ValueError(detail::cat("huber_loss: delta = ", delta_value, " is invalid; delta must be > 0"));
  detail::check_equal_shapes("huber_loss", "input", input.shape(), "target", target.shape());
  const T delta = static_cast<T>(delta_value);
  auto slope = [delta](std::int64_t, T x, T t) {
    const T d = x - t;
    return d <= -delta ? -delta : (d >= delta ? delta : d);
  };
  const Tensor<T> losses = detail::pointwise_loss(
      "HuberLossBackward0", input, target,
      [delta](std::int64_t, T x, T t) {
        const T z = std::abs(x - t);
        return z < delta ? T(0.5) * z * z : delta * (z - T(0.5) * delta);
      },
      slope, [slope](std::int64_t i, T x, T t) { return -slope(i, x, t); });
  return detail::reduce_loss(losses, options.reduction());
}

/// Binary cross entropy between probabilities and targets (torch.nn.functional.binary_cross_entropy):
/// -w (t log(x) + (1 - t) log(1 - x)), each log clamped at -100 as in PyTorch so x = 0 or 1 stays
/// finite. input and target must have the same shape and lie in [0, 1] (PyTorch checks only the
/// input; a target outside [0, 1] makes the loss unbounded below, so tapegrad refuses it too).
template <class T>
Tensor<T> binary_cross_entropy(const Tensor<T>& input, const Tensor<T>& target,
                               const BCELossOptions<detail::scalar_t<T>>& options = {}) {
  static_assert(std::is_floating_point_v<T>, "binary_cross_entropy: needs floating-point tensors");
  const char* op = "binary_cross_entropy";
  detail::check_equal_shapes(op, "input", input.shape(), "target", target.shape());
  const Tensor<T> w = detail::weight_to(op, "weight", options.weight(), input.shape());
  detail::check_probabilities(op, "input", input);
  detail::check_probabilities(op, "target", target);
  const T* wv = w.defined() ? w.data() : nullptr;
  auto weight_at = [w, wv](std::int64_t i) { return wv ? wv[i] : T(1); };  // w keeps wv alive
  const Tensor<T> losses = detail::pointwise_loss(
      "BinaryCrossEntropyBackward0", input, target,
      [weight_at](std::int64_t i, T x, T t) {
        const T floor = -100;
        return weight_at(i) * ((t - 1) * std::max(std::log(1 - x), floor) - t * std::max(std::log(x), floor));
      },
      // PyTorch's derivative, (x - t) / max(x (1 - x), 1e-12), bounded at x = 0 and 1
      [weight_at](std::int64_t i, T x, T t) { return weight_at(i) * (x - t) / std::max((1 - x) * x, T(1e-12)); },
      [weight_at](std::int64_t i, T x, T) { return -weight_at(i) * std::log(x / (1 - x)); });
  return detail::reduce_loss(losses, options.reduction());
}

/// Binary cross entropy on logits, sigmoid folded in (torch.nn.functional.binary_cross_entropy_with_logits):
/// w ((1 - t) x + (1 + (pw - 1) t) softplus(-x)), with softplus(-x) = log(exp(-m) + exp(-x - m)) + m,
/// m = max(-x, 0): PyTorch's numerically stable form, finite for logits of any size. input and
/// target must have the same shape; weight broadcasts to it and pos_weight along the last dims
/// (one value per class, shape [C]).
template <class T>
Tensor<T> binary_cross_entropy_with_logits(const Tensor<T>& input, const Tensor<T>& target,
                                           const BCEWithLogitsLossOptions<detail::scalar_t<T>>& options = {}) {
  static_assert(std::is_floating_point_v<T>, "binary_cross_entropy_with_logits: needs floating-point tensors");
  const char* op = "binary_cross_entropy_with_logits";
  detail::check_equal_shapes(op, "input", input.shape(), "target", target.shape());
  const Tensor<T> w = detail::weight_to(op, "weight", options.weight(), input.shape());
  const Tensor<T> pw = detail::weight_to(op, "pos_weight", options.pos_weight(), input.shape());
  const T* wv = w.defined() ? w.data() : nullptr;
  const T* pwv = pw.defined() ? pw.data() : nullptr;
  auto weight_at = [w, wv](std::int64_t i) { return wv ? wv[i] : T(1); };  // w keeps wv alive
  auto pos_weight_at = [pw, pwv](std::int64_t i) { return pwv ? pwv[i] : T(1); };
  auto softplus_neg = [](T x) {  // log(1 + exp(-x)), the same way as the loss
    const T m = std::max(-x, T(0));
    return std::log(std::exp(-m) + std::exp(-x - m)) + m;
  };
  const Tensor<T> losses = detail::pointwise_loss(
      "BinaryCrossEntropyWithLogitsBackward0", input, target,
      [weight_at, pos_weight_at, pwv](std::int64_t i, T x, T t) {
        const T m = std::max(-x, T(0));
        const T log_term = std::log(std::exp(-m) + std::exp(-x - m));
        // PyTorch's two orders of summation, so float results match it bit for bit
        const T l = pwv ? (1 - t) * x + ((pos_weight_at(i) - 1) * t + 1) * (log_term + m) : (1 - t) * x + m + log_term;
        return l * weight_at(i);
      },
      [weight_at, pos_weight_at](std::int64_t i, T x, T t) {
        const T pt = pos_weight_at(i) * t, s = T(1) / (T(1) + std::exp(-x));
        return ((pt + 1 - t) * s - pt) * weight_at(i);
      },
      [weight_at, pos_weight_at, softplus_neg](std::int64_t i, T x, T) {
        return (-x + (pos_weight_at(i) - 1) * softplus_neg(x)) * weight_at(i);
      });
  return detail::reduce_loss(losses, options.reduction());
}

// ---- distances -----------------------------------------------------------------------------------------

/// x divided by its p-norm along `dim`, the norm clamped below at eps (torch.nn.functional.normalize):
/// x / max(||x||_p, eps). Rows of zeros stay zero.
template <class T>
Tensor<T> normalize(const Tensor<T>& x, double p = 2, std::int64_t dim = 1, double eps = 1e-12) {
  static_assert(std::is_floating_point_v<T>, "normalize: needs a floating-point tensor");
  detail::require_defined("normalize", "input", x);
  detail::normalize_dim("normalize", dim, x.dim());  // so a bad dim is reported as normalize's
  return x / clamp(norm(x, p, dim, true), static_cast<T>(eps));
}

/// The p-norm distance between x1 and x2 (broadcast together) along the last dim
/// (torch.nn.functional.pairwise_distance): ||x1 - x2 + eps||_p. The eps keeps the gradient
/// finite where x1 == x2.
template <class T>
Tensor<T> pairwise_distance(const Tensor<T>& x1, const Tensor<T>& x2, double p = 2, double eps = 1e-6,
                            bool keepdim = false) {
  static_assert(std::is_floating_point_v<T>, "pairwise_distance: needs floating-point tensors");
  detail::require_defined("pairwise_distance", "x1", x1);
  detail::require_defined("pairwise_distance", "x2", x2);
  detail::broadcast_shapes("pairwise_distance", x1.shape(), x2.shape());  // the error names this op
  return norm((x1 - x2) + static_cast<T>(eps), p, std::int64_t(-1), keepdim);
}

// ---- margin losses -------------------------------------------------------------------------------------

/// The cosine embedding loss (torch.nn.functional.cosine_embedding_loss): for each pair, 1 - cos
/// where y = 1 and max(0, cos - margin) where y = -1 (0 for any other y), with cos computed as
/// PyTorch does, sum(x1 x2) / sqrt((sum(x1^2) + 1e-12) (sum(x2^2) + 1e-12)). x1 and x2 are [N, D]
/// with y of shape [N], or [D] with a 0-d y; x1 and x2 must have the same shape (PyTorch would broadcast).
template <class T>
Tensor<T> cosine_embedding_loss(const Tensor<T>& x1, const Tensor<T>& x2, const Tensor<T>& y,
                                const CosineEmbeddingLossOptions& options = {}) {
  static_assert(std::is_floating_point_v<T>, "cosine_embedding_loss: needs floating-point tensors");
  const char* op = "cosine_embedding_loss";
  detail::require_defined(op, "x1", x1);
  detail::require_defined(op, "x2", x2);
  detail::require_defined(op, "target", y);
  detail::check_equal_shapes(op, "x1", x1.shape(), "x2", x2.shape());
  const Shape expected_y = x1.dim() == 2 ? Shape{x1.shape()[0]} : Shape{};
  if ((x1.dim() != 1 && x1.dim() != 2) || y.shape() != expected_y)
    throw ShapeError(detail::cat(op, ": inputs of shape ", detail::shape_str(x1.shape()), " and target of shape ",
                                 detail::shape_str(y.shape()),
                                 " do not fit; expected inputs [N, D] with target [N], or inputs [D] with a 0-d target"));
  const std::int64_t d = y.dim();
  const T eps = static_cast<T>(1e-12);
  const Tensor<T> cos = sum(x1 * x2, d) / sqrt((sum(x1 * x1, d) + eps) * (sum(x2 * x2, d) + eps));
  const Tensor<T> similar = where(eq(y, T(1)), T(1) - cos, T(0));
  const Tensor<T> dissimilar = where(eq(y, T(-1)), clamp(cos - static_cast<T>(options.margin()), T(0)), T(0));
  return detail::reduce_loss(similar + dissimilar, options.reduction());
}

/// The margin ranking loss (torch.nn.functional.margin_ranking_loss): max(0, -y (x1 - x2) + margin),
/// y = 1 meaning x1 should rank higher, y = -1 x2. The three tensors must have the same number of
/// dims (as PyTorch) and broadcast together.
template <class T>
Tensor<T> margin_ranking_loss(const Tensor<T>& x1, const Tensor<T>& x2, const Tensor<T>& y,
                              const MarginRankingLossOptions& options = {}) {
  static_assert(std::is_floating_point_v<T>, "margin_ranking_loss: needs floating-point tensors");
  const char* op = "margin_ranking_loss";
  detail::require_defined(op, "x1", x1);
  detail::require_defined(op, "x2", x2);
  detail::require_defined(op, "target", y);
  if (x1.dim() != x2.dim() || x1.dim() != y.dim())
    throw ShapeError(detail::cat(op, ": x1, x2 and target must have the same number of dims, got shapes ",
                                 detail::shape_str(x1.shape()), ", ", detail::shape_str(x2.shape()), " and ",
                                 detail::shape_str(y.shape())));
  detail::broadcast_shapes(op, detail::broadcast_shapes(op, x1.shape(), x2.shape()), y.shape());
  return detail::reduce_loss(clamp(-y * (x1 - x2) + static_cast<T>(options.margin()), T(0)), options.reduction());
}

/// The triplet margin loss (torch.nn.functional.triplet_margin_loss): max(0, margin + d(a, p) - d(a, n))
/// with d the pairwise_distance (p-norm over the last dim, eps added); with swap, d(a, n) becomes
/// min(d(a, n), d(p, n)). The three inputs must have the same number of dims (as PyTorch).
template <class T>
Tensor<T> triplet_margin_loss(const Tensor<T>& anchor, const Tensor<T>& positive, const Tensor<T>& negative,
                              const TripletMarginLossOptions& options = {}) {
  static_assert(std::is_floating_point_v<T>, "triplet_margin_loss: needs floating-point tensors");
  const char* op = "triplet_margin_loss";
  detail::require_defined(op, "anchor", anchor);
  detail::require_defined(op, "positive", positive);
  detail::require_defined(op, "negative", negative);
  if (anchor.dim() != positive.dim() || anchor.dim() != negative.dim())
    throw ShapeError(detail::cat(op, ": anchor, positive and negative must have the same number of dims, got shapes ",
                                 detail::shape_str(anchor.shape()), ", ", detail::shape_str(positive.shape()), " and ",
                                 detail::shape_str(negative.shape())));
  const double p = options.p(), eps = options.eps();
  const Tensor<T> to_positive = pairwise_distance(anchor, positive, p, eps);
  Tensor<T> to_negative = pairwise_distance(anchor, negative, p, eps);
  if (options.swap()) to_negative = minimum(to_negative, pairwise_distance(positive, negative, p, eps));
  return detail::reduce_loss(clamp(static_cast<T>(options.margin()) + to_positive - to_negative, T(0)),
                             options.reduction());
}

}  // namespace tapegrad
