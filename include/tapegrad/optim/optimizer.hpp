// SPDX-License-Identifier: MIT
// Optimizer<T>: the parameters an optimiser updates, zero_grad(), and the checks every step shares.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/autograd.hpp"
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
        if (item.second.size() != n)
          throw ValueError(cat(where_, ": \"", name, "\" must have ", n, n == 1 ? " value" : " values", ", got ",
                               item.second.size()));
        read_.push_back(name);
        return item.second;
      }
    throw ValueError(cat(where_, ": missing entry \"", name, "\""));
  }

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

/// What every optimiser shares: its parameters (tensor handles, so per-parameter state follows the
/// parameter even when copy-on-write moves its elements), zero_grad() and the learning rate.
///
/// A step runs under NoGradGuard, checks every gradient before it changes any parameter or state,
/// skips parameters without a gradient (as PyTorch) and writes the parameters in place.
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
        if (g.requires_grad()) g = g.detach();  // as PyTorch: the zeroed gradient is not part of any graph
        if (g.numel() > 0) std::memset(static_cast<void*>(g.data()), 0, static_cast<std::size_t>(g.numel()) * sizeof(T));
      }
    }
  }

  /// The learning rate.
  virtual double lr() const noexcept = 0;
  /// Changes the learning rate (what schedulers call); checked like the constructor's.
  virtual void set_lr(double lr) = 0;

  /// The parameters, in the order given to the constructor.
  const std::vector<Tensor<T>>& parameters() const noexcept { return params_; }

  /// The optimiser's name, as it starts error messages ("SGD").
  const char* name() const noexcept { return name_; }

  /// The optimiser's options and per-parameter state under PyTorch's names (see OptimizerStateDict).
  /// The tensors are copies: stepping on does not change a dict already taken.
  OptimizerStateDict<T> state_dict() const {
    OptimizerStateDict<T> out;
    typename OptimizerStateDict<T>::ParamGroup group;
    group.options = options_state();
    for (std::size_t i = 0; i < params_.size(); ++i) {
      group.params.push_back(static_cast<std::int64_t>(i));
      typename OptimizerStateDict<T>::ParamState s = param_state(i);
      for (auto& item : s.tensors) item.second = item.second.detach().clone();
      if (!s.tensors.empty() || !s.values.empty()) out.state.emplace_back(static_cast<std::int64_t>(i), std::move(s));
    }
    out.param_groups.push_back(std::move(group));
    return out;
  }

  /// Restores options and state from state_dict() of an optimiser of the same kind over parameters
  /// of the same shapes. Everything is checked first; on any error nothing changes.
  void load_state_dict(const OptimizerStateDict<T>& dict) {
    const std::string where = detail::cat(name_, "::load_state_dict");
    if (dict.param_groups.size() != 1)
      throw ValueError(detail::cat(where, ": expected 1 parameter group, got ", dict.param_groups.size()));
    const auto& ids = dict.param_groups[0].params;
    bool in_order = ids.size() == params_.size();
    for (std::size_t i = 0; in_order && i < ids.size(); ++i) in_order = ids[i] == static_cast<std::int64_t>(i);
    if (!in_order)
      throw ValueError(detail::cat(where, ": the state dict's parameter group lists ", ids.size(),
                                   " parameters, this optimiser has ", params_.size(), " (expected ids 0 to ",
                                   params_.size(), " - 1 in order)"));
    std::vector<const typename OptimizerStateDict<T>::ParamState*> per_param(params_.size(), nullptr);
    for (const auto& [index, s] : dict.state) {
      if (index < 0 || index >= static_cast<std::int64_t>(params_.size()))
        throw IndexError(detail::cat(where, ": state for parameter ", index, ", out of range [0, ", params_.size(), ")"));
      if (per_param[static_cast<std::size_t>(index)])
        throw ValueError(detail::cat(where, ": two states for parameter ", index));
      per_param[static_cast<std::size_t>(index)] = &s;
    }
    load_state(detail::NamedValuesReader(where + ": param_groups[0]", dict.param_groups[0].options), per_param);
  }

 protected:
  /// Checks the parameters: at least one, each a defined, dense leaf, none sharing elements with another.
  Optimizer(const char* name, std::vector<Tensor<T>> params) : params_(std::move(params)), name_(name) {
    if (params_.empty()) throw ValueError(detail::cat(name_, ": got an empty parameter list"));
    for (std::size_t i = 0; i < params_.size(); ++i) {
      const Tensor<T>& p = params_[i];
      if (!p.defined()) throw ValueError(detail::cat(name_, ": parameter ", i, " is undefined"));
      if (p.is_sparse())
        throw ValueError(detail::cat(name_, ": parameter ", i, " is a sparse tensor; parameters must be dense"));
      if (!p.is_leaf())
        throw ValueError(detail::cat(name_, ": parameter ", i, " is not a leaf (it was computed by ", p.grad_fn_name(),
                                     "); an optimiser updates leaves such as module parameters"));
      for (std::size_t j = 0; j < i; ++j)
        if (p.shares_storage(params_[j]))
          throw ValueError(detail::cat(name_, ": parameters ", j, " and ", i,
                                       " share the same elements; pass each parameter once"));
    }
  }
  Optimizer(Optimizer&&) noexcept = default;
  Optimizer& operator=(Optimizer&&) noexcept = default;

  /// Position of `param` among the parameters (the same tensor, not just equal values).
  std::size_t index_of(const Tensor<T>& param, const char* caller) const {
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (params_[i].is_same(param)) return i;
    throw ValueError(detail::cat(name_, "::", caller, ": the tensor is not one of this optimiser's parameters"));
  }

  /// Checks every gradient before a step changes anything: its shape, and for a sparse one its
  /// layout and row indices. `accept(i, grad)` throws if the optimiser refuses that layout.
  template <class Accept>
  void check_gradients(Accept&& accept) const {
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

  /// The options of the one parameter group, under PyTorch's names.
  virtual NamedValues options_state() const = 0;
  /// The state of parameter i, under PyTorch's names (empty if it has none yet).
  virtual typename OptimizerStateDict<T>::ParamState param_state(std::size_t i) const = 0;
  /// Reads and checks the options and every parameter's state (null: none), then replaces the
  /// optimiser's own; must change nothing if it throws.
  virtual void load_state(detail::NamedValuesReader options,
                          const std::vector<const typename OptimizerStateDict<T>::ParamState*>& per_param) = 0;

  /// A reader for parameter i's state in load_state.
  detail::ParamStateReader<T> state_reader(std::size_t i, const typename OptimizerStateDict<T>::ParamState* s) const {
    return detail::ParamStateReader<T>(detail::cat(name_, "::load_state_dict: state of parameter ", i), s, params_[i]);
  }

  std::vector<Tensor<T>> params_;
  detail::RowCoalescer<T> rows_;  // scratch for sparse gradients, reused across steps

 private:
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

  const char* name_;
};

}  // namespace optim
}  // namespace tapegrad
