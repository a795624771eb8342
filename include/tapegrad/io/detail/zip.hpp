// SPDX-License-Identifier: MIT
// Zip archives as PyTorch and NumPy write them: entries stored (not compressed), optionally zip64.
// The reader trusts nothing: every offset and size is checked against the file and against the other
// entries before anything is read or allocated. The writer lays entries out like torch.save (data on a
// 64-byte boundary), so both Python's zipfile and PyTorch's reader accept its archives.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/io/detail/file.hpp"

namespace tapegrad::io::detail {

/// zlib's CRC-32 of n bytes; chain calls by passing the previous result as `crc`.
inline std::uint32_t crc32(const void* data, std::size_t n, std::uint32_t crc = 0) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  const auto* p = static_cast<const unsigned char*>(data);
  crc ^= 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

/// One entry of a zip archive, as its central directory and local header describe it.
struct ZipEntry {
  std::string name;
  std::uint64_t data_offset = 0;  ///< where the entry's (stored) bytes start in the file, after its local header
  std::uint64_t size = 0;         ///< uncompressed size
  std::uint64_t compressed_size = 0;
  std::uint32_t crc32 = 0;
  std::uint16_t method = 0;  ///< 0 stored, 8 deflate, ...
};

namespace zip_detail {

constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr std::uint64_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22, kZip64EndSize = 56, kZip64LocatorSize = 20;
constexpr std::uint32_t kMax32 = 0xFFFFFFFFu;
constexpr std::uint16_t kMax16 = 0xFFFFu;

inline std::uint16_t u16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
inline std::uint32_t u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
inline std::uint64_t u64(const unsigned char* p) { return u32(p) | static_cast<std::uint64_t>(u32(p + 4)) << 32; }
inline const unsigned char* bytes(const std::string& s, std::size_t at = 0) {
  return reinterpret_cast<const unsigned char*>(s.data()) + at;
}

inline std::string method_name(std::uint16_t m) {
  switch (m) {
    case 0: return "store";
    case 8: return "deflate";
    case 9: return "deflate64";
    case 12: return "bzip2";
    case 14: return "lzma";
    case 93: return "zstd";
    case 95: return "xz";
    default: return cat("method ", m);
  }
}

// A name as it appears in messages: quoted, control bytes escaped so a hostile name cannot forge lines.
inline std::string quote_name(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '"' || c == '\\') {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace zip_detail

/// Reads the catalogue of a zip archive and its stored entries.
///
/// The constructor finds the end-of-central-directory record (and the zip64 records when the archive
/// has them), reads every central directory entry and its local header, and checks that entries are
/// single-disk, unencrypted, uniquely named without NUL bytes, lie inside the file, and overlap neither
/// each other nor the central directory. Problems are FormatErrors "op: file, byte N: problem".
/// The ReadFile must outlive the reader.
class ZipReader {
 public:
  explicit ZipReader(const ReadFile& file) : file_(file) {
    using namespace zip_detail;
    const std::uint64_t size = file.size();
    if (size < kEndSize)
      file.fail(0, cat("not a zip archive: ", size, " bytes is shorter than the 22-byte end-of-central-directory record"));

    // The end record is the last thing in the file, followed only by its comment (at most 65535 bytes).
    const std::uint64_t tail_size = std::min<std::uint64_t>(size, kEndSize + kMax16);
    const std::uint64_t tail_start = size - tail_size;
    const std::string tail = file.read_string(tail_start, tail_size, "the end of the zip archive");
    std::uint64_t end_pos = size;  // size = not found
    for (std::uint64_t i = tail_size - kEndSize + 1; i-- > 0;) {
      const unsigned char* p = bytes(tail, static_cast<std::size_t>(i));
      if (u32(p) == kEndSig && i + kEndSize + u16(p + 20) == tail_size) {
        end_pos = tail_start + i;
        break;
      }
    }
    if (end_pos == size)
      file.fail(size, "not a zip archive: no end-of-central-directory record in its last bytes (the file is not a zip, or is truncated)");
    const unsigned char* end = bytes(tail, static_cast<std::size_t>(end_pos - tail_start));
    std::uint64_t disk = u16(end + 4), cd_disk = u16(end + 6), disk_entries = u16(end + 8), count = u16(end + 10);
    std::uint64_t cd_size = u32(end + 12), cd_offset = u32(end + 16);
    std::uint64_t cd_limit = end_pos;  // the central directory must end before this

    // Zip64: a locator just before the end record points at the zip64 end record, which holds the real numbers.
    bool zip64 = false;
    if (end_pos >= kZip64LocatorSize) {
      const std::uint64_t loc_pos = end_pos - kZip64LocatorSize;
      unsigned char loc[kZip64LocatorSize];
      file.read(loc_pos, loc, sizeof loc, "the zip64 end-of-central-directory locator");
      if (u32(loc) == kZip64LocatorSig) {
        zip64 = true;
        const std::uint64_t rec_pos = u64(loc + 8);
        if (u32(loc + 4) != 0 || u32(loc + 16) > 1)
          file.fail(loc_pos, cat("the zip64 locator names disk ", u32(loc + 4), " of ", u32(loc + 16),
                                 "; multi-disk (split) archives are not supported"));
        std::uint64_t rec_end = 0;
        if (!add_u64(rec_pos, kZip64EndSize, rec_end) || rec_end > loc_pos)
          file.fail(loc_pos, cat("the zip64 locator points at byte ", rec_pos,
                                 ", where no 56-byte zip64 end record fits before the locator"));
        unsigned char rec[kZip64EndSize];
        file.read(rec_pos, rec, sizeof rec, "the zip64 end-of-central-directory record");
        if (u32(rec) != kZip64EndSig)
          file.fail(rec_pos, cat("expected the zip64 end-of-central-directory record (signature 0x06064b50), found 0x",
                                 hex32(u32(rec))));
        if (u64(rec + 4) < kZip64EndSize - 12)
          file.fail(rec_pos, cat("the zip64 end record says it has ", u64(rec + 4), " bytes, fewer than the 44 it must have"));
        disk = u32(rec + 16), cd_disk = u32(rec + 20), disk_entries = u64(rec + 24), count = u64(rec + 32);
        cd_size = u64(rec + 40), cd_offset = u64(rec + 48);
        cd_limit = rec_pos;
      }
    }
    if (!zip64 && (count == kMax16 || cd_size == kMax32 || cd_offset == kMax32))
      file.fail(end_pos, "the end-of-central-directory record defers to zip64 records, but there is no zip64 locator before it");
    if (disk != 0 || cd_disk != 0 || disk_entries != count)
      file.fail(end_pos, cat("the archive spans several disks (disk ", disk, ", central directory on disk ", cd_disk, ", ",
                             disk_entries, " of ", count, " entries here); split archives are not supported"));
    std::uint64_t cd_end = 0;
    if (!add_u64(cd_offset, cd_size, cd_end) || cd_end > cd_limit)
      file.fail(end_pos, cat("the central directory (", cd_size, " bytes at byte ", cd_offset,
                             ") does not end before the end record at byte ", cd_limit));
    if (count > cd_size / kCentralSize)
      file.fail(end_pos, cat("the archive claims ", count, " entries, but its ", cd_size,
                             "-byte central directory has room for at most ", cd_size / kCentralSize));

    const std::string cd = file.read_string(cd_offset, cd_size, "the central directory");
    entries_.reserve(static_cast<std::size_t>(count));
    std::vector<std::uint64_t> header_offsets;
    header_offsets.reserve(static_cast<std::size_t>(count));
    std::uint64_t pos = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::uint64_t at = cd_offset + pos;
      if (cd_size - pos < kCentralSize)
        file.fail(at, cat("central directory entry ", i, " of ", count, " runs past the end of the central directory"));
      const unsigned char* c = bytes(cd, static_cast<std::size_t>(pos));
      if (u32(c) != kCentralSig)
        file.fail(at, cat("expected central directory entry ", i, " (signature 0x02014b50), found 0x", hex32(u32(c))));
      const std::uint16_t flags = u16(c + 8);
      ZipEntry e;
      e.method = u16(c + 10);
      e.crc32 = u32(c + 16);
      e.compressed_size = u32(c + 20);
      e.size = u32(c + 24);
      const std::uint64_t name_len = u16(c + 28), extra_len = u16(c + 30), comment_len = u16(c + 32);
      std::uint64_t disk_start = u16(c + 34), header = u32(c + 42);
      const std::uint64_t var_len = name_len + extra_len + comment_len;
      if (cd_size - pos - kCentralSize < var_len)
        file.fail(at, cat("central directory entry ", i, " has a name, extra field and comment of ", var_len,
                          " bytes that run past the end of the central directory"));
      e.name.assign(cd, static_cast<std::size_t>(pos + kCentralSize), static_cast<std::size_t>(name_len));
      if (e.name.empty()) file.fail(at, cat("central directory entry ", i, " has an empty name"));
      if (e.name.find('\0') != std::string::npos)
        file.fail(at, cat("the name of entry ", quote_name(e.name), " contains a NUL byte"));
      // Zip64 extra field: the 64-bit values of the fields set to 0xFFFFFFFF (0xFFFF), in this order.
      const bool need64 = e.size == kMax32 || e.compressed_size == kMax32 || header == kMax32 || disk_start == kMax16;
      bool found64 = false;
      for (std::uint64_t x = 0; x + 4 <= extra_len;) {
        const unsigned char* f = c + kCentralSize + name_len + x;
        const std::uint64_t id = u16(f), len = u16(f + 2);
        if (x + 4 + len > extra_len)
          file.fail(at, cat("entry ", quote_name(e.name), ": an extra field of ", len, " bytes runs past the entry's extra data"));
        if (id == 1 && need64) {
          found64 = true;
          std::uint64_t k = 0;
          auto take = [&](std::uint64_t& v, std::uint64_t width) {
            if (k + width > len)
              file.fail(at, cat("entry ", quote_name(e.name), ": the zip64 extra field has ", len, " bytes, too few for the values it must hold"));
            v = width == 8 ? u64(f + 4 + k) : u32(f + 4 + k);
            k += width;
          };
          if (e.size == kMax32) take(e.size, 8);
          if (e.compressed_size == kMax32) take(e.compressed_size, 8);
          if (header == kMax32) take(header, 8);
          if (disk_start == kMax16) take(disk_start, 4);
        }
        x += 4 + len;
      }
      if (need64 && !found64)
        file.fail(at, cat("entry ", quote_name(e.name), " defers its sizes or offset to a zip64 extra field it does not have"));
      if (disk_start != 0) file.fail(at, cat("entry ", quote_name(e.name), " starts on disk ", disk_start, "; split archives are not supported"));
      if (flags & 1) file.fail(at, cat("entry ", quote_name(e.name), " is encrypted, which is not supported"));
      if (e.method == 0 && e.size != e.compressed_size)
        file.fail(at, cat("entry ", quote_name(e.name), " is stored, but its size ", e.size, " differs from its stored size ",
                          e.compressed_size));
      if (!index_.emplace(e.name, entries_.size()).second)
        file.fail(at, cat("entry ", quote_name(e.name), " appears twice in the central directory"));

      // The local header repeats the name; the data follows it and its extra field.
      if (header > cd_offset || cd_offset - header < kLocalSize)
        file.fail(at, cat("entry ", quote_name(e.name), ": its local header at byte ", header,
                          " does not fit before the central directory at byte ", cd_offset));
      unsigned char local[kLocalSize];
      file.read(header, local, sizeof local, cat("the local header of entry ", quote_name(e.name)));
      if (u32(local) != kLocalSig)
        file.fail(header, cat("expected the local header of entry ", quote_name(e.name), " (signature 0x04034b50), found 0x",
                              hex32(u32(local))));
      const std::uint64_t local_name_len = u16(local + 26), local_extra_len = u16(local + 28);
      if (local_name_len != name_len ||
          file.read_string(header + kLocalSize, std::min(local_name_len, cd_offset - header - kLocalSize),
                           cat("the local header of entry ", quote_name(e.name))) != e.name)
        file.fail(header, cat("the local header's name differs from the central directory's ", quote_name(e.name)));
      e.data_offset = header + kLocalSize + local_name_len + local_extra_len;  // < 2^64: header < file size
      std::uint64_t data_end = 0;
      if (!add_u64(e.data_offset, e.compressed_size, data_end) || data_end > cd_offset)
        file.fail(header, cat("entry ", quote_name(e.name), " has ", e.compressed_size, " bytes of data at byte ", e.data_offset,
                              ", which run past the start of the central directory at byte ", cd_offset,
                              " (the file has ", size, " bytes)"));
      entries_.push_back(std::move(e));
      header_offsets.push_back(header);
      pos += kCentralSize + var_len;
    }
    if (pos != cd_size)
      file.fail(cd_offset + pos, cat("the central directory has ", cd_size - pos, " bytes after its ", count,
                                     " entries; the archive is damaged"));

    // No two entries may share bytes: sorted by offset, each header starts after the previous data ends.
    std::vector<std::size_t> order(entries_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return header_offsets[a] < header_offsets[b]; });
    for (std::size_t k = 1; k < order.size(); ++k) {
      const ZipEntry& prev = entries_[order[k - 1]];
      const std::uint64_t prev_end = prev.data_offset + prev.compressed_size;
      if (header_offsets[order[k]] < prev_end)
        file.fail(header_offsets[order[k]], cat("entry ", quote_name(entries_[order[k]].name), " overlaps entry ",
                                                quote_name(prev.name), ", whose data runs to byte ", prev_end));
    }
  }

  /// The entries in central-directory order.
  const std::vector<ZipEntry>& entries() const noexcept { return entries_; }

  /// The entry named `name`, or nullptr.
  const ZipEntry* find(std::string_view name) const noexcept {
    try {
      const auto it = index_.find(std::string(name));
      return it == index_.end() ? nullptr : &entries_[it->second];
    } catch (...) {  // std::string's allocation failing: treat as absent rather than terminate
      return nullptr;
    }
  }

  /// Reads a stored entry's `e.size` bytes into dst and checks its CRC-32. A compressed entry is a
  /// FormatError naming the entry and the method, followed by `hint` (what the user can do about it).
  void read(const ZipEntry& e, void* dst, const std::string& hint = "") const {
    if (e.method != 0)
      file_.fail(e.data_offset, cat("entry ", zip_detail::quote_name(e.name), " is compressed with ",
                                    zip_detail::method_name(e.method), "; only stored (uncompressed) entries can be read",
                                    hint.empty() ? "" : "; ", hint));
    file_.read(e.data_offset, dst, e.size, cat("entry ", zip_detail::quote_name(e.name)));
    // CRC in 1 GiB pieces: size_t may be narrower than the entry size on 32-bit targets.
    std::uint32_t crc = 0;
    const auto* p = static_cast<const unsigned char*>(dst);
    for (std::uint64_t done = 0; done < e.size;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(e.size - done, std::uint64_t(1) << 30));
      crc = crc32(p + done, n, crc);
      done += n;
    }
    if (crc != e.crc32)
      file_.fail(e.data_offset, cat("entry ", zip_detail::quote_name(e.name), ": its data has CRC-32 0x", hex32(crc),
                                    " but the archive records 0x", hex32(e.crc32), "; the entry is damaged"));
  }

  /// A stored entry as a string; an entry larger than `max_size` bytes is a FormatError.
  std::string read_string(const ZipEntry& e, std::uint64_t max_size, const std::string& hint = "") const {
    if (e.size > max_size)
      file_.fail(e.data_offset, cat("entry ", zip_detail::quote_name(e.name), " has ", e.size, " bytes, more than the ",
                                    max_size, " allowed for it"));
    std::string out(static_cast<std::size_t>(e.size), '\0');
    read(e, out.data(), hint);
    return out;
  }

  const ReadFile& file() const noexcept { return file_; }

 private:
  static std::string hex32(std::uint32_t v) {
    static const char digits[] = "0123456789abcdef";
    std::string s(8, '0');
    for (int i = 7; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 15];
    return s;
  }

  const ReadFile& file_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
};

/// Writes a zip archive of stored entries to a Sink, front to back (no seeking), laid out like
/// torch.save: each entry's data starts on a 64-byte boundary, reached by padding its local header with
/// an extra field (id "FB", filled with 'Z'). Zip64 records are added only when a size, an offset or
/// the entry count needs them. Misuse (a duplicate or invalid name, add after finish) is a ValueError.
class ZipWriter {
 public:
  explicit ZipWriter(Sink& out) : out_(out), base_(out.written()) {}

  /// Adds a stored entry holding `size` bytes from `data`.
  void add(const std::string& name, const void* data, std::uint64_t size) {
    using namespace zip_detail;
    if (finished_) throw ValueError(cat("ZipWriter::add: entry ", quote_name(name), " added after finish()"));
    if (name.empty() || name.size() > kMax16 || name.find('\0') != std::string::npos)
      throw ValueError(cat("ZipWriter::add: entry name ", quote_name(name), " must have 1 to 65535 bytes and no NUL"));
    if (!names_.insert(name).second) throw ValueError(cat("ZipWriter::add: entry ", quote_name(name), " was already added"));
    Central c;
    c.name = name;
    c.size = size;
    c.header = out_.written() - base_;
    std::uint32_t crc = 0;
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::uint64_t done = 0; done < size;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size - done, std::uint64_t(1) << 30));
      crc = crc32(p + done, n, crc);
      done += n;
    }
    c.crc = crc;
    const bool local64 = size >= kMax32;
    // Extra field: zip64 sizes if needed, then the "FB" filler that moves the data to a 64-byte boundary.
    const std::uint64_t before_pad = c.header + kLocalSize + name.size() + (local64 ? 20 : 0) + 4;
    const std::uint64_t pad = (64 - before_pad % 64) % 64;
    std::string extra;
    if (local64) {
      put16(extra, 1), put16(extra, 16), put64(extra, size), put64(extra, size);
    }
    put16(extra, 0x4246), put16(extra, static_cast<std::uint16_t>(pad)), extra.append(static_cast<std::size_t>(pad), 'Z');

    std::string h;
    put32(h, kLocalSig);
    put16(h, local64 ? 45 : 20);
    put16(h, flags(name));
    put16(h, 0);  // stored
    put16(h, 0), put16(h, kDosDate);
    put32(h, crc);
    put32(h, local64 ? kMax32 : static_cast<std::uint32_t>(size));
    put32(h, local64 ? kMax32 : static_cast<std::uint32_t>(size));
    put16(h, static_cast<std::uint16_t>(name.size()));
    put16(h, static_cast<std::uint16_t>(extra.size()));
    h += name;
    h += extra;
    out_.write(h);
    for (std::uint64_t done = 0; done < size;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size - done, std::uint64_t(1) << 30));
      out_.write(p + done, n);
      done += n;
    }
    central_.push_back(std::move(c));
  }

  /// Writes the central directory and the end records. Nothing may be added afterwards.
  void finish() {
    using namespace zip_detail;
    if (finished_) throw ValueError("ZipWriter::finish: called twice");
    finished_ = true;
    const std::uint64_t cd_offset = out_.written() - base_;
    std::string cd;
    for (const Central& c : central_) {
      const bool big_size = c.size >= kMax32, big_offset = c.header >= kMax32;
      std::string extra;
      if (big_size || big_offset) {
        put16(extra, 1), put16(extra, static_cast<std::uint16_t>((big_size ? 16 : 0) + (big_offset ? 8 : 0)));
        if (big_size) put64(extra, c.size), put64(extra, c.size);
        if (big_offset) put64(extra, c.header);
      }
      put32(cd, kCentralSig);
      put16(cd, (big_size || big_offset) ? 45 : 20);  // made by: MS-DOS, spec version
      put16(cd, (big_size || big_offset) ? 45 : 20);
      put16(cd, flags(c.name));
      put16(cd, 0);
      put16(cd, 0), put16(cd, kDosDate);
      put32(cd, c.crc);
      put32(cd, big_size ? kMax32 : static_cast<std::uint32_t>(c.size));
      put32(cd, big_size ? kMax32 : static_cast<std::uint32_t>(c.size));
      put16(cd, static_cast<std::uint16_t>(c.name.size()));
      put16(cd, static_cast<std::uint16_t>(extra.size()));
      put16(cd, 0), put16(cd, 0), put16(cd, 0);  // comment, disk, internal attributes
      put32(cd, 0);                              // external attributes
      put32(cd, big_offset ? kMax32 : static_cast<std::uint32_t>(c.header));
      cd += c.name;
      cd += extra;
    }
    out_.write(cd);
    const std::uint64_t cd_size = cd.size(), count = central_.size();
    const bool zip64 = count >= kMax16 || cd_size >= kMax32 || cd_offset >= kMax32;
    std::string end;
    if (zip64) {
      const std::uint64_t rec_pos = cd_offset + cd_size;
      put32(end, kZip64EndSig);
      put64(end, kZip64EndSize - 12);
      put16(end, 45), put16(end, 45);
      put32(end, 0), put32(end, 0);
      put64(end, count), put64(end, count), put64(end, cd_size), put64(end, cd_offset);
      put32(end, kZip64LocatorSig);
      put32(end, 0);
      put64(end, rec_pos);
      put32(end, 1);
    }
    put32(end, kEndSig);
    put16(end, 0), put16(end, 0);
    const auto count16 = static_cast<std::uint16_t>(count >= kMax16 ? kMax16 : count);
    put16(end, count16), put16(end, count16);
    put32(end, cd_size >= kMax32 ? kMax32 : static_cast<std::uint32_t>(cd_size));
    put32(end, cd_offset >= kMax32 ? kMax32 : static_cast<std::uint32_t>(cd_offset));
    put16(end, 0);
    out_.write(end);
  }

 private:
  static constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: a fixed, valid date

  struct Central {
    std::string name;
    std::uint64_t size = 0, header = 0;
    std::uint32_t crc = 0;
  };

  // Bit 11: the name is UTF-8 (set only when it has non-ASCII bytes, as Python's zipfile does).
  static std::uint16_t flags(const std::string& name) {
    for (const char ch : name)
      if (static_cast<unsigned char>(ch) >= 0x80) return 1u << 11;
    return 0;
  }
  static void put16(std::string& s, std::uint16_t v) {
    s += static_cast<char>(v & 0xFF);
    s += static_cast<char>(v >> 8);
  }
  static void put32(std::string& s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
  static void put64(std::string& s, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  }

  Sink& out_;
  std::uint64_t base_;
  bool finished_ = false;
  std::vector<Central> central_;
  std::unordered_set<std::string> names_;
};

}  // namespace tapegrad::io::detail
