// SPDX-License-Identifier: MIT
// Printing tensors the way PyTorch prints them: tensor([[ 0.6614,  0.2669], ...], grad_fn=<MulBackward0>).
#pragma once

#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "tapegrad/autograd.hpp"

namespace tapegrad {
namespace detail {

struct PrintOptions {
  int precision = 4;
  std::int64_t threshold = 1000;  // more elements than this are summarised with "..."
  std::int64_t edgeitems = 3;
  std::size_t linewidth = 80;
};

inline std::string format_number(const char* fmt, double v, int precision) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, precision, v);
  return buf;
}

// Picks one format for all elements (fixed, integer-valued or scientific) and one width, from the
// non-zero finite values shown, by PyTorch's rules.
class ElementFormatter {
 public:
  template <class T>
  ElementFormatter(const std::vector<T>& values, const PrintOptions& opts) : precision_(opts.precision) {
    floating_ = std::is_floating_point_v<T>;
    if constexpr (std::is_same_v<T, bool>) {
      width_ = 4;  // PyTorch pads True to False's width when both are shown
      for (T v : values)
        if (!v) width_ = 5;
      return;
    }
    if (!floating_) {
      for (T v : values) width_ = std::max(width_, std::to_string(v).size());
      return;
    }
    std::vector<double> shown;
    for (T v : values)
      if (std::isfinite(static_cast<double>(v)) && v != 0) shown.push_back(static_cast<double>(v));
    if (shown.empty()) return;
    double lo = std::abs(shown[0]), hi = lo;
    for (double v : shown) {
      lo = std::min(lo, std::abs(v));
      hi = std::max(hi, std::abs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    }
    if (int_mode_) {
      sci_mode_ = hi / lo > 1000.0 || hi > 1e8;
    } else {
      sci_mode_ = hi / lo > 1000.0 || hi > 1e8 || lo < 1e-4;
    }
    for (double v : shown) width_ = std::max(width_, raw(v).size() + (int_mode_ && !sci_mode_ ? 1 : 0));
  }

  std::size_t width() const { return width_; }

  template <class T>
  std::string format(T value) const {
    std::string s;
    if constexpr (std::is_same_v<T, bool>) {
      s = value ? "True" : "False";
    } else if (!floating_) {
      s = std::to_string(value);
    } else {
      const double v = static_cast<double>(value);
      s = raw(v);
      if (int_mode_ && !sci_mode_ && std::isfinite(v)) s += '.';
    }
    return std::string(width_ > s.size() ? width_ - s.size() : 0, ' ') + s;
  }

 private:
  std::string raw(double v) const {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (sci_mode_) return format_number("%.*e", v, precision_);
    if (int_mode_) return format_number("%.*f", v, 0);
    return format_number("%.*f", v, precision_);
  }

  int precision_;
  bool floating_ = true, int_mode_ = true, sci_mode_ = false;
  std::size_t width_ = 1;
};

// Walks the elements PyTorch would show (all, or the first and last `edgeitems` of each dim).
template <class T>
class TensorPrinter {
 public:
  TensorPrinter(const Tensor<T>& t, const PrintOptions& opts)
      : data_(t.data()), shape_(t.shape()), strides_(strides_of(t.shape())), opts_(opts),
        summarize_(t.numel() > opts.threshold) {}

  std::vector<T> shown_values() const {
    std::vector<T> out;
    collect(0, 0, out);
    return out;
  }

  std::string body(const ElementFormatter& f, std::size_t indent) const { return render(0, 0, indent, f); }

 private:
  std::vector<std::int64_t> shown_indices(std::size_t d) const {
    std::vector<std::int64_t> idx;
    const std::int64_t n = shape_[d];
    if (summarize_ && n > 2 * opts_.edgeitems) {
      for (std::int64_t i = 0; i < opts_.edgeitems; ++i) idx.push_back(i);
      idx.push_back(-1);  // the "..." marker
      for (std::int64_t i = n - opts_.edgeitems; i < n; ++i) idx.push_back(i);
    } else {
      for (std::int64_t i = 0; i < n; ++i) idx.push_back(i);
    }
    return idx;
  }

  void collect(std::size_t d, std::int64_t offset, std::vector<T>& out) const {
    if (d == shape_.size()) {
      out.push_back(data_[offset]);
      return;
    }
    for (std::int64_t i : shown_indices(d))
      if (i >= 0) collect(d + 1, offset + i * strides_[d], out);
  }

  std::string render(std::size_t d, std::int64_t offset, std::size_t indent, const ElementFormatter& f) const {
    if (shape_.empty()) return f.format(data_[0]);
    std::vector<std::string> parts;
    const bool last = d + 1 == shape_.size();
    for (std::int64_t i : shown_indices(d)) {
      if (i < 0)
        parts.push_back(last ? " ..." : "...");
      else if (last)
        parts.push_back(f.format(data_[offset + i * strides_[d]]));
      else
        parts.push_back(render(d + 1, offset + i * strides_[d], indent + 1, f));
    }
    std::string out = "[";
    if (last) {  // wrap long rows at the line width
      const std::size_t per_line =
          std::max<std::size_t>(1, (opts_.linewidth > indent ? opts_.linewidth - indent : 0) / (f.width() + 2));
      for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += i % per_line == 0 ? ",\n" + std::string(indent + 1, ' ') : ", ";
        out += parts[i];
      }
    } else {
      const std::string sep = "," + std::string(shape_.size() - d - 1, '\n') + std::string(indent + 1, ' ');
      for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
    }
    return out + "]";
  }

  const T* data_;
  Shape shape_, strides_;
  PrintOptions opts_;
  bool summarize_;
};

inline std::string shape_tuple(const Shape& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// Appends ", suffix" items, breaking the line where PyTorch would.
inline std::string with_suffixes(std::string body, const std::vector<std::string>& suffixes, std::size_t indent,
                                 std::size_t linewidth, bool force_newline) {
  std::size_t last_line = body.size() - (body.rfind('\n') == std::string::npos ? 0 : body.rfind('\n')) + 1;
  for (const auto& s : suffixes) {
    if (force_newline || last_line + s.size() + 2 > linewidth) {
      body += ",\n" + std::string(indent, ' ') + s;
      last_line = indent + s.size();
      force_newline = false;
    } else {
      body += ", " + s;
      last_line += s.size() + 2;
    }
  }
  return body + ")";
}

template <class T>
std::string dense_repr(const Tensor<T>& t, std::size_t indent, std::vector<std::string> suffixes) {
  const PrintOptions opts;
  const bool default_dtype = std::is_same_v<T, float> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, bool>;
  std::string body;
  if (t.numel() == 0) {
    if (t.dim() != 1) suffixes.insert(suffixes.begin(), std::string("size=") + shape_tuple(t.shape()));
    if (!std::is_same_v<T, float>) suffixes.push_back(std::string("dtype=") + dtype_name<T>());
    body = "[]";
  } else {
    if (!default_dtype) suffixes.insert(suffixes.begin(), std::string("dtype=") + dtype_name<T>());
    TensorPrinter<T> printer(t, opts);
    body = printer.body(ElementFormatter(printer.shown_values(), opts), indent);
  }
  return with_suffixes("tensor(" + body, suffixes, indent, opts.linewidth, false);
}

}  // namespace detail

/// The tensor as PyTorch would print it.
template <class T>
std::string to_string(const Tensor<T>& t) {
  if (!t.defined()) return "tensor(undefined)";
  std::vector<std::string> suffixes;
  if (t.grad_fn())
    suffixes.push_back(std::string("grad_fn=<") + t.grad_fn_name() + ">");
  else if (t.requires_grad())
    suffixes.push_back("requires_grad=True");
  if (!t.is_sparse()) return detail::dense_repr(t, 7, suffixes);
  const std::string indices = detail::dense_repr(t.indices(), 15, {});
  const std::string values = detail::dense_repr(t.values(), 14, {});
  std::vector<std::string> parts{"values=" + values, "size=" + detail::shape_tuple(t.shape()),
                                 "nnz=" + std::to_string(t.indices().numel()), "layout=sparse_rows"};
  parts.insert(parts.end(), suffixes.begin(), suffixes.end());
  return detail::with_suffixes("tensor(indices=" + indices, parts, 7, detail::PrintOptions().linewidth, true);
}

template <class T>
std::ostream& operator<<(std::ostream& os, const Tensor<T>& t) {
  return os << to_string(t);
}

}  // namespace tapegrad
