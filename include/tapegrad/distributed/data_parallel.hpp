// SPDX-License-Identifier: MIT
// DistributedDataParallel: one model replica per rank, gradients averaged after each backward.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/distributed/environment.hpp"
#include "tapegrad/distributed/process_group.hpp"
#include "tapegrad/nn/module.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad::distributed {

/// Options of DistributedDataParallel, with PyTorch's defaults.
struct DistributedDataParallelOptions {
  /// Dense gradients are averaged in buckets of about this many MiB (PyTorch: bucket_cap_mb=25).
  DistributedDataParallelOptions& bucket_cap_mb(double v) { return bucket_cap_mb_ = v, *this; }
  double bucket_cap_mb() const noexcept { return bucket_cap_mb_; }
  /// Parameters (by their state-dict name) that are not replicated and so neither broadcast nor
  /// averaged: e.g. a table sharded across the ranks (PyTorch's _set_params_and_buffers_to_ignore_for_model).
  DistributedDataParallelOptions& ignore(std::vector<std::string> names) { return ignored_ = std::move(names), *this; }
  const std::vector<std::string>& ignored() const noexcept { return ignored_; }

 private:
  double bucket_cap_mb_ = 25;
  std::vector<std::string> ignored_;
};

/// torch.nn.parallel.DistributedDataParallel on a ProcessGroup: every rank holds the whole model
/// and trains on its own share of each batch; after backward the gradients are averaged over the
/// ranks, so every replica takes the same optimiser step. With per-rank batches of b and a mean loss,
/// N ranks train exactly as one process on the concatenated batch of N·b (up to float rounding).
///
///   tapegrad::distributed::DistributedDataParallel<float> ddp(model, world);
///   auto loss = loss_fn(model.forward(x), y);   // x, y: this rank's share of the batch
///   ddp.backward(loss);                         // loss.backward(), then the gradients are averaged
///   optimizer.step();
///
/// - At construction the parameters and buffers of rank 0 are copied to every rank, after checking
///   that every rank has the same parameter names and shapes (ShapeError on every rank otherwise).
/// - Dense gradients are all-reduced in buckets of bucket_cap_mb, in reverse parameter order as
///   PyTorch fills them.
/// - Row-sparse gradients (Embedding/EmbeddingBag with sparse=true) are exchanged as (rows, values)
///   with all-gather and coalesced, never densified: a rank sends nnz·(8 + 4·dim) bytes, not the table.
/// - A parameter that got a gradient on some ranks only (unused in this rank's share) counts as a
///   zero gradient there, where PyTorch would need find_unused_parameters=True.
/// Unlike PyTorch the averaging runs after backward, not overlapped with it: tapegrad's backward is
/// single-threaded and the exchange is the cheaper part on one host.
template <class T = float>
class DistributedDataParallel {
 public:
  explicit DistributedDataParallel(nn::Module<T>& module, ProcessGroup& group = default_group(),
                                   DistributedDataParallelOptions options = {})
      : module_(module), group_(group), options_(std::move(options)) {
    if (!(options_.bucket_cap_mb() > 0))
      throw ValueError(detail::cat("DistributedDataParallel: bucket_cap_mb = ", options_.bucket_cap_mb(),
                                   " must be positive"));
    check_same_layout();
    for (auto& [name, p] : replicated_parameters()) group_.broadcast(p.data(), p.numel(), 0, "DistributedDataParallel");
    for (Tensor<T>& b : module_.buffers()) group_.broadcast(b.data(), b.numel(), 0, "DistributedDataParallel");
  }

  nn::Module<T>& module() noexcept { return module_; }
  ProcessGroup& process_group() noexcept { return group_; }

  /// loss.backward(), then synchronize_gradients().
  void backward(const Tensor<T>& loss) {
    loss.backward();
    synchronize_gradients();
  }

  /// Averages every parameter's gradient over the ranks (call after backward, before the step).
  void synchronize_gradients() {
    constexpr const char* op = "DistributedDataParallel::synchronize_gradients";
    if (group_.size() == 1) return;  // one rank: its gradients are the average
    std::vector<std::pair<std::string, Tensor<T>>> params = replicated_parameters();
    const std::vector<std::int64_t> kinds = agreed_gradient_kinds(params);
    const T scale = T(1) / static_cast<T>(group_.size());

    // Dense gradients, last parameter first, packed into buckets of at most bucket_cap_mb.
    const auto cap = static_cast<std::int64_t>(options_.bucket_cap_mb() * 1024 * 1024 / sizeof(T));
    std::vector<Tensor<T>*> bucket;
    std::int64_t filled = 0;
    auto flush = [&] {
      if (bucket.empty()) return;
      bucket_.resize(static_cast<std::size_t>(filled));
      T* at = bucket_.data();
      for (Tensor<T>* g : bucket) at = std::copy_n(g->data(), g->numel(), at);
      group_.all_reduce(bucket_.data(), filled, ReduceOp::Sum, op);
      at = bucket_.data();
      for (Tensor<T>* g : bucket) {
        T* out = g->data();
        for (std::int64_t i = 0; i < g->numel(); ++i) out[i] = at[i] * scale;
        at += g->numel();
      }
      bucket.clear();
      filled = 0;
    };
    for (std::size_t k = params.size(); k-- > 0;) {
      if (kinds[k] != kDense) continue;
      Tensor<T>& p = params[k].second;
      Tensor<T>& g = p.mutable_grad();
      if (!g.defined()) g = zeros<T>(p.shape());  // unused on this rank: contributes nothing
      if (filled > 0 && filled + g.numel() > cap) flush();
      bucket.push_back(&g);
      filled += g.numel();
    }
    flush();

    for (std::size_t k = 0; k < params.size(); ++k)
      if (kinds[k] == kSparse) average_sparse(params[k].second, scale, op);
  }

 private:
  static constexpr std::int64_t kNone = 0, kDense = 1, kSparse = 2;

  std::vector<std::pair<std::string, Tensor<T>>> replicated_parameters() const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    for (auto& named : module_.named_parameters()) {
      bool ignored = false;
      for (const std::string& name : options_.ignored()) ignored = ignored || name == named.first;
      if (!ignored) out.push_back(std::move(named));
    }
    return out;
  }

  /// The parameter count and a hash of every name and shape must agree across ranks.
  void check_same_layout() {
    std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a over "name:d0,d1,...;"
    auto mix = [&hash](const std::string& text) {
      for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
    };
    std::int64_t elements = 0;
    const auto params = replicated_parameters();
    for (const auto& [name, p] : params) {
      mix(name + ":" + tapegrad::detail::shape_str(p.shape()) + ";");
      elements += p.numel();
    }
    group_.check_same_on_all_ranks(
        "DistributedDataParallel: the model differs between ranks",
        {{"parameter count", static_cast<std::int64_t>(params.size())},
         {"parameter element count", elements},
         {"hash of the parameter names and shapes", static_cast<std::int64_t>(hash >> 1)}});
  }

  /// Per parameter: no gradient on any rank, dense, or sparse; agreed by one small all-reduce.
  std::vector<std::int64_t> agreed_gradient_kinds(const std::vector<std::pair<std::string, Tensor<T>>>& params) {
    const std::size_t n = params.size();
    std::vector<std::int64_t> bounds(2 * n);
    for (std::size_t k = 0; k < n; ++k) {
      const Tensor<T> g = params[k].second.grad();
      const std::int64_t kind = !g.defined() ? kNone : g.is_sparse() ? kSparse : kDense;
      bounds[2 * k] = kind;
      bounds[2 * k + 1] = kind == kNone ? -kSparse - 1 : -kind;  // "none" agrees with either kind
    }
    group_.all_reduce(bounds.data(), static_cast<std::int64_t>(bounds.size()), ReduceOp::Max,
                      "DistributedDataParallel::synchronize_gradients");
    std::vector<std::int64_t> kinds(n);
    for (std::size_t k = 0; k < n; ++k) {
      const std::int64_t high = bounds[2 * k], low = -bounds[2 * k + 1];
      if (high == kSparse && low == kDense)
        throw ValueError(detail::cat("DistributedDataParallel::synchronize_gradients: parameter \"", params[k].first,
                                     "\" has a sparse gradient on some ranks and a dense one on others"));
      kinds[k] = high;
    }
    return kinds;
  }

  /// Rows and values of every rank, concatenated and coalesced, divided by the world size.
  void average_sparse(Tensor<T>& p, T scale, const char* op) {
    Tensor<T>& g = p.mutable_grad();
    Tensor<std::int64_t> rows = g.defined() ? g.indices() : zeros<std::int64_t>({0});
    Tensor<T> values = g.defined() ? g.values() : zeros<T>({0});
    std::vector<std::int64_t> counts;
    group_.all_gather_v(rows.data(), rows.numel(), all_rows_, counts, op);
    group_.all_gather_v(values.data(), values.numel(), all_values_, counts, op);
    Shape value_shape = p.shape();
    value_shape[0] = static_cast<std::int64_t>(all_rows_.size());
    Tensor<std::int64_t> merged_rows = empty<std::int64_t>({value_shape[0]});
    std::copy(all_rows_.begin(), all_rows_.end(), merged_rows.data());
    Tensor<T> merged_values = empty<T>(value_shape);
    for (std::size_t i = 0; i < all_values_.size(); ++i) merged_values.data()[i] = all_values_[i] * scale;
    g = tapegrad::detail::make_sparse(p.shape(), std::move(merged_rows), std::move(merged_values), false).coalesce();
  }

  nn::Module<T>& module_;
  ProcessGroup& group_;
  DistributedDataParallelOptions options_;
  // Reused every step: fresh multi-megabyte vectors would page-fault on every step.
  std::vector<T> bucket_;
  std::vector<std::int64_t> all_rows_;
  std::vector<T> all_values_;
};

}  // namespace tapegrad::distributed
