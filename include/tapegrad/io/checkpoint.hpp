// SPDX-License-Identifier: MIT
// Checkpoint: a training run's whole state in one safetensors file, to stop and resume bit for bit.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/detail/input.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/io/detail/json.hpp"
#include "tapegrad/io/safetensors.hpp"
#include "tapegrad/io/vocabulary.hpp"
#include "tapegrad/nn/module.hpp"
#include "tapegrad/optim/lr_scheduler.hpp"
#include "tapegrad/optim/optimizer.hpp"
#include "tapegrad/random.hpp"

namespace tapegrad::io {
namespace detail {

inline constexpr const char* kCheckpointFormat = "tapegrad.checkpoint.v1";

/// NamedValues as a JSON object of number arrays, each double in its shortest exact form.
inline std::string named_values_json(const char* op, const std::string& what, const optim::NamedValues& values) {
  std::string out = "{";
  for (const auto& [name, numbers] : values) {
    if (out.size() > 1) out += ',';
    append_json_string(out, name);
    out += ":[";
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      if (!std::isfinite(numbers[i]))
        throw ValueError(cat(op, ": ", what, " \"", name, "\" is ", numbers[i], ", which a checkpoint cannot hold"));
      if (i > 0) out += ',';
      tapegrad::detail::append_real(out, numbers[i]);
    }
    out += ']';
  }
  return out + "}";
}

/// Reads what named_values_json wrote. `json` is positioned at the object.
inline optim::NamedValues read_named_values(JsonReader& json, const std::string& what) {
  optim::NamedValues out;
  std::string name;
  json.begin_object(what);
  while (json.next_member(name)) {
    std::vector<double> numbers;
    json.begin_array(what + " \"" + name + "\"");
    while (json.next_element()) numbers.push_back(json.read_number(what + " \"" + name + "\""));
    out.emplace_back(name, std::move(numbers));
  }
  return out;
}

/// A reader over one metadata value of a checkpoint file, so messages name the file and the key.
struct MetadataText {
  MetadataText(const ReadFile& file, const std::string& key, const std::string& text)
      : source(file.op(), text, cat(file.name(), " (metadata \"", key, "\")")), json(text, source, 0) {}
  ReadFile source;
  JsonReader json;
};

}  // namespace detail

/// A training run's state in one file: the model's parameters, the optimiser's options and state
/// (momentum buffers, Adam's moments and step counts, sparse optimisers' state), the learning-rate
/// scheduler, the random generator, the epoch and step, a vocabulary and free-form metadata.
///
/// Register what the run has, then save() and load() with the same object. A run that saves at
/// step k and resumes from the file ends bit-identical to one that never stopped.
/// Example:
///   tapegrad::io::Checkpoint<float> ckpt;
///   ckpt.model(net).optimizer(opt).scheduler(scheduler).vocabulary(vocab);
///   if (std::filesystem::exists(path)) ckpt.load(path);        // resume
///   for (std::int64_t epoch = ckpt.epoch(); epoch < 10; ++epoch) {
///     ... train ...
///     ckpt.epoch(epoch + 1).save(path);
///   }
///
/// The file is a safetensors file (model tensors under "model.<name>", optimiser tensors under
/// "optimizer.state.<i>.<name>", everything else in its metadata), so Python's safetensors reader
/// can open it too. save() replaces the file only once the new one is complete. load() reads and
/// checks everything (names, shapes, kinds of optimiser and scheduler) before it changes anything.
template <class T = float>
class Checkpoint {
 public:
  /// The model whose parameters are saved and restored.
  Checkpoint& model(nn::Module<T>& m) { return model_ = &m, *this; }
  /// The optimiser whose options and state are saved and restored (also its learning rate).
  Checkpoint& optimizer(optim::Optimizer<T>& o) { return optimizer_ = &o, *this; }
  /// The learning-rate scheduler whose position is saved and restored.
  Checkpoint& scheduler(optim::LRScheduler& s) { return scheduler_ = &s, *this; }
  /// The random generator to save and restore: the default one unless set; nullptr leaves it out.
  Checkpoint& generator(Generator* g) { return generator_ = g, *this; }
  /// A vocabulary saved and restored with its unknown-token id.
  Checkpoint& vocabulary(Vocabulary& v) { return vocabulary_ = &v, *this; }

  /// The epoch and step to record (save) or that were recorded (after load).
  Checkpoint& epoch(std::int64_t e) { return epoch_ = e, *this; }
  Checkpoint& step(std::int64_t s) { return step_ = s, *this; }
  std::int64_t epoch() const noexcept { return epoch_; }
  std::int64_t step() const noexcept { return step_; }
  /// Free-form strings saved with the run (hyper-parameters, notes); load() replaces them.
  std::map<std::string, std::string>& metadata() noexcept { return metadata_; }
  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }

  /// Writes everything registered to `path` (a safetensors file; any extension).
  void save(const std::filesystem::path& path) const {
    constexpr const char* op = "Checkpoint::save";
    nn::StateDict<T> tensors;
    std::map<std::string, std::string> meta;
    meta["format"] = detail::kCheckpointFormat;
    meta["epoch"] = std::to_string(epoch_);
    meta["step"] = std::to_string(step_);
    if (model_)
      for (const auto& [name, value] : model_->state_dict()) tensors.insert("model." + name, value);
    if (optimizer_) {
      const optim::OptimizerStateDict<T> state = optimizer_->state_dict();
      meta["optimizer"] = optimizer_->name();
      meta["optimizer.parameters"] = std::to_string(optimizer_->parameters().size());
      // One group: its options as an object (the format before parameter groups); several: an array of
      // objects, each with its "params" (ids), as PyTorch's param_groups.
      if (state.param_groups.size() == 1) {
        meta["optimizer.param_groups"] = detail::named_values_json(op, "optimizer option", state.param_groups[0].options);
      } else {
        std::string groups = "[";
        for (const auto& group : state.param_groups) {
          optim::NamedValues values = group.options;
          values.emplace_back("params", std::vector<double>(group.params.begin(), group.params.end()));
          if (groups.size() > 1) groups += ',';
          groups += detail::named_values_json(op, "optimizer option", values);
        }
        meta["optimizer.param_groups"] = groups + "]";
      }
      std::string per_param = "{";
      for (const auto& [index, s] : state.state) {
        if (per_param.size() > 1) per_param += ',';
        detail::append_json_string(per_param, std::to_string(index));
        per_param += ':' + detail::named_values_json(op, "optimizer state", s.values);
        for (const auto& [name, value] : s.tensors)
          tensors.insert(tapegrad::detail::cat("optimizer.state.", index, ".", name), value);
      }
      meta["optimizer.state"] = per_param + "}";
    }
    if (scheduler_) {
      meta["scheduler"] = scheduler_->name();
      meta["scheduler.state"] = detail::named_values_json(op, "scheduler state", scheduler_->state_dict());
    }
    if (generator_) {
      std::lock_guard<std::mutex> lock(generator_->mutex());
      meta["rng"] = generator_->get_state();
    }
    if (vocabulary_) meta["vocabulary"] = vocabulary_->to_json();
    for (const auto& [key, value] : metadata_) meta["user." + key] = value;
    save_safetensors(path, tensors, meta);
  }

  /// Restores everything registered from `path`. The file must hold each registered part (a model,
  /// an optimiser of the same kind, ...); parts it holds that are not registered are ignored.
  /// FormatError for a file that is not a checkpoint; ValueError/ShapeError for one that does not
  /// fit what is registered. Nothing changes unless everything fits.
  void load(const std::filesystem::path& path) {
    detail::ReadFile file("Checkpoint::load", path);
    std::map<std::string, std::string> meta;
    const nn::StateDict<T> tensors = detail::read_safetensors<T>(file, LoadOptions(), &meta);
    auto text = [&](const std::string& key) -> const std::string& {
      const auto it = meta.find(key);
      if (it == meta.end()) file.fail(tapegrad::detail::cat("no \"", key, "\" in the metadata; is this a checkpoint?"));
      return it->second;
    };
    if (text("format") != detail::kCheckpointFormat)
      file.fail(tapegrad::detail::cat("metadata \"format\" is ", tapegrad::detail::quote(text("format")), ", expected \"",
                                      detail::kCheckpointFormat, "\""));
    auto integer = [&](const std::string& key) {
      std::int64_t v = 0;
      if (!tapegrad::detail::parse_int64(text(key), v))
        file.fail(tapegrad::detail::cat("metadata \"", key, "\" is ", tapegrad::detail::quote(text(key)), ", not an integer"));
      return v;
    };
    const std::int64_t epoch = integer("epoch"), step = integer("step");

    // Stage every part, checked, before anything changes.
    nn::StateDict<T> model_dict;
    std::vector<std::string> optimizer_names;
    for (const auto& [name, value] : tensors) {
      if (name.rfind("model.", 0) == 0) model_dict.insert(name.substr(6), value);
      else if (name.rfind("optimizer.state.", 0) != 0) file.fail("unexpected tensor \"" + name + "\"");
    }
    if (model_) model_->check_state_dict(model_dict);

    optim::OptimizerStateDict<T> optimizer_state;
    if (optimizer_) {
      if (text("optimizer") != optimizer_->name())
        throw ValueError(tapegrad::detail::cat("Checkpoint::load: ", file.name(), " holds the state of optimiser ", text("optimizer"),
                                               ", not of ", optimizer_->name()));
      optimizer_state = read_optimizer_state(file, tensors, text("optimizer.param_groups"), text("optimizer.state"));
      if (optimizer_state.param_groups.size() == 1 && optimizer_state.param_groups[0].params.empty())
        for (std::int64_t i = 0, n = integer("optimizer.parameters"); i < n; ++i)
          optimizer_state.param_groups[0].params.push_back(i);
    }
    optim::NamedValues scheduler_state;
    if (scheduler_) {
      if (text("scheduler") != scheduler_->name())
        throw ValueError(tapegrad::detail::cat("Checkpoint::load: ", file.name(), " holds the state of scheduler ", text("scheduler"),
                                               ", not of ", scheduler_->name()));
      detail::MetadataText m(file, "scheduler.state", text("scheduler.state"));
      scheduler_state = detail::read_named_values(m.json, "scheduler state");
      m.json.finish();
    }
    std::optional<std::string> rng;
    if (generator_) {
      Generator probe;  // set_state checks the text; try it on a scratch generator first
      probe.set_state(text("rng"));
      rng = text("rng");
    }
    std::optional<Vocabulary> vocabulary;
    if (vocabulary_) vocabulary = Vocabulary::from_json(text("vocabulary"), file.name() + " (metadata \"vocabulary\")");

    // Apply: the optimiser and scheduler check their own state; undo the optimiser if the scheduler refuses.
    if (optimizer_) {
      const optim::OptimizerStateDict<T> previous = optimizer_->state_dict();
      optimizer_->load_state_dict(optimizer_state);
      if (scheduler_) {
        try {
          scheduler_->load_state_dict(scheduler_state);
        } catch (...) {
          optimizer_->load_state_dict(previous);
          throw;
        }
      }
    } else if (scheduler_) {
      scheduler_->load_state_dict(scheduler_state);
    }
    if (model_) model_->load_state_dict(model_dict);
    if (rng) {
      std::lock_guard<std::mutex> lock(generator_->mutex());
      generator_->set_state(*rng);
    }
    if (vocabulary) *vocabulary_ = std::move(*vocabulary);
    epoch_ = epoch;
    step_ = step;
    metadata_.clear();
    for (const auto& [key, value] : meta)
      if (key.rfind("user.", 0) == 0) metadata_[key.substr(5)] = value;
  }

 private:
  static optim::OptimizerStateDict<T> read_optimizer_state(const detail::ReadFile& file, const nn::StateDict<T>& tensors,
                                                           const std::string& groups, const std::string& per_param) {
    optim::OptimizerStateDict<T> out;
    {
      detail::MetadataText m(file, "optimizer.param_groups", groups);
      if (m.json.peek() == detail::JsonReader::Kind::Array) {  // several groups, each with its "params"
        m.json.begin_array("optimizer param_groups");
        while (m.json.next_element()) {
          typename optim::OptimizerStateDict<T>::ParamGroup group;
          for (auto& [name, values] : detail::read_named_values(m.json, "optimizer option")) {
            if (name != "params") {
              group.options.emplace_back(name, std::move(values));
              continue;
            }
            for (double id : values) {
              if (!(id >= 0 && id < 9007199254740992.0 && std::floor(id) == id))
                file.fail(tapegrad::detail::cat("metadata \"optimizer.param_groups\": parameter id ", id, " is not an index"));
              group.params.push_back(static_cast<std::int64_t>(id));
            }
          }
          out.param_groups.push_back(std::move(group));
        }
      } else {
        out.param_groups.emplace_back();
        out.param_groups[0].options = detail::read_named_values(m.json, "optimizer option");
      }
      m.json.finish();
    }
    detail::MetadataText m(file, "optimizer.state", per_param);
    std::string key;
    m.json.begin_object("optimizer state");
    while (m.json.next_member(key)) {
      std::int64_t index = 0;
      if (!tapegrad::detail::parse_int64(key, index) || index < 0)
        file.fail("metadata \"optimizer.state\": key " + tapegrad::detail::quote(key) + " is not a parameter index");
      typename optim::OptimizerStateDict<T>::ParamState s;
      s.values = detail::read_named_values(m.json, "optimizer state " + key);
      const std::string prefix = "optimizer.state." + key + ".";
      for (const auto& [name, value] : tensors)
        if (name.rfind(prefix, 0) == 0) s.tensors.emplace_back(name.substr(prefix.size()), value);
      out.state.emplace_back(index, std::move(s));
    }
    m.json.finish();
    for (const auto& [name, value] : tensors) {  // every optimiser tensor must belong to a listed parameter
      if (name.rfind("optimizer.state.", 0) != 0) continue;
      bool listed = false;
      for (const auto& [index, s] : out.state) listed = listed || name.rfind(tapegrad::detail::cat("optimizer.state.", index, "."), 0) == 0;
      if (!listed) file.fail("tensor \"" + name + "\" belongs to no parameter listed in metadata \"optimizer.state\"");
    }
    return out;
  }

  nn::Module<T>* model_ = nullptr;
  optim::Optimizer<T>* optimizer_ = nullptr;
  optim::LRScheduler* scheduler_ = nullptr;
  Generator* generator_ = &default_generator();
  Vocabulary* vocabulary_ = nullptr;
  std::int64_t epoch_ = 0, step_ = 0;
  std::map<std::string, std::string> metadata_;
};

}  // namespace tapegrad::io
