// SPDX-License-Identifier: MIT
// Module (the base of Linear, Embedding, EmbeddingBag and user models), Parameter, Buffer, StateDict, printing.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#endif

#include "tapegrad/autograd.hpp"
#include "tapegrad/io/state_dict_file.hpp"
#include "tapegrad/nn/state_dict.hpp"
#include "tapegrad/print.hpp"

namespace tapegrad::nn {

template <class T>
class Module;

/// A module's learnable tensor: a Tensor that knows which module owns it and the shape it must have.
///
/// Assigning a tensor checks the shape first (ShapeError), then makes the parameter a new leaf that
/// shares the tensor's elements and requires grad, like `torch.nn.Parameter(w)`. Assigning another
/// Parameter ties the two (one tensor, gradients summed), also after a shape check. Moving replaces
/// the parameter wholesale (what containers and module moves need). An absent parameter (a Linear
/// built with bias=false) is undefined and cannot be assigned.
/// Example: `lin.weight = tapegrad::zeros<float>({5, 3});`
template <class T>
class Parameter : public Tensor<T> {
  static_assert(std::is_floating_point_v<T>, "Parameter<T>: T must be float or double");

 public:
  /// An unset parameter without an owner: the first assignment fixes its shape.
  Parameter() = default;
  /// A parameter holding a new leaf that shares `value`'s elements and requires grad. `description`
  /// names it in messages ("Linear(in_features=3, out_features=5, bias=True).weight"); `note` is
  /// appended to shape errors.
  Parameter(std::string description, const Tensor<T>& value, std::string note = "")
      : Tensor<T>(leaf_of(value)), description_(std::move(description)), note_(std::move(note)), shape_(value.shape()),
        fixed_(true) {}
  /// A parameter the module was built without (e.g. bias=false): undefined, and assigning it throws.
  static Parameter absent(std::string description, Shape shape) {
    Parameter p;
    p.description_ = std::move(description);
    p.shape_ = std::move(shape);
    p.fixed_ = true;
    p.absent_ = true;
    return p;
  }

  Parameter(const Parameter&) = default;
  Parameter(Parameter&&) = default;
  /// Moving replaces the parameter wholesale, description and expected shape included.
  Parameter& operator=(Parameter&&) = default;

  /// Ties this parameter to `other`: both hold the same tensor (its gradient sums both uses).
  Parameter& operator=(const Parameter& other) {
    if (this == &other) return *this;
    check_assignable(other);
    Tensor<T>::operator=(static_cast<const Tensor<T>&>(other));
    if (!fixed_) shape_ = other.shape(), fixed_ = true;
    return *this;
  }

  /// Replaces the parameter by a new leaf sharing `value`'s elements (requires grad), after checking its shape.
  Parameter& operator=(const Tensor<T>& value) {
    check_assignable(value);
    Tensor<T>::operator=(leaf_of(value));
    if (!fixed_) shape_ = value.shape(), fixed_ = true;
    return *this;
  }

  /// Who owns this parameter, as used in messages.
  const std::string& description() const noexcept { return description_; }
  /// The shape every assigned tensor must have (empty until an unset parameter is first assigned).
  const Shape& expected_shape() const noexcept { return shape_; }
  /// True for a parameter the module was built without (e.g. bias=false).
  bool is_absent() const noexcept { return absent_; }

 private:
  static Tensor<T> leaf_of(const Tensor<T>& value) {
    Tensor<T> leaf = value.detach();
    leaf.requires_grad_(true);
    return leaf;
  }

  std::string who() const { return description_.empty() ? std::string("Parameter") : description_; }

  void check_assignable(const Tensor<T>& value) const {
    if (absent_)
      throw ValueError(who() + ": the module was built without this parameter, so it cannot be assigned");
    if (!value.defined()) throw ValueError(who() + ": cannot assign an undefined tensor");
    if (value.is_sparse())
      throw ValueError(detail::cat(who(), ": cannot assign a sparse tensor (shape ", detail::shape_str(value.shape()),
                                   "); call to_dense() first"));
    if (fixed_ && value.shape() != shape_)
      throw ShapeError(detail::cat(who(), ": expected shape ", detail::shape_str(shape_), ", got ",
                                   detail::shape_str(value.shape()), note_));
  }

  std::string description_;
  std::string note_;
  Shape shape_;
  bool fixed_ = false;
  bool absent_ = false;
};

/// Prints a parameter as PyTorch does: "Parameter containing:" and the tensor.
template <class T>
std::ostream& operator<<(std::ostream& os, const Parameter<T>& p) {
  if (!p.defined()) return os << "None";
  return os << "Parameter containing:\n" << tapegrad::to_string(static_cast<const Tensor<T>&>(p));
}

/// A module's non-learnable state (BatchNorm1d's running_mean): a tensor that state_dict() saves and
/// load_state_dict() restores but parameters() leaves out, like a tensor given to PyTorch's
/// register_buffer. It never requires grad. Copies share the elements (a module's copies share its
/// buffers as they share its parameters), so a module updates a buffer in place, never by rebinding.
/// An undefined buffer (BatchNorm1d with track_running_stats=false) is left out, as PyTorch's None.
template <class T>
class Buffer : public Tensor<T> {
 public:
  Buffer() = default;
  /// A buffer sharing `value`'s elements, detached from any graph.
  explicit Buffer(const Tensor<T>& value) : Tensor<T>(value.detach()) {}
  /// Rebinds the buffer to `value`'s elements (detached); copies made earlier keep the old ones.
  Buffer& operator=(const Tensor<T>& value) {
    Tensor<T>::operator=(value.detach());
    return *this;
  }
};

/// What Module::visit calls once per parameter and once per direct submodule, in registration order.
/// Example: `void visit(tapegrad::nn::Visitor<float>& v) override { v("emb", emb); v("fc", fc); }`
template <class T>
class Visitor {
 public:
  /// A parameter of the visited module (absent ones included; they are undefined).
  virtual void operator()(const std::string& name, Parameter<T>& parameter) = 0;
  /// A direct submodule of the visited module.
  virtual void operator()(const std::string& name, Module<T>& module) = 0;
  /// A buffer of the visited module (undefined ones included). Not pure, so visitors written before
  /// buffers existed still compile; they simply do not see buffers.
  virtual void operator()(const std::string& name, Buffer<T>& buffer) {
    (void)name;
    (void)buffer;
  }
  /// A list of submodules, visited as name.0, name.1, ... (PyTorch's ModuleList naming).
  template <class M>
  void operator()(const std::string& name, std::vector<M>& modules) {
    for (std::size_t i = 0; i < modules.size(); ++i)
      (*this)(name + "." + std::to_string(i), static_cast<Module<T>&>(modules[i]));
  }

 protected:
  ~Visitor() = default;
};

}  // namespace tapegrad::nn

namespace tapegrad::detail {

// "Net" from the demangled "ns::Outer<int>::Net": the last name outside template arguments and parameter lists.
inline std::string unqualified_type_name(const std::string& full) {
  std::size_t start = 0;
  int depth = 0;
  for (std::size_t i = 0; i < full.size(); ++i) {
    const char c = full[i];
    if (c == '<' || c == '(') ++depth;
    if (c == '>' || c == ')') --depth;
    if (depth == 0 && c == ':' && i + 1 < full.size() && full[i + 1] == ':') start = i + 2;
  }
  std::string name = full.substr(start);
  const std::size_t angle = name.find('<');
  return angle == std::string::npos ? name : name.substr(0, angle);
}

inline std::string demangled_name(const std::type_info& type) {
#if __has_include(<cxxabi.h>)
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  if (status == 0 && name) return unqualified_type_name(name.get());
#endif
  return unqualified_type_name(type.name());
}

/// A double the way Python's repr prints it (1.0, 0.5, 1e-05, 1e+17, inf), for module printing.
inline std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  int digits = 1;
  for (; digits < 17; ++digits) {  // the shortest round-tripping precision, as Python's repr
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  const std::string sci = buf;
  const std::size_t e = sci.find('e');
  const int exponent = std::atoi(sci.c_str() + e + 1);
  if (exponent < -4 || exponent >= 16) {  // scientific: mantissa without a trailing ".", exponent of 2+ digits
    std::snprintf(buf, sizeof buf, "%se%c%02d", sci.substr(0, e).c_str(), exponent < 0 ? '-' : '+', std::abs(exponent));
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.*f", std::max(0, digits - 1 - exponent), v);
  std::string fixed = buf;
  if (fixed.find('.') == std::string::npos) fixed += ".0";
  return fixed;
}

inline const char* python_bool(bool v) { return v ? "True" : "False"; }

// Visits one module's parameters and children, collecting them for the Module members below.
template <class T>
struct Collector final : nn::Visitor<T> {
  std::vector<std::pair<std::string, nn::Parameter<T>*>> parameters;
  std::vector<std::pair<std::string, nn::Module<T>*>> children;
  std::vector<std::pair<std::string, nn::Buffer<T>*>> buffers;
  void operator()(const std::string& name, nn::Parameter<T>& p) override { parameters.emplace_back(name, &p); }
  void operator()(const std::string& name, nn::Module<T>& m) override { children.emplace_back(name, &m); }
  void operator()(const std::string& name, nn::Buffer<T>& b) override { buffers.emplace_back(name, &b); }
};

}  // namespace tapegrad::detail

namespace tapegrad::nn {

/// The base class of every module: parameters, submodules, train/eval, state dicts and printing,
/// all driven by one virtual `visit` that a module overrides to list its members.
///
/// Modules are values: a copy shares the parameters (like copying a libtorch module holder), so
/// copying or moving a module never leaves dangling registrations.
/// Example:
///   struct Net : tapegrad::nn::Module<float> {
///     tapegrad::nn::Embedding<float> emb{tapegrad::nn::EmbeddingOptions(3, 5)};
///     tapegrad::nn::Linear<float> fc{tapegrad::nn::LinearOptions(5, 2)};
///     void visit(tapegrad::nn::Visitor<float>& v) override { v("emb", emb); v("fc", fc); }
///   };
template <class T = float>
class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = default;
  Module(Module&&) = default;
  Module& operator=(const Module&) = default;
  Module& operator=(Module&&) = default;

  /// Lists this module's parameters and direct submodules by calling `v(name, member)` for each.
  virtual void visit(Visitor<T>& v) { (void)v; }
  /// The class name shown when printing; by default the C++ class name without namespaces.
  virtual std::string name() const { return detail::demangled_name(typeid(*this)); }
  /// What printing shows between the parentheses ("3, 5, padding_idx=0"); empty by default.
  virtual std::string extra_repr() const { return ""; }

  /// Every defined parameter of this module and its submodules, each once (tied ones are not repeated).
  std::vector<Tensor<T>> parameters() const {
    std::vector<Tensor<T>> out;
    for (auto& item : named_parameters()) out.push_back(std::move(item.second));
    return out;
  }

  /// Parameters with PyTorch's dotted names ("weight", "fc.bias", "layers.0.weight"), each once.
  std::vector<std::pair<std::string, Tensor<T>>> named_parameters() const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    for_each_parameter(std::string(), [&out](const std::string& name, Parameter<T>& p) {
      for (const auto& seen : out)
        if (seen.second.is_same(p)) return;
      out.emplace_back(name, p);
    });
    return out;
  }

  /// Every defined buffer of this module and its submodules (BatchNorm1d's running statistics).
  std::vector<Tensor<T>> buffers() const {
    std::vector<Tensor<T>> out;
    for (auto& item : named_buffers()) out.push_back(std::move(item.second));
    return out;
  }

  /// Buffers with PyTorch's dotted names ("running_mean", "0.num_batches_tracked"), like named_buffers().
  std::vector<std::pair<std::string, Tensor<T>>> named_buffers() const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    for_each_entry(std::string(), [](const std::string&, Parameter<T>&) {},
                   [&out](const std::string& name, Buffer<T>& b) { out.emplace_back(name, b); });
    return out;
  }

  /// The direct submodules with their names, in registration order.
  std::vector<std::pair<std::string, Module<T>*>> named_children() {
    detail::Collector<T> c;
    visit(c);
    return c.children;
  }

  /// Sets training mode on this module and every submodule (Dropout and BatchNorm1d behave differently).
  void train(bool on = true) {
    training_ = on;
    for (auto& child : named_children()) child.second->train(on);
  }
  /// Same as train(false).
  void eval() { train(false); }
  bool is_training() const noexcept { return training_; }

  /// Resets the gradients of all parameters: zeros in place by default (PyTorch 1.13's default),
  /// or undefined gradients with set_to_none=true.
  void zero_grad(bool set_to_none = false) {
    NoGradGuard no_grad;
    for (auto& item : named_parameters()) {
      Tensor<T>& g = item.second.mutable_grad();
      if (!g.defined()) continue;
      if (set_to_none) {
        g = Tensor<T>();
      } else if (g.is_sparse()) {  // an empty sparse gradient, as PyTorch's zero_() on a sparse tensor
        Shape vshape = g.values().shape();
        vshape[0] = 0;
        g = detail::make_sparse(g.shape(), detail::make_tensor<std::int64_t>({0}), detail::make_tensor<T>(vshape), true);
      } else {
        detail::zero_dense_grad(g);
      }
    }
  }

  /// Detached tensors sharing each parameter's and buffer's elements, under their dotted names, in
  /// PyTorch's order: a module's parameters, then its buffers, then its children (tied parameters
  /// appear under each name, as in PyTorch).
  StateDict<T> state_dict() const {
    StateDict<T> dict;
    for_each_state(std::string(), [&dict](const std::string& name, Tensor<T>& t) { dict.insert(name, t.detach()); });
    return dict;
  }

  /// Copies `dict`'s values into the parameters and buffers, in place. Every name and shape is checked first
  /// and all problems are reported together; nothing is copied unless all is well. With strict=false,
  /// missing and unexpected names are ignored and returned (shape mismatches still throw, as in PyTorch).
  LoadResult load_state_dict(const StateDict<T>& dict, bool strict = true) {
    LoadResult result = check_state_dict(dict, strict);
    NoGradGuard no_grad;
    for_each_state(std::string(), [&dict](const std::string& key, Tensor<T>& target) {
      if (dict.contains(key)) target.copy_(dict.at(key));
    });
    return result;
  }

  /// What load_state_dict(dict, strict) would do, without changing anything: throws the same errors,
  /// or returns the names it would leave out.
  LoadResult check_state_dict(const StateDict<T>& dict, bool strict = true) const {
    std::vector<std::pair<std::string, Tensor<T>>> targets;
    for_each_state(std::string(), [&targets](const std::string& key, Tensor<T>& t) { targets.emplace_back(key, t); });
    LoadResult result;
    std::string problems;
    bool key_problem = false;
    auto add = [&problems, &key_problem](const std::string& s, bool about_keys) {
      problems += (problems.empty() ? "" : "; ") + s;
      key_problem = key_problem || about_keys;
    };
    for (const auto& [key, param] : targets) {
      if (!dict.contains(key)) {
        if (strict) add("missing key \"" + key + "\"", true);
        result.missing_keys.push_back(key);
        continue;
      }
      const Tensor<T>& value = dict.at(key);
      if (!value.defined() || value.is_sparse())
        add("\"" + key + "\" is " + (value.defined() ? "sparse" : "undefined") + " in the state dict", true);
      else if (value.shape() != param.shape())
        add(detail::cat("size mismatch for \"", key, "\": the state dict has shape ", detail::shape_str(value.shape()),
                        ", the model has ", detail::shape_str(param.shape())),
            false);
    }
    for (const auto& item : dict) {
      bool known = false;
      for (const auto& target : targets) known = known || target.first == item.first;
      if (known) continue;
      if (strict) add("unexpected key \"" + item.first + "\"", true);
      result.unexpected_keys.push_back(item.first);
    }
    if (!problems.empty()) {
      const std::string message = "load_state_dict into " + name() + ": " + problems + ". Nothing was loaded";
      if (key_problem) throw ValueError(message);
      throw ShapeError(message);
    }
    return result;
  }

  /// Saves state_dict() to `path` in the format its extension names: ".safetensors", ".pt"/".pth"
  /// (PyTorch's zip format, for torch.load) or ".npz" (NumPy). The file is replaced only once the new
  /// one is complete. Example: `model.save("model.safetensors");`
  void save(const std::filesystem::path& path) const { io::save_state_dict(path, state_dict()); }

  /// Loads parameters from a file written by save(), torch.save(model.state_dict()), np.savez or any
  /// safetensors writer (format by extension, as save()). Strict by default; with strict=false the
  /// names left out are returned. Everything is read and checked before any parameter changes.
  LoadResult load(const std::filesystem::path& path, bool strict = true, const io::LoadOptions& options = {}) {
    return load_state_dict(io::load_state_dict<T>(path, options), strict);
  }

 private:
  // Calls f(dotted name, parameter) for every defined parameter, depth first in registration order.
  template <class F>
  void for_each_parameter(const std::string& prefix, F&& f) const {
    for_each_entry(prefix, f, [](const std::string&, Buffer<T>&) {});
  }

  // Calls f(dotted name, tensor) for every defined parameter and buffer: what a state dict holds.
  template <class F>
  void for_each_state(const std::string& prefix, F&& f) const {
    for_each_entry(
        prefix, [&f](const std::string& name, Parameter<T>& p) { f(name, static_cast<Tensor<T>&>(p)); },
        [&f](const std::string& name, Buffer<T>& b) { f(name, static_cast<Tensor<T>&>(b)); });
  }

  // Per module, PyTorch's order: its parameters, its buffers, then its children (depth first).
  template <class FP, class FB>
  void for_each_entry(const std::string& prefix, FP&& on_parameter, FB&& on_buffer) const {
    detail::Collector<T> c;
    const_cast<Module&>(*this).visit(c);  // visiting only reads the members
    for (auto& [name, p] : c.parameters)
      if (p->defined()) on_parameter(prefix + name, *p);
    for (auto& [name, b] : c.buffers)
      if (b->defined()) on_buffer(prefix + name, *b);
    for (auto& [name, child] : c.children) child->for_each_entry(prefix + name + ".", on_parameter, on_buffer);
  }

  bool training_ = true;
};

/// The module as PyTorch prints it: `Linear(in_features=3, out_features=5, bias=True)`, and
/// nested modules one per line, `(name): ...`, indented by two spaces.
template <class T>
std::string to_string(const Module<T>& m) {
  detail::Collector<T> c;
  const_cast<Module<T>&>(m).visit(c);
  std::vector<std::string> lines;
  const std::string extra = m.extra_repr();
  for (std::size_t start = 0; !extra.empty() && start <= extra.size();) {
    const std::size_t end = std::min(extra.find('\n', start), extra.size());
    lines.push_back(extra.substr(start, end - start));
    start = end + 1;
  }
  for (const auto& [name, child] : c.children) {
    std::string child_repr = to_string(*child), indented;
    for (char ch : child_repr) indented += ch == '\n' ? std::string("\n  ") : std::string(1, ch);
    lines.push_back("(" + name + "): " + indented);
  }
  std::string out = m.name() + "(";
  if (lines.size() == 1 && c.children.empty()) {
    out += lines[0];
  } else if (!lines.empty()) {
    for (const auto& line : lines) out += "\n  " + line;
    out += "\n";
  }
  return out + ")";
}

template <class T>
std::ostream& operator<<(std::ostream& os, const Module<T>& m) {
  return os << to_string(m);
}

}  // namespace tapegrad::nn
