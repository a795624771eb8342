// SPDX-License-Identifier: MIT
// Reads the golden tensors that tests/reference/make_golden.py wrote from PyTorch 1.13.1.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace tg_test {

/// One golden data file (tests/reference/data/<name>.txt), loaded once.
/// Example: `Golden g("nn_embedding"); auto w = g.tensor<float>("embedding/basic/weight");`
class Golden {
 public:
  explicit Golden(const std::string& name) : path_(std::string(TAPEGRAD_TEST_DATA_DIR) + "/" + name + ".txt") {
    std::ifstream in(path_);
    if (!in) throw std::runtime_error("golden file not found: " + path_ + " (run tests/reference/make_golden.py)");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      Record r;
      std::string key;
      int ndim = 0;
      fields >> key >> r.dtype >> ndim;
      for (int i = 0; i < ndim; ++i) {
        std::int64_t s = 0;
        fields >> s;
        r.shape.push_back(s);
      }
      std::string v;
      while (fields >> v) {
        r.values.push_back(v == "nan" ? NAN : v == "inf" ? INFINITY : v == "-inf" ? -INFINITY : std::stod(v));
        // Integers are kept exactly too: int64 extremes do not survive a trip through double.
        if (r.dtype == "int64") r.integers.push_back(std::stoll(v));
      }
      records_[key] = std::move(r);
    }
  }

  bool has(const std::string& key) const { return records_.count(key) != 0; }

  /// The values of `key` as doubles, in row-major order.
  const std::vector<double>& values(const std::string& key) const { return record(key).values; }
  const tapegrad::Shape& shape(const std::string& key) const { return record(key).shape; }
  double scalar(const std::string& key) const { return record(key).values.at(0); }

  /// The record as a tensor of element type T.
  template <class T>
  tapegrad::Tensor<T> tensor(const std::string& key, bool requires_grad = false) const {
    const Record& r = record(key);
    if constexpr (std::is_integral_v<T>) {
      if (r.dtype == "int64") {
        std::vector<T> v;
        for (std::int64_t i : r.integers) v.push_back(static_cast<T>(i));
        return tapegrad::tensor<T>(v, r.shape, requires_grad);
      }
    }
    std::vector<T> v(r.values.begin(), r.values.end());
    return tapegrad::tensor<T>(v, r.shape, requires_grad);
  }

 private:
  struct Record {
    std::string dtype;
    tapegrad::Shape shape;
    std::vector<double> values;
    std::vector<std::int64_t> integers;  // the same values, exactly, for int64 records
  };
  const Record& record(const std::string& key) const {
    auto it = records_.find(key);
    if (it == records_.end()) throw std::runtime_error("golden key '" + key + "' not in " + path_);
    return it->second;
  }
  std::string path_;
  std::map<std::string, Record> records_;
};

}  // namespace tg_test
