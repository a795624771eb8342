// SPDX-License-Identifier: MIT
// EmbeddingBag: sums, means or maxima of bags of embedding rows, without materialising the rows.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/nn/embedding.hpp"

namespace tapegrad {
namespace nn {

/// How EmbeddingBag reduces each bag: the sum, the mean (PyTorch's default) or the per-feature maximum.
enum class EmbeddingBagMode { Sum, Mean, Max };

}  // namespace nn

namespace detail {

inline const char* mode_name(nn::EmbeddingBagMode mode) {
  switch (mode) {
    case nn::EmbeddingBagMode::Sum:
      return "sum";
    case nn::EmbeddingBagMode::Mean:
      return "mean";
    default:
      return "max";
  }
}

/// EmbeddingBag options after validation, as the kernel takes them.
struct EmbeddingBagConfig {
  nn::EmbeddingBagMode mode = nn::EmbeddingBagMode::Mean;
  std::int64_t padding_idx = -1;  // normalised; -1 for none
  std::optional<double> max_norm;
  double norm_type = 2;
  bool scale_grad_by_freq = false;
  bool sparse = false;
  bool include_last_offset = false;
};

/// Checks the option combinations PyTorch refuses for mode=max.
inline void check_bag_mode(const char* op, const EmbeddingBagConfig& c) {
  if (c.mode != nn::EmbeddingBagMode::Max) return;
  if (c.scale_grad_by_freq) throw ValueError(cat(op, ": mode=max does not support scale_grad_by_freq=true"));
  if (c.sparse) throw ValueError(cat(op, ": mode=max does not support sparse=true (sparse gradients)"));
}

/// Bag b holds input positions [bounds[b], bounds[b + 1]). For a 1-D input the offsets must start
/// at 0, never decrease and stay within the input; with include_last_offset the last one closes
/// the last bag and must equal the input length (PyTorch checks neither, see docs/design.md).
/// A 2-D input [B, N] is B bags of N, include_last_offset or not.
template <class I, class J>
std::vector<std::int64_t> bag_bounds(const char* op, const Tensor<I>& input, const Tensor<J>& offsets,
                                     bool include_last_offset) {
  const Shape& s = input.shape();
  if (s.size() == 2) {
    if (offsets.defined())
      throw ValueError(cat(op, ": offsets must be undefined for a 2-D input (each row is one bag), got offsets of shape ",
                           shape_str(offsets.shape())));
    std::vector<std::int64_t> bounds(static_cast<std::size_t>(s[0] + 1));
    for (std::size_t b = 0; b < bounds.size(); ++b) bounds[b] = static_cast<std::int64_t>(b) * s[1];
    return bounds;
  }
  if (s.size() != 1)
    throw ShapeError(cat(op, ": input must be 1-D (with offsets) or 2-D (one bag per row), got shape ", shape_str(s)));
  if (!offsets.defined())
    throw ValueError(cat(op, ": a 1-D input needs offsets (where each bag starts in the input); pass offsets, or a "
                             "2-D input of shape [bags, bag_size]"));
  if (offsets.dim() != 1) throw ShapeError(cat(op, ": offsets must be 1-D, got shape ", shape_str(offsets.shape())));
  const std::int64_t n = s[0], m = offsets.numel();
  const J* off = offsets.data();
  if (m == 0) {
    if (include_last_offset)
      throw ValueError(cat(op, ": with include_last_offset=true offsets needs at least one element (the end of the last "
                               "bag), got an empty tensor"));
    if (n > 0)
      throw ValueError(cat(op, ": offsets is empty but the input has ", n,
                           " indices; every index must belong to a bag, so offsets[0] = 0 must start the first bag"));
  }
  for (std::int64_t b = 0; b < m; ++b) {
    const auto o = static_cast<std::int64_t>(off[b]);
    if (b == 0 && o != 0)
      throw ValueError(cat(op, ": offsets[0] must be 0 (the first bag starts at the first index), got ", o));
    if (b > 0 && o < static_cast<std::int64_t>(off[b - 1]))
      throw ValueError(cat(op, ": offsets must be non-decreasing, but offsets[", b, "] = ", o, " is less than offsets[",
                           b - 1, "] = ", static_cast<std::int64_t>(off[b - 1])));
    if (o > n) throw IndexError(cat(op, ": offsets[", b, "] = ", o, " is greater than the input length ", n));
  }
  if (include_last_offset && static_cast<std::int64_t>(off[m - 1]) != n)
    throw ValueError(cat(op, ": with include_last_offset=true the last offset must equal the input length ", n,
                         " (it closes the last bag), got offsets[", m - 1, "] = ", static_cast<std::int64_t>(off[m - 1])));
  std::vector<std::int64_t> bounds(off, off + m);
  if (!include_last_offset) bounds.push_back(n);
  return bounds;
}

/// EmbeddingBag's backward. Weight: for sum and mean each non-padding position adds its bag's
/// gradient (times its per-sample weight, over the bag's count for mean, over the index's count
/// in the whole input with scale_grad_by_freq) to its row, in input order, straight into the
/// gradient buffer (or as sparse rows); for max each feature's gradient goes to the row that won
/// it. Per-sample weights: dot(bag gradient, row).
template <class T, class I>
struct EmbeddingBagBackward {
  Saved<I> idx;
  std::vector<std::int64_t> bounds;
  std::vector<std::int64_t> counts;  // non-padding entries per bag
  std::vector<std::int64_t> argmax;  // mode=max: the winning row of each [bag, feature]
  Saved<T> psw;                      // per-sample weights, for the weight's gradient
  Saved<T> weight;                   // the rows, for the per-sample weights' gradient
  Shape weight_shape;
  EmbeddingBagConfig c;

  void operator()(const Tensor<T>& g, GradSink& grads) const {
    const std::int64_t d = weight_shape[1], bags = static_cast<std::int64_t>(bounds.size()) - 1;
    const T* gv = g.data();
    const I* ix = idx.data();
    using Row = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
    using ConstRow = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
    if (grads.wants(0) && c.mode == nn::EmbeddingBagMode::Max) {
      T* dst = grads.buffer<T>(0, weight_shape).data();
      for (std::int64_t b = 0; b < bags; ++b)
        if (counts[static_cast<std::size_t>(b)] > 0)
          for (std::int64_t j = 0; j < d; ++j) dst[argmax[static_cast<std::size_t>(b * d + j)] * d + j] += gv[b * d + j];
    } else if (grads.wants(0)) {
      std::optional<IndexCounts> freq;
      if (c.scale_grad_by_freq) freq.emplace(ix, idx.numel());
      const T* pw = psw.defined() ? psw.data() : nullptr;
      // The factor for position i of bag b, or 1 (then a plain add).
      auto factor = [&](std::int64_t i, std::int64_t b) {
        double s = 1;
        if (c.mode == nn::EmbeddingBagMode::Mean) s /= static_cast<double>(counts[static_cast<std::size_t>(b)]);
        if (freq) s /= static_cast<double>((*freq)(ix[i]));
        return pw ? static_cast<T>(s) * pw[i] : static_cast<T>(s);
      };
      const bool plain = c.mode == nn::EmbeddingBagMode::Sum && !freq && !pw;
      if (c.sparse) {
        std::int64_t nnz = 0;
        for (std::int64_t i = 0; i < bounds.back(); ++i) nnz += ix[i] != c.padding_idx;
        Tensor<std::int64_t> rows = make_tensor<std::int64_t>({nnz});
        Tensor<T> values = make_tensor<T>({nnz, d});
        std::int64_t* r = rows.data();
        T* v = values.data();
        std::int64_t k = 0;
        for (std::int64_t b = 0; b < bags; ++b)
          for (std::int64_t i = bounds[static_cast<std::size_t>(b)]; i < bounds[static_cast<std::size_t>(b) + 1]; ++i) {
            if (ix[i] == c.padding_idx) continue;
            r[k] = ix[i];
            if (plain)
              std::memcpy(static_cast<void*>(v + k * d), gv + b * d, static_cast<std::size_t>(d) * sizeof(T));
            else
              Row(v + k * d, d) = ConstRow(gv + b * d, d) * factor(i, b);
            ++k;
          }
        grads.add(0, make_sparse(weight_shape, std::move(rows), std::move(values), false));
      } else {
        T* dst = grads.row_buffer<T>(0, weight_shape, ix, idx.numel(), c.padding_idx);
        // With threads, each owns a range of rows (as in Embedding's backward): same sums, same order.
        const std::int64_t num = weight_shape[0];
        parallel_for(num, 3.0 * static_cast<double>(bounds.back() * d) * sizeof(T), [&](std::int64_t first_row, std::int64_t end_row) {
          for (std::int64_t b = 0; b < bags; ++b)
            for (std::int64_t i = bounds[static_cast<std::size_t>(b)]; i < bounds[static_cast<std::size_t>(b) + 1]; ++i) {
              const std::int64_t k = ix[i];
              if (k == c.padding_idx || k < first_row || k >= end_row) continue;
              if (plain)
                Row(dst + k * d, d) += ConstRow(gv + b * d, d);
              else
                Row(dst + k * d, d) += ConstRow(gv + b * d, d) * factor(i, b);
            }
        });
      }
    }
    if (grads.wants(1)) {
      Tensor<T> gp = zeros_of<T>(idx.shape());
      T* out = gp.data();
      const T* w = weight.data();
      for (std::int64_t b = 0; b < bags; ++b)
        for (std::int64_t i = bounds[static_cast<std::size_t>(b)]; i < bounds[static_cast<std::size_t>(b) + 1]; ++i)
          if (ix[i] != c.padding_idx) out[i] = (ConstRow(gv + b * d, d) * ConstRow(w + ix[i] * d, d)).sum();
      grads.add(1, gp);
    }
  }
};

/// The bag reduction: validates every argument and index, renormalises the referenced rows if
/// max_norm is set, reduces each bag into a new [bags, D] tensor, and records EmbeddingBagBackward0.
template <class T, class I, class J>
Tensor<T> embedding_bag_forward(const char* op, const Tensor<I>& input, const Tensor<T>& weight, const Tensor<J>& offsets,
                                const Tensor<T>& psw, const EmbeddingBagConfig& c) {
  static_assert(is_index_v<I> && is_index_v<J>,
                "embedding_bag: indices and offsets must be Tensor<std::int64_t> or Tensor<std::int32_t>");
  const std::int64_t num = weight.size(0), d = weight.size(1);
  std::vector<std::int64_t> bounds = bag_bounds(op, input, offsets, c.include_last_offset);
  if (psw.defined()) {
    if (c.mode != nn::EmbeddingBagMode::Sum)
      throw ValueError(cat(op, ": per_sample_weights is only supported with mode=sum, got mode=", mode_name(c.mode)));
    if (psw.shape() != input.shape())
      throw ShapeError(cat(op, ": per_sample_weights of shape ", shape_str(psw.shape()), " must have the input's shape ",
                           shape_str(input.shape())));
    if (psw.is_sparse()) throw ValueError(cat(op, ": per_sample_weights must be dense, got a sparse tensor"));
  }
  check_indices(op, input, num);
  const I* idx = input.data();
  if (c.max_norm) embedding_renorm(weight, idx, input.numel(), *c.max_norm, c.norm_type);

  const std::int64_t bags = static_cast<std::int64_t>(bounds.size()) - 1;
  const bool record_it = should_record(weight) || (psw.defined() && should_record(psw));
  const bool is_max = c.mode == nn::EmbeddingBagMode::Max;
  Tensor<T> out = zeros_of<T>({bags, d});
  std::vector<std::int64_t> counts(static_cast<std::size_t>(bags), 0);
  std::vector<std::int64_t> argmax(is_max && record_it ? static_cast<std::size_t>(bags * d) : 0);
  const T* w = weight.data();
  const T* pw = psw.defined() ? psw.data() : nullptr;
  T* o = out.data();
  const std::int64_t n = input.numel();
  const std::size_t row_bytes = static_cast<std::size_t>(d) * sizeof(T);
  // One pass over the bags; the mode is chosen once, outside the loops, so that each per-row step
  // compiles to a tight vectorised loop. Bags are independent (each writes its own output row),
  // so threads take ranges of bags.
  const double bytes = static_cast<double>(n + bags) * static_cast<double>(row_bytes);
  auto reduce = [&](auto step) {
    parallel_for(bags, bytes, [&](std::int64_t first_bag, std::int64_t end_bag) {
      for (std::int64_t b = first_bag; b < end_bag; ++b) {
        T* ob = o + b * d;
        std::int64_t count = 0;
        for (std::int64_t i = bounds[static_cast<std::size_t>(b)]; i < bounds[static_cast<std::size_t>(b) + 1]; ++i) {
          if (i + kPrefetchAhead < n) prefetch_row(w + idx[i + kPrefetchAhead] * d, row_bytes);
          const std::int64_t k = idx[i];
          if (k == c.padding_idx) continue;  // padding is left out of the reduction and of the mean's count
          step(ob, w + k * d, i, k, b, count == 0);
          ++count;
        }
        if (c.mode == nn::EmbeddingBagMode::Mean && count > 0)
          for (std::int64_t j = 0; j < d; ++j) ob[j] /= static_cast<T>(count);  // divided, as torch (bit for bit)
        counts[static_cast<std::size_t>(b)] = count;
      }
    });
  };
  if (is_max) {
    reduce([&](T* ob, const T* row, std::int64_t, std::int64_t k, std::int64_t b, bool first) {
      std::int64_t* am = argmax.empty() ? nullptr : argmax.data() + b * d;
      for (std::int64_t j = 0; j < d; ++j) {
        const bool take = first || row[j] > ob[j];  // strict: ties keep the first occurrence
        ob[j] = take ? row[j] : ob[j];
        if (am) am[j] = take ? k : am[j];
      }
    });
  } else if (pw) {
    reduce([&](T* ob, const T* row, std::int64_t i, std::int64_t, std::int64_t, bool) {
      const T p = pw[i];
      if constexpr (std::is_same_v<T, float>) {
        for (std::int64_t j = 0; j < d; ++j) ob[j] = std::fma(p, row[j], ob[j]);  // torch's float kernel fuses it
      } else {
        for (std::int64_t j = 0; j < d; ++j) ob[j] += p * row[j];
      }
    });
  } else {
    reduce([&](T* ob, const T* row, std::int64_t, std::int64_t, std::int64_t, bool) {
      for (std::int64_t j = 0; j < d; ++j) ob[j] += row[j];  // sequential, in index order, as torch (bit for bit)
    });
  }

  if (record_it) {
    Edges inputs = edges(weight);
    if (psw.defined()) inputs.push_back(edge(psw));
    const bool weight_grad = weight.requires_grad(), psw_grad = psw.defined() && psw.requires_grad();
    record(out, "EmbeddingBagBackward0", std::move(inputs),
           EmbeddingBagBackward<T, I>{save(input), std::move(bounds), std::move(counts), std::move(argmax),
                                      psw.defined() && weight_grad ? save(psw) : Saved<T>(),
                                      psw_grad ? save(weight) : Saved<T>(), weight.shape(), c});
  }
  return out;
}

}  // namespace detail

namespace nn {

/// Options of an EmbeddingBag. Example: `EmbeddingBagOptions(10, 3).mode(EmbeddingBagMode::Sum)`.
class EmbeddingBagOptions {
 public:
  EmbeddingBagOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
  /// Number of rows in the table.
  std::int64_t num_embeddings() const noexcept { return num_embeddings_; }
  EmbeddingBagOptions& num_embeddings(std::int64_t v) noexcept { return num_embeddings_ = v, *this; }
  /// Size of each row.
  std::int64_t embedding_dim() const noexcept { return embedding_dim_; }
  EmbeddingBagOptions& embedding_dim(std::int64_t v) noexcept { return embedding_dim_ = v, *this; }
  /// Rows looked up with a larger norm are rescaled in place to this norm first.
  std::optional<double> max_norm() const noexcept { return max_norm_; }
  EmbeddingBagOptions& max_norm(std::optional<double> v) noexcept { return max_norm_ = v, *this; }
  /// The p of the p-norm max_norm uses (default 2).
  double norm_type() const noexcept { return norm_type_; }
  EmbeddingBagOptions& norm_type(double v) noexcept { return norm_type_ = v, *this; }
  /// Divide each row's gradient by how often its index occurs in the whole input.
  bool scale_grad_by_freq() const noexcept { return scale_grad_by_freq_; }
  EmbeddingBagOptions& scale_grad_by_freq(bool v) noexcept { return scale_grad_by_freq_ = v, *this; }
  /// The reduction: Sum, Mean (default, as PyTorch) or Max.
  EmbeddingBagMode mode() const noexcept { return mode_; }
  EmbeddingBagOptions& mode(EmbeddingBagMode v) noexcept { return mode_ = v, *this; }
  /// Make the weight's gradient row-sparse (only the rows looked up). Not with Max.
  bool sparse() const noexcept { return sparse_; }
  EmbeddingBagOptions& sparse(bool v) noexcept { return sparse_ = v, *this; }
  /// offsets has one more element, closing the last bag (CSR style); it must equal the input length.
  bool include_last_offset() const noexcept { return include_last_offset_; }
  EmbeddingBagOptions& include_last_offset(bool v) noexcept { return include_last_offset_ = v, *this; }
  /// An index left out of every bag (and of the mean's count); its row gets no gradient.
  std::optional<std::int64_t> padding_idx() const noexcept { return padding_idx_; }
  EmbeddingBagOptions& padding_idx(std::optional<std::int64_t> v) noexcept { return padding_idx_ = v, *this; }

 private:
  std::int64_t num_embeddings_, embedding_dim_;
  std::optional<double> max_norm_;
  double norm_type_ = 2;
  bool scale_grad_by_freq_ = false;
  EmbeddingBagMode mode_ = EmbeddingBagMode::Mean;
  bool sparse_ = false;
  bool include_last_offset_ = false;
  std::optional<std::int64_t> padding_idx_;
};

/// Options of EmbeddingBag::from_pretrained. Example: `EmbeddingBagFromPretrainedOptions().freeze(false)`.
class EmbeddingBagFromPretrainedOptions {
 public:
  /// Whether the weight stays fixed (requires_grad = false); default true.
  bool freeze() const noexcept { return freeze_; }
  EmbeddingBagFromPretrainedOptions& freeze(bool v) noexcept { return freeze_ = v, *this; }
  std::optional<double> max_norm() const noexcept { return max_norm_; }
  EmbeddingBagFromPretrainedOptions& max_norm(std::optional<double> v) noexcept { return max_norm_ = v, *this; }
  double norm_type() const noexcept { return norm_type_; }
  EmbeddingBagFromPretrainedOptions& norm_type(double v) noexcept { return norm_type_ = v, *this; }
  bool scale_grad_by_freq() const noexcept { return scale_grad_by_freq_; }
  EmbeddingBagFromPretrainedOptions& scale_grad_by_freq(bool v) noexcept { return scale_grad_by_freq_ = v, *this; }
  EmbeddingBagMode mode() const noexcept { return mode_; }
  EmbeddingBagFromPretrainedOptions& mode(EmbeddingBagMode v) noexcept { return mode_ = v, *this; }
  bool sparse() const noexcept { return sparse_; }
  EmbeddingBagFromPretrainedOptions& sparse(bool v) noexcept { return sparse_ = v, *this; }
  bool include_last_offset() const noexcept { return include_last_offset_; }
  EmbeddingBagFromPretrainedOptions& include_last_offset(bool v) noexcept { return include_last_offset_ = v, *this; }
  std::optional<std::int64_t> padding_idx() const noexcept { return padding_idx_; }
  EmbeddingBagFromPretrainedOptions& padding_idx(std::optional<std::int64_t> v) noexcept { return padding_idx_ = v, *this; }

 private:
  bool freeze_ = true;
  std::optional<double> max_norm_;
  double norm_type_ = 2;
  bool scale_grad_by_freq_ = false;
  EmbeddingBagMode mode_ = EmbeddingBagMode::Mean;
  bool sparse_ = false;
  bool include_last_offset_ = false;
  std::optional<std::int64_t> padding_idx_;
};

}  // namespace nn

namespace detail {

inline EmbeddingBagConfig embedding_bag_config(const char* op, const nn::EmbeddingBagOptions& o, std::int64_t num) {
  check_norm_options(op, o.max_norm(), o.norm_type());
  EmbeddingBagConfig c{o.mode(),           normalize_padding_idx(op, o.padding_idx(), num),
                       o.max_norm(),       o.norm_type(),
                       o.scale_grad_by_freq(), o.sparse(),
                       o.include_last_offset()};
  check_bag_mode(op, c);
  return c;
}

}  // namespace detail

namespace nn {

/// Bags of rows reduced to one row each, without materialising the rows: forward(input, offsets)
/// with a 1-D input split into bags at `offsets`, or a 2-D input [B, N] of B bags of N indices,
/// gives [B, embedding_dim]. Sum takes optional per_sample_weights (one per index). Empty and
/// all-padding bags give zeros; max ties go to the first occurrence. Weight initialised from
/// N(0, 1) with the padding row zeroed, as in PyTorch.
/// Example: `EmbeddingBag bag(EmbeddingBagOptions(10, 3).mode(EmbeddingBagMode::Sum)); auto y = bag(idx, offsets);`
template <class T = float>
class EmbeddingBag : public Module<T> {
 public:
  explicit EmbeddingBag(EmbeddingBagOptions opts) : options(validated(opts)) {
    weight = Parameter<T>(description(), empty<T>({options.num_embeddings(), options.embedding_dim()}));
    reset_parameters();
  }
  EmbeddingBag(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : EmbeddingBag(EmbeddingBagOptions(num_embeddings, embedding_dim)) {}

  /// An EmbeddingBag whose weight shares `embeddings`' elements; nothing is drawn and the padding
  /// row is not zeroed. freeze (default true) turns off requires_grad.
  static EmbeddingBag from_pretrained(const Tensor<T>& embeddings,
                                      const EmbeddingBagFromPretrainedOptions& opts = EmbeddingBagFromPretrainedOptions()) {
    detail::check_pretrained_table("EmbeddingBag", embeddings);
    EmbeddingBagOptions o(embeddings.size(0), embeddings.size(1));
    o.max_norm(opts.max_norm()).norm_type(opts.norm_type()).scale_grad_by_freq(opts.scale_grad_by_freq());
    o.mode(opts.mode()).sparse(opts.sparse()).include_last_offset(opts.include_last_offset()).padding_idx(opts.padding_idx());
    EmbeddingBag e(validated(o), embeddings);
    e.weight.requires_grad_(!opts.freeze());
    return e;
  }

  EmbeddingBag(const EmbeddingBag&) = default;
  EmbeddingBag(EmbeddingBag&&) = default;
  /// Replaces options and weight (the copy shares the other's weight).
  EmbeddingBag& operator=(const EmbeddingBag& other) { return *this = EmbeddingBag(other); }
  EmbeddingBag& operator=(EmbeddingBag&&) = default;

  /// Draws the weight from N(0, 1), then zeroes the padding row.
  void reset_parameters() { detail::reset_table<T>(weight, options.padding_idx()); }

  /// [bags, embedding_dim]. input: 1-D with offsets (int64 or int32), or 2-D without;
  /// per_sample_weights: the input's shape, mode Sum only.
  template <class I, class J = I>
  Tensor<T> forward(const Tensor<I>& input, const Tensor<J>& offsets = Tensor<J>(),
                    const Tensor<T>& per_sample_weights = Tensor<T>()) const {
    static_assert(detail::is_index_v<I> && detail::is_index_v<J>,
                  "EmbeddingBag: indices and offsets must be Tensor<std::int64_t> or Tensor<std::int32_t>");
    return detail::embedding_bag_forward("EmbeddingBag", input, weight, offsets, per_sample_weights,
                                         detail::embedding_bag_config("EmbeddingBag", options, weight.size(0)));
  }
  template <class I, class J = I>
  Tensor<T> operator()(const Tensor<I>& input, const Tensor<J>& offsets = Tensor<J>(),
                       const Tensor<T>& per_sample_weights = Tensor<T>()) const {
    return forward(input, offsets, per_sample_weights);
  }

  void visit(Visitor<T>& v) override { v("weight", weight); }
  std::string name() const override { return "EmbeddingBag"; }
  std::string extra_repr() const override {
    std::string s = detail::cat(options.num_embeddings(), ", ", options.embedding_dim());
    if (options.max_norm()) s += ", max_norm=" + detail::python_float(*options.max_norm());
    if (options.norm_type() != 2) s += ", norm_type=" + detail::python_float(options.norm_type());
    if (options.scale_grad_by_freq()) s += ", scale_grad_by_freq=True";
    s += std::string(", mode=") + detail::mode_name(options.mode());
    if (options.padding_idx()) s += detail::cat(", padding_idx=", *options.padding_idx());
    return s;
  }

  /// The options, padding_idx normalised to [0, num_embeddings).
  EmbeddingBagOptions options;
  /// [num_embeddings, embedding_dim].
  Parameter<T> weight;

 private:
  EmbeddingBag(const EmbeddingBagOptions& opts, const Tensor<T>& pretrained)
      : options(opts), weight(description(), pretrained) {}

  static EmbeddingBagOptions validated(EmbeddingBagOptions o) {
    detail::check_table_sizes("EmbeddingBag", o.num_embeddings(), o.embedding_dim());
    const auto c = detail::embedding_bag_config("EmbeddingBag", o, o.num_embeddings());
    if (c.padding_idx >= 0) o.padding_idx(c.padding_idx);
    return o;
  }
  std::string description() const { return "EmbeddingBag(" + extra_repr() + ").weight"; }
};

namespace functional {

/// Options of functional::embedding_bag (the EmbeddingBag options without the sizes).
class EmbeddingBagFuncOptions {
 public:
  std::optional<double> max_norm() const noexcept { return max_norm_; }
  EmbeddingBagFuncOptions& max_norm(std::optional<double> v) noexcept { return max_norm_ = v, *this; }
  double norm_type() const noexcept { return norm_type_; }
  EmbeddingBagFuncOptions& norm_type(double v) noexcept { return norm_type_ = v, *this; }
  bool scale_grad_by_freq() const noexcept { return scale_grad_by_freq_; }
  EmbeddingBagFuncOptions& scale_grad_by_freq(bool v) noexcept { return scale_grad_by_freq_ = v, *this; }
  EmbeddingBagMode mode() const noexcept { return mode_; }
  EmbeddingBagFuncOptions& mode(EmbeddingBagMode v) noexcept { return mode_ = v, *this; }
  bool sparse() const noexcept { return sparse_; }
  EmbeddingBagFuncOptions& sparse(bool v) noexcept { return sparse_ = v, *this; }
  bool include_last_offset() const noexcept { return include_last_offset_; }
  EmbeddingBagFuncOptions& include_last_offset(bool v) noexcept { return include_last_offset_ = v, *this; }
  std::optional<std::int64_t> padding_idx() const noexcept { return padding_idx_; }
  EmbeddingBagFuncOptions& padding_idx(std::optional<std::int64_t> v) noexcept { return padding_idx_ = v, *this; }

 private:
  std::optional<double> max_norm_;
  double norm_type_ = 2;
  bool scale_grad_by_freq_ = false;
  EmbeddingBagMode mode_ = EmbeddingBagMode::Mean;
  bool sparse_ = false;
  bool include_last_offset_ = false;
  std::optional<std::int64_t> padding_idx_;
};

/// Bags of rows of `weight` reduced to one row each, like torch.nn.functional.embedding_bag.
/// With max_norm set, the referenced rows of `weight` are rescaled in place first.
template <class T, class I, class J = I>
Tensor<T> embedding_bag(const Tensor<I>& input, const Tensor<T>& weight, const Tensor<J>& offsets = Tensor<J>(),
                        const Tensor<T>& per_sample_weights = Tensor<T>(),
                        const EmbeddingBagFuncOptions& options = EmbeddingBagFuncOptions()) {
  detail::check_embedding_weight("embedding_bag", weight);
  detail::check_norm_options("embedding_bag", options.max_norm(), options.norm_type());
  const detail::EmbeddingBagConfig c{options.mode(),
                                     detail::normalize_padding_idx("embedding_bag", options.padding_idx(), weight.size(0)),
                                     options.max_norm(),
                                     options.norm_type(),
                                     options.scale_grad_by_freq(),
                                     options.sparse(),
                                     options.include_last_offset()};
  detail::check_bag_mode("embedding_bag", c);
  return detail::embedding_bag_forward("embedding_bag", input, weight, offsets, per_sample_weights, c);
}

}  // namespace functional
}  // namespace nn
}  // namespace tapegrad
