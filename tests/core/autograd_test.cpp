// SPDX-License-Identifier: MIT
// The tape: gradients, accumulation, graph lifetime, grad mode, errors, copy-on-write of saved values.
#include <thread>

#include "support/test.hpp"

namespace autograd_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using tg_test::close;

TEST_CASE("backward computes hand-checked gradients") {
  auto x = tg::tensor<double>({1, 2, 3}, {3}, true);
  auto y = tg::sum(x * x + x * 3.0);  // dy/dx = 2x + 3
  y.backward();
  CHECK(close(x.grad(), {5, 7, 9}));
  CHECK(y.item() == Approx(1 + 4 + 9 + 3 * 6));
}

TEST_CASE("leaf gradients accumulate across backward calls, as in PyTorch") {
  auto w = tg::tensor<float>({1, 1}, {2}, true);
  tg::sum(w * 3.0f).backward();
  tg::sum(w * 3.0f).backward();
  CHECK(close(w.grad(), {6, 6}));
  w.mutable_grad() = tg::Tensor<float>();  // set_to_none
  tg::sum(w * 2.0f).backward();
  CHECK(close(w.grad(), {2, 2}));
}

TEST_CASE("backward on a leaf accumulates into its own grad") {
  auto s = tg::scalar_tensor<double>(4.0, true);
  s.backward();
  CHECK(s.grad().item() == 1.0);
}

TEST_CASE("a shared gradient buffer is never aliased between two leaves") {
  auto a = tg::ones<float>({2}, true);
  auto b = tg::ones<float>({2}, true);
  tg::sum(a + b).backward();
  CHECK_FALSE(a.grad().shares_storage(b.grad()));
  tg::NoGradGuard no_grad;
  a.mutable_grad().fill_(5);
  CHECK(close(b.grad(), {1, 1}));
}

TEST_CASE("non-scalar backward needs a gradient of the same shape") {
  auto x = tg::ones<float>({2, 3}, true);
  auto y = x * 2.0f;
  CHECK_THROWS_AS(y.backward(), tg::AutogradError);
  CHECK_THROWS_WITH(y.backward(), "backward: a gradient can be created implicitly only for a tensor with one element; this "
                                  "one has shape [2, 3]. Pass one of that shape: t.backward(gradient)");
  CHECK_THROWS_WITH(y.backward(tg::ones<float>({3})),
                    "backward: gradient of shape [3] does not match the tensor's shape [2, 3]");
  y.backward(tg::full<float>({2, 3}, 0.5f));
  CHECK(close(x.grad(), {1, 1, 1, 1, 1, 1}));
}

TEST_CASE("backward on something that needs no gradient says what to do") {
  auto x = tg::ones<float>({2});
  CHECK_THROWS_WITH(tg::sum(x).backward(),
                    "backward: this tensor does not require grad and has no grad_fn; call requires_grad_() on the leaves "
                    "whose gradients you want before computing it (and not under NoGradGuard)");
}

TEST_CASE("a second backward through a freed graph fails unless the first retained it") {
  auto x = tg::tensor<double>({2}, {1}, true);
  auto y = tg::sum(tg::exp(x));
  y.backward();
  CHECK_THROWS_AS(y.backward(), tg::AutogradError);
  CHECK_THROWS_WITH(y.backward(), tg_test::Contains("trying to backward through the graph a second time (SumBackward0"));
  CHECK_THROWS_WITH(y.backward(), tg_test::Contains("Pass retain_graph=true"));
  CHECK(close(x.grad(), {std::exp(2.0)}));  // the failed calls changed nothing

  auto z = tg::sum(tg::exp(x));
  z.backward({}, true);
  z.backward();
  CHECK(close(x.grad(), {3 * std::exp(2.0)}));
}

TEST_CASE("leaves, non-leaves and retain_grad") {
  auto x = tg::tensor<float>({1, 2}, {2}, true);
  auto h = x * 2.0f;
  auto y = tg::sum(h * h);
  CHECK(x.is_leaf());
  CHECK_FALSE(h.is_leaf());
  CHECK(h.grad_fn_name() == "MulBackward0");
  h.retain_grad();
  y.backward();
  CHECK(close(h.grad(), {4, 8}));  // d(sum h^2)/dh = 2h
  CHECK(close(x.grad(), {8, 16}));
  auto h2 = x * 2.0f;
  tg::sum(h2).backward();
  CHECK_FALSE(h2.grad().defined());  // not retained
  CHECK_THROWS_WITH(h2.requires_grad_(false),
                    "requires_grad_(false): only leaves can change requires_grad; use detach() to get a tensor without a gradient");
}

TEST_CASE("NoGradGuard stops recording, per thread") {
  auto x = tg::ones<float>({2}, true);
  {
    tg::NoGradGuard no_grad;
    CHECK_FALSE(tg::is_grad_enabled());
    auto y = x * 2.0f;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
    bool other_thread_enabled = false;
    std::thread([&] { other_thread_enabled = tg::is_grad_enabled(); }).join();
    CHECK(other_thread_enabled);
  }
  CHECK(tg::is_grad_enabled());
  CHECK((x * 2.0f).requires_grad());
}

TEST_CASE("a chain of 100,000 ops backpropagates and frees without recursion") {
  const long before = tg::detail::live_node_count();
  {
    auto x = tg::scalar_tensor<double>(1.0, true);
    auto y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1.0;
    CHECK(tg::detail::live_node_count() - before == 100001);  // 100,000 adds + x's accumulator
    y.backward();
    CHECK(x.grad().item() == 1.0);
    CHECK(y.item() == 100001.0);
  }
  CHECK(tg::detail::live_node_count() == before);
  {
    auto x = tg::scalar_tensor<double>(1.0, true);
    auto y = x;
    for (int i = 0; i < 100000; ++i) y = y * 1.0;
  }  // dropped without a backward: freed by the iterative destructor, not by recursion
  CHECK(tg::detail::live_node_count() == before);
}

TEST_CASE("100,000 forward/backward steps keep the number of live nodes flat") {
  const long before = tg::detail::live_node_count();
  auto w = tg::tensor<float>({0.5f, -0.5f}, {2}, true);
  const auto x = tg::tensor<float>({1, 2}, {2});
  long peak = 0;
  for (int step = 0; step < 100000; ++step) {
    auto loss = tg::sum(tg::tanh(w * x) * 0.5f);
    loss.backward();
    peak = std::max(peak, tg::detail::live_node_count() - before);
  }
  CHECK(peak <= 6);  // the graph of the step in flight, nothing kept from earlier steps
  CHECK(tg::detail::live_node_count() == before + 1);  // w keeps its accumulator for later graphs
  CHECK(std::isfinite(w.grad().at({0})));
}

TEST_CASE("diamond graphs sum the gradients of every path") {
  auto x = tg::tensor<double>({3}, {1}, true);
  auto a = x * x;     // 2x
  auto b = a * x;     // x^3: 3x^2
  auto y = tg::sum(a + b + x);
  y.backward();
  CHECK(close(x.grad(), {2 * 3 + 3 * 9 + 1}));
}

TEST_CASE("writing to a tensor an op saved gives the op the old values (copy-on-write)") {
  auto x = tg::tensor<float>({1, 2}, {2}, true);
  auto w = tg::tensor<float>({3, 4}, {2});
  auto alias = w.detach();
  auto y = tg::sum(x * w);  // saves w for d/dx
  {
    tg::NoGradGuard no_grad;
    w.fill_(100);  // after the forward, before the backward
  }
  y.backward();
  CHECK(close(x.grad(), {3, 4}));           // the values mul used
  CHECK(close(w, {100, 100}));              // the write happened
  CHECK(close(alias, {100, 100}));          // and every alias of w sees it
  w.data()[0] = 7;                          // no snapshot left: no further copy needed
  CHECK(alias.at({0}) == 7.0f);
}

TEST_CASE("float <-> double conversions carry gradients") {
  auto x = tg::tensor<float>({1, 2}, {2}, true);
  auto y = tg::sum(x.to<double>() * 2.0);
  y.backward();
  CHECK(close(x.grad(), {2, 2}));
}

TEST_CASE("gradcheck accepts correct gradients and reports a wrong one") {
  auto x = tg::randn<double>({2, 3}, true);
  CHECK(tg::gradcheck([](const std::vector<tg::Tensor<double>>& v) { return tg::exp(v[0]) * v[0]; }, {x}));
  // A deliberately wrong backward: forward is x * 2, backward claims 3.
  auto wrong = [](const std::vector<tg::Tensor<double>>& v) {
    tg::Tensor<double> out = tg::detail::map(v[0], [](double a) { return 2 * a; });
    if (tg::detail::should_record(v[0]))
      tg::detail::record(out, "WrongBackward", tg::detail::edges(v[0]),
                         [](const tg::Tensor<double>& g, tg::detail::GradSink& grads) { grads.add(0, g * 3.0); });
    return out;
  };
  const auto result = tg::gradcheck(wrong, {x});
  CHECK_FALSE(result.ok);
  CHECK(result.message.rfind("gradcheck: d output[0] / d input0[0]: analytical 3, numerical 2", 0) == 0);
  CHECK(x.grad().defined() == false);  // gradcheck works on copies
}

}  // namespace autograd_test
