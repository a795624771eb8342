// SPDX-License-Identifier: MIT
// PyTorch's own files: load_torch reads what torch.save(model.state_dict(), path) writes (PyTorch 1.6
// and later: a zip archive holding a pickle and one raw entry per storage), save_torch writes files
// torch.load returns as an OrderedDict of tensors. Nothing in a file is ever executed: the pickle is
// read by a restricted unpickler that knows only what a state_dict contains.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/io/detail/dtype.hpp"
#include "tapegrad/io/detail/file.hpp"
#include "tapegrad/io/detail/pickle.hpp"
#include "tapegrad/io/detail/zip.hpp"
#include "tapegrad/io/load_options.hpp"
#include "tapegrad/nn/state_dict.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad::io {
namespace detail {

/// The element type of a torch.*Storage GLOBAL, or false if `g` is not a storage type.
inline bool torch_storage_dtype(pickle::Global g, DType& out) noexcept {
  switch (g) {
    case pickle::Global::FloatStorage: return out = DType::F32, true;
    case pickle::Global::DoubleStorage: return out = DType::F64, true;
    case pickle::Global::HalfStorage: return out = DType::F16, true;
    case pickle::Global::BFloat16Storage: return out = DType::BF16, true;
    case pickle::Global::LongStorage: return out = DType::I64, true;
    case pickle::Global::IntStorage: return out = DType::I32, true;
    case pickle::Global::ShortStorage: return out = DType::I16, true;
    case pickle::Global::CharStorage: return out = DType::I8, true;
    case pickle::Global::ByteStorage: return out = DType::U8, true;
    case pickle::Global::BoolStorage: return out = DType::Bool, true;
    default: return false;
  }
}

/// The torch.*Storage type save_torch writes for a T.
template <class T>
constexpr const char* torch_storage_name() {
  switch (dtype_of<T>()) {
    case DType::F32: return "FloatStorage";
    case DType::F64: return "DoubleStorage";
    case DType::I64: return "LongStorage";
    default: return "IntStorage";
  }
}

/// Tensors have at most this many dimensions in a file we read (PyTorch allows 64 on CPU).
constexpr std::size_t kTorchMaxDims = 64;

/// The tensors of a file may hold at most this many times the elements of its storages (views share
/// storages: tied weights count twice, slices at most once), so no file expands without bound.
constexpr std::uint64_t kTorchMaxViewFactor = 16;

/// Turns an unpickled `data.pkl` into a StateDict<T>.
///
/// The root must be a dict (OrderedDict or plain) of string keys to tensors, each
/// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])` (possibly inside
/// `_rebuild_parameter(tensor, requires_grad, hooks)`), whose storage is the persistent id
/// `("storage", torch.XStorage, key, location, numel)`. `storage(key, dtype, numel)` returns the
/// storage's bytes (numel * dtype size of them) or throws. Offsets and strides are honoured, so views
/// sharing a storage load as the values PyTorch shows; every view is checked to lie inside its storage.
/// `swap` byte-swaps elements (a file written on a big-endian machine).
template <class T, class GetStorage>
nn::StateDict<T> rebuild_state_dict(const pickle::Unpickled& u, const std::string& where, GetStorage&& storage,
                                    bool swap, const LoadOptions& options) {
  using pickle::Kind;
  using pickle::Node;
  auto fail = [&](const Node& at, const std::string& problem) -> void {
    throw FormatError(cat(where, ", byte ", at.offset, ": ", problem));
  };
  const Node& root = u.root_node();
  if (root.kind != Kind::Dict)
    fail(root, cat("the pickle holds ", pickle::kind_name(root.kind),
                   ", not a dict of tensors; load_torch reads files saved with torch.save(model.state_dict(), path)"));

  struct StorageInfo {
    DType dtype;
    std::uint64_t numel;
  };
  std::unordered_map<std::string, StorageInfo> storages;
  std::uint64_t storage_elements = 0, tensor_elements = 0;  // for the bound on views of one storage
  std::unordered_set<std::string> seen;
  nn::StateDict<T> out;

  for (std::size_t k = 0; k + 1 < root.items.size(); k += 2) {
    const Node& key_node = u[root.items[k]];
    if (key_node.kind != Kind::String)
      fail(key_node, cat("a key of the state_dict is ", pickle::kind_name(key_node.kind), ", not a string"));
    const std::string& key = key_node.s;
    const std::string tensor = cat("tensor \"", pickle::pickle_detail::printable(key), "\"");
    if (!seen.insert(key).second) fail(key_node, cat(tensor, " appears twice in the state_dict"));

    // _rebuild_parameter(tensor, requires_grad, hooks) wraps a tensor saved as an nn.Parameter.
    const Node* value = &u[root.items[k + 1]];
    auto is_call = [&](const Node& n, pickle::Global g) {
      return n.kind == Kind::Call && u[n.items[0]].global == g;
    };
    if (is_call(*value, pickle::Global::RebuildParameter)) {
      const Node& args = u[value->items[1]];
      if (args.items.empty()) fail(*value, cat(tensor, ": _rebuild_parameter has no arguments"));
      value = &u[args.items[0]];
    }
    if (!is_call(*value, pickle::Global::RebuildTensorV2))
      fail(*value, cat(tensor, " is ", value->kind == Kind::Call ? cat("a call of ", u[value->items[0]].s) : pickle::kind_name(value->kind),
                       ", not a tensor (torch._utils._rebuild_tensor_v2)"));
    const Node& call = *value;
    const Node& args = u[call.items[1]];
    if (args.items.size() != 6 && args.items.size() != 7)
      fail(call, cat(tensor, ": _rebuild_tensor_v2 has ", args.items.size(), " arguments, expected 6 (or 7)"));
    const Node& pid = u[args.items[0]];
    const Node& offset_node = u[args.items[1]];
    const Node& size_node = u[args.items[2]];
    const Node& stride_node = u[args.items[3]];

    // The storage: ("storage", torch.XStorage, key, location, numel).
    if (pid.kind != Kind::PersId) fail(pid, cat(tensor, ": its storage is ", pickle::kind_name(pid.kind), ", not a persistent id"));
    const Node& id = u[pid.items[0]];
    if (id.kind != Kind::Tuple || id.items.size() != 5 || u[id.items[0]].kind != Kind::String || u[id.items[0]].s != "storage" ||
        u[id.items[1]].kind != Kind::Global || u[id.items[2]].kind != Kind::String || u[id.items[3]].kind != Kind::String ||
        u[id.items[4]].kind != Kind::Int)
      fail(id, cat(tensor, ": its storage's persistent id is not (\"storage\", <storage type>, <key>, <location>, <numel>)"));
    DType dtype{};
    if (!torch_storage_dtype(u[id.items[1]].global, dtype))
      fail(id, cat(tensor, ": ", u[id.items[1]].s, " is not a storage type"));
    const std::string& storage_key = u[id.items[2]].s;
    const std::int64_t storage_numel_signed = u[id.items[4]].i;
    if (storage_numel_signed < 0) fail(id, cat(tensor, ": its storage has a negative size ", storage_numel_signed));
    const auto storage_numel = static_cast<std::uint64_t>(storage_numel_signed);
    const auto known = storages.find(storage_key);
    if (known == storages.end()) {
      storages.emplace(storage_key, StorageInfo{dtype, storage_numel});
      if (!add_u64(storage_elements, storage_numel, storage_elements)) storage_elements = UINT64_MAX;
    } else if (known->second.dtype != dtype || known->second.numel != storage_numel) {
      fail(id, cat(tensor, ": storage \"", pickle::pickle_detail::printable(storage_key), "\" is ", dtype_name(dtype), " x ",
                   storage_numel, " here but ", dtype_name(known->second.dtype), " x ", known->second.numel, " elsewhere"));
    }

    // Offset, sizes and strides: all ints, >= 0, and every element inside the storage.
    if (offset_node.kind != Kind::Int || offset_node.i < 0)
      fail(offset_node, cat(tensor, ": the storage offset must be an int >= 0"));
    const auto offset = static_cast<std::uint64_t>(offset_node.i);
    if (size_node.kind != Kind::Tuple || stride_node.kind != Kind::Tuple || size_node.items.size() != stride_node.items.size())
      fail(call, cat(tensor, ": size and stride must be tuples of the same length"));
    const std::size_t dims = size_node.items.size();
    if (dims > kTorchMaxDims) fail(size_node, cat(tensor, " has ", dims, " dimensions, more than ", kTorchMaxDims));
    std::vector<std::int64_t> sizes(dims), strides(dims);
    std::uint64_t numel = 1;
    bool numel_overflow = false;
    for (std::size_t d = 0; d < dims; ++d) {
      const Node& s = u[size_node.items[d]];
      const Node& st = u[stride_node.items[d]];
      if (s.kind != Kind::Int || s.i < 0) fail(size_node, cat(tensor, ": size ", d, " must be an int >= 0"));
      if (st.kind != Kind::Int || st.i < 0) fail(stride_node, cat(tensor, ": stride ", d, " must be an int >= 0"));
      sizes[d] = s.i, strides[d] = st.i;
      numel_overflow |= !mul_u64(numel, static_cast<std::uint64_t>(s.i), numel);
    }
    const std::string shape_text = tapegrad::detail::shape_str(Shape(sizes));
    if (numel_overflow || numel > static_cast<std::uint64_t>(INT64_MAX))
      fail(size_node, cat(tensor, ": shape ", shape_text, " has more elements than fit in int64"));
    if (numel > storage_numel)
      fail(call, cat(tensor, " has ", numel, " elements (shape ", shape_text, "), more than the ", storage_numel,
                     " of its storage (an expanded view); save it with .contiguous()"));
    std::uint64_t last = offset;  // the largest element index the view touches
    bool last_overflow = false;
    if (numel > 0)
      for (std::size_t d = 0; d < dims; ++d) {
        std::uint64_t step = 0;
        last_overflow |= !mul_u64(static_cast<std::uint64_t>(sizes[d] - 1), static_cast<std::uint64_t>(strides[d]), step);
        last_overflow |= !add_u64(last, step, last);
      }
    if (last_overflow || (numel > 0 ? last >= storage_numel : offset > storage_numel))
      fail(call, cat(tensor, ": offset ", offset, ", shape ", shape_text, " and stride ",
                     tapegrad::detail::shape_str(Shape(strides)), " reach element ",
                     last_overflow ? std::string("past 2^64") : std::to_string(last), " of a storage of ", storage_numel,
                     " elements"));

    // Views may share a storage (tied weights, slices), but a small file must not expand into huge
    // tensors by viewing one storage many times over.
    std::uint64_t allowed = 0;
    if (!mul_u64(kTorchMaxViewFactor, storage_elements, allowed) || !add_u64(allowed, 1024, allowed)) allowed = UINT64_MAX;
    tensor_elements += numel;  // no overflow: the sum so far is <= allowed, and numel <= 2^63
    if (tensor_elements > allowed)
      fail(call, cat(tensor, ": the tensors so far hold ", tensor_elements, " elements, more than ", kTorchMaxViewFactor,
                     " times the ", storage_elements, " their storages hold; load_torch refuses files that expand this much"));
    const std::string_view bytes = storage(storage_key, dtype, storage_numel);
    const std::size_t esize = dtype_size(dtype);
    Tensor<T> t = tapegrad::detail::make_tensor<T>(Shape(sizes), "load_torch");
    // Row-major and dense (strides of size-1 dims do not matter): convert straight from the storage.
    bool contiguous = true;
    std::uint64_t expect = 1;
    for (std::size_t d = dims; d-- > 0;) {
      if (sizes[d] != 1 && static_cast<std::uint64_t>(strides[d]) != expect) contiguous = false;
      expect *= static_cast<std::uint64_t>(sizes[d]);
    }
    const auto* base = reinterpret_cast<const unsigned char*>(bytes.data());
    if (numel == 0) {
      // nothing to read
    } else if (contiguous) {
      convert_elements<T>(where, key, dtype, base + offset * esize, numel, t.data(), swap, options);
    } else {  // gather the view's elements in row-major order, then convert them
      std::string gathered(static_cast<std::size_t>(numel * esize), '\0');
      std::vector<std::int64_t> index(dims, 0);
      std::uint64_t at = offset;
      for (std::uint64_t i = 0; i < numel; ++i) {
        std::memcpy(&gathered[static_cast<std::size_t>(i * esize)], base + at * esize, esize);
        for (std::size_t d = dims; d-- > 0;) {  // odometer: bump the last dimension, carry leftwards
          if (++index[d] < sizes[d]) {
            at += static_cast<std::uint64_t>(strides[d]);
            break;
          }
          at -= static_cast<std::uint64_t>(strides[d]) * static_cast<std::uint64_t>(sizes[d] - 1);
          index[d] = 0;
        }
      }
      convert_elements<T>(where, key, dtype, reinterpret_cast<const unsigned char*>(gathered.data()), numel, t.data(),
                          swap, options);
    }
    out.insert(key, std::move(t));
  }
  return out;
}

/// The largest data.pkl read (about 2 million tensors' worth); the unpickler's own limit comes first.
constexpr std::uint64_t kTorchMaxPickle = std::uint64_t(1) << 28;

/// load_torch on an opened file (or a memory block: the fuzz target).
template <class T>
nn::StateDict<T> read_torch(const ReadFile& file, const LoadOptions& options = {}) {
  // Before 1.6 (or with _use_new_zipfile_serialization=False) torch.save wrote a bare pickle stream.
  if (file.size() >= 2) {
    unsigned char head[2];
    file.read(0, head, 2, "the file's first bytes");
    if (head[0] == 0x80 && head[1] <= 5)
      file.fail("this is PyTorch's legacy (pre-1.6, non-zip) format, which load_torch does not read; re-save it with"
                " PyTorch >= 1.6: torch.save(torch.load(f), f, _use_new_zipfile_serialization=True)");
  }
  const ZipReader zip(file);
  const std::string hint = "re-save the file with torch.save, which stores entries uncompressed";

  // Exactly one "<top>/data.pkl": the top folder's name does not matter (PyTorch uses the file stem).
  const ZipEntry* pkl = nullptr;
  bool torchscript = false;
  for (const ZipEntry& e : zip.entries()) {
    const std::size_t slash = e.name.find('/');
    if (slash != std::string::npos && e.name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      if (pkl) file.fail(e.data_offset, cat("the archive has two pickles, \"", pkl->name, "\" and \"", e.name,
                                            "\"; a torch.save archive has one top folder"));
      pkl = &e;
    }
    if (e.name.size() >= 14 && e.name.compare(e.name.size() - 14, 14, "/constants.pkl") == 0) torchscript = true;
  }
  if (!pkl)
    file.fail(torchscript ? std::string("this is a TorchScript archive (torch.jit.save), not a state_dict; save "
                                        "model.state_dict() with torch.save instead")
                          : std::string("the zip archive has no \"<folder>/data.pkl\" entry: it was not written by torch.save"));
  const std::string top = pkl->name.substr(0, pkl->name.size() - 8);  // "<top>/"

  bool swap = false;  // newer PyTorch records the byte order; 1.13 writes little-endian only
  if (const ZipEntry* order = zip.find(top + "byteorder")) {
    const std::string value = zip.read_string(*order, 16, hint);
    if (value == "big") swap = true;
    else if (value != "little")
      file.fail(order->data_offset, cat("entry \"", order->name, "\" says \"", pickle::pickle_detail::printable(value),
                                        "\", expected \"little\" or \"big\""));
  }

  const std::string data = zip.read_string(*pkl, kTorchMaxPickle, hint);
  const std::string where = cat(file.op(), ": ", file.name(), ", entry \"", pkl->name, "\"");
  const pickle::Unpickled u = pickle::unpickle(data, where);

  std::unordered_map<std::string, std::string> loaded;  // storage key -> bytes, each read once
  auto storage = [&](const std::string& key, DType dtype, std::uint64_t numel) -> std::string_view {
    const auto it = loaded.find(key);
    if (it != loaded.end()) return it->second;
    const std::string name = cat(top, "data/", key);
    const ZipEntry* e = zip.find(name);
    if (!e)
      file.fail(cat("storage \"", pickle::pickle_detail::printable(key), "\" has no entry \"",
                    pickle::pickle_detail::printable(name), "\" in the archive"));
    std::uint64_t bytes = 0;
    if (!mul_u64(numel, dtype_size(dtype), bytes) || bytes != e->size)
      file.fail(e->data_offset, cat("entry \"", e->name, "\" has ", e->size, " bytes, but its storage holds ", numel, " ",
                                    dtype_name(dtype), " elements (", numel, " x ", dtype_size(dtype), " bytes)"));
    std::string buffer(static_cast<std::size_t>(e->size), '\0');
    zip.read(*e, buffer.data(), hint);
    return loaded.emplace(key, std::move(buffer)).first->second;
  };
  return rebuild_state_dict<T>(u, where, storage, swap, options);
}

/// Writes `dict` as torch.save would write an OrderedDict of contiguous CPU tensors: a zip archive with
/// `<top_folder>/data.pkl`, `<top_folder>/data/<i>` (tensor i's elements) and `<top_folder>/version`.
template <class T>
void write_torch(Sink& out, const nn::StateDict<T>& dict, const std::string& top_folder) {
  if (top_folder.empty() || top_folder.find('/') != std::string::npos || top_folder.find('\0') != std::string::npos)
    throw ValueError(cat("save_torch: the archive's top folder \"", top_folder, "\" must be a non-empty name without '/'"));
  pickle::Writer w;
  w.global("collections", "OrderedDict");
  w.empty_tuple();
  w.reduce();
  std::vector<Tensor<T>> dense;
  dense.reserve(dict.size());
  std::size_t i = 0;
  for (const auto& [name, tensor] : dict) {
    if (!pickle::pickle_detail::valid_utf8(name) || name.size() > 0xFFFFFFFFu)
      throw ValueError(cat("save_torch: entry name \"", pickle::pickle_detail::printable(name),
                           "\" is not valid UTF-8; Python could not read it back"));
    // Python's pickler fills a dict in batches of 1000 (SETITEMS), a batch of one with SETITEM.
    const std::size_t batch = std::min<std::size_t>(dict.size() - i, 1000);
    if (i % 1000 == 0 && batch > 1) w.mark();
    if (!tensor.defined()) throw ValueError(cat("save_torch: entry \"", name, "\" holds no tensor (an undefined Tensor)"));
    dense.push_back(tensor.is_sparse() ? tensor.to_dense() : tensor);
    const Tensor<T>& t = dense.back();
    std::vector<std::int64_t> sizes(t.shape().begin(), t.shape().end()), strides(sizes.size());
    std::int64_t step = 1;  // PyTorch's contiguous strides: size-0 dimensions count as 1
    for (std::size_t d = sizes.size(); d-- > 0;) {
      strides[d] = step;
      step *= sizes[d] > 1 ? sizes[d] : 1;
    }
    w.string(name, false);
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.mark();
    w.mark();
    w.string("storage", true);
    w.global("torch", torch_storage_name<T>());
    w.string(std::to_string(i), false);
    w.string("cpu", true);
    w.integer(t.numel());
    w.tuple();
    w.binpersid();
    w.integer(0);
    w.int_tuple(sizes);
    w.int_tuple(strides);
    w.boolean(false);
    w.global("collections", "OrderedDict");
    w.empty_tuple();
    w.reduce();
    w.tuple();
    w.reduce();
    ++i;
    if (i % 1000 == 0 || i == dict.size()) {
      const std::size_t in_batch = (i - 1) % 1000 + 1;
      if (in_batch > 1) w.setitems();
      else w.setitem();
    }
  }
  const std::string pkl = w.finish();

  ZipWriter zip(out);
  zip.add(top_folder + "/data.pkl", pkl.data(), pkl.size());
  for (std::size_t k = 0; k < dense.size(); ++k)
    zip.add(cat(top_folder, "/data/", k), dense[k].numel() ? static_cast<const void*>(dense[k].data()) : "",
            static_cast<std::uint64_t>(dense[k].numel()) * sizeof(T));
  zip.add(top_folder + "/version", "3\n", 2);
  zip.finish();
}

}  // namespace detail

/// Reads a state_dict saved by `torch.save(model.state_dict(), path)` (PyTorch 1.6 or later).
///
/// Accepts an OrderedDict or a plain dict of tensors (nn.Parameters too), any top folder name, views
/// that share a storage (`w.t()`, `w[1]`, slices: offsets and strides are honoured), and the element
/// types float32/64, float16, bfloat16, int64/32/16/8, uint8 and bool, converted into T when every value
/// converts exactly (or always, with `options.allow_lossy(true)`). The pickle inside is read by a
/// restricted unpickler: it only accepts what a state_dict contains and never runs anything.
///
/// Errors: a FormatError naming the file, the entry or byte offset and the problem for anything
/// malformed or outside that subset (a foreign GLOBAL such as a pickled model class, a compressed
/// entry, a view outside its storage, a missing storage entry, the legacy pre-1.6 format); a
/// ValueError for a value T cannot hold exactly; an IoError if the file cannot be read.
template <class T>
nn::StateDict<T> load_torch(const std::filesystem::path& path, const LoadOptions& options = {}) {
  const detail::ReadFile file("load_torch", path);
  return detail::read_torch<T>(file, options);
}

/// Writes `dict` so that Python's `torch.load(path)` returns an OrderedDict of equal tensors (each
/// contiguous, with its own storage), ready for `model.load_state_dict(torch.load(path))`. The layout
/// is torch.save's: a zip whose top folder is the file's stem, data aligned to 64 bytes. The file is
/// replaced only once complete (see write_atomically). Sparse tensors are written dense.
template <class T>
void save_torch(const std::filesystem::path& path, const nn::StateDict<T>& dict) {
  std::string top = path.stem().string();
  if (top.empty()) top = "archive";
  detail::write_atomically("save_torch", path, [&](detail::Sink& sink) { detail::write_torch(sink, dict, top); });
}

}  // namespace tapegrad::io
