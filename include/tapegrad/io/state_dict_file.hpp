// SPDX-License-Identifier: MIT
// save_state_dict / load_state_dict: a state dict to or from a file, the format chosen by extension.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>

#include "tapegrad/error.hpp"
#include "tapegrad/io/load_options.hpp"
#include "tapegrad/io/npy.hpp"
#include "tapegrad/io/safetensors.hpp"
#include "tapegrad/io/torch.hpp"
#include "tapegrad/nn/state_dict.hpp"

namespace tapegrad::io {

/// The model-file formats, by the extension that selects them.
enum class ModelFormat {
  Safetensors,  ///< ".safetensors"
  Torch,        ///< ".pt" or ".pth": PyTorch's zip format, what torch.save writes
  Npz,          ///< ".npz": NumPy's archive of .npy arrays
};

/// The format `path`'s extension names (case-insensitive); ValueError naming the extension and the
/// three accepted ones otherwise. `op` starts the message.
inline ModelFormat model_format_of(const std::filesystem::path& path, const char* op) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".safetensors") return ModelFormat::Safetensors;
  if (ext == ".pt" || ext == ".pth") return ModelFormat::Torch;
  if (ext == ".npz") return ModelFormat::Npz;
  throw ValueError(tapegrad::detail::cat(op, ": ", path.string(), ": unknown extension \"", ext,
                                         "\"; the format is chosen by extension: .safetensors, .pt/.pth (PyTorch) or .npz (NumPy)"));
}

/// Writes `dict` to `path` in the format of its extension (see ModelFormat). The previous file, if
/// any, is replaced only once the new one is complete.
template <class T>
void save_state_dict(const std::filesystem::path& path, const nn::StateDict<T>& dict) {
  switch (model_format_of(path, "save")) {
    case ModelFormat::Safetensors: return save_safetensors(path, dict);
    case ModelFormat::Torch: return save_torch(path, dict);
    case ModelFormat::Npz: return save_npz(path, dict);
  }
}

/// Reads a state dict from `path` in the format of its extension (see ModelFormat), converting
/// elements to T as `options` allow.
template <class T>
nn::StateDict<T> load_state_dict(const std::filesystem::path& path, const LoadOptions& options = {}) {
  switch (model_format_of(path, "load")) {
    case ModelFormat::Safetensors: return load_safetensors<T>(path, options);
    case ModelFormat::Torch: return load_torch<T>(path, options);
    case ModelFormat::Npz: return load_npz<T>(path, options);
  }
  return {};
}

}  // namespace tapegrad::io
