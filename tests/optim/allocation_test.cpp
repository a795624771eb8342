// SPDX-License-Identifier: MIT
// Steps after the first allocate nothing: this file replaces the global operator new to count calls.
// Parameters are bigger than the small-object pool's 2 KiB, so any new buffer would reach operator new.
#include <atomic>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "optim_support.hpp"

namespace {
std::atomic<long> g_allocations{0};

void* counted_alloc(std::size_t n, std::size_t align) {
  ++g_allocations;
  const std::size_t size = (n + align - 1) / align * align;
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, size ? size : align) : std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

// Every allocating form is replaced (the nothrow ones too: std::stable_sort uses them), so each
// pointer is freed by the allocator that made it.
void* operator new(std::size_t n) { return counted_alloc(n, alignof(std::max_align_t)); }
void* operator new[](std::size_t n) { return counted_alloc(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, alignof(std::max_align_t));
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, static_cast<std::size_t>(a));
  } catch (...) {
    return nullptr;
  }
}
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace tg = tapegrad;
namespace optim = tapegrad::optim;
using optim_test::sparse_rows;

namespace {

// Allocations made by three steps after a first one (which creates the state).
long allocations_after_first_step(optim::Optimizer<float>& opt) {
  opt.step();
  const long before = g_allocations.load();
  for (int i = 0; i < 3; ++i) opt.step();
  return g_allocations.load() - before;
}

std::vector<float> ramp(std::size_t n, float scale) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>(i % 7) - 0.3f;
  return v;
}

}  // namespace

TEST_CASE("steps with dense gradients allocate nothing after the first") {
  auto w = tg::tensor<float>(ramp(64 * 64, 0.1f), {64, 64}, true);
  auto b = tg::tensor<float>(ramp(1000, 0.2f), {1000}, true);
  w.mutable_grad() = tg::tensor<float>(ramp(64 * 64, 0.01f), {64, 64});
  b.mutable_grad() = tg::tensor<float>(ramp(1000, 0.02f), {1000});
  const std::vector<std::pair<std::string, std::function<std::unique_ptr<optim::Optimizer<float>>()>>> makers = {
      {"SGD", [&] { return std::make_unique<optim::SGD<float>>(std::vector<tg::Tensor<float>>{w, b},
                                                                optim::SGDOptions(0.01).momentum(0.9).weight_decay(0.1)); }},
      {"SGD nesterov", [&] { return std::make_unique<optim::SGD<float>>(std::vector<tg::Tensor<float>>{w, b},
                                                                         optim::SGDOptions(0.01).momentum(0.9).nesterov(true)); }},
      {"Adam", [&] { return std::make_unique<optim::Adam<float>>(std::vector<tg::Tensor<float>>{w, b},
                                                                  optim::AdamOptions().amsgrad(true).weight_decay(0.1)); }},
      {"AdamW", [&] { return std::make_unique<optim::AdamW<float>>(std::vector<tg::Tensor<float>>{w, b}); }},
      {"Adagrad", [&] { return std::make_unique<optim::Adagrad<float>>(std::vector<tg::Tensor<float>>{w, b},
                                                                        optim::AdagradOptions().weight_decay(0.1)); }}};
  for (const auto& [name, make] : makers) {
    INFO(name);
    auto opt = make();
    CHECK(allocations_after_first_step(*opt) == 0);
    const long before = g_allocations.load();
    opt->zero_grad();
    CHECK(g_allocations.load() - before == 0);
    w.mutable_grad() = tg::tensor<float>(ramp(64 * 64, 0.01f), {64, 64});
    b.mutable_grad() = tg::tensor<float>(ramp(1000, 0.02f), {1000});
  }
}

TEST_CASE("steps with sparse gradients (duplicate rows) allocate nothing after the first") {
  const std::int64_t rows = 1000, dim = 64;
  auto table = tg::tensor<float>(ramp(static_cast<std::size_t>(rows * dim), 0.1f), {rows, dim}, true);
  const std::vector<std::int64_t> idx = {7, 3, 7, 999, 0, 3, 512, 7};
  table.mutable_grad() = sparse_rows<float>({rows, dim}, idx, ramp(idx.size() * dim, 0.5f));
  const std::vector<std::pair<std::string, std::function<std::unique_ptr<optim::Optimizer<float>>()>>> makers = {
      {"SGD", [&] { return std::make_unique<optim::SGD<float>>(std::vector<tg::Tensor<float>>{table}, optim::SGDOptions(0.01)); }},
      {"SGD momentum", [&] { return std::make_unique<optim::SGD<float>>(std::vector<tg::Tensor<float>>{table},
                                                                         optim::SGDOptions(0.01).momentum(0.9)); }},
      {"Adagrad", [&] { return std::make_unique<optim::Adagrad<float>>(std::vector<tg::Tensor<float>>{table}); }},
      {"Adagrad decay", [&] { return std::make_unique<optim::Adagrad<float>>(std::vector<tg::Tensor<float>>{table},
                                                                              optim::AdagradOptions().weight_decay(0.1)); }},
      {"SparseAdam", [&] { return std::make_unique<optim::SparseAdam<float>>(std::vector<tg::Tensor<float>>{table}); }},
      {"lazy Adam", [&] { return std::make_unique<optim::Adam<float>>(std::vector<tg::Tensor<float>>{table},
                                                                       optim::AdamOptions().lazy_sparse(true)); }}};
  for (const auto& [name, make] : makers) {
    INFO(name);
    auto opt = make();
    CHECK(allocations_after_first_step(*opt) == 0);
  }
}
