// SPDX-License-Identifier: MIT
// StateDict: named tensors in order, what modules save and load and what the model-file formats hold.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad::nn {

/// Named tensors in registration order, as Module::state_dict returns them and load_state_dict takes them.
template <class T>
class StateDict {
 public:
  using Item = std::pair<std::string, Tensor<T>>;

  /// Adds an entry; names must be unique.
  void insert(std::string name, Tensor<T> value) {
    if (contains(name)) throw ValueError("StateDict::insert: there is already an entry named \"" + name + "\"");
    index_.emplace(name, items_.size());
    items_.emplace_back(std::move(name), std::move(value));
  }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  /// The tensor stored under `name`; IndexError if there is none.
  const Tensor<T>& at(const std::string& name) const {
    auto it = find(name);
    if (it == items_.end()) throw IndexError("StateDict::at: no entry named \"" + name + "\"");
    return it->second;
  }
  Tensor<T>& at(const std::string& name) { return const_cast<Tensor<T>&>(std::as_const(*this).at(name)); }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& item : items_) out.push_back(item.first);
    return out;
  }
  typename std::vector<Item>::const_iterator begin() const noexcept { return items_.begin(); }
  typename std::vector<Item>::const_iterator end() const noexcept { return items_.end(); }

 private:
  // By name through the index: files with many entries load in linear time.
  typename std::vector<Item>::const_iterator find(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? items_.end() : items_.begin() + static_cast<std::ptrdiff_t>(it->second);
  }
  std::vector<Item> items_;
  std::unordered_map<std::string, std::size_t> index_;  // name -> position in items_
};

/// What load_state_dict(dict, strict=false) and Module::load(path, false) leave out, as PyTorch's
/// `_IncompatibleKeys`: the model's names the dict lacks, and the dict's names the model lacks.
struct LoadResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
  /// True when every name matched.
  bool ok() const noexcept { return missing_keys.empty() && unexpected_keys.empty(); }
};

}  // namespace tapegrad::nn
