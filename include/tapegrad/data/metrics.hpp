// SPDX-License-Identifier: MIT
// Classification metrics: accuracy, precision/recall/F1 (macro, micro) and the confusion matrix,
// with scikit-learn's definitions.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/factories.hpp"
#include "tapegrad/ops/reduce.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad::data {

/// How precision_recall_f1 averages over classes (sklearn's `average=`).
enum class Average {
  Macro,  // the unweighted mean of the per-class values
  Micro,  // the values of the summed true positives, false positives and false negatives
};

/// Precision, recall and F1 of one class or one average.
struct PrecisionRecallF1 {
  double precision = 0, recall = 0, f1 = 0;
};

namespace detail {

// Checks that pred and target have one shape and every value is a class in [0, num_classes).
inline void check_classes(const char* op, const Tensor<std::int64_t>& pred, const Tensor<std::int64_t>& target,
                          std::int64_t num_classes) {
  if (num_classes < 1) throw ValueError(tapegrad::detail::cat(op, ": num_classes = ", num_classes, " must be at least 1"));
  if (pred.shape() != target.shape())
    throw ShapeError(tapegrad::detail::cat(op, ": pred ", tapegrad::detail::shape_str(pred.shape()), " and target ",
                                           tapegrad::detail::shape_str(target.shape()), " must have the same shape"));
  for (const auto& [name, t] : {std::pair<const char*, const Tensor<std::int64_t>*>{"pred", &pred}, {"target", &target}}) {
    const std::int64_t* v = t->data();
    for (std::int64_t i = 0; i < t->numel(); ++i)
      if (v[i] < 0 || v[i] >= num_classes)
        throw IndexError(tapegrad::detail::cat(op, ": ", name, " holds ", v[i], " at flat index ", i,
                                               ", which is not a class (valid range [0, ", num_classes, "))"));
  }
}

// a / b, or 0 when b is 0: sklearn's zero_division default ("warn", then 0).
inline double ratio(double a, double b) { return b == 0 ? 0.0 : a / b; }

inline PrecisionRecallF1 from_counts(double tp, double fp, double fn) {
  const double p = ratio(tp, tp + fp), r = ratio(tp, tp + fn);
  return {p, r, ratio(2 * p * r, p + r)};
}

}  // namespace detail

/// The confusion matrix [C, C] of int64 counts: entry [i, j] counts the elements of true class i
/// predicted as j (rows are true classes, as sklearn.metrics.confusion_matrix(target, pred,
/// labels=range(C)) and torchmetrics). pred and target: tensors of class indices of one shape.
/// ShapeError for different shapes, IndexError for a value outside [0, num_classes).
inline Tensor<std::int64_t> confusion_matrix(const Tensor<std::int64_t>& pred, const Tensor<std::int64_t>& target,
                                             std::int64_t num_classes) {
  detail::check_classes("confusion_matrix", pred, target, num_classes);
  if (num_classes > std::numeric_limits<std::int64_t>::max() / num_classes)
    throw ValueError(tapegrad::detail::cat("confusion_matrix: num_classes = ", num_classes, " squared overflows int64"));
  Tensor<std::int64_t> out = zeros<std::int64_t>({num_classes, num_classes});
  std::int64_t* m = out.data();
  for (std::int64_t i = 0; i < pred.numel(); ++i) ++m[target.data()[i] * num_classes + pred.data()[i]];
  return out;
}

/// The fraction of elements where pred equals target (sklearn's accuracy_score). ShapeError for
/// different shapes, ValueError for empty tensors (no fraction to take).
inline double accuracy(const Tensor<std::int64_t>& pred, const Tensor<std::int64_t>& target) {
  if (pred.shape() != target.shape())
    throw ShapeError(tapegrad::detail::cat("accuracy: pred ", tapegrad::detail::shape_str(pred.shape()), " and target ",
                                           tapegrad::detail::shape_str(target.shape()), " must have the same shape"));
  if (pred.numel() == 0) throw ValueError("accuracy: pred and target are empty");
  std::int64_t right = 0;
  for (std::int64_t i = 0; i < pred.numel(); ++i) right += pred.data()[i] == target.data()[i];
  return static_cast<double>(right) / static_cast<double>(pred.numel());
}

/// accuracy of the classes that logits [N, C] score highest (argmax over dim 1; first on ties) against target [N].
template <class T, class = std::enable_if_t<std::is_floating_point_v<T>>>
double accuracy(const Tensor<T>& logits, const Tensor<std::int64_t>& target) {
  if (logits.dim() != 2)
    throw ShapeError(tapegrad::detail::cat("accuracy: logits must be [N, C], got ", tapegrad::detail::shape_str(logits.shape())));
  return accuracy(argmax(logits, 1), target);
}

/// Precision, recall and F1 of every class 0..C-1, as sklearn's precision_recall_fscore_support(
/// target, pred, labels=range(C), average=None): a class never predicted has precision 0, one that
/// never occurs recall 0, and F1 is 0 when both are (sklearn's zero_division default).
inline std::vector<PrecisionRecallF1> precision_recall_f1_per_class(const Tensor<std::int64_t>& pred,
                                                                     const Tensor<std::int64_t>& target,
                                                                     std::int64_t num_classes) {
  const Tensor<std::int64_t> cm = confusion_matrix(pred, target, num_classes);
  const std::int64_t* m = cm.data();
  std::vector<PrecisionRecallF1> out;
  for (std::int64_t c = 0; c < num_classes; ++c) {
    std::int64_t predicted = 0, actual = 0;
    for (std::int64_t k = 0; k < num_classes; ++k) {
      predicted += m[k * num_classes + c];
      actual += m[c * num_classes + k];
    }
    const auto tp = static_cast<double>(m[c * num_classes + c]);
    out.push_back(detail::from_counts(tp, static_cast<double>(predicted) - tp, static_cast<double>(actual) - tp));
  }
  return out;
}

/// Precision, recall and F1 over the classes 0..C-1, averaged as sklearn's precision_recall_fscore_support(
/// target, pred, labels=range(C), average="macro" or "micro"). Macro averages the per-class values
/// (F1 is the mean of the per-class F1s, not the F1 of the means), classes absent from both tensors
/// included; micro pools the counts, which makes all three equal to the accuracy.
inline PrecisionRecallF1 precision_recall_f1(const Tensor<std::int64_t>& pred, const Tensor<std::int64_t>& target,
                                             std::int64_t num_classes, Average average = Average::Macro) {
  const std::vector<PrecisionRecallF1> per_class = precision_recall_f1_per_class(pred, target, num_classes);
  if (average == Average::Micro) {
    std::int64_t right = 0;
    for (std::int64_t i = 0; i < pred.numel(); ++i) right += pred.data()[i] == target.data()[i];
    const auto tp = static_cast<double>(right), wrong = static_cast<double>(pred.numel() - right);
    return detail::from_counts(tp, wrong, wrong);  // every miss is a false positive of one class and a false negative of another
  }
  PrecisionRecallF1 mean;
  for (const PrecisionRecallF1& c : per_class) {
    mean.precision += c.precision;
    mean.recall += c.recall;
    mean.f1 += c.f1;
  }
  const auto n = static_cast<double>(num_classes);
  return {mean.precision / n, mean.recall / n, mean.f1 / n};
}

}  // namespace tapegrad::data
