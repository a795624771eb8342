// SPDX-License-Identifier: MIT
// safetensors files (Hugging Face): named tensors with their element type and shape in a JSON
// header, followed by the raw little-endian data. The format of choice for sharing weights safely.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/io/detail/dtype.hpp"
#include "tapegrad/io/detail/file.hpp"
#include "tapegrad/io/detail/json.hpp"
#include "tapegrad/io/load_options.hpp"
#include "tapegrad/nn/state_dict.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad::io {

/// Largest header the readers accept, in bytes: the reference implementation's limit (100 MB).
inline constexpr std::uint64_t kMaxSafetensorsHeader = 100000000;

/// Most dimensions an entry's shape may have (real models use at most a handful; the bound keeps
/// the memory a header can ask for proportional to real use).
inline constexpr std::size_t kMaxSafetensorsDims = 64;

namespace detail {

/// One tensor described by a safetensors header (offsets relative to the start of the data).
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  std::uint64_t numel = 0;
  std::uint64_t begin = 0, end = 0;
  std::uint64_t header_offset = 0;  // where the entry's description starts in the file (messages)
};

/// A parsed and fully validated header: entries in order of their data offsets.
struct SafetensorsHeader {
  std::uint64_t data_start = 0;  // file offset of the data: 8 + header length
  std::vector<SafetensorsEntry> entries;
  std::map<std::string, std::string> metadata;
};

inline bool parse_safetensors_dtype(const std::string& s, DType& out) {
  static const DType all[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                              DType::I32, DType::I16, DType::I8,  DType::U8,   DType::Bool};
  for (DType d : all)
    if (s == dtype_name(d)) {
      out = d;
      return true;
    }
  return false;
}

// One entry's {"dtype", "shape", "data_offsets"}: exactly these three members, each once.
inline SafetensorsEntry parse_safetensors_entry(JsonReader& json, const std::string& name) {
  SafetensorsEntry e;
  e.name = name;
  e.header_offset = json.offset();
  const std::string where = cat("entry ", json_string(name));
  json.begin_object(where);
  bool has_dtype = false, has_shape = false, has_offsets = false;
  std::string key;
  while (json.next_member(key)) {
    const std::uint64_t at = json.offset();
    if (key == "dtype") {
      has_dtype = true;
      const std::string d = json.read_string(cat(where, ": \"dtype\""));
      if (!parse_safetensors_dtype(d, e.dtype))
        json.fail(at, cat(where, ": unknown dtype ", json_string(d),
                          " (tapegrad reads F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL)"));
    } else if (key == "shape") {
      has_shape = true;
      const std::string what = cat(where, ": \"shape\"");
      json.begin_array(what);
      std::vector<std::int64_t> dims;
      while (json.next_element()) {
        const std::uint64_t dim_at = json.offset();
        const std::uint64_t d = json.read_u64(cat(what, " element ", dims.size()));
        if (d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          json.fail(dim_at, cat(what, " element ", dims.size(), " = ", d, " does not fit in int64"));
        if (dims.size() == kMaxSafetensorsDims)
          json.fail(dim_at, cat(what, " has more than ", kMaxSafetensorsDims, " dimensions"));
        dims.push_back(static_cast<std::int64_t>(d));
      }
      e.shape = Shape(dims);
    } else if (key == "data_offsets") {
      has_offsets = true;
      const std::string what = cat(where, ": \"data_offsets\"");
      json.begin_array(what);
      std::uint64_t v[2] = {0, 0};
      int n = 0;
      while (json.next_element()) {
        const std::uint64_t el_at = json.offset();
        if (n == 2) json.fail(el_at, cat(what, " must be [begin, end], but it has more than 2 elements"));
        v[n] = json.read_u64(cat(what, " element ", n));
        ++n;
      }
      if (n != 2) json.fail(at, cat(what, " must be [begin, end], but it has ", n, " element", n == 1 ? "" : "s"));
      if (v[0] > v[1]) json.fail(at, cat(what, " [", v[0], ", ", v[1], "] ends before it begins"));
      e.begin = v[0];
      e.end = v[1];
    } else {
      json.fail(json.key_offset(), cat(where, ": unexpected member ", json_string(key),
                            " (an entry has exactly \"dtype\", \"shape\" and \"data_offsets\")"));
    }
  }
  const char* missing = !has_dtype ? "dtype" : !has_shape ? "shape" : !has_offsets ? "data_offsets" : nullptr;
  if (missing) json.fail(e.header_offset, cat(where, ": the member \"", missing, "\" is missing"));

  // numel and byte size, overflow-checked (the reference implementation's ValidationOverflow).
  std::uint64_t numel = 1, bytes = 0;
  for (std::int64_t d : e.shape)
    if (!mul_u64(numel, static_cast<std::uint64_t>(d), numel) ||
        numel > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      json.fail(e.header_offset, cat(where, ": shape ", tapegrad::detail::shape_str(e.shape),
                                     " has more elements than fit in int64"));
  if (!mul_u64(numel, dtype_size(e.dtype), bytes))
    json.fail(e.header_offset, cat(where, ": shape ", tapegrad::detail::shape_str(e.shape), " of ", dtype_name(e.dtype),
                                   " needs more bytes than fit in 64 bits"));
  e.numel = numel;
  if (e.end - e.begin != bytes)
    json.fail(e.header_offset, cat(where, ": data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin,
                                   " bytes, but shape ", tapegrad::detail::shape_str(e.shape), " of ", dtype_name(e.dtype),
                                   " needs ", numel, " x ", dtype_size(e.dtype), " = ", bytes, " bytes"));
  return e;
}

/// Reads and validates the header of a safetensors file: the length prefix, the JSON, every entry,
/// and that the entries tile the data region exactly (no overlap, no hole, nothing after it).
inline SafetensorsHeader parse_safetensors_header(const ReadFile& file) {
  if (file.size() < 8)
    file.fail(0, cat("the file has ", file.size(), " bytes; a safetensors file starts with an 8-byte header length"));
  unsigned char prefix[8];
  file.read(0, prefix, 8, "the header length");
  const std::uint64_t n = load_uint<std::uint64_t>(prefix, false);
  if (n > kMaxSafetensorsHeader)
    file.fail(0, cat("header length ", n, " is larger than the ", kMaxSafetensorsHeader,
                     "-byte limit (the file is damaged or not a safetensors file)"));
  if (n > file.size() - 8)
    file.fail(0, cat("header length ", n, " runs past the end of the file (", file.size() - 8,
                     " bytes follow the length); the file is truncated or not a safetensors file"));
  SafetensorsHeader h;
  h.data_start = 8 + n;
  const std::string text = file.read_string(8, n, "the header");
  JsonReader json(text, file, 8, 8);
  json.begin_object("the header");
  std::string key;
  while (json.next_member(key)) {
    if (key == "__metadata__") {
      json.begin_object("\"__metadata__\"");
      std::string mkey;
      while (json.next_member(mkey)) h.metadata[mkey] = json.read_string(cat("\"__metadata__\" value ", json_string(mkey)));
    } else {
      h.entries.push_back(parse_safetensors_entry(json, key));
    }
  }
  json.finish();

  // The entries, sorted by offsets (writers may list them in any order), must tile [0, data size).
  std::stable_sort(h.entries.begin(), h.entries.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const std::uint64_t data_size = file.size() - h.data_start;
  std::uint64_t covered = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& e : h.entries) {
    if (e.begin < covered)
      file.fail(e.header_offset, cat("entry ", json_string(e.name), ": data_offsets [", e.begin, ", ", e.end,
                                     "] overlap entry ", json_string(previous->name), " [", previous->begin, ", ",
                                     previous->end, "]"));
    if (e.begin > covered)
      file.fail(e.header_offset,
                cat("entry ", json_string(e.name), ": data_offsets [", e.begin, ", ", e.end, "] leave bytes [", covered,
                    ", ", e.begin, ") of the data unused ",
                    previous ? cat("after entry ", json_string(previous->name)) : std::string("at its start"),
                    " (entries must cover the data exactly)"));
    if (e.end > data_size)
      file.fail(e.header_offset, cat("entry ", json_string(e.name), ": data_offsets [", e.begin, ", ", e.end,
                                     "] run past the end of the data (", data_size,
                                     " bytes); the file is truncated or damaged"));
    covered = e.end;
    if (e.end > e.begin || !previous) previous = &e;  // overlaps are reported against data-holding entries
  }
  if (covered != data_size)
    file.fail(h.data_start + covered, cat(data_size - covered, data_size - covered == 1 ? " byte" : " bytes",
                                          " after the end of the last entry's data (",
                                          covered, " of ", data_size,
                                          " data bytes are described); the reference implementation rejects these too"));
  return h;
}

/// Loads every tensor of a safetensors file read through `file` (a path or a memory block),
/// in the order of their data offsets; the metadata goes to `*metadata` when not null.
template <class T>
nn::StateDict<T> read_safetensors(const ReadFile& file, const LoadOptions& options,
                                  std::map<std::string, std::string>* metadata) {
  SafetensorsHeader h = parse_safetensors_header(file);
  const std::string where = cat(file.op(), ": ", file.name());
  nn::StateDict<T> out;
  std::unique_ptr<unsigned char[]> buffer;  // for converting loads, reused across entries
  std::uint64_t buffer_size = 0;
  for (const SafetensorsEntry& e : h.entries) {
    Tensor<T> t = tapegrad::detail::make_tensor<T>(e.shape, file.op());
    const std::uint64_t bytes = e.end - e.begin;
    const std::string what = cat("the data of entry ", json_string(e.name));
    if (e.dtype == dtype_of<T>()) {
      // One copy, from the file straight into the tensor (the data is little-endian, like the host).
      file.read(h.data_start + e.begin, t.data(), bytes, what);
    } else {
      if (bytes > buffer_size) {
        buffer.reset(new unsigned char[static_cast<std::size_t>(bytes)]);
        buffer_size = bytes;
      }
      file.read(h.data_start + e.begin, buffer.get(), bytes, what);
      convert_elements<T>(where, e.name, e.dtype, buffer.get(), e.numel, t.data(), false, options);
    }
    out.insert(e.name, std::move(t));
  }
  if (metadata) *metadata = std::move(h.metadata);
  return out;
}

/// Checks that `dict` and `metadata` can be written: dense, defined tensors, names and strings that
/// are valid UTF-8, no entry named "__metadata__". ValueError otherwise, naming the entry.
template <class T>
void check_safetensors_saveable(const char* op, const nn::StateDict<T>& dict,
                                const std::map<std::string, std::string>& metadata) {
  auto check_utf8 = [op](const std::string& s, const std::string& what) {
    const std::size_t bad = utf8_error_at(s);
    if (bad != s.size())
      throw ValueError(cat(op, ": ", what, " is not valid UTF-8 (byte ", bad, "); the header is JSON, which must be UTF-8"));
  };
  for (const auto& [name, t] : dict) {
    check_utf8(name, cat("the entry name ", json_string(name)));
    if (name == "__metadata__")
      throw ValueError(cat(op, ": an entry may not be named \"__metadata__\" (the name the format reserves for metadata)"));
    if (!t.defined()) throw ValueError(cat(op, ": entry ", json_string(name), " is an undefined tensor"));
    if (t.is_sparse())
      throw ValueError(cat(op, ": entry ", json_string(name), " is a sparse tensor of shape ",
                           tapegrad::detail::shape_str(t.shape()), "; save t.to_dense() instead"));
  }
  for (const auto& [key, value] : metadata) {
    check_utf8(key, cat("the metadata key ", json_string(key)));
    check_utf8(value, cat("the metadata value of ", json_string(key)));
  }
}

/// The header JSON a writer puts before the data (padded with spaces to a multiple of 8 bytes, so
/// the data starts 8-byte aligned): `__metadata__` first when not empty, then the entries in order
/// with consecutive data offsets.
template <class T>
std::string safetensors_header_json(const nn::StateDict<T>& dict, const std::map<std::string, std::string>& metadata) {
  std::string h = "{";
  bool first = true;
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    bool first_key = true;
    for (const auto& [key, value] : metadata) {
      if (!first_key) h += ',';
      first_key = false;
      append_json_string(h, key);
      h += ':';
      append_json_string(h, value);
    }
    h += '}';
    first = false;
  }
  std::uint64_t offset = 0;
  for (const auto& [name, t] : dict) {
    if (!first) h += ',';
    first = false;
    append_json_string(h, name);
    h += ":{\"dtype\":\"";
    h += dtype_name(dtype_of<T>());
    h += "\",\"shape\":[";
    for (std::size_t i = 0; i < t.shape().size(); ++i) {
      if (i) h += ',';
      h += std::to_string(t.shape()[i]);
    }
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * sizeof(T);
    h += cat("],\"data_offsets\":[", offset, ",", offset + bytes, "]}");
    offset += bytes;
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');
  return h;
}

/// Writes `dict` as a safetensors file to `sink`: the header, then each tensor's elements in the
/// dict's order. Everything is checked before the first byte is written.
template <class T>
void write_safetensors(Sink& sink, const nn::StateDict<T>& dict, const std::map<std::string, std::string>& metadata,
                       const char* op = "save_safetensors") {
  check_safetensors_saveable(op, dict, metadata);
  const std::string header = safetensors_header_json(dict, metadata);
  sink.write_le(static_cast<std::uint64_t>(header.size()));
  sink.write(header);
  for (const auto& item : dict) {
    const Tensor<T>& t = item.second;
    if (t.numel() > 0) sink.write(t.data(), static_cast<std::size_t>(t.numel()) * sizeof(T));
  }
}

}  // namespace detail

/// Saves `dict` as a safetensors file at `path`: F32 for float, F64 for double, I64 and I32 for
/// int64 and int32 tensors; entries in the dict's order; `metadata` (free-form strings, e.g.
/// {"format": "pt"}) in the header's `__metadata__` when not empty.
///
/// The file is replaced only once the new one is complete on disk: if anything fails part-way
/// (an error, a full disk, the process killed), the previous file at `path` is unchanged and no
/// temporary file remains. Undefined or sparse tensors, an entry named "__metadata__", and names
/// or metadata that are not valid UTF-8 are ValueErrors naming the entry; IoError if the system
/// refuses the write.
///
/// Python reads the result with `safetensors.torch.load_file(path)`.
template <class T>
void save_safetensors(const std::filesystem::path& path, const nn::StateDict<T>& dict,
                      const std::map<std::string, std::string>& metadata = {}) {
  detail::check_safetensors_saveable("save_safetensors", dict, metadata);
  detail::write_atomically("save_safetensors", path,
                           [&](detail::Sink& sink) { detail::write_safetensors(sink, dict, metadata); });
}

/// Loads every tensor of the safetensors file at `path` as Tensor<T> (T float, double, int64 or
/// int32), in the order of their data offsets (the order the writer put them in).
///
/// Reads the dtypes F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL. A dtype other than T's is
/// converted when every value converts exactly (F16/BF16 into float, I32 into int64, ...); a value
/// that would change (F64 0.1 into float, I64 2^24 + 1 into float) is a ValueError naming the entry
/// and the element, unless `options.allow_lossy(true)`. Data in T's own dtype is read straight
/// into the tensor's memory.
///
/// The file is validated as the reference implementation does before anything is allocated: the
/// header length (at most 100 MB, inside the file), UTF-8 and strict JSON (no duplicate keys), each
/// entry exactly {"dtype", "shape", "data_offsets"} with a known dtype, non-negative integer dims
/// (at most 64) whose product fits, offsets [begin, end] holding exactly numel x dtype size bytes,
/// entries covering the data exactly (no overlap, no hole, no bytes after the last one), and
/// `__metadata__` an object of strings. Any failure is a FormatError naming the file, the byte
/// offset, the entry and the value. IoError if the file cannot be opened or read.
template <class T>
nn::StateDict<T> load_safetensors(const std::filesystem::path& path, const LoadOptions& options = {}) {
  const detail::ReadFile file("load_safetensors", path);
  return detail::read_safetensors<T>(file, options, nullptr);
}

/// The `__metadata__` strings of the safetensors file at `path` (empty if it has none), after the
/// same validation of the header as load_safetensors; the tensor data is not read.
inline std::map<std::string, std::string> read_safetensors_metadata(const std::filesystem::path& path) {
  const detail::ReadFile file("read_safetensors_metadata", path);
  return detail::parse_safetensors_header(file).metadata;
}

}  // namespace tapegrad::io
