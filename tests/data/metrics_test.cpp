// SPDX-License-Identifier: MIT
// accuracy, precision_recall_f1 and confusion_matrix against hand-computed values, which follow
// sklearn.metrics' definitions (precision_recall_fscore_support with labels=range(C), zero_division
// -> 0). sklearn is not installed here, so each expected value is worked out in the comments.
#include <cstdint>
#include <vector>

#include "support/test.hpp"

namespace metrics_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace data = tapegrad::data;
using tg_test::Approx;
using tg_test::Contains;

namespace {

// true:  0 1 1 2 0 0 2 1,  predicted: 0 2 1 2 2 0 1 1 (class 3 of 4 never occurs)
const auto kPred = tg::tensor<std::int64_t>({0, 2, 1, 2, 2, 0, 1, 1});
const auto kTarget = tg::tensor<std::int64_t>({0, 1, 1, 2, 0, 0, 2, 1});

}  // namespace

TEST_CASE("confusion_matrix: rows are true classes, columns predictions") {
  const auto cm = data::confusion_matrix(kPred, kTarget, 4);
  CHECK(cm.shape() == tg::Shape{4, 4});
  CHECK(cm.to_vector() == std::vector<std::int64_t>{2, 0, 1, 0,   // true 0: predicted 0, 2, 0
                                                    0, 2, 1, 0,   // true 1: predicted 2, 1, 1
                                                    0, 1, 1, 0,   // true 2: predicted 2, 1
                                                    0, 0, 0, 0});
  const auto empty = data::confusion_matrix(tg::tensor<std::int64_t>(std::vector<std::int64_t>{}),
                                            tg::tensor<std::int64_t>(std::vector<std::int64_t>{}), 2);
  CHECK(empty.to_vector() == std::vector<std::int64_t>{0, 0, 0, 0});
  // Any shape, as long as both agree: a [2, 2] batch.
  CHECK(data::confusion_matrix(tg::tensor<std::int64_t>({1, 1, 0, 1}, {2, 2}), tg::tensor<std::int64_t>({1, 0, 0, 1}, {2, 2}), 2)
            .to_vector() == std::vector<std::int64_t>{1, 1, 0, 2});
}

TEST_CASE("confusion_matrix: bad inputs") {
  CHECK_THROWS_AS(data::confusion_matrix(kPred, kTarget, 2), tg::IndexError);
  CHECK_THROWS_WITH(data::confusion_matrix(kPred, kTarget, 2),
                    Contains("confusion_matrix: pred holds 2 at flat index 1, which is not a class (valid range [0, 2))"));
  CHECK_THROWS_WITH(data::confusion_matrix(tg::tensor<std::int64_t>({0}), tg::tensor<std::int64_t>({-1}), 2),
                    Contains("target holds -1 at flat index 0"));
  CHECK_THROWS_AS(data::confusion_matrix(kPred, tg::tensor<std::int64_t>({0, 1}), 3), tg::ShapeError);
  CHECK_THROWS_WITH(data::confusion_matrix(kPred, kTarget, 0), Contains("num_classes = 0 must be at least 1"));
}

TEST_CASE("accuracy: of class indices and of logits (argmax, first on ties)") {
  CHECK(data::accuracy(kPred, kTarget) == 0.625);  // right at 0, 2, 3, 5, 7
  CHECK(data::accuracy(tg::tensor<std::int64_t>({3}), tg::tensor<std::int64_t>({3})) == 1.0);
  const auto logits = tg::tensor<float>({1, 1, 0, 2, 5, -1}, {3, 2});  // argmax: 0 (tie), 1, 0
  CHECK(data::accuracy(logits, tg::tensor<std::int64_t>({0, 1, 1})) == Approx(2.0 / 3));
  CHECK(data::accuracy(tg::tensor<double>({0.1, 0.9}, {1, 2}), tg::tensor<std::int64_t>({1})) == 1.0);
  CHECK_THROWS_AS(data::accuracy(kPred, tg::tensor<std::int64_t>({0})), tg::ShapeError);
  CHECK_THROWS_WITH(data::accuracy(tg::tensor<std::int64_t>(std::vector<std::int64_t>{}),
                                   tg::tensor<std::int64_t>(std::vector<std::int64_t>{})),
                    Contains("accuracy: pred and target are empty"));
  CHECK_THROWS_WITH(data::accuracy(tg::tensor<float>({1, 2}), tg::tensor<std::int64_t>({0, 1})),
                    Contains("accuracy: logits must be [N, C], got [2]"));
}

TEST_CASE("precision_recall_f1: per class, with zero division giving 0") {
  // class 0: tp 2, predicted 2, true 3 -> p 1, r 2/3, f1 0.8
  // class 1: tp 2, predicted 3, true 3 -> p 2/3, r 2/3, f1 2/3
  // class 2: tp 1, predicted 3, true 2 -> p 1/3, r 1/2, f1 0.4
  // class 3: never predicted, never true -> 0, 0, 0
  const auto c = data::precision_recall_f1_per_class(kPred, kTarget, 4);
  REQUIRE(c.size() == 4);
  CHECK(c[0].precision == 1.0);
  CHECK(c[0].recall == Approx(2.0 / 3));
  CHECK(c[0].f1 == Approx(0.8));
  CHECK(c[1].precision == Approx(2.0 / 3));
  CHECK(c[1].f1 == Approx(2.0 / 3));
  CHECK(c[2].precision == Approx(1.0 / 3));
  CHECK(c[2].recall == 0.5);
  CHECK(c[2].f1 == Approx(0.4));
  CHECK(c[3].precision == 0.0);
  CHECK(c[3].recall == 0.0);
  CHECK(c[3].f1 == 0.0);
}

TEST_CASE("precision_recall_f1: macro and micro averages as sklearn") {
  // macro over 4 classes: p (1 + 2/3 + 1/3 + 0)/4, r (2/3 + 2/3 + 1/2 + 0)/4, f1 (0.8 + 2/3 + 0.4 + 0)/4
  const auto macro = data::precision_recall_f1(kPred, kTarget, 4);
  CHECK(macro.precision == Approx(0.5));
  CHECK(macro.recall == Approx(11.0 / 24));
  CHECK(macro.f1 == Approx((0.8 + 2.0 / 3 + 0.4) / 4));
  const auto three = data::precision_recall_f1(kPred, kTarget, 3, data::Average::Macro);
  CHECK(three.precision == Approx(2.0 / 3));
  CHECK(three.recall == Approx(11.0 / 18));
  CHECK(three.f1 == Approx((0.8 + 2.0 / 3 + 0.4) / 3));
  // micro: pooled tp 5, fp 3, fn 3 -> all equal to the accuracy
  const auto micro = data::precision_recall_f1(kPred, kTarget, 4, data::Average::Micro);
  CHECK(micro.precision == 0.625);
  CHECK(micro.recall == 0.625);
  CHECK(micro.f1 == Approx(0.625));
  // Macro F1 is the mean of the F1s, not the F1 of the mean precision and recall.
  CHECK(macro.f1 != Approx(2 * macro.precision * macro.recall / (macro.precision + macro.recall)));
  // Nothing to count: every ratio is 0/0 -> 0.
  const auto none = data::precision_recall_f1(tg::tensor<std::int64_t>(std::vector<std::int64_t>{}),
                                              tg::tensor<std::int64_t>(std::vector<std::int64_t>{}), 2, data::Average::Micro);
  CHECK(none.precision == 0.0);
  CHECK(none.f1 == 0.0);
  CHECK_THROWS_AS(data::precision_recall_f1(kPred, kTarget, 2), tg::IndexError);
}

}  // namespace metrics_test
