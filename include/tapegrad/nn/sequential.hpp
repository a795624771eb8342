// SPDX-License-Identifier: MIT
// Containers of modules: Sequential (chains Tensor -> Tensor modules), ModuleList and ModuleDict.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/nn/module.hpp"

namespace tapegrad::detail {

template <class M, class T, class = void>
struct has_tensor_forward : std::false_type {};
template <class M, class T>
struct has_tensor_forward<M, T, std::void_t<decltype(std::declval<M&>().forward(std::declval<const Tensor<T>&>()))>>
    : std::is_convertible<decltype(std::declval<M&>().forward(std::declval<const Tensor<T>&>())), Tensor<T>> {};

template <class M, class T, class = void>
struct has_tensor_call : std::false_type {};
template <class M, class T>
struct has_tensor_call<M, T, std::void_t<decltype(std::declval<M&>()(std::declval<const Tensor<T>&>()))>>
    : std::is_convertible<decltype(std::declval<M&>()(std::declval<const Tensor<T>&>())), Tensor<T>> {};

/// The shared body of Sequential, ModuleList and ModuleDict: named children held by shared_ptr.
///
/// A module passed by value is moved or copied into the container; that copy shares the
/// original's parameters and buffers (modules are values whose copies share tensors), so
/// `seq[0]` trains the same weights as the module pushed in. Its options and train/eval flag are
/// the copy's own: configure the module through the container (`seq.at<Linear<float>>(0)`) after
/// pushing. A module passed as std::shared_ptr is held as it is (one object, shared entirely).
/// Copying a container copies each child the same way, so copies share tensors but not flags.
template <class T>
class ModuleContainer : public nn::Module<T> {
 public:
  ModuleContainer() = default;
  ModuleContainer(const ModuleContainer& other) : nn::Module<T>(other), names_(other.names_), clones_(other.clones_) {
    for (std::size_t i = 0; i < other.modules_.size(); ++i) modules_.push_back(clones_[i](other.modules_[i]));
  }
  ModuleContainer(ModuleContainer&&) = default;
  ModuleContainer& operator=(const ModuleContainer& other) { return *this = ModuleContainer(other); }
  ModuleContainer& operator=(ModuleContainer&&) = default;

  /// Number of children.
  std::size_t size() const noexcept { return modules_.size(); }
  bool is_empty() const noexcept { return modules_.empty(); }

  /// The children in order, as shared pointers (libtorch's iteration over a ModuleList).
  typename std::vector<std::shared_ptr<nn::Module<T>>>::const_iterator begin() const noexcept { return modules_.begin(); }
  typename std::vector<std::shared_ptr<nn::Module<T>>>::const_iterator end() const noexcept { return modules_.end(); }

  void visit(nn::Visitor<T>& v) override {
    for (std::size_t i = 0; i < modules_.size(); ++i) v(names_[i], *modules_[i]);
  }

 protected:
  using Cloner = std::function<std::shared_ptr<nn::Module<T>>(const std::shared_ptr<nn::Module<T>>&)>;

  // Appends (or, with replace, swaps in place) a child after checking its name as PyTorch's add_module.
  template <class M>
  void add(const char* who, std::string name, std::shared_ptr<M> module, bool replace = false) {
    static_assert(std::is_base_of_v<nn::Module<T>, M>, "a container holds modules derived from tapegrad::nn::Module<T>");
    if (!module) throw ValueError(cat(who, ": the module for \"", name, "\" is a null pointer"));
    if (name.empty()) throw ValueError(cat(who, ": a module name cannot be empty"));
    if (name.find('.') != std::string::npos)
      throw ValueError(cat(who, ": a module name cannot contain \".\", got \"", name, "\""));
    Cloner clone = [](const std::shared_ptr<nn::Module<T>>& m) -> std::shared_ptr<nn::Module<T>> {
      if constexpr (std::is_copy_constructible_v<M>) return std::make_shared<M>(static_cast<const M&>(*m));
      else return m;  // nothing to copy it with: copies of the container share this child
    };
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] != name) continue;
      if (!replace) throw ValueError(cat(who, ": there is already a module named \"", name, "\""));
      modules_[i] = std::move(module);
      clones_[i] = std::move(clone);
      return;
    }
    names_.push_back(std::move(name));
    modules_.push_back(std::move(module));
    clones_.push_back(std::move(clone));
  }

  // Position of child i (negative counts from the end, as Python), or IndexError naming the range.
  std::size_t position(const char* who, std::int64_t i) const {
    const auto n = static_cast<std::int64_t>(modules_.size());
    if (i < -n || i >= n)
      throw IndexError(cat(who, ": index ", i, " is out of range for ", n, " modules (valid range [", -n, ", ", n - 1, "])"));
    return static_cast<std::size_t>(i < 0 ? i + n : i);
  }

  // The child at `pos` as an M, or ValueError naming both types.
  template <class M>
  std::shared_ptr<M> typed(const char* who, std::size_t pos) const {
    auto out = std::dynamic_pointer_cast<M>(modules_[pos]);
    if (!out)
      throw ValueError(cat(who, ": module \"", names_[pos], "\" is a ", modules_[pos]->name(), ", not a ",
                           demangled_name(typeid(M))));
    return out;
  }

  std::vector<std::string> names_;
  std::vector<std::shared_ptr<nn::Module<T>>> modules_;
  std::vector<Cloner> clones_;
};

}  // namespace tapegrad::detail

namespace tapegrad::nn {

/// Modules applied one after another, like torch.nn.Sequential: children are named "0", "1", ...
/// (or by push_back's name), so state_dict() keys are "0.weight", "2.bias" as PyTorch's. Any
/// module with `forward(const Tensor<T>&)` or `operator()(const Tensor<T>&)` returning a Tensor<T>
/// can be a step. Pushed modules are copies sharing the original's parameters (see ModuleContainer).
/// Example: `Sequential<float> net(Linear<float>(4, 8), ReLU<float>(), Linear<float>(8, 2)); auto y = net(x);`
template <class T = float>
class Sequential : public detail::ModuleContainer<T> {
  template <class M>
  using if_module = std::enable_if_t<std::is_base_of_v<Module<T>, std::decay_t<M>>, int>;

 public:
  Sequential() = default;
  /// A Sequential of the given modules, named "0", "1", ... in order.
  template <class First, class... Rest,
            std::enable_if_t<!(sizeof...(Rest) == 0 && std::is_same_v<std::decay_t<First>, Sequential>), int> = 0>
  explicit Sequential(First&& first, Rest&&... rest) {
    push_back(std::forward<First>(first));
    (push_back(std::forward<Rest>(rest)), ...);
  }

  /// Appends a module named after its position ("3"), like Sequential.append.
  template <class M, if_module<M> = 0>
  void push_back(M&& module) {
    push_back(std::to_string(this->size()), std::forward<M>(module));
  }
  /// Appends a module under `name` (unique, not empty, without "."), like add_module.
  template <class M, if_module<M> = 0>
  void push_back(std::string name, M&& module) {
    push_back(std::move(name), std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }
  /// Appends this very module object (held, not copied): `seq[i]` is `*module`.
  template <class M>
  void push_back(std::shared_ptr<M> module) {
    push_back(std::to_string(this->size()), std::move(module));
  }
  template <class M>
  void push_back(std::string name, std::shared_ptr<M> module) {
    static_assert(detail::has_tensor_forward<M, T>::value || detail::has_tensor_call<M, T>::value,
                  "Sequential: a step needs forward(const Tensor<T>&) or operator()(const Tensor<T>&) returning Tensor<T>");
    this->add("Sequential::push_back", std::move(name), std::move(module));
    forwards_.push_back([](Module<T>& m, const Tensor<T>& x) -> Tensor<T> {
      if constexpr (detail::has_tensor_forward<M, T>::value) return static_cast<M&>(m).forward(x);
      else return static_cast<M&>(m)(x);
    });
  }

  /// Passes `input` through every child in order (an empty Sequential returns the input).
  Tensor<T> forward(const Tensor<T>& input) const {
    Tensor<T> x = input;
    for (std::size_t i = 0; i < this->modules_.size(); ++i) x = forwards_[i](*this->modules_[i], x);
    return x;
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  /// Child i as a Module (negative i counts from the end); IndexError when out of range.
  Module<T>& operator[](std::int64_t i) const { return *this->modules_[this->position("Sequential", i)]; }
  /// Child i as a shared pointer, like libtorch's ptr(i).
  std::shared_ptr<Module<T>> ptr(std::int64_t i) const { return this->modules_[this->position("Sequential::ptr", i)]; }
  /// Child i as an M, like libtorch's ptr<M>(i); ValueError if it is another type.
  template <class M>
  std::shared_ptr<M> ptr(std::int64_t i) const {
    return this->template typed<M>("Sequential::ptr", this->position("Sequential::ptr", i));
  }
  /// Child i as an M&, like libtorch's at<M>(i): `seq.at<Linear<float>>(0).weight`.
  template <class M>
  M& at(std::int64_t i) const {
    return *this->template typed<M>("Sequential::at", this->position("Sequential::at", i));
  }

  std::string name() const override { return "Sequential"; }

 private:
  std::vector<std::function<Tensor<T>(Module<T>&, const Tensor<T>&)>> forwards_;
};

/// A list of modules registered as "0", "1", ..., like torch.nn.ModuleList: no forward of its own.
/// Example: `ModuleList<float> layers; layers.push_back(Linear<float>(4, 4)); for (auto& m : layers) ...`
template <class T = float>
class ModuleList : public detail::ModuleContainer<T> {
  template <class M>
  using if_module = std::enable_if_t<std::is_base_of_v<Module<T>, std::decay_t<M>>, int>;

 public:
  ModuleList() = default;
  /// A list of the given modules in order.
  template <class First, class... Rest,
            std::enable_if_t<!(sizeof...(Rest) == 0 && std::is_same_v<std::decay_t<First>, ModuleList>), int> = 0>
  explicit ModuleList(First&& first, Rest&&... rest) {
    push_back(std::forward<First>(first));
    (push_back(std::forward<Rest>(rest)), ...);
  }

  /// Appends a copy of `module` (sharing its parameters), named after its position, like append.
  template <class M, if_module<M> = 0>
  void push_back(M&& module) {
    push_back(std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }
  /// Appends this very module object.
  template <class M>
  void push_back(std::shared_ptr<M> module) {
    this->add("ModuleList::push_back", std::to_string(this->size()), std::move(module));
  }

  /// Child i as a Module (negative i counts from the end); IndexError when out of range.
  Module<T>& operator[](std::int64_t i) const { return *this->modules_[this->position("ModuleList", i)]; }
  /// Child i as a shared pointer.
  std::shared_ptr<Module<T>> ptr(std::int64_t i) const { return this->modules_[this->position("ModuleList::ptr", i)]; }
  /// Child i as an M; ValueError if it is another type.
  template <class M>
  std::shared_ptr<M> ptr(std::int64_t i) const {
    return this->template typed<M>("ModuleList::ptr", this->position("ModuleList::ptr", i));
  }
  /// Child i as an M&.
  template <class M>
  M& at(std::int64_t i) const {
    return *this->template typed<M>("ModuleList::at", this->position("ModuleList::at", i));
  }

  std::string name() const override { return "ModuleList"; }
};

/// Modules under string keys in insertion order, like torch.nn.ModuleDict: the keys are the
/// children's names ("encoder.weight" in state_dict()).
/// Example: `ModuleDict<float> heads; heads.insert("cls", Linear<float>(8, 3)); heads.at<Linear<float>>("cls")`.
template <class T = float>
class ModuleDict : public detail::ModuleContainer<T> {
  template <class M>
  using if_module = std::enable_if_t<std::is_base_of_v<Module<T>, std::decay_t<M>>, int>;

 public:
  ModuleDict() = default;

  /// Adds a copy of `module` (sharing its parameters) under `key`; an existing key is replaced in
  /// place, keeping its position (as `dict[key] = module` in PyTorch).
  template <class M, if_module<M> = 0>
  void insert(std::string key, M&& module) {
    insert(std::move(key), std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }
  /// Adds this very module object under `key`.
  template <class M>
  void insert(std::string key, std::shared_ptr<M> module) {
    this->add("ModuleDict::insert", std::move(key), std::move(module), true);
  }

  bool contains(const std::string& key) const { return find(key) < this->names_.size(); }
  /// The keys in insertion order.
  const std::vector<std::string>& keys() const noexcept { return this->names_; }
  /// The modules in insertion order.
  const std::vector<std::shared_ptr<Module<T>>>& values() const noexcept { return this->modules_; }
  /// (key, module) pairs in insertion order: `for (auto& [key, m] : dict.items())`.
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> items() const {
    std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> out;
    for (std::size_t i = 0; i < this->names_.size(); ++i) out.emplace_back(this->names_[i], this->modules_[i]);
    return out;
  }

  /// The module under `key`; IndexError if there is none.
  Module<T>& operator[](const std::string& key) const { return *this->modules_[position("ModuleDict", key)]; }
  /// The module under `key` as a shared pointer.
  std::shared_ptr<Module<T>> ptr(const std::string& key) const { return this->modules_[position("ModuleDict::ptr", key)]; }
  /// The module under `key` as an M&; ValueError if it is another type.
  template <class M>
  M& at(const std::string& key) const {
    return *this->template typed<M>("ModuleDict::at", position("ModuleDict::at", key));
  }

  std::string name() const override { return "ModuleDict"; }

 private:
  std::size_t find(const std::string& key) const {
    std::size_t i = 0;
    while (i < this->names_.size() && this->names_[i] != key) ++i;
    return i;
  }
  std::size_t position(const char* who, const std::string& key) const {
    const std::size_t i = find(key);
    if (i == this->names_.size()) throw IndexError(detail::cat(who, ": no module under key \"", key, "\""));
    return i;
  }
};

}  // namespace tapegrad::nn
