// SPDX-License-Identifier: MIT
// Tensor's op methods (x.sum(1), x.softmax(-1), x.index({...})): one-line forwards to the free
// functions in ops/, so a method and its free function can never disagree. ops.hpp includes this
// header last, once every op it forwards to is declared.
#pragma once

#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <vector>

#include "tapegrad/factories.hpp"
#include "tapegrad/ops/activation.hpp"
#include "tapegrad/ops/compare.hpp"
#include "tapegrad/ops/indexing.hpp"
#include "tapegrad/ops/linalg.hpp"
#include "tapegrad/ops/pointwise.hpp"
#include "tapegrad/ops/reduce.hpp"
#include "tapegrad/ops/shape.hpp"
#include "tapegrad/ops/sort.hpp"

namespace tapegrad {

template <class T>
template <class U>
U Tensor<T>::item() const {
  if constexpr (std::is_same_v<U, T>) {
    return item();
  } else {
    (void)item();  // the one-element check and its message
    return to<U>().item();
  }
}

namespace detail {
template <class T, int N>
struct Nested {
  using type = std::vector<typename Nested<T, N - 1>::type>;
};
template <class T>
struct Nested<T, 0> {
  using type = T;
};

template <class T, int N>
typename Nested<T, N>::type to_nested(const T*& p, const Shape& shape, std::size_t d) {
  if constexpr (N == 0) {
    return *p++;
  } else {
    typename Nested<T, N>::type out;
    out.reserve(static_cast<std::size_t>(shape[d]));
    for (std::int64_t i = 0; i < shape[d]; ++i) out.push_back(to_nested<T, N - 1>(p, shape, d + 1));
    return out;
  }
}
}  // namespace detail

template <class T>
template <int N>
auto Tensor<T>::tolist() const {
  static_assert(N >= 0, "tolist<N>: N is the number of dims, 0 or more");
  if (dim() != N)
    throw ValueError(detail::cat("tolist<", N, ">: the tensor has ", dim(), " dims (shape ", detail::shape_str(shape()),
                                 "); call tolist<", dim(), ">()"));
  const T* p = data();
  return detail::to_nested<T, N>(p, shape(), 0);
}

// ---- arithmetic ------------------------------------------------------------------------------------

template <class T>
Tensor<T> Tensor<T>::add(const Tensor& other) const {
  return tapegrad::add(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::add(T other) const {
  return tapegrad::add(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::sub(const Tensor& other) const {
  return tapegrad::sub(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::sub(T other) const {
  return tapegrad::sub(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::mul(const Tensor& other) const {
  return tapegrad::mul(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::mul(T other) const {
  return tapegrad::mul(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::div(const Tensor& other) const {
  return tapegrad::div(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::div(T other) const {
  return tapegrad::div(*this, other);
}

namespace detail {
// The in-place arithmetic: compute out of place, unrecorded, then copy_ the result in, which
// checks the in-place rule and that the result keeps this tensor's shape.
template <class T, class F>
Tensor<T>& update_in_place(const char* op, Tensor<T>& self, F compute) {
  check_inplace(op, self);
  Tensor<T> result;
  {
    NoGradGuard no_grad;
    result = compute();
  }
  if (result.shape() != self.shape())
    throw ShapeError(cat(op, ": the result has shape ", shape_str(result.shape()), ", which cannot be written into ",
                         "this tensor of shape ", shape_str(self.shape())));
  return self.copy_(result);
}
}  // namespace detail

template <class T>
Tensor<T>& Tensor<T>::add_(const Tensor& o) {
  return detail::update_in_place("add_", *this, [&] { return tapegrad::add(*this, o); });
}
template <class T>
Tensor<T>& Tensor<T>::add_(T o) {
  return detail::update_in_place("add_", *this, [&] { return tapegrad::add(*this, o); });
}
template <class T>
Tensor<T>& Tensor<T>::sub_(const Tensor& o) {
  return detail::update_in_place("sub_", *this, [&] { return tapegrad::sub(*this, o); });
}
template <class T>
Tensor<T>& Tensor<T>::sub_(T o) {
  return detail::update_in_place("sub_", *this, [&] { return tapegrad::sub(*this, o); });
}
template <class T>
Tensor<T>& Tensor<T>::mul_(const Tensor& o) {
  return detail::update_in_place("mul_", *this, [&] { return tapegrad::mul(*this, o); });
}
template <class T>
Tensor<T>& Tensor<T>::mul_(T o) {
  return detail::update_in_place("mul_", *this, [&] { return tapegrad::mul(*this, o); });
}
template <class T>
Tensor<T>& Tensor<T>::div_(const Tensor& o) {
  return detail::update_in_place("div_", *this, [&] { return tapegrad::div(*this, o); });
}
template <class T>
Tensor<T>& Tensor<T>::div_(T o) {
  return detail::update_in_place("div_", *this, [&] { return tapegrad::div(*this, o); });
}

template <class T>
Tensor<T> Tensor<T>::neg() const {
  return tapegrad::neg(*this);
}
template <class T>
Tensor<T> Tensor<T>::pow(T exponent) const {
  return tapegrad::pow(*this, exponent);
}
template <class T>
Tensor<T> Tensor<T>::pow(const Tensor& exponent) const {
  return tapegrad::pow(*this, exponent);
}
template <class T>
Tensor<T> Tensor<T>::exp() const {
  return tapegrad::exp(*this);
}
template <class T>
Tensor<T> Tensor<T>::log() const {
  return tapegrad::log(*this);
}
template <class T>
Tensor<T> Tensor<T>::sqrt() const {
  return tapegrad::sqrt(*this);
}
template <class T>
Tensor<T> Tensor<T>::abs() const {
  return tapegrad::abs(*this);
}
template <class T>
Tensor<T> Tensor<T>::tanh() const {
  return tapegrad::tanh(*this);
}
template <class T>
Tensor<T> Tensor<T>::sigmoid() const {
  return tapegrad::sigmoid(*this);
}
template <class T>
Tensor<T> Tensor<T>::relu() const {
  return tapegrad::relu(*this);
}
template <class T>
Tensor<T> Tensor<T>::gelu(const std::string& approximate) const {
  return tapegrad::gelu(*this, approximate);
}
template <class T>
Tensor<T> Tensor<T>::clamp(std::optional<T> min, std::optional<T> max) const {
  return tapegrad::clamp(*this, min, max);
}
template <class T>
Tensor<T> Tensor<T>::clamp_min(T min) const {
  return tapegrad::clamp(*this, min, std::nullopt);
}
template <class T>
Tensor<T> Tensor<T>::clamp_max(T max) const {
  return tapegrad::clamp(*this, std::nullopt, max);
}
template <class T>
Tensor<T> Tensor<T>::softmax(std::int64_t dim) const {
  return tapegrad::softmax(*this, dim);
}
template <class T>
Tensor<T> Tensor<T>::log_softmax(std::int64_t dim) const {
  return tapegrad::log_softmax(*this, dim);
}
template <class T>
Tensor<T> Tensor<T>::matmul(const Tensor& other) const {
  return tapegrad::matmul(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::mm(const Tensor& other) const {
  if (dim() != 2 || other.dim() != 2)
    throw ShapeError(detail::cat("mm: both operands must be 2-d, got shapes ", detail::shape_str(shape()), " and ",
                                 detail::shape_str(other.shape()), "; matmul takes other ranks"));
  return tapegrad::matmul(*this, other);
}

// ---- reductions ------------------------------------------------------------------------------------

template <class T>
Tensor<detail::sum_t<T>> Tensor<T>::sum() const {
  return tapegrad::sum(*this);
}
template <class T>
template <class D, detail::if_dim_t<D>>
Tensor<detail::sum_t<T>> Tensor<T>::sum(D dim, bool keepdim) const {
  return tapegrad::sum(*this, dim, keepdim);
}
template <class T>
Tensor<detail::sum_t<T>> Tensor<T>::sum(const std::vector<std::int64_t>& dims, bool keepdim) const {
  return tapegrad::sum(*this, dims, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::mean() const {
  return tapegrad::mean(*this);
}
template <class T>
template <class D, detail::if_dim_t<D>>
Tensor<T> Tensor<T>::mean(D dim, bool keepdim) const {
  return tapegrad::mean(*this, dim, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::mean(const std::vector<std::int64_t>& dims, bool keepdim) const {
  return tapegrad::mean(*this, dims, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::norm(double p) const {
  return tapegrad::norm(*this, p);
}
template <class T>
template <class D, detail::if_dim_t<D>>
Tensor<T> Tensor<T>::norm(double p, D dim, bool keepdim) const {
  return tapegrad::norm(*this, p, dim, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::norm(double p, const std::vector<std::int64_t>& dims, bool keepdim) const {
  return tapegrad::norm(*this, p, dims, keepdim);
}
template <class T>
Tensor<std::int64_t> Tensor<T>::argmax() const {
  return tapegrad::argmax(*this);
}
template <class T>
Tensor<std::int64_t> Tensor<T>::argmax(std::int64_t dim, bool keepdim) const {
  return tapegrad::argmax(*this, dim, keepdim);
}
template <class T>
Tensor<std::int64_t> Tensor<T>::argmin() const {
  return tapegrad::argmin(*this);
}
template <class T>
Tensor<std::int64_t> Tensor<T>::argmin(std::int64_t dim, bool keepdim) const {
  return tapegrad::argmin(*this, dim, keepdim);
}

// ---- values with indices, sorting ------------------------------------------------------------------

template <class T>
Tensor<T> Tensor<T>::max() const {
  return tapegrad::max(*this);
}
template <class T>
std::tuple<Tensor<T>, Tensor<std::int64_t>> Tensor<T>::max(std::int64_t dim, bool keepdim) const {
  return tapegrad::max(*this, dim, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::max(const Tensor& other) const {
  return tapegrad::max(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::min() const {
  return tapegrad::min(*this);
}
template <class T>
std::tuple<Tensor<T>, Tensor<std::int64_t>> Tensor<T>::min(std::int64_t dim, bool keepdim) const {
  return tapegrad::min(*this, dim, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::min(const Tensor& other) const {
  return tapegrad::min(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::maximum(const Tensor& other) const {
  return tapegrad::maximum(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::minimum(const Tensor& other) const {
  return tapegrad::minimum(*this, other);
}
template <class T>
Tensor<detail::sum_t<T>> Tensor<T>::cumsum(std::int64_t dim) const {
  return tapegrad::cumsum(*this, dim);
}
template <class T>
std::tuple<Tensor<T>, Tensor<std::int64_t>> Tensor<T>::topk(std::int64_t k, std::int64_t dim, bool largest,
                                                            bool sorted) const {
  return tapegrad::topk(*this, k, dim, largest, sorted);
}
template <class T>
std::tuple<Tensor<T>, Tensor<std::int64_t>> Tensor<T>::sort(std::int64_t dim, bool descending) const {
  return tapegrad::sort(*this, dim, descending);
}
template <class T>
Tensor<std::int64_t> Tensor<T>::argsort(std::int64_t dim, bool descending) const {
  return tapegrad::argsort(*this, dim, descending);
}

// ---- comparisons and masks -------------------------------------------------------------------------

template <class T>
Tensor<bool> Tensor<T>::eq(const Tensor& other) const {
  return tapegrad::eq(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::eq(T other) const {
  return tapegrad::eq(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::ne(const Tensor& other) const {
  return tapegrad::ne(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::ne(T other) const {
  return tapegrad::ne(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::lt(const Tensor& other) const {
  return tapegrad::lt(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::lt(T other) const {
  return tapegrad::lt(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::le(const Tensor& other) const {
  return tapegrad::le(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::le(T other) const {
  return tapegrad::le(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::gt(const Tensor& other) const {
  return tapegrad::gt(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::gt(T other) const {
  return tapegrad::gt(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::ge(const Tensor& other) const {
  return tapegrad::ge(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::ge(T other) const {
  return tapegrad::ge(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::isnan() const {
  return tapegrad::isnan(*this);
}
template <class T>
Tensor<bool> Tensor<T>::isinf() const {
  return tapegrad::isinf(*this);
}
template <class T>
Tensor<bool> Tensor<T>::isfinite() const {
  return tapegrad::isfinite(*this);
}
template <class T>
Tensor<bool> Tensor<T>::logical_not() const {
  return tapegrad::logical_not(*this);
}
template <class T>
Tensor<bool> Tensor<T>::logical_and(const Tensor& other) const {
  return tapegrad::logical_and(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::logical_or(const Tensor& other) const {
  return tapegrad::logical_or(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::logical_xor(const Tensor& other) const {
  return tapegrad::logical_xor(*this, other);
}
template <class T>
Tensor<bool> Tensor<T>::any() const {
  return tapegrad::any(*this);
}
template <class T>
Tensor<bool> Tensor<T>::any(std::int64_t dim, bool keepdim) const {
  return tapegrad::any(*this, dim, keepdim);
}
template <class T>
Tensor<bool> Tensor<T>::all() const {
  return tapegrad::all(*this);
}
template <class T>
Tensor<bool> Tensor<T>::all(std::int64_t dim, bool keepdim) const {
  return tapegrad::all(*this, dim, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::where(const Tensor<bool>& condition, const Tensor& other) const {
  return tapegrad::where(condition, *this, other);
}
template <class T>
Tensor<T> Tensor<T>::where(const Tensor<bool>& condition, T other) const {
  return tapegrad::where(condition, *this, other);
}
template <class T>
Tensor<T> Tensor<T>::masked_fill(const Tensor<bool>& mask, T value) const {
  return tapegrad::masked_fill(*this, mask, value);
}
template <class T>
Tensor<T> Tensor<T>::masked_fill(const Tensor<bool>& mask, const Tensor& value) const {
  return tapegrad::masked_fill(*this, mask, value);
}
template <class T>
bool Tensor<T>::equal(const Tensor& other) const {
  return tapegrad::equal(*this, other);
}
template <class T>
bool Tensor<T>::allclose(const Tensor& other, double rtol, double atol, bool equal_nan) const {
  return tapegrad::allclose(*this, other, rtol, atol, equal_nan);
}

// ---- shapes ----------------------------------------------------------------------------------------

template <class T>
Tensor<T> Tensor<T>::unsqueeze(std::int64_t dim) const {
  return tapegrad::unsqueeze(*this, dim);
}
template <class T>
Tensor<T> Tensor<T>::squeeze() const {
  return tapegrad::squeeze(*this);
}
template <class T>
Tensor<T> Tensor<T>::squeeze(std::int64_t dim) const {
  return tapegrad::squeeze(*this, dim);
}
template <class T>
Tensor<T> Tensor<T>::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  return tapegrad::flatten(*this, start_dim, end_dim);
}
template <class T>
template <class I>
Tensor<T> Tensor<T>::index_select(std::int64_t dim, const Tensor<I>& index) const {
  return tapegrad::index_select(*this, dim, index);
}

// ---- indexing --------------------------------------------------------------------------------------

template <class T>
Tensor<T> Tensor<T>::operator[](std::int64_t index) const {
  return tapegrad::select(*this, 0, index);
}
template <class T>
Tensor<T> Tensor<T>::select(std::int64_t dim, std::int64_t index) const {
  return tapegrad::select(*this, dim, index);
}
template <class T>
Tensor<T> Tensor<T>::narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const {
  return tapegrad::narrow(*this, dim, start, length);
}
template <class T>
Tensor<T> Tensor<T>::index(std::initializer_list<indexing::TensorIndex> indices) const {
  return tapegrad::index(*this, indices);
}
template <class T>
Tensor<T> Tensor<T>::index(const std::vector<indexing::TensorIndex>& indices) const {
  return tapegrad::index(*this, indices);
}
template <class T>
Tensor<T>& Tensor<T>::index_put_(std::initializer_list<indexing::TensorIndex> indices, const Tensor& values,
                                 bool accumulate) {
  return tapegrad::index_put_(*this, indices, values, accumulate);
}
template <class T>
Tensor<T>& Tensor<T>::index_put_(std::initializer_list<indexing::TensorIndex> indices, T value) {
  return tapegrad::index_put_(*this, indices, value);
}
template <class T>
Tensor<T> Tensor<T>::index_put(std::initializer_list<indexing::TensorIndex> indices, const Tensor& values,
                               bool accumulate) const {
  return tapegrad::index_put(*this, indices, values, accumulate);
}

}  // namespace tapegrad
