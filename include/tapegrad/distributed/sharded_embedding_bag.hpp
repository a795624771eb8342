// SPDX-License-Identifier: MIT
// ShardedEmbeddingBag: an EmbeddingBag whose table is split row-wise across the ranks of a process group.
//
// Rank k of N holds the rows r with r % N == k (its local row r / N), so a table of R rows costs each
// rank about R / N rows. A forward asks the owners for the distinct rows its batch uses (indices and
// rows travel with all_to_all_v), reduces the bags with the library's embedding_bag on those rows,
// and remembers them; synchronize_gradients() sends their gradients back to the owners, which then
// step a sparse optimiser on their own shard. The results equal an unsharded EmbeddingBag's.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/distributed/process_group.hpp"
#include "tapegrad/nn/embedding_bag.hpp"
#include "tapegrad/ops/pointwise.hpp"

namespace tapegrad::nn {

/// An EmbeddingBag (modes Sum, Mean, Max; padding_idx; include_last_offset; per-sample weights with
/// Sum) whose [R, D] table is sharded row-wise across `group`: rank k holds the rows r with
/// r % world == k, as its parameter `weight` [local_rows(), D] (local row r / world). parameters(),
/// state_dict() and optimisers see only this local shard.
///
/// Every rank must call forward() and synchronize_gradients() together (they are collectives).
/// A training step:
///
///     auto y = table(input, offsets);              // exchanges indices and rows
///     loss_of(y).backward();                        // gradients reach the gathered rows
///     table.synchronize_gradients();                // ... and now the owners' shards (divided by world)
///     optimizer.step();                             // SGD, Adagrad or SparseAdam on table.parameters()
///
/// The gradient is divided by the world size (DistributedDataParallel's averaging), so N ranks that
/// each minimise the mean loss of their batch take the step one process would take on the mean loss
/// of the concatenated batch. The weight's gradient is row-sparse and coalesced (sparse is implied).
/// max_norm and scale_grad_by_freq are not supported (both need the whole batch's view of a row);
/// the sparse option is ignored.
///
/// state_dict() holds this rank's shard, so it resumes only with the same world size; for a
/// checkpoint of the whole table, gather_full() on one rank and load_full() on every rank.
template <class T = float>
class ShardedEmbeddingBag : public Module<T> {
 public:
  /// Allocates this rank's rows only and draws them from N(0, 1) (the padding row zeroed). The draw
  /// differs from an unsharded table's; build both from one table with from_full() to compare.
  ShardedEmbeddingBag(distributed::ProcessGroup& group, EmbeddingBagOptions opts)
      : ShardedEmbeddingBag(group, validated(opts), Unfilled{}) {
    init::normal_(weight);
    const std::optional<std::int64_t> padding = options.padding_idx();
    if (padding && owner_of(*padding) == group_->rank()) {
      NoGradGuard no_grad;
      std::fill_n(weight.data() + local_row(*padding) * dim(), dim(), T(0));
    }
  }

  /// A sharded table holding this rank's rows of `full_weight` [R, D] (every rank passes the same
  /// table; num_embeddings and embedding_dim of `opts` must match it).
  static ShardedEmbeddingBag from_full(distributed::ProcessGroup& group, const Tensor<T>& full_weight,
                                       EmbeddingBagOptions opts) {
    ShardedEmbeddingBag table(group, validated(opts), Unfilled{});
    table.load_full(full_weight);
    return table;
  }

  ShardedEmbeddingBag(ShardedEmbeddingBag&&) = default;
  ShardedEmbeddingBag& operator=(ShardedEmbeddingBag&&) = default;

  /// Copies this rank's rows of `full_weight` [R, D] into the local shard (no communication).
  void load_full(const Tensor<T>& full_weight) {
    if (!full_weight.defined() || full_weight.is_sparse() || full_weight.shape() != Shape{rows(), dim()})
      throw ShapeError(detail::cat(kOp, "::load_full: expected a dense table of shape ", detail::shape_str({rows(), dim()}),
                                   ", got ", full_weight.defined() ? detail::shape_str(full_weight.shape()) : "an undefined tensor"));
    NoGradGuard no_grad;
    const T* src = full_weight.data();
    T* dst = weight.data();
    for (std::int64_t i = 0; i < local_rows(); ++i) std::copy_n(src + global_row(i) * dim(), dim(), dst + i * dim());
  }

  /// The whole [R, D] table on rank `root` (for checkpoints), an undefined tensor on the others.
  /// A collective: every rank sends its shard to root only, so no other rank holds the table.
  Tensor<T> gather_full(int root = 0) {
    if (root < 0 || root >= world())
      throw ValueError(detail::cat(kOp, "::gather_full: root = ", root, " is not a rank of the group (valid range [0, ",
                                   world() - 1, "])"));
    std::vector<std::int64_t> send_counts(static_cast<std::size_t>(world()), 0), recv_counts;
    send_counts[static_cast<std::size_t>(root)] = weight.numel();
    const std::vector<T> shards = group_->all_to_all_v(std::as_const(weight).data(), send_counts, recv_counts, "gather_full");
    if (group_->rank() != root) return Tensor<T>();
    Tensor<T> full = empty<T>({rows(), dim()});
    const T* src = shards.data();  // rank 0's shard, then rank 1's, ...
    for (int k = 0; k < world(); ++k)
      for (std::int64_t i = 0; i < rows_of(k); ++i, src += dim()) std::copy_n(src, dim(), full.data() + (i * world() + k) * dim());
    return full;
  }

  /// How many rows this rank holds: the count of r in [0, R) with r % world == rank.
  std::int64_t local_rows() const noexcept { return rows_of(group_->rank()); }
  /// The rank that holds row `row`.
  int owner_of(std::int64_t row) const noexcept { return static_cast<int>(row % world()); }

  /// [bags, D], the same as EmbeddingBag::forward on the full table: a 1-D input (int64 or int32)
  /// with offsets, or a 2-D input [B, N] without; per_sample_weights with mode Sum only. A collective.
  /// Bad arguments (an index outside [0, R), bad offsets or weights) on any rank throw on every rank:
  /// that rank's error, the others an error of the same type naming it.
  template <class I, class J = I>
  Tensor<T> forward(const Tensor<I>& input, const Tensor<J>& offsets = Tensor<J>(),
                    const Tensor<T>& per_sample_weights = Tensor<T>()) {
    static_assert(detail::is_index_v<I> && detail::is_index_v<J>,
                  "ShardedEmbeddingBag: indices and offsets must be Tensor<std::int64_t> or Tensor<std::int32_t>");
    agree_on_arguments([&] { check_arguments(input, offsets, per_sample_weights); });

    // The distinct rows this batch uses, grouped by owner (the order the owners reply in).
    const std::int64_t padding = options.padding_idx().value_or(-1);
    const I* idx = input.data();
    std::vector<std::int64_t> wanted;
    for (std::int64_t i = 0; i < input.numel(); ++i)
      if (idx[i] != padding) wanted.push_back(idx[i]);
    const auto by_owner = [this](std::int64_t a, std::int64_t b) {
      return std::make_pair(owner_of(a), a) < std::make_pair(owner_of(b), b);
    };
    std::sort(wanted.begin(), wanted.end(), by_owner);
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    std::vector<std::int64_t> per_owner(static_cast<std::size_t>(world()), 0);
    for (std::int64_t r : wanted) ++per_owner[static_cast<std::size_t>(owner_of(r))];

    // Owners answer the requests with their rows, in the order asked.
    std::vector<std::int64_t> asked_counts, got_counts;
    const std::vector<std::int64_t> asked = group_->all_to_all_v(wanted.data(), per_owner, asked_counts, kOp);
    std::vector<T> answer;
    answer.reserve(asked.size() * static_cast<std::size_t>(dim()));
    const T* w = std::as_const(weight).data();
    for (std::int64_t r : asked) answer.insert(answer.end(), w + local_row(r) * dim(), w + (local_row(r) + 1) * dim());
    for (std::int64_t& c : asked_counts) c *= dim();
    const std::vector<T> got = group_->all_to_all_v(answer.data(), asked_counts, got_counts, kOp);

    // G: the rows used, plus a zero row standing for padding (embedding_bag skips it anyway).
    const auto used = static_cast<std::int64_t>(wanted.size());
    const bool has_padding = std::find(idx, idx + input.numel(), static_cast<I>(padding)) != idx + input.numel();
    Tensor<T> gathered = zeros<T>({used + (has_padding ? 1 : 0), dim()});
    std::copy(got.begin(), got.end(), gathered.data());
    Tensor<std::int64_t> positions = empty<std::int64_t>(input.shape());
    const auto position_of = [&](std::int64_t row) {
      return std::lower_bound(wanted.begin(), wanted.end(), row, by_owner) - wanted.begin();
    };
    for (std::int64_t i = 0; i < input.numel(); ++i) positions.data()[i] = idx[i] == padding ? used : position_of(idx[i]);

    const bool train = is_grad_enabled() && weight.requires_grad();
    if (train) {
      gathered.requires_grad_(true);
      pending_.push_back({gathered, std::move(wanted), std::move(per_owner)});
    }
    functional::EmbeddingBagFuncOptions o;
    o.mode(options.mode()).include_last_offset(options.include_last_offset());
    if (has_padding) o.padding_idx(used);
    return functional::embedding_bag(positions, gathered, offsets, per_sample_weights, o);
  }
  template <class I, class J = I>
  Tensor<T> operator()(const Tensor<I>& input, const Tensor<J>& offsets = Tensor<J>(),
                       const Tensor<T>& per_sample_weights = Tensor<T>()) {
    return forward(input, offsets, per_sample_weights);
  }

  /// After loss.backward(): sends the gradients of the rows every forward since the last call
  /// gathered (forwards with grad mode on and a weight that requires grad remember their rows until
  /// then; evaluate under NoGradGuard) to their owners, which add them (summed over ranks and divided by the world size, as
  /// DDP averages) to their weight's gradient as one coalesced row-sparse tensor. A collective.
  void synchronize_gradients() {
    std::vector<std::int64_t> rows_out, rows_counts(static_cast<std::size_t>(world()), 0), rows_in_counts;
    std::vector<T> values_out;
    for (int k = 0; k < world(); ++k) {
      for (const Gathered& p : pending_) {
        const Tensor<T> g = p.rows.grad();
        std::int64_t first = 0;  // p's rows owned by k are [first, first + p.per_owner[k])
        for (int j = 0; j < k; ++j) first += p.per_owner[static_cast<std::size_t>(j)];
        const std::int64_t n = p.per_owner[static_cast<std::size_t>(k)];
        if (!g.defined() || n == 0) continue;  // rows the loss did not reach send nothing
        rows_out.insert(rows_out.end(), p.global_rows.begin() + first, p.global_rows.begin() + first + n);
        values_out.insert(values_out.end(), g.data() + first * dim(), g.data() + (first + n) * dim());
        rows_counts[static_cast<std::size_t>(k)] += n;
      }
    }
    pending_.clear();
    const std::vector<std::int64_t> rows_in = group_->all_to_all_v(rows_out.data(), rows_counts, rows_in_counts, kOp);
    for (std::int64_t& c : rows_counts) c *= dim();
    std::vector<T> values_in = group_->all_to_all_v(values_out.data(), rows_counts, rows_in_counts, kOp);

    const auto n = static_cast<std::int64_t>(rows_in.size());
    Tensor<std::int64_t> local = empty<std::int64_t>({n});
    for (std::int64_t i = 0; i < n; ++i) local.data()[i] = local_row(rows_in[static_cast<std::size_t>(i)]);
    Tensor<T> values = empty<T>({n, dim()});
    std::copy(values_in.begin(), values_in.end(), values.data());
    const Tensor<T> summed = detail::make_sparse(weight.shape(), std::move(local), std::move(values), false).coalesce();
    Tensor<T> averaged = summed.values() / static_cast<T>(world());
    const Tensor<T> grad = detail::make_sparse(weight.shape(), summed.indices(), std::move(averaged), true);
    Tensor<T>& slot = weight.mutable_grad();
    if (!slot.defined()) {
      slot = grad;
    } else {
      detail::accumulate(slot, grad, false);
      if (slot.is_sparse()) slot = slot.coalesce();
    }
  }

  void visit(Visitor<T>& v) override { v("weight", weight); }
  std::string name() const override { return kOp; }
  std::string extra_repr() const override {
    std::string s = detail::cat(rows(), ", ", dim(), ", mode=", detail::mode_name(options.mode()));
    if (options.padding_idx()) s += detail::cat(", padding_idx=", *options.padding_idx());
    return s + detail::cat(", rank=", group_->rank(), ", world=", world(), ", local_rows=", local_rows());
  }

  /// The options (of the whole table), padding_idx normalised to [0, num_embeddings).
  EmbeddingBagOptions options;
  /// This rank's rows: local row i is row i * world + rank of the table, [local_rows(), embedding_dim].
  Parameter<T> weight;

 private:
  static constexpr const char* kOp = "ShardedEmbeddingBag";
  struct Unfilled {};
  /// The rows one forward gathered (a leaf whose gradient backward fills) and where they came from.
  struct Gathered {
    Tensor<T> rows;                          // [used (+1 padding), D]
    std::vector<std::int64_t> global_rows;   // table row of each gathered row, grouped by owner
    std::vector<std::int64_t> per_owner;     // how many of them each rank owns
  };

  ShardedEmbeddingBag(distributed::ProcessGroup& group, EmbeddingBagOptions opts, Unfilled)
      : options(opts), group_(&group) {
    const Shape shape{local_rows(), dim()};
    weight = Parameter<T>(detail::cat(kOp, "(", extra_repr(), ").weight"), empty<T>(shape));
  }

  static EmbeddingBagOptions validated(EmbeddingBagOptions o) {
    detail::check_table_sizes(kOp, o.num_embeddings(), o.embedding_dim());
    if (o.max_norm())
      throw ValueError(detail::cat(kOp, ": max_norm is not supported (renormalising a row needs every rank's lookups of it)"));
    if (o.scale_grad_by_freq())
      throw ValueError(detail::cat(kOp, ": scale_grad_by_freq is not supported (the frequencies would need the whole batch)"));
    // sparse is implied (owners always get row-sparse gradients), so it is not checked against mode=max.
    const auto c = detail::embedding_bag_config(kOp, EmbeddingBagOptions(o).sparse(false), o.num_embeddings());
    if (c.padding_idx >= 0) o.padding_idx(c.padding_idx);
    return o;
  }

  template <class I, class J>
  void check_arguments(const Tensor<I>& input, const Tensor<J>& offsets, const Tensor<T>& psw) const {
    if (!input.defined()) throw ValueError(detail::cat(kOp, ": input is undefined"));
    detail::bag_bounds(kOp, input, offsets, options.include_last_offset());
    if (psw.defined()) {
      if (options.mode() != EmbeddingBagMode::Sum)
        throw ValueError(detail::cat(kOp, ": per_sample_weights is only supported with mode=sum, got mode=",
                                     detail::mode_name(options.mode())));
      if (psw.shape() != input.shape())
        throw ShapeError(detail::cat(kOp, ": per_sample_weights of shape ", detail::shape_str(psw.shape()),
                                     " must have the input's shape ", detail::shape_str(input.shape())));
      if (psw.is_sparse()) throw ValueError(detail::cat(kOp, ": per_sample_weights must be dense, got a sparse tensor"));
    }
    detail::check_indices(kOp, input, rows());
  }

  /// Runs `check` and makes its outcome collective: if it throws on any rank, every rank throws
  /// (that rank its own error, the others one of the same type quoting the first failing rank's),
  /// so no rank is left waiting in the exchange that follows. Costs one 8-byte all_reduce.
  template <class Check>
  void agree_on_arguments(Check&& check) {
    std::exception_ptr mine;
    std::int64_t kind = 0;  // 0 fine, 1 IndexError, 2 ShapeError, 3 ValueError, 4 anything else
    std::string message;
    try {
      check();
    } catch (const IndexError& e) {
      mine = std::current_exception(), kind = 1, message = e.what();
    } catch (const ShapeError& e) {
      mine = std::current_exception(), kind = 2, message = e.what();
    } catch (const ValueError& e) {
      mine = std::current_exception(), kind = 3, message = e.what();
    } catch (const std::exception& e) {
      mine = std::current_exception(), kind = 4, message = e.what();
    }
    std::int64_t worst = kind;
    group_->all_reduce(&worst, 1, distributed::ReduceOp::Max, kOp);
    if (worst == 0) return;
    // Somebody failed: every rank learns who and why (only on this error path).
    std::vector<std::int64_t> counts;
    const std::vector<std::int64_t> kinds = group_->all_gather_v(&kind, 1, counts, kOp);
    const std::vector<char> texts = group_->all_gather_v(message.data(), static_cast<std::int64_t>(message.size()), counts, kOp);
    if (mine) std::rethrow_exception(mine);
    std::size_t first = 0, at = 0;
    while (kinds[first] == 0) at += static_cast<std::size_t>(counts[first++]);
    const std::string text = detail::cat(kOp, " on rank ", group_->rank(), ": rank ", first, " got invalid arguments: ",
                                         std::string(texts.data() + at, static_cast<std::size_t>(counts[first])));
    if (kinds[first] == 1) throw IndexError(text);
    if (kinds[first] == 2) throw ShapeError(text);
    if (kinds[first] == 3) throw ValueError(text);
    throw distributed::DistributedError(text);
  }

  int world() const noexcept { return group_->size(); }
  std::int64_t rows() const noexcept { return options.num_embeddings(); }
  std::int64_t dim() const noexcept { return options.embedding_dim(); }
  std::int64_t rows_of(int rank) const noexcept { return rows() > rank ? (rows() - rank - 1) / world() + 1 : 0; }
  std::int64_t local_row(std::int64_t row) const noexcept { return row / world(); }
  std::int64_t global_row(std::int64_t local) const noexcept { return local * world() + group_->rank(); }

  distributed::ProcessGroup* group_;
  std::vector<Gathered> pending_;  // forwards since the last synchronize_gradients()
};

}  // namespace tapegrad::nn
