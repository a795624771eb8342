// SPDX-License-Identifier: MIT
// Embedding: a lookup table of rows with PyTorch's options (padding_idx, max_norm, scale_grad_by_freq, sparse).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/detail/parallel.hpp"
#include "tapegrad/detail/prefetch.hpp"
#include "tapegrad/factories.hpp"
#include "tapegrad/nn/init.hpp"
#include "tapegrad/nn/module.hpp"

namespace tapegrad {
namespace detail {

/// "[1, 2]": the multi-index of the element at row-major position `flat` in `shape`.
inline std::string position_str(const Shape& shape, std::int64_t flat) {
  Shape index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(index);
}

template <class I>
[[noreturn]] TAPEGRAD_COLD void throw_bad_index(const char* op, const Shape& shape, const I* idx, std::int64_t num) {
  std::int64_t i = 0;
  while (idx[i] >= 0 && idx[i] < num) ++i;
  const std::int64_t v = idx[i];
  throw IndexError(cat(op, ": index ", v, " at position ", position_str(shape, i),
                       " is out of range for num_embeddings=", num, " (valid range [0, ", num, "))",
                       v < 0 ? "; negative indices are not wrapped" : ""));
}

/// Throws an IndexError naming the first index outside [0, num), its position and the range.
/// One branch-free pass (it vectorises); the slow search for the culprit runs only on failure.
template <class I>
void check_indices(const char* op, const Tensor<I>& input, std::int64_t num) {
  const I* idx = input.data();
  const std::int64_t n = input.numel();
  const auto limit = static_cast<std::uint64_t>(num);
  unsigned bad = 0;
  for (std::int64_t i = 0; i < n; ++i) bad |= static_cast<std::uint64_t>(static_cast<std::int64_t>(idx[i])) >= limit;
  if (bad) throw_bad_index(op, input.shape(), idx, num);
}

/// padding_idx in [0, num), negative values counted from the end; -1 when there is none.
inline std::int64_t normalize_padding_idx(const char* op, std::optional<std::int64_t> padding_idx, std::int64_t num) {
  if (!padding_idx) return -1;
  const std::int64_t p = *padding_idx;
  if (p < -num || p >= num)
    throw IndexError(cat(op, ": padding_idx ", p, " is out of range for num_embeddings=", num, " (valid range [", -num,
                         ", ", num, "); negative values count from the end)"));
  return p < 0 ? p + num : p;
}

/// The options every embedding op shares, checked: max_norm > 0, norm_type not NaN.
inline void check_norm_options(const char* op, std::optional<double> max_norm, double norm_type) {
  if (max_norm && !(*max_norm > 0))
    throw ValueError(cat(op, ": max_norm must be positive, got ", *max_norm,
                         " (PyTorch would zero the rows, or flip their sign for a negative max_norm)"));
  if (std::isnan(norm_type)) throw ValueError(cat(op, ": norm_type must be a number, got nan"));
}

template <class T>
void check_embedding_weight(const char* op, const Tensor<T>& weight) {
  if (!weight.defined()) throw ValueError(cat(op, ": weight is undefined"));
  if (weight.dim() != 2)
    throw ShapeError(cat(op, ": weight must be 2-D [num_embeddings, embedding_dim], got shape ", shape_str(weight.shape())));
  if (weight.is_sparse()) throw ValueError(cat(op, ": weight must be dense, got a sparse tensor"));
}

/// The p-norm of one row, accumulated in T as PyTorch does, returned as double.
template <class T>
double row_norm(const T* row, std::int64_t d, double p) {
  if (d == 0) return 0;
  const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> r(row, d);
  if (p == 2) return static_cast<double>(std::sqrt(r.square().sum()));
  if (p == 1) return static_cast<double>(r.abs().sum());
  if (std::isinf(p)) return static_cast<double>(p > 0 ? r.abs().maxCoeff() : r.abs().minCoeff());
  if (p == 0) return static_cast<double>((r != T(0)).count());
  return static_cast<double>(std::pow(r.abs().pow(static_cast<T>(p)).sum(), static_cast<T>(1 / p)));
}

/// PyTorch's embedding_renorm_ on the distinct rows in `rows` (any order, duplicates allowed):
/// each whose norm exceeds max_norm is scaled in place by max_norm / (norm + 1e-7), with no
/// gradient through the scale. Write access is taken only when a row changes, so a weight saved by
/// another op is copied (copy-on-write) only then. Returns the weight's elements if it wrote.
template <class T>
T* renorm_rows(Tensor<T>& weight, std::vector<std::int64_t>& rows, double max_norm, double norm_type) {
  NoGradGuard no_grad;
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  const std::int64_t d = weight.size(1);
  const T* read = std::as_const(weight).data();
  T* write = nullptr;
  for (std::int64_t r : rows) {
    const double norm = row_norm(read + r * d, d, norm_type);
    if (norm > max_norm) {
      if (!write) read = write = weight.data();
      const T scale = static_cast<T>(max_norm / (norm + 1e-7));
      Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(write + r * d, d) *= scale;
    }
  }
  return write;
}

/// embedding_renorm_ for the rows idx[0, n) names. The norms are checked lookup by lookup first,
/// without sorting: once a table has been renormalised (every call after the first one on the
/// same rows) nothing exceeds max_norm, and the sort of all n indices was most of the cost.
template <class T, class I>
void embedding_renorm(Tensor<T> weight, const I* idx, std::int64_t n, double max_norm, double norm_type) {
  const std::int64_t d = weight.size(1);
  const T* w = std::as_const(weight).data();
  std::vector<std::int64_t> over;
  for (std::int64_t i = 0; i < n; ++i)
    if (row_norm(w + idx[i] * d, d, norm_type) > max_norm) over.push_back(idx[i]);
  if (!over.empty()) renorm_rows(weight, over, max_norm, norm_type);
}

/// How often each index occurs in a whole input (scale_grad_by_freq divides by it).
class IndexCounts {
 public:
  template <class I>
  IndexCounts(const I* idx, std::int64_t n) : sorted_(idx, idx + n) {
    std::sort(sorted_.begin(), sorted_.end());
  }
  std::int64_t operator()(std::int64_t k) const {
    const auto range = std::equal_range(sorted_.begin(), sorted_.end(), k);
    return static_cast<std::int64_t>(range.second - range.first);
  }

 private:
  std::vector<std::int64_t> sorted_;
};

/// Embedding's backward: the gradient rows of g, scattered to the rows idx names (padding skipped).
/// Dense: added straight into the weight's gradient buffer in input order. Sparse: one row per
/// non-padding occurrence, in input order (uncoalesced, as PyTorch).
template <class T, class I>
void embedding_backward(const Tensor<T>& g, const Saved<I>& saved_idx, const Shape& weight_shape, std::int64_t padding_idx,
                        bool scale_grad_by_freq, bool sparse, GradSink& grads) {
  if (!grads.wants(0)) return;
  const I* idx = saved_idx.data();
  const std::int64_t n = saved_idx.numel(), d = weight_shape[1];
  const T* src = g.data();
  std::optional<IndexCounts> counts;
  if (scale_grad_by_freq) counts.emplace(idx, n);
  // scale_grad_by_freq: 1/count computed in double and used as a T factor, as PyTorch's add_(g, alpha).
  auto scale_of = [&](std::int64_t k) { return static_cast<T>(1.0 / static_cast<double>((*counts)(k))); };
  using Row = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  using ConstRow = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
  if (sparse) {
    std::int64_t nnz = 0;
    for (std::int64_t i = 0; i < n; ++i) nnz += idx[i] != padding_idx;
    Tensor<std::int64_t> rows = make_tensor<std::int64_t>({nnz});
    if (nnz == n && !counts && is_exclusive(g)) {  // the values are g itself: no copy (nobody else sees g)
      std::copy_n(idx, n, rows.data());
      grads.add(0, make_sparse(weight_shape, std::move(rows), make_alias(g, {n, d}), false));
      return;
    }
    Tensor<T> values = make_tensor<T>({nnz, d});
    std::int64_t* r = rows.data();
    T* v = values.data();
    for (std::int64_t i = 0, k = 0; i < n; ++i) {
      if (idx[i] == padding_idx) continue;
      r[k] = idx[i];
      if (counts)
        Row(v + k * d, d) = ConstRow(src + i * d, d) * scale_of(idx[i]);
      else
        std::memcpy(static_cast<void*>(v + k * d), src + i * d, static_cast<std::size_t>(d) * sizeof(T));
      ++k;
    }
    grads.add(0, make_sparse(weight_shape, std::move(rows), std::move(values), false));
    return;
  }
  T* dst = grads.row_buffer<T>(0, weight_shape, idx, n, padding_idx);
  // With threads, each owns a range of rows and walks all indices, adding only into its rows: no
  // two threads write one row, and each row still sums its gradients in input order (same bits).
  const std::int64_t num = weight_shape[0];
  parallel_for(num, 3.0 * static_cast<double>(n * d) * sizeof(T), [&](std::int64_t first_row, std::int64_t end_row) {
    const bool all_rows = first_row == 0 && end_row == num;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t k = idx[i];
      if (k == padding_idx || (!all_rows && (k < first_row || k >= end_row))) continue;
      if (all_rows && i + kPrefetchAhead < n)
        prefetch_row(dst + idx[i + kPrefetchAhead] * d, static_cast<std::size_t>(d) * sizeof(T), true);
      if (counts) {
        const T s = scale_of(k);
        T* out = dst + k * d;
        const T* in = src + i * d;
        for (std::int64_t j = 0; j < d; ++j) out[j] = std::fma(in[j], s, out[j]);  // torch's AVX2 fmadd, bit for bit
      } else {
        Row(dst + k * d, d) += ConstRow(src + i * d, d);
      }
    }
  });
}

/// Embedding options after validation, as the kernel takes them.
struct EmbeddingConfig {
  std::int64_t padding_idx = -1;  // normalised; -1 for none
  std::optional<double> max_norm;
  double norm_type = 2;
  bool scale_grad_by_freq = false;
  bool sparse = false;
};

/// The lookup: checks every index, renormalises the referenced rows if max_norm is set, copies
/// the rows into a new [input.shape..., D] tensor, and records EmbeddingBackward0.
template <class T, class I>
Tensor<T> embedding_forward(const char* op, const Tensor<I>& input, const Tensor<T>& weight, const EmbeddingConfig& c) {
  static_assert(is_index_v<I>, "embedding: indices must be Tensor<std::int64_t> or Tensor<std::int32_t>");
  const std::int64_t num = weight.size(0), d = weight.size(1);
  check_indices(op, input, num);
  const I* idx = input.data();
  const std::int64_t n = input.numel();

  Shape out_shape = input.shape();
  out_shape.push_back(d);
  Tensor<T> out = make_tensor<T>(out_shape);
  const T* w = weight.data();
  T* o = out.data();
  const std::size_t row_bytes = static_cast<std::size_t>(d) * sizeof(T);
  // max_norm renormalises the looked-up rows before the lookup, as PyTorch. The norm is taken on
  // the copy, still in L1; usually (the rows were renormalised by earlier calls) no row is over,
  // and that check is the whole cost. `over` flags the positions whose row is.
  std::vector<unsigned char> over(c.max_norm ? static_cast<std::size_t>(n) : 0);
  parallel_for(n, 2.0 * static_cast<double>(n) * static_cast<double>(row_bytes), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      if (i + kPrefetchAhead < end) prefetch_row(w + idx[i + kPrefetchAhead] * d, row_bytes);
      std::memcpy(static_cast<void*>(o + i * d), w + idx[i] * d, row_bytes);
      if (c.max_norm) over[static_cast<std::size_t>(i)] = row_norm(o + i * d, d, c.norm_type) > *c.max_norm;
    }
  });
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(over.size()); ++i)
    if (over[static_cast<std::size_t>(i)]) rows.push_back(idx[i]);
  if (!rows.empty()) {
    Tensor<T> table = weight;
    if (const T* renormed = renorm_rows(table, rows, *c.max_norm, c.norm_type))
      for (std::int64_t i = 0; i < n; ++i)
        if (over[static_cast<std::size_t>(i)]) std::memcpy(static_cast<void*>(o + i * d), renormed + idx[i] * d, row_bytes);
  }

  if (should_record(weight))
    record(out, "EmbeddingBackward0", edges(weight),
           [saved_idx = save(input), weight_shape = weight.shape(), c](const Tensor<T>& g, GradSink& grads) {
             embedding_backward(g, saved_idx, weight_shape, c.padding_idx, c.scale_grad_by_freq, c.sparse, grads);
           });
  return out;
}

}  // namespace detail

namespace nn {

/// Options of an Embedding. Example: `EmbeddingOptions(10, 3).padding_idx(0).max_norm(1.0)`.
class EmbeddingOptions {
 public:
  EmbeddingOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
  /// Number of rows in the table.
  std::int64_t num_embeddings() const noexcept { return num_embeddings_; }
  EmbeddingOptions& num_embeddings(std::int64_t v) noexcept { return num_embeddings_ = v, *this; }
  /// Size of each row.
  std::int64_t embedding_dim() const noexcept { return embedding_dim_; }
  EmbeddingOptions& embedding_dim(std::int64_t v) noexcept { return embedding_dim_ = v, *this; }
  /// A row whose gradient is always zero (and which starts at zero); negative counts from the end.
  std::optional<std::int64_t> padding_idx() const noexcept { return padding_idx_; }
  EmbeddingOptions& padding_idx(std::optional<std::int64_t> v) noexcept { return padding_idx_ = v, *this; }
  /// Rows looked up with a larger norm are rescaled in place to this norm first.
  std::optional<double> max_norm() const noexcept { return max_norm_; }
  EmbeddingOptions& max_norm(std::optional<double> v) noexcept { return max_norm_ = v, *this; }
  /// The p of the p-norm max_norm uses (default 2).
  double norm_type() const noexcept { return norm_type_; }
  EmbeddingOptions& norm_type(double v) noexcept { return norm_type_ = v, *this; }
  /// Divide each row's gradient by how often its index occurs in the input.
  bool scale_grad_by_freq() const noexcept { return scale_grad_by_freq_; }
  EmbeddingOptions& scale_grad_by_freq(bool v) noexcept { return scale_grad_by_freq_ = v, *this; }
  /// Make the weight's gradient row-sparse (only the rows looked up).
  bool sparse() const noexcept { return sparse_; }
  EmbeddingOptions& sparse(bool v) noexcept { return sparse_ = v, *this; }

 private:
  std::int64_t num_embeddings_, embedding_dim_;
  std::optional<std::int64_t> padding_idx_;
  std::optional<double> max_norm_;
  double norm_type_ = 2;
  bool scale_grad_by_freq_ = false;
  bool sparse_ = false;
};

/// Options of Embedding::from_pretrained. Example: `EmbeddingFromPretrainedOptions().freeze(false)`.
class EmbeddingFromPretrainedOptions {
 public:
  /// Whether the weight stays fixed (requires_grad = false); default true.
  bool freeze() const noexcept { return freeze_; }
  EmbeddingFromPretrainedOptions& freeze(bool v) noexcept { return freeze_ = v, *this; }
  std::optional<std::int64_t> padding_idx() const noexcept { return padding_idx_; }
  EmbeddingFromPretrainedOptions& padding_idx(std::optional<std::int64_t> v) noexcept { return padding_idx_ = v, *this; }
  std::optional<double> max_norm() const noexcept { return max_norm_; }
  EmbeddingFromPretrainedOptions& max_norm(std::optional<double> v) noexcept { return max_norm_ = v, *this; }
  double norm_type() const noexcept { return norm_type_; }
  EmbeddingFromPretrainedOptions& norm_type(double v) noexcept { return norm_type_ = v, *this; }
  bool scale_grad_by_freq() const noexcept { return scale_grad_by_freq_; }
  EmbeddingFromPretrainedOptions& scale_grad_by_freq(bool v) noexcept { return scale_grad_by_freq_ = v, *this; }
  bool sparse() const noexcept { return sparse_; }
  EmbeddingFromPretrainedOptions& sparse(bool v) noexcept { return sparse_ = v, *this; }

 private:
  bool freeze_ = true;
  std::optional<std::int64_t> padding_idx_;
  std::optional<double> max_norm_;
  double norm_type_ = 2;
  bool scale_grad_by_freq_ = false;
  bool sparse_ = false;
};

}  // namespace nn

namespace detail {

inline EmbeddingConfig embedding_config(const char* op, const nn::EmbeddingOptions& o, std::int64_t num) {
  check_norm_options(op, o.max_norm(), o.norm_type());
  return {normalize_padding_idx(op, o.padding_idx(), num), o.max_norm(), o.norm_type(),
          o.scale_grad_by_freq(), o.sparse()};
}

inline std::string embedding_repr(const nn::EmbeddingOptions& o) {
  std::string s = cat(o.num_embeddings(), ", ", o.embedding_dim());
  if (o.padding_idx()) s += cat(", padding_idx=", *o.padding_idx());
  if (o.max_norm()) s += ", max_norm=" + python_float(*o.max_norm());
  if (o.norm_type() != 2) s += ", norm_type=" + python_float(o.norm_type());
  if (o.scale_grad_by_freq()) s += ", scale_grad_by_freq=True";
  if (o.sparse()) s += ", sparse=True";
  return s;
}

// What Embedding and EmbeddingBag share about their tables.

inline void check_table_sizes(const char* module, std::int64_t num_embeddings, std::int64_t embedding_dim) {
  if (num_embeddings < 0 || embedding_dim < 0)
    throw ValueError(cat(module, ": num_embeddings and embedding_dim must be non-negative, got ", num_embeddings, " and ",
                         embedding_dim));
}

template <class T>
void check_pretrained_table(const char* module, const Tensor<T>& embeddings) {
  if (!embeddings.defined() || embeddings.dim() != 2)
    throw ShapeError(cat(module, "::from_pretrained: embeddings must be 2-D [num_embeddings, embedding_dim], got ",
                         embeddings.defined() ? "shape " + shape_str(embeddings.shape()) : std::string("an undefined tensor")));
}

/// Draws a table from N(0, 1), then zeroes the padding row (PyTorch's reset_parameters).
template <class T>
void reset_table(Tensor<T>& weight, std::optional<std::int64_t> padding_idx) {
  nn::init::normal_(weight);
  if (padding_idx) {
    NoGradGuard no_grad;
    const std::int64_t d = weight.size(1);
    std::fill_n(weight.data() + *padding_idx * d, d, T(0));
  }
}

}  // namespace detail

namespace nn {

/// A table of num_embeddings rows of size embedding_dim; forward(indices) gathers rows:
/// any index shape S gives S + [embedding_dim]. Weight initialised from N(0, 1) (the padding row
/// zeroed), exactly as PyTorch draws it after the same manual_seed.
///
/// Every index is checked before anything happens (an IndexError names the index, its position
/// and the valid range). With max_norm, forward first rescales the looked-up rows of the weight
/// in place (as PyTorch; tapegrad's copy-on-write keeps any earlier use of the weight on the tape
/// correct). Do not run such forwards on one module from several threads at once.
/// Example: `tapegrad::nn::Embedding emb(tapegrad::nn::EmbeddingOptions(10, 3).padding_idx(0));`
template <class T = float>
class Embedding : public Module<T> {
 public:
  explicit Embedding(EmbeddingOptions opts) : options(validated(opts)) {
    weight = Parameter<T>(description(), empty<T>({options.num_embeddings(), options.embedding_dim()}));
    reset_parameters();
  }
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : Embedding(EmbeddingOptions(num_embeddings, embedding_dim)) {}

  /// An Embedding whose weight shares `embeddings`' elements ([num_embeddings, embedding_dim]);
  /// nothing is drawn and the padding row is not zeroed, as in PyTorch. freeze (default true)
  /// turns off requires_grad.
  static Embedding from_pretrained(const Tensor<T>& embeddings,
                                   const EmbeddingFromPretrainedOptions& opts = EmbeddingFromPretrainedOptions()) {
    detail::check_pretrained_table("Embedding", embeddings);
    EmbeddingOptions o(embeddings.size(0), embeddings.size(1));
    o.padding_idx(opts.padding_idx()).max_norm(opts.max_norm()).norm_type(opts.norm_type());
    o.scale_grad_by_freq(opts.scale_grad_by_freq()).sparse(opts.sparse());
    Embedding e(validated(o), embeddings);
    e.weight.requires_grad_(!opts.freeze());
    return e;
  }

  Embedding(const Embedding&) = default;
  Embedding(Embedding&&) = default;
  /// Replaces options and weight (the copy shares the other's weight).
  Embedding& operator=(const Embedding& other) { return *this = Embedding(other); }
  Embedding& operator=(Embedding&&) = default;

  /// Draws the weight from N(0, 1), then zeroes the padding row.
  void reset_parameters() { detail::reset_table<T>(weight, options.padding_idx()); }

  /// Rows of the weight for each index (Tensor<std::int64_t> or Tensor<std::int32_t>): S -> S + [D].
  template <class I>
  Tensor<T> forward(const Tensor<I>& input) const {
    static_assert(detail::is_index_v<I>, "Embedding: indices must be Tensor<std::int64_t> or Tensor<std::int32_t>");
    return detail::embedding_forward("Embedding", input, weight,
                                               detail::embedding_config("Embedding", options, weight.size(0)));
  }
  template <class I>
  Tensor<T> operator()(const Tensor<I>& input) const {
    return forward(input);
  }

  void visit(Visitor<T>& v) override { v("weight", weight); }
  std::string name() const override { return "Embedding"; }
  std::string extra_repr() const override { return detail::embedding_repr(options); }

  /// The options, padding_idx normalised to [0, num_embeddings).
  EmbeddingOptions options;
  /// [num_embeddings, embedding_dim].
  Parameter<T> weight;

 private:
  Embedding(const EmbeddingOptions& opts, const Tensor<T>& pretrained)
      : options(opts), weight(description(), pretrained) {}

  static EmbeddingOptions validated(EmbeddingOptions o) {
    detail::check_table_sizes("Embedding", o.num_embeddings(), o.embedding_dim());
    const auto c = detail::embedding_config("Embedding", o, o.num_embeddings());
    if (c.padding_idx >= 0) o.padding_idx(c.padding_idx);
    return o;
  }
  std::string description() const { return "Embedding(" + extra_repr() + ").weight"; }
};

namespace functional {

/// Options of functional::embedding (the Embedding options without the sizes).
class EmbeddingFuncOptions {
 public:
  std::optional<std::int64_t> padding_idx() const noexcept { return padding_idx_; }
  EmbeddingFuncOptions& padding_idx(std::optional<std::int64_t> v) noexcept { return padding_idx_ = v, *this; }
  std::optional<double> max_norm() const noexcept { return max_norm_; }
  EmbeddingFuncOptions& max_norm(std::optional<double> v) noexcept { return max_norm_ = v, *this; }
  double norm_type() const noexcept { return norm_type_; }
  EmbeddingFuncOptions& norm_type(double v) noexcept { return norm_type_ = v, *this; }
  bool scale_grad_by_freq() const noexcept { return scale_grad_by_freq_; }
  EmbeddingFuncOptions& scale_grad_by_freq(bool v) noexcept { return scale_grad_by_freq_ = v, *this; }
  bool sparse() const noexcept { return sparse_; }
  EmbeddingFuncOptions& sparse(bool v) noexcept { return sparse_ = v, *this; }

 private:
  std::optional<std::int64_t> padding_idx_;
  std::optional<double> max_norm_;
  double norm_type_ = 2;
  bool scale_grad_by_freq_ = false;
  bool sparse_ = false;
};

/// Rows of `weight` ([num_embeddings, embedding_dim]) for each index, like torch.nn.functional.embedding.
/// With max_norm set, the looked-up rows of `weight` are rescaled in place first.
template <class T, class I>
Tensor<T> embedding(const Tensor<I>& input, const Tensor<T>& weight,
                    const EmbeddingFuncOptions& options = EmbeddingFuncOptions()) {
  static_assert(detail::is_index_v<I>, "embedding: indices must be Tensor<std::int64_t> or Tensor<std::int32_t>");
  detail::check_embedding_weight("embedding", weight);
  detail::check_norm_options("embedding", options.max_norm(), options.norm_type());
  const detail::EmbeddingConfig c{
      detail::normalize_padding_idx("embedding", options.padding_idx(), weight.size(0)), options.max_norm(),
      options.norm_type(), options.scale_grad_by_freq(), options.sparse()};
  return detail::embedding_forward("embedding", input, weight, c);
}

}  // namespace functional
}  // namespace nn
}  // namespace tapegrad
