// SPDX-License-Identifier: MIT
// Optimizer<T>: parameter groups with their options, zero_grad(), the state dict and the checks every step shares.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/autograd.hpp"
#include "tapegrad/detail/cpu.hpp"  // cpu_has_avx2_fma, TAPEGRAD_AVX2_KERNELS
#include "tapegrad/detail/parallel.hpp"
#include "tapegrad/detail/prefetch.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/grad_mode.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad {
namespace detail {

/// The rows of a row-sparse gradient with duplicate rows summed (each sum in input order, starting
/// from zero, exactly as to_dense() sums them). The maths of Adagrad and Adam is not linear in the
/// gradient, so each row must be seen once. The buffers are kept between steps, so coalescing
/// allocates nothing once they are big enough.
///
/// Duplicates are found with a hash table in one pass over the gradient in input order: a sort
/// of the positions by row visited the value rows at random and cost 4x more at 16k rows.
template <class T>
class RowCoalescer {
 public:
  /// Makes rows()/values() describe `grad` (sparse, already checked) with unique rows, in
  /// ascending order if `sorted`, else in order of first appearance. They may point into `grad`,
  /// which must stay alive while they are read.
  void load(const Tensor<T>& grad, bool sorted = true) {
    const std::int64_t nnz = grad.indices().numel();
    const std::int64_t* idx = grad.indices().data();  // owned by grad, not by the temporary handle
    const T* src = grad.values().data();
    width_ = row_width(grad.shape());
    if (grad.is_coalesced() && std::is_sorted(idx, idx + nnz, std::less_equal<std::int64_t>())) {
      count_ = nnz;  // already unique and sorted: read the gradient's own buffers
      rows_ptr_ = idx;
      values_ptr_ = src;
      slots_ptr_ = nullptr;
      return;
    }
    std::size_t capacity = 16;  // a power of two, at least twice nnz: short probe sequences
    while (capacity < 2 * static_cast<std::size_t>(nnz)) capacity *= 2;
    table_.assign(capacity, -1);  // unique-row number per hash slot, -1 when empty
    rows_.clear();
    summed_.resize(static_cast<std::size_t>(nnz * width_));
    const std::size_t mask = capacity - 1;
    for (std::int64_t k = 0; k < nnz; ++k) {
      const std::int64_t row = idx[k];
      std::size_t h = static_cast<std::size_t>(static_cast<std::uint64_t>(row) * 0x9E3779B97F4A7C15ull >> 32) & mask;
      while (table_[h] >= 0 && rows_[static_cast<std::size_t>(table_[h])] != row) h = (h + 1) & mask;
      const T* in = src + k * width_;
      if (table_[h] < 0) {  // first appearance: the sum starts from zero, as in to_dense()
        table_[h] = static_cast<std::int64_t>(rows_.size());
        T* dst = summed_.data() + static_cast<std::int64_t>(rows_.size()) * width_;
        for (std::int64_t j = 0; j < width_; ++j) dst[j] = T(0) + in[j];
        rows_.push_back(row);
      } else {
        T* dst = summed_.data() + table_[h] * width_;
        for (std::int64_t j = 0; j < width_; ++j) dst[j] += in[j];
      }
    }
    count_ = static_cast<std::int64_t>(rows_.size());
    values_ptr_ = summed_.data();
    slots_ptr_ = nullptr;
    if (sorted && !std::is_sorted(rows_.begin(), rows_.end())) {
      // Sort (row, slot) pairs packed into one integer when they fit (always, in practice).
      slots_.resize(rows_.size());
      constexpr int kSlotBits = 24;
      const bool packed = count_ < (std::int64_t(1) << kSlotBits) && grad.shape()[0] <= (std::int64_t(1) << (63 - kSlotBits));
      for (std::size_t u = 0; u < rows_.size(); ++u)
        slots_[u] = packed ? (rows_[u] << kSlotBits) | static_cast<std::int64_t>(u) : static_cast<std::int64_t>(u);
      if (packed) {
        std::sort(slots_.begin(), slots_.end());
        for (std::size_t u = 0; u < rows_.size(); ++u) {
          rows_[u] = slots_[u] >> kSlotBits;
          slots_[u] &= (std::int64_t(1) << kSlotBits) - 1;
        }
      } else {
        std::sort(slots_.begin(), slots_.end(), [this](std::int64_t a, std::int64_t b) {
          return rows_[static_cast<std::size_t>(a)] < rows_[static_cast<std::size_t>(b)];
        });
        order_.resize(rows_.size());
        for (std::size_t u = 0; u < rows_.size(); ++u) order_[u] = rows_[static_cast<std::size_t>(slots_[u])];
        rows_.swap(order_);
      }
      slots_ptr_ = slots_.data();
    }
    rows_ptr_ = rows_.data();
  }

  /// Number of unique rows.
  std::int64_t size() const noexcept { return count_; }
  /// Elements per row.
  std::int64_t width() const noexcept { return width_; }
  /// The row number of the k-th unique row.
  std::int64_t row(std::int64_t k) const noexcept { return rows_ptr_[k]; }
  /// The summed gradient of the k-th unique row.
  const T* values(std::int64_t k) const noexcept { return values_ptr_ + (slots_ptr_ ? slots_ptr_[k] : k) * width_; }
  /// A row of zeros, the gradient of every row the sparse gradient leaves out.
  const T* zero_row() {
    if (static_cast<std::int64_t>(zeros_.size()) < width_) zeros_.assign(static_cast<std::size_t>(width_), T(0));
    return zeros_.data();
  }

  /// Elements per row of a tensor of `shape` (its first dimension counts the rows).
  static std::int64_t row_width(const Shape& shape) {
    const std::int64_t rows = shape.empty() ? 1 : shape[0];
    return rows == 0 ? 0 : numel_of(shape) / rows;
  }

 private:
  std::vector<std::int64_t> table_, rows_, slots_, order_;
  std::vector<T> summed_, zeros_;
  const std::int64_t* rows_ptr_ = nullptr;
  const std::int64_t* slots_ptr_ = nullptr;  // where the k-th sorted row's sum is, or null: at k
  const T* values_ptr_ = nullptr;
  std::int64_t count_ = 0, width_ = 0;
};

/// The square root of every element, correctly rounded, as an Eigen expression. Eigen's packet
/// sqrt is a 1-2 bit approximation under EIGEN_FAST_MATH (its default; float on SSE/AVX, float and
/// double on AVX-512), which would put steps an ulp away from PyTorch's and turns sqrt(inf) into
/// NaN. Then std::sqrt is used, element by element; with EIGEN_FAST_MATH=0 Eigen's is exact and vectorised.
template <class Expr>
auto exact_sqrt(const Expr& x) {
#if EIGEN_FAST_MATH
  return x.unaryExpr([](typename Expr::Scalar v) { return std::sqrt(v); });
#else
  return x.sqrt();
#endif
}

/// True if all n elements are +0 (every bit clear; -0 and NaN are not). Branch-free, so it
/// vectorises: a zero check costs a read of the block and nothing else.
template <class T>
bool all_zero_bits(const T* x, std::int64_t n) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  Bits any = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    Bits b;
    std::memcpy(&b, x + i, sizeof b);
    any |= b;
  }
  return any == 0;
}

/// all_zero_bits for a block of a size known at compile time (unrolled, no remainder loop).
template <std::int64_t N, class T>
bool all_zero_bits(const T* x) {
  return all_zero_bits(x, N);
}

#if TAPEGRAD_AVX2_KERNELS
/// next_nonzero_block over whole blocks of kBytes, 32 bytes per load. At SSE2 width the scan of a
/// dense embedding gradient is held by its load instructions rather than by memory.
template <std::int64_t kBytes>
__attribute__((target("avx2"))) std::int64_t next_nonzero_block_avx2(const unsigned char* x, std::int64_t from,
                                                                     std::int64_t to) {
  static_assert(kBytes % 64 == 0, "two 32-byte loads per step");
  for (std::int64_t b = from; b < to; ++b) {
    const unsigned char* block = x + b * kBytes;
    __m256i even = _mm256_setzero_si256(), odd = even;  // two chains, so the ORs keep up with the loads
    for (std::int64_t i = 0; i < kBytes; i += 64) {
      even = _mm256_or_si256(even, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + i)));
      odd = _mm256_or_si256(odd, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + i + 32)));
    }
    const __m256i any = _mm256_or_si256(even, odd);
    if (!_mm256_testz_si256(any, any)) return b;
  }
  return to;
}
#endif

/// The first block at or after `from` (blocks of kBlock elements of x[0, n), the last one possibly
/// shorter) with any bit set, or the number of blocks: where a step on a mostly-zero gradient has
/// work. Same test as all_zero_bits (-0 and NaN count as set), on AVX2 when cpuid says so.
template <std::int64_t kBlock, class T>
std::int64_t next_nonzero_block(const T* x, std::int64_t n, std::int64_t from) {
  const std::int64_t whole = n / kBlock, blocks = (n + kBlock - 1) / kBlock;
#if TAPEGRAD_AVX2_KERNELS
  if (from < whole && cpu_has_avx2_fma()) {
    from = next_nonzero_block_avx2<kBlock * static_cast<std::int64_t>(sizeof(T))>(
        reinterpret_cast<const unsigned char*>(x), from, whole);
    if (from < whole) return from;
  }
#endif
  for (; from < blocks; ++from) {
    const T* block = x + from * kBlock;
    if (!(from < whole ? all_zero_bits<kBlock>(block) : all_zero_bits(block, n - from * kBlock))) return from;
  }
  return blocks;
}

/// Which elements a step visits when the gradient is sparse.
enum class SparseUpdate {
  touched_rows,  // only the gradient's rows: O(nnz * D); exact when untouched rows would not move
  all_rows       // every row, a zero gradient for the others: exact, O(rows * D)
};

/// Elements per call of an update kernel on a dense gradient: small enough that the kernel's few
/// passes over its arrays stay in L1, large enough that the call overhead does not matter.
inline constexpr std::int64_t kUpdateChunk = 2048;

/// Calls `kernel(offset, n, g)` over pieces of a parameter: `g` points at the gradient of elements
/// [offset, offset + n). A dense gradient is cut into chunks; a sparse one is visited row by row.
/// `param` (optional) is the parameter's data: the touched rows are prefetched from it. With
/// `parallel` (for kernels that touch only their own elements) a large dense gradient's chunks are
/// shared among threads when OpenMP is on.
template <class T, class Kernel>
void for_each_update(const Tensor<T>& grad, RowCoalescer<T>& rows, SparseUpdate mode, Kernel&& kernel,
                     const T* param = nullptr, bool parallel = false) {
  if (!grad.is_sparse()) {
    const T* g = grad.data();
    const std::int64_t n = grad.numel();
    const std::int64_t chunks = (n + kUpdateChunk - 1) / kUpdateChunk;
    const double bytes = parallel ? 3.0 * static_cast<double>(n) * sizeof(T) : 0.0;  // read p and g, write p
    parallel_for(chunks, bytes, [&](std::int64_t first, std::int64_t end) {
      for (std::int64_t off = first * kUpdateChunk; off < std::min(n, end * kUpdateChunk); off += kUpdateChunk)
        kernel(off, std::min(kUpdateChunk, n - off), g + off);
    });
    return;
  }
  rows.load(grad, /*sorted=*/mode == SparseUpdate::all_rows);
  const std::int64_t width = rows.width();
  if (mode == SparseUpdate::touched_rows) {
    const auto row_bytes = static_cast<std::size_t>(width) * sizeof(T);
    for (std::int64_t k = 0; k < rows.size(); ++k) {
      if (param && k + kPrefetchAhead < rows.size()) prefetch_row(param + rows.row(k + kPrefetchAhead) * width, row_bytes, true);
      kernel(rows.row(k) * width, width, rows.values(k));
    }
    return;
  }
  const T* zero = rows.zero_row();
  const std::int64_t n_rows = grad.shape()[0];
  std::int64_t k = 0;
  for (std::int64_t r = 0; r < n_rows; ++r) {
    const bool touched = k < rows.size() && rows.row(k) == r;
    kernel(r * width, width, touched ? rows.values(k++) : zero);
  }
}

/// Throws a ValueError naming `opt`, `option`, its value and the condition it fails.
TAPEGRAD_COLD inline void throw_bad_option(const char* opt, const char* option, double value, const char* must) {
  throw ValueError(cat(opt, ": ", option, " must be ", must, ", got ", value));
}

/// Checks `value >= 0` (NaN fails too).
inline void check_non_negative(const char* opt, const char* option, double value) {
  if (!(value >= 0)) throw_bad_option(opt, option, value, ">= 0");
}

/// Checks a pair of betas: each in [0, 1).
inline void check_betas(const char* opt, const std::pair<double, double>& betas) {
  if (!(betas.first >= 0 && betas.first < 1)) throw_bad_option(opt, "betas[0]", betas.first, "in [0, 1)");
  if (!(betas.second >= 0 && betas.second < 1)) throw_bad_option(opt, "betas[1]", betas.second, "in [0, 1)");
}

}  // namespace detail

namespace optim {

/// Named numbers under PyTorch's names, as an optimiser's param_groups and a scheduler's state_dict()
/// hold them: {"lr", {0.1}}, {"betas", {0.9, 0.999}}, {"nesterov", {0}} (flags are 0 or 1).
using NamedValues = std::vector<std::pair<std::string, std::vector<double>>>;

/// An optimiser's state, laid out as PyTorch's `optimizer.state_dict()`: per-parameter state by
/// parameter index (only parameters that have some), and the parameter groups with their options.
template <class T>
struct OptimizerStateDict {
  struct ParamState {
    std::vector<std::pair<std::string, Tensor<T>>> tensors;  // "exp_avg", "momentum_buffer", "sum", ...
    NamedValues values;                                       // "step"
  };
  struct ParamGroup {
    NamedValues options;               // "lr", "momentum", "betas", ...
    std::vector<std::int64_t> params;  // indices into the optimiser's parameters
  };
  std::vector<std::pair<std::int64_t, ParamState>> state;
  std::vector<ParamGroup> param_groups;
};

}  // namespace optim

namespace detail {

/// Reads named values by name for load_state_dict: each must be present, of the right kind, and
/// every name must be read (finish()), so a state dict of another optimiser or version is refused.
class NamedValuesReader {
 public:
  NamedValuesReader(std::string where, const optim::NamedValues& values) : where_(std::move(where)), values_(values) {}

  double scalar(const std::string& name) { return get(name, 1)[0]; }
  std::pair<double, double> pair(const std::string& name) {
    const auto& v = get(name, 2);
    return {v[0], v[1]};
  }
  bool flag(const std::string& name) {
    const double v = scalar(name);
    if (v != 0 && v != 1) throw ValueError(cat(where_, ": \"", name, "\" must be 0 or 1, got ", v));
    return v == 1;
  }
  /// A count (a step number): an integer in [0, 2^53].
  std::int64_t count(const std::string& name) {
    const double v = scalar(name);
    if (!(v >= 0 && v <= 9007199254740992.0 && std::floor(v) == v))
      throw ValueError(cat(where_, ": \"", name, "\" must be a whole number >= 0, got ", v));
    return static_cast<std::int64_t>(v);
  }
  /// `n` numbers (one per parameter group, say).
  std::vector<double> values(const std::string& name, std::size_t n) { return get(name, n); }
  /// Any number of numbers.
  std::vector<double> any_values(const std::string& name) { return get(name, kAny); }
  /// Throws if a name was never read (an option this optimiser does not have).
  void finish() const {
    for (const auto& item : values_)
      if (std::find(read_.begin(), read_.end(), item.first) == read_.end())
        throw ValueError(cat(where_, ": unexpected entry \"", item.first, "\""));
  }

 private:
  const std::vector<double>& get(const std::string& name, std::size_t n) {
    for (const auto& item : values_)
      if (item.first == name) {
        if (n != kAny && item.second.size() != n)
          throw ValueError(cat(where_, ": \"", name, "\" must have ", n, n == 1 ? " value" : " values", ", got ",
                               item.second.size()));
        read_.push_back(name);
        return item.second;
      }
    throw ValueError(cat(where_, ": missing entry \"", name, "\""));
  }

  static constexpr std::size_t kAny = static_cast<std::size_t>(-1);
  std::string where_;
  const optim::NamedValues& values_;
  std::vector<std::string> read_;
};

/// Reads one parameter's state for load_state_dict: tensors must have the parameter's shape and are
/// copied, so the loaded optimiser never shares buffers with the dict it was given.
template <class T>
class ParamStateReader {
 public:
  using ParamState = typename optim::OptimizerStateDict<T>::ParamState;
  ParamStateReader(std::string where, const ParamState* state, const Tensor<T>& param)
      : values_(where, state ? state->values : empty_), where_(std::move(where)), state_(state), param_(param) {}

  /// Whether the dict holds any state for this parameter.
  bool present() const noexcept { return state_ != nullptr; }
  /// The tensor named `name` (copied), or an undefined tensor if absent and not `required`.
  Tensor<T> tensor(const std::string& name, bool required) {
    if (state_)
      for (const auto& item : state_->tensors)
        if (item.first == name) {
          const Tensor<T>& t = item.second;
          if (!t.defined() || t.is_sparse() || t.shape() != param_.shape())
            throw ShapeError(cat(where_, ": \"", name, "\" must be a dense tensor of the parameter's shape ",
                                 shape_str(param_.shape()), ", got ",
                                 t.defined() ? shape_str(t.shape()) : std::string("an undefined tensor")));
          read_.push_back(name);
          return t.detach().clone();
        }
    if (required) throw ValueError(cat(where_, ": missing tensor \"", name, "\""));
    return Tensor<T>();
  }
  NamedValuesReader& values() noexcept { return values_; }
  void finish() const {
    values_.finish();
    if (state_)
      for (const auto& item : state_->tensors)
        if (std::find(read_.begin(), read_.end(), item.first) == read_.end())
          throw ValueError(cat(where_, ": unexpected tensor \"", item.first, "\""));
  }

 private:
  static inline const optim::NamedValues empty_{};
  NamedValuesReader values_;
  std::string where_;
  const ParamState* state_;
  const Tensor<T>& param_;
  std::vector<std::string> read_;
};

}  // namespace detail

namespace optim {

/// What schedulers (and users) can read and change in any optimiser's options without knowing its
/// type, as libtorch's OptimizerOptions: the learning rate, and the momentum OneCycleLR cycles.
class OptimizerOptions {
 public:
  virtual ~OptimizerOptions() = default;
  /// The learning rate (PyTorch's group["lr"]).
  virtual double get_lr() const = 0;
  /// Sets the learning rate; the optimiser checks it before its next step.
  virtual void set_lr(double lr) = 0;
  /// The option OneCycleLR cycles: "momentum" (SGD, RMSprop), "betas" (its first value: Adam, AdamW,
  /// SparseAdam) or "" (none: Adagrad).
  virtual const char* momentum_name() const { return ""; }
  /// The value of that option (beta1 for "betas").
  virtual double get_momentum() const { return 0; }
  /// Sets that option (beta1 for "betas").
  virtual void set_momentum(double) {}
  /// Whether the option named `name` (PyTorch's key) was set explicitly rather than left at its
  /// default: a parameter group's own options override the optimiser's defaults only where set.
  virtual bool is_set(const std::string& name) const = 0;
  /// The type's name ("SGDOptions"), for messages.
  virtual const char* type_name() const = 0;
  /// A copy of the same type.
  virtual std::unique_ptr<OptimizerOptions> clone() const = 0;

 protected:
  OptimizerOptions() = default;
  OptimizerOptions(const OptimizerOptions&) = default;
  OptimizerOptions& operator=(const OptimizerOptions&) = default;
};

}  // namespace optim

namespace detail {

/// The OptimizerOptions plumbing every options class shares (CRTP): lr through get_lr/set_lr, cloning,
/// and the names of the options set explicitly (set() records them).
template <class Derived>
class OptionsBase : public optim::OptimizerOptions {
 public:
  double get_lr() const override { return self().lr(); }
  void set_lr(double lr) override { static_cast<Derived&>(*this).lr(lr); }
  bool is_set(const std::string& name) const override {
    return std::find(set_.begin(), set_.end(), name) != set_.end();
  }
  std::unique_ptr<optim::OptimizerOptions> clone() const override { return std::make_unique<Derived>(self()); }

 protected:
  /// Stores `value` in `field`, records `name` as set, and returns the options for chaining.
  template <class V, class U>
  Derived& set(const char* name, V& field, U value) {
    field = static_cast<V>(value);
    if (!is_set(name)) set_.emplace_back(name);
    return static_cast<Derived&>(*this);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
  std::vector<std::string> set_;
};

}  // namespace detail

namespace optim {

/// Parameters that share options, as an entry of PyTorch's list of parameter-group dicts (libtorch's
/// OptimizerParamGroup). The options a group sets explicitly override the optimiser's defaults; the
/// others fall back to them, as a PyTorch group dict's missing keys do.
/// Example, no weight decay on biases and embeddings:
///   AdamW<float> opt({ParamGroup<float>(decay_params),
///                     ParamGroup<float>(no_decay_params, AdamWOptions().weight_decay(0))},
///                    AdamWOptions(1e-3));
template <class T>
class ParamGroup {
 public:
  /// A group with the optimiser's default options (PyTorch's {"params": params}).
  ParamGroup(std::vector<Tensor<T>> params) : params_(std::move(params)) {}  // NOLINT: implicit, as a dict
  /// A group with its own options (PyTorch's {"params": params, "lr": ..., ...}); options of another
  /// optimiser's type are refused when the group is added.
  ParamGroup(std::vector<Tensor<T>> params, const OptimizerOptions& options)
      : params_(std::move(params)), options_(options.clone()) {}
  ParamGroup(const ParamGroup& other)
      : params_(other.params_), options_(other.options_ ? other.options_->clone() : nullptr) {}
  ParamGroup(ParamGroup&&) noexcept = default;
  // Not assignable: an optimiser's groups keep their parameters, only their options change.
  ParamGroup& operator=(const ParamGroup&) = delete;

  /// The group's parameters.
  const std::vector<Tensor<T>>& params() const noexcept { return params_; }
  /// Whether the group has options of its own (always, once in an optimiser: the merged ones).
  bool has_options() const noexcept { return options_ != nullptr; }
  /// The group's options: `opt.param_groups()[1].options().set_lr(0.01)`.
  OptimizerOptions& options() {
    if (!options_) throw ValueError("ParamGroup::options: this group has no options of its own (it uses the optimiser's defaults)");
    return *options_;
  }
  const OptimizerOptions& options() const { return const_cast<ParamGroup&>(*this).options(); }
  /// The options as their own type: `group.options_as<SGDOptions>().momentum()`.
  template <class Options>
  Options& options_as() {
    auto* typed = dynamic_cast<Options*>(&options());
    if (!typed) throw ValueError(detail::cat("ParamGroup::options_as: the group's options are ", options().type_name()));
    return *typed;
  }
  template <class Options>
  const Options& options_as() const {
    return const_cast<ParamGroup&>(*this).template options_as<Options>();
  }

 private:
  template <class>
  friend class Optimizer;
  std::vector<Tensor<T>> params_;
  std::unique_ptr<OptimizerOptions> options_;
};

/// An optimiser's parameter groups, as `optimizer.param_groups` in PyTorch: each group's options can
/// be read and changed, the list itself only grows through add_param_group().
template <class T>
class ParamGroups {
 public:
  explicit ParamGroups(std::vector<ParamGroup<T>>& groups) noexcept : groups_(&groups) {}
  std::size_t size() const noexcept { return groups_->size(); }
  /// Group i; IndexError when out of range.
  ParamGroup<T>& operator[](std::size_t i) const {
    if (i >= groups_->size())
      throw IndexError(detail::cat("param_groups: index ", i, " is out of range for ", groups_->size(), " groups"));
    return (*groups_)[i];
  }
  typename std::vector<ParamGroup<T>>::iterator begin() const noexcept { return groups_->begin(); }
  typename std::vector<ParamGroup<T>>::iterator end() const noexcept { return groups_->end(); }

 private:
  std::vector<ParamGroup<T>>* groups_;
};

/// What every optimiser shares: its parameter groups (tensor handles, so per-parameter state follows
/// the parameter even when copy-on-write moves its elements), zero_grad(), the learning rates and
/// the state dict.
///
/// Parameters are numbered across groups in order (group 0's first), as the ids of PyTorch's
/// state_dict(). A step runs under NoGradGuard, checks every group's options and every gradient
/// before it changes any parameter or state, skips parameters without a gradient (as PyTorch) and
/// writes the parameters in place.
template <class T>
class Optimizer {
  static_assert(std::is_floating_point_v<T>, "tapegrad::optim::Optimizer<T>: T must be float or double");

 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;  // a copy would share state buffers with the original
  Optimizer& operator=(const Optimizer&) = delete;

  /// Updates every parameter that has a gradient.
  virtual void step() = 0;

  /// Resets the gradients. By default (PyTorch 1.13's) dense gradients are filled with zeros in place,
  /// so handles to them see zeros and nothing is allocated; a sparse gradient becomes an empty sparse
  /// tensor. With `set_to_none` the gradients are dropped (undefined), and the next step skips them.
  void zero_grad(bool set_to_none = false) {
    for (Tensor<T>& p : params_) {
      Tensor<T>& g = p.mutable_grad();
      if (!g.defined()) continue;
      if (set_to_none) {
        g = Tensor<T>();
      } else if (g.is_sparse()) {
        Shape value_shape = g.shape();
        value_shape[0] = 0;
        g = detail::make_sparse(g.shape(), detail::make_tensor<std::int64_t>({0}), detail::make_tensor<T>(value_shape), true);
      } else {
        detail::zero_dense_grad(g);
      }
    }
  }

  /// The learning rate of the first parameter group (of every group, unless they differ).
  double lr() const { return groups_.front().options().get_lr(); }
  /// Sets the learning rate of every parameter group; checked like the constructor's, nothing
  /// changes on error.
  void set_lr(double lr) {
    for (const ParamGroup<T>& group : groups_) {
      auto trial = group.options().clone();
      trial->set_lr(lr);
      check_options(*trial);
    }
    for (ParamGroup<T>& group : groups_) group.options().set_lr(lr);
  }

  /// The parameter groups (PyTorch's optimizer.param_groups), each with all its options:
  /// `for (auto& group : opt.param_groups()) group.options().set_lr(0.01);`
  ParamGroups<T> param_groups() noexcept { return ParamGroups<T>(groups_); }
  const std::vector<ParamGroup<T>>& param_groups() const noexcept { return groups_; }

  /// Adds a group of parameters (PyTorch's add_param_group): its options fall back to the defaults
  /// where it does not set them; a parameter already in the optimiser is an error. Checked first,
  /// nothing changes on error. Example: `opt.add_param_group({head.parameters(), SGDOptions(0.01)});`
  void add_param_group(const ParamGroup<T>& group) { add_groups({group}); }

  /// The options groups fall back to (PyTorch's optimizer.defaults).
  const OptimizerOptions& defaults() const noexcept { return *defaults_; }

  /// The parameters of every group, numbered as in state_dict() (group 0's first).
  const std::vector<Tensor<T>>& parameters() const noexcept { return params_; }

  /// The optimiser's name, as it starts error messages ("SGD").
  const char* name() const noexcept { return name_; }

  /// The per-parameter state and the parameter groups with their options under PyTorch's names,
  /// laid out as PyTorch's `optimizer.state_dict()` (see OptimizerStateDict). The tensors are
  /// copies: stepping on does not change a dict already taken.
  OptimizerStateDict<T> state_dict() const {
    OptimizerStateDict<T> out;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      typename OptimizerStateDict<T>::ParamGroup group;
      group.options = options_state(groups_[g].options());
      for (std::size_t i = group_begin(g); i < group_end(g); ++i) group.params.push_back(static_cast<std::int64_t>(i));
      out.param_groups.push_back(std::move(group));
    }
    for (std::size_t i = 0; i < params_.size(); ++i) {
      typename OptimizerStateDict<T>::ParamState s = param_state(i);
      for (auto& item : s.tensors) item.second = item.second.detach().clone();
      if (!s.tensors.empty() || !s.values.empty()) out.state.emplace_back(static_cast<std::int64_t>(i), std::move(s));
    }
    return out;
  }

  /// Restores every group's options and the state from state_dict() of an optimiser of the same kind
  /// with groups of the same sizes over parameters of the same shapes. The defaults do not change
  /// (as PyTorch's). Everything is checked first; on any error nothing changes.
  void load_state_dict(const OptimizerStateDict<T>& dict) {
    const std::string where = detail::cat(name_, "::load_state_dict");
    if (dict.param_groups.size() != groups_.size())
      throw ValueError(detail::cat(where, ": expected ", groups_.size(), groups_.size() == 1 ? " parameter group" : " parameter groups",
                                   ", got ", dict.param_groups.size()));
    std::vector<std::unique_ptr<OptimizerOptions>> options;
    std::vector<const OptimizerOptions*> options_of(params_.size(), nullptr);
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      const auto& ids = dict.param_groups[g].params;
      const std::size_t first = group_begin(g), n = group_end(g) - first;
      bool in_order = ids.size() == n;
      for (std::size_t k = 0; in_order && k < n; ++k) in_order = ids[k] == static_cast<std::int64_t>(first + k);
      if (!in_order)
        throw ValueError(detail::cat(where, ": the state dict's param_groups[", g, "] lists ", ids.size(),
                                     " parameters, this optimiser has ", n, " in that group (expected ids ", first, " to ",
                                     first + n, " - 1 in order)"));
      detail::NamedValuesReader reader(detail::cat(where, ": param_groups[", g, "]"), dict.param_groups[g].options);
      options.push_back(read_options(reader));
      for (std::size_t i = first; i < first + n; ++i) options_of[i] = options.back().get();
    }
    std::vector<const typename OptimizerStateDict<T>::ParamState*> per_param(params_.size(), nullptr);
    for (const auto& [index, s] : dict.state) {
      if (index < 0 || index >= static_cast<std::int64_t>(params_.size()))
        throw IndexError(detail::cat(where, ": state for parameter ", index, ", out of range [0, ", params_.size(), ")"));
      if (per_param[static_cast<std::size_t>(index)])
        throw ValueError(detail::cat(where, ": two states for parameter ", index));
      per_param[static_cast<std::size_t>(index)] = &s;
    }
    load_state(per_param, options_of);  // swaps the state in last: nothing changed if it throws
    for (std::size_t g = 0; g < groups_.size(); ++g) groups_[g].options_ = std::move(options[g]);
  }

 protected:
  explicit Optimizer(const char* name) : name_(name) {}
  Optimizer(Optimizer&&) noexcept = default;
  Optimizer& operator=(Optimizer&&) noexcept = default;

  /// Sets the defaults and adds the first groups; what every constructor calls (virtual functions
  /// work from here on, unlike in this base's constructor).
  void init(std::vector<ParamGroup<T>> groups, const OptimizerOptions& defaults) {
    check_options(defaults);
    defaults_ = defaults.clone();
    std::size_t count = 0;
    for (const ParamGroup<T>& group : groups) count += group.params().size();
    if (count == 0) throw ValueError(detail::cat(name_, ": got an empty parameter list"));
    add_groups(groups);
  }

  /// Checks new groups (their parameters against each other and the optimiser's, their options
  /// merged over the defaults), then adds them and their parameters' state.
  void add_groups(const std::vector<ParamGroup<T>>& groups) {
    std::vector<Tensor<T>> all = params_;
    std::vector<std::size_t> group_of = group_of_param();
    std::vector<std::unique_ptr<OptimizerOptions>> resolved;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const std::size_t group_index = groups_.size() + g;
      for (const Tensor<T>& p : groups[g].params()) {
        const std::size_t i = all.size();
        check_param(p, i);
        for (std::size_t j = 0; j < i; ++j)
          if (p.shares_storage(all[j])) {
            if (group_of[j] == group_index)
              throw ValueError(detail::cat(name_, ": parameters ", j, " and ", i,
                                           " share the same elements; pass each parameter once"));
            throw ValueError(detail::cat(name_, ": parameter ", i, " (in parameter group ", group_index, ") is also parameter ", j,
                                         " (in parameter group ", group_of[j],
                                         "); a parameter can be in only one group"));
          }
        all.push_back(p);
        group_of.push_back(group_index);
      }
      resolved.push_back(resolve(groups[g], group_index));
    }
    // Checked: nothing below throws but allocation.
    const std::size_t first_new = params_.size();
    for (std::size_t g = 0; g < groups.size(); ++g) {
      ParamGroup<T> group(groups[g].params());
      group.options_ = std::move(resolved[g]);
      group_begin_.push_back(params_.size());
      for (const Tensor<T>& p : group.params()) params_.push_back(p);
      groups_.push_back(std::move(group));
    }
    for (std::size_t i = first_new; i < params_.size(); ++i) add_param_state(i, groups_[group_of[i]].options());
  }

  /// Index of the first parameter of group g, and one past its last.
  std::size_t group_begin(std::size_t g) const noexcept { return group_begin_[g]; }
  std::size_t group_end(std::size_t g) const noexcept {
    return g + 1 < group_begin_.size() ? group_begin_[g + 1] : params_.size();
  }
  /// Group g's options as the optimiser's options type; IndexError when there is no group g.
  template <class Options>
  const Options& group_options(std::size_t g) const {
    if (g >= groups_.size())
      throw IndexError(detail::cat(name_, "::options: parameter group ", g, " does not exist (there are ", groups_.size(), ")"));
    return static_cast<const Options&>(groups_[g].options());
  }

  /// Position of `param` among the parameters (the same tensor, not just equal values).
  std::size_t index_of(const Tensor<T>& param, const char* caller) const {
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (params_[i].is_same(param)) return i;
    throw ValueError(detail::cat(name_, "::", caller, ": the tensor is not one of this optimiser's parameters"));
  }

  /// Checks every group's options (a scheduler or a user may have changed them), then every
  /// gradient before a step changes anything: its shape, and for a sparse one its layout and row
  /// indices. `accept(i, grad)` throws if the optimiser refuses that layout.
  template <class Accept>
  void check_gradients(Accept&& accept) const {
    for (const ParamGroup<T>& group : groups_) check_options(group.options());
    for (std::size_t i = 0; i < params_.size(); ++i) {
      const Tensor<T>& p = params_[i];
      const Tensor<T> g = p.grad();
      if (!g.defined()) continue;
      if (g.shape() != p.shape())
        throw ShapeError(detail::cat(name_, "::step: the gradient of parameter ", i, " has shape ",
                                     detail::shape_str(g.shape()), ", but the parameter has shape ",
                                     detail::shape_str(p.shape())));
      accept(i, g);
      if (g.is_sparse()) check_sparse(i, g);
    }
  }

  /// Throws the ValueError of the first bad option (options of this optimiser's type).
  virtual void check_options(const OptimizerOptions& options) const = 0;
  /// Options under PyTorch's names (options of this optimiser's type).
  virtual NamedValues options_state(const OptimizerOptions& options) const = 0;
  /// Reads options written by options_state, checked (read every name, then finish()).
  virtual std::unique_ptr<OptimizerOptions> read_options(detail::NamedValuesReader& reader) const = 0;
  /// Adds the state of new parameter i, in a group with `options`.
  virtual void add_param_state(std::size_t i, const OptimizerOptions& options) = 0;
  /// The state of parameter i, under PyTorch's names (empty if it has none yet).
  virtual typename OptimizerStateDict<T>::ParamState param_state(std::size_t i) const = 0;
  /// Reads and checks every parameter's state (null: none; `options[i]` are its group's new
  /// options), then replaces the optimiser's own; must change nothing if it throws.
  virtual void load_state(const std::vector<const typename OptimizerStateDict<T>::ParamState*>& per_param,
                          const std::vector<const OptimizerOptions*>& options) = 0;

  /// A reader for parameter i's state in load_state.
  detail::ParamStateReader<T> state_reader(std::size_t i, const typename OptimizerStateDict<T>::ParamState* s) const {
    return detail::ParamStateReader<T>(detail::cat(name_, "::load_state_dict: state of parameter ", i), s, params_[i]);
  }

  std::vector<Tensor<T>> params_;
  std::vector<ParamGroup<T>> groups_;
  detail::RowCoalescer<T> rows_;  // scratch for sparse gradients, reused across steps

 private:
  /// A group's options: its own merged over the defaults (PyTorch's setdefault), checked.
  std::unique_ptr<OptimizerOptions> resolve(const ParamGroup<T>& group, std::size_t g) const {
    // An lr without default (SGDOptions()) must come from the group, as PyTorch's `required`.
    if (std::isnan(defaults_->get_lr()) && !defaults_->is_set("lr") && !(group.has_options() && group.options_->is_set("lr")))
      throw ValueError(detail::cat(name_, ": parameter group ", g,
                                   " did not specify lr, which has no default (give it to the group or to the optimiser)"));
    if (!group.has_options()) return defaults_->clone();
    const OptimizerOptions& own = *group.options_;
    if (std::strcmp(own.type_name(), defaults_->type_name()) != 0)
      throw ValueError(detail::cat(name_, ": parameter group ", g, " has ", own.type_name(), "; ", name_, " takes ",
                                   defaults_->type_name()));
    NamedValues merged = options_state(*defaults_);
    const NamedValues overrides = options_state(own);
    for (std::size_t k = 0; k < merged.size(); ++k)
      if (own.is_set(merged[k].first)) merged[k].second = overrides[k].second;
    detail::NamedValuesReader reader(detail::cat(name_, ": parameter group ", g), merged);
    return read_options(reader);
  }

  std::vector<std::size_t> group_of_param() const {
    std::vector<std::size_t> out;
    for (std::size_t g = 0; g < groups_.size(); ++g) out.insert(out.end(), group_end(g) - group_begin(g), g);
    return out;
  }

  void check_param(const Tensor<T>& p, std::size_t i) const {
    if (!p.defined()) throw ValueError(detail::cat(name_, ": parameter ", i, " is undefined"));
    if (p.is_sparse())
      throw ValueError(detail::cat(name_, ": parameter ", i, " is a sparse tensor; parameters must be dense"));
    if (!p.is_leaf())
      throw ValueError(detail::cat(name_, ": parameter ", i, " is not a leaf (it was computed by ", p.grad_fn_name(),
                                   "); an optimiser updates leaves such as module parameters"));
  }

  void check_sparse(std::size_t i, const Tensor<T>& g) const {
    if (g.dim() == 0)
      throw ShapeError(detail::cat(name_, "::step: parameter ", i, " is 0-d and cannot have a sparse gradient"));
    const Tensor<std::int64_t> idx = g.indices();
    const Tensor<T> values = g.values();
    const std::int64_t nnz = idx.numel();
    Shape expected = g.shape();
    expected[0] = nnz;
    if (idx.dim() != 1 || values.shape() != expected)
      throw ShapeError(detail::cat(name_, "::step: the sparse gradient of parameter ", i, " has indices of shape ",
                                   detail::shape_str(idx.shape()), " and values of shape ",
                                   detail::shape_str(values.shape()), "; expected [", nnz, "] and ",
                                   detail::shape_str(expected)));
    const std::int64_t rows = g.shape()[0];
    const std::int64_t* r = idx.data();
    for (std::int64_t k = 0; k < nnz; ++k)
      if (r[k] < 0 || r[k] >= rows)
        throw IndexError(detail::cat(name_, "::step: the sparse gradient of parameter ", i, " has row index ", r[k],
                                     " at position ", k, ", out of range [0, ", rows, ")"));
  }

  std::unique_ptr<OptimizerOptions> defaults_;
  std::vector<std::size_t> group_begin_;  // index of each group's first parameter
  const char* name_;
};

/// The optimiser constructors' groups for a plain parameter list: one group with the defaults.
template <class T>
std::vector<ParamGroup<T>> single_group(std::vector<Tensor<T>> params) {
  std::vector<ParamGroup<T>> out;
  out.emplace_back(std::move(params));
  return out;
}

}  // namespace optim
}  // namespace tapegrad
