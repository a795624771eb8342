// SPDX-License-Identifier: MIT
// A restricted unpickler for the `data.pkl` of a torch.save'd state_dict, and the protocol-2 pickle
// writer save_torch uses.
//
// Python's pickle is a small stack machine that can call any function it names (GLOBAL "posix system"
// runs a shell command). This one knows only the opcodes torch.save emits for a state_dict and only
// the GLOBALs a state_dict names; it never calls anything: it builds a tree of plain values (REDUCE
// becomes a "call" node the caller interprets) and refuses everything else with a FormatError naming
// the opcode or GLOBAL and its byte offset. Nodes live in one arena and refer to each other by index,
// so a pickle that makes a dict contain itself cannot leak or loop, and memory stays proportional to
// the pickle's size (every node and every reference costs at least one byte of input).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/io/detail/file.hpp"

namespace tapegrad::io::detail::pickle {

using tapegrad::detail::cat;

/// What a node holds.
enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, PersId, Call };

inline const char* kind_name(Kind k) noexcept {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int: return "an int";
    case Kind::Float: return "a float";
    case Kind::String: return "a string";
    case Kind::Tuple: return "a tuple";
    case Kind::List: return "a list";
    case Kind::Dict: return "a dict";
    case Kind::Global: return "a global";
    case Kind::PersId: return "a persistent id";
    case Kind::Call: return "a call";
  }
  return "?";
}

/// The GLOBALs a state_dict may name. Anything else is refused before it is even looked at further.
enum class Global {
  OrderedDict,
  RebuildTensorV2,
  RebuildParameter,
  FloatStorage,
  DoubleStorage,
  HalfStorage,
  BFloat16Storage,
  LongStorage,
  IntStorage,
  ShortStorage,
  CharStorage,
  ByteStorage,
  BoolStorage,
};

/// The allowed GLOBAL "module name", or false.
inline bool lookup_global(std::string_view module, std::string_view name, Global& out) noexcept {
  if (module == "collections" && name == "OrderedDict") return out = Global::OrderedDict, true;
  if (module == "torch._utils" && name == "_rebuild_tensor_v2") return out = Global::RebuildTensorV2, true;
  if (module == "torch._utils" && name == "_rebuild_parameter") return out = Global::RebuildParameter, true;
  if (module != "torch") return false;
  static const std::pair<const char*, Global> storages[] = {
      {"FloatStorage", Global::FloatStorage}, {"DoubleStorage", Global::DoubleStorage},
      {"HalfStorage", Global::HalfStorage},   {"BFloat16Storage", Global::BFloat16Storage},
      {"LongStorage", Global::LongStorage},   {"IntStorage", Global::IntStorage},
      {"ShortStorage", Global::ShortStorage}, {"CharStorage", Global::CharStorage},
      {"ByteStorage", Global::ByteStorage},   {"BoolStorage", Global::BoolStorage},
  };
  for (const auto& s : storages)
    if (name == s.first) return out = s.second, true;
  return false;
}

/// One value. Which members matter depends on `kind`:
/// Bool/Int: `i`; Float: `f`; String: `s`; Tuple/List: `items`; Dict: `items` as key, value, key,
/// value, ... in insertion order; Global: `global` and `s` ("module name"); PersId: `items[0]` (the
/// id); Call: `items[0]` the callable (a Global node), `items[1]` the argument tuple.
struct Node {
  Kind kind = Kind::None;
  std::int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<std::size_t> items;
  Global global = Global::OrderedDict;
  std::uint64_t offset = 0;  ///< byte offset of the opcode that made the node (for messages)
};

/// The result of unpickling: the nodes, and the index of the one STOP returned.
struct Unpickled {
  std::vector<Node> nodes;
  std::size_t root = 0;
  const Node& operator[](std::size_t i) const { return nodes[i]; }
  const Node& root_node() const { return nodes[root]; }
};

namespace pickle_detail {

inline bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
    else return false;
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 (Python refuses them too).
    static const std::uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// A string for messages: printable ASCII as is, the rest escaped, at most 80 bytes.
inline std::string printable(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < 80; ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x20 && u < 0x7F && s[i] != '"' && s[i] != '\\') {
      out += s[i];
    } else {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  if (s.size() > 80) out += "...";
  return out;
}

inline const char* opcode_name(unsigned char op) noexcept {
  switch (op) {
    case 0x80: return "PROTO";
    case 0x95: return "FRAME";
    case 'c': return "GLOBAL";
    case 0x93: return "STACK_GLOBAL";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 0x94: return "MEMOIZE";
    case 'h': return "BINGET";
    case 'j': return "LONG_BINGET";
    case '(': return "MARK";
    case ')': return "EMPTY_TUPLE";
    case '}': return "EMPTY_DICT";
    case ']': return "EMPTY_LIST";
    case 'a': return "APPEND";
    case 'e': return "APPENDS";
    case 't': return "TUPLE";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'M': return "BININT2";
    case 0x8a: return "LONG1";
    case 'G': return "BINFLOAT";
    case 'X': return "BINUNICODE";
    case 0x8c: return "SHORT_BINUNICODE";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 'N': return "NONE";
    case 'R': return "REDUCE";
    case 'Q': return "BINPERSID";
    case 's': return "SETITEM";
    case 'u': return "SETITEMS";
    case 'b': return "BUILD";
    case '.': return "STOP";
    default: return nullptr;
  }
}

}  // namespace pickle_detail

/// At most this many values per pickle (about 250,000 tensors), so a hostile pickle cannot make the
/// unpickler use more than a few hundred megabytes.
constexpr std::size_t kMaxNodes = std::size_t(1) << 22;

/// Runs the restricted unpickler over `data`. `where` starts every message ("load_torch: m.pt, entry
/// \"m/data.pkl\""); errors are FormatErrors "<where>, byte N: problem".
///
/// Known opcodes: PROTO (2 to 5), FRAME, GLOBAL, STACK_GLOBAL, BINPUT, LONG_BINPUT, MEMOIZE, BINGET,
/// LONG_BINGET, MARK, EMPTY_TUPLE, EMPTY_DICT, EMPTY_LIST, APPEND, APPENDS, TUPLE, TUPLE1/2/3, BININT,
/// BININT1, BININT2, LONG1 (up to 8 bytes), BINFLOAT, BINUNICODE, SHORT_BINUNICODE, NEWTRUE,
/// NEWFALSE, NONE, REDUCE, BINPERSID, SETITEM, SETITEMS, BUILD (on a dict: its state is ignored, as
/// state_dict's `_metadata`), STOP. REDUCE of OrderedDict with no arguments makes an empty Dict; any
/// other REDUCE must call an allowed GLOBAL with a tuple and becomes a Call node.
inline Unpickled unpickle(std::string_view data, const std::string& where) {
  using pickle_detail::opcode_name;
  using pickle_detail::printable;
  Unpickled out;
  std::vector<Node>& nodes = out.nodes;
  std::vector<std::size_t> stack;
  std::vector<std::size_t> marks;  // stack sizes at each MARK
  std::unordered_map<std::uint32_t, std::size_t> memo;
  std::uint64_t pos = 0, op_at = 0;
  unsigned char op = 0;
  const std::uint64_t size = data.size();

  auto fail_at = [&](std::uint64_t at, const std::string& problem) -> void {
    throw FormatError(cat(where, ", byte ", at, ": ", problem));
  };
  auto fail = [&](const std::string& problem) { fail_at(op_at, problem); };
  auto op_str = [&]() { return std::string(opcode_name(op)); };
  auto need = [&](std::uint64_t n) {
    if (size - pos < n)
      fail(cat(op_str(), " needs ", n, " bytes of argument, but the pickle ends after ", size - pos,
               " (it is truncated)"));
  };
  auto byte_at = [&](std::uint64_t at) { return static_cast<unsigned char>(data[static_cast<std::size_t>(at)]); };
  auto read_uint = [&](int n) {
    need(static_cast<std::uint64_t>(n));
    std::uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(byte_at(pos + static_cast<std::uint64_t>(k))) << (8 * k);
    pos += static_cast<std::uint64_t>(n);
    return v;
  };
  auto add = [&](Kind kind) -> std::size_t {
    if (nodes.size() >= kMaxNodes)
      fail(cat("the pickle makes more than ", kMaxNodes, " values; a state_dict needs about 15 per tensor"));
    nodes.emplace_back();
    nodes.back().kind = kind;
    nodes.back().offset = op_at;
    return nodes.size() - 1;
  };
  auto push = [&](std::size_t n) { stack.push_back(n); };
  auto base = [&]() -> std::size_t { return marks.empty() ? 0 : marks.back(); };
  auto pop = [&]() -> std::size_t {
    if (stack.size() <= base())
      fail(cat(op_str(), " needs a value, but the stack is empty", marks.empty() ? "" : " above the last MARK",
               " (stack underflow)"));
    const std::size_t n = stack.back();
    stack.pop_back();
    return n;
  };
  auto top = [&]() -> std::size_t {
    if (stack.size() <= base()) fail(cat(op_str(), " needs a value, but the stack is empty (stack underflow)"));
    return stack.back();
  };
  // The items pushed since the last MARK, which is removed.
  auto pop_mark = [&]() {
    if (marks.empty()) fail(cat(op_str(), " needs a MARK before its items, but there is none"));
    const std::size_t from = marks.back();
    marks.pop_back();
    std::vector<std::size_t> items(stack.begin() + static_cast<std::ptrdiff_t>(from), stack.end());
    stack.resize(from);
    return items;
  };
  auto make_global = [&](std::string_view module, std::string_view name) {
    Global g{};
    if (!lookup_global(module, name, g))
      fail(cat("GLOBAL \"", printable(module), " ", printable(name),
               "\" is not allowed: a state_dict names only collections.OrderedDict, torch._utils._rebuild_tensor_v2,"
               " torch._utils._rebuild_parameter and torch.*Storage types; nothing in the file is ever run"));
    const std::size_t n = add(Kind::Global);
    nodes[n].global = g;
    nodes[n].s = cat(module, " ", name);
    push(n);
  };
  auto memo_put = [&](std::uint64_t index) {
    if (index > 0xFFFFFFFFu) fail(cat("memo index ", index, " is too large"));
    memo[static_cast<std::uint32_t>(index)] = top();
  };
  auto memo_get = [&](std::uint64_t index) {
    const auto it = index <= 0xFFFFFFFFu ? memo.find(static_cast<std::uint32_t>(index)) : memo.end();
    if (it == memo.end())
      fail(cat(op_str(), " ", index, ": no value was stored under that memo index (", memo.size(), " stored)"));
    push(it->second);
  };
  auto set_items = [&](std::size_t dict, const std::vector<std::size_t>& kv) {
    if (nodes[dict].kind != Kind::Dict)
      fail(cat(op_str(), " needs a dict below its items, found ", kind_name(nodes[dict].kind)));
    if (kv.size() % 2 != 0) fail(cat(op_str(), " has an odd number of items (", kv.size(), "): a key without a value"));
    // Kept in order, repeats included (Python would replace the value): a loader refuses repeated keys.
    nodes[dict].items.insert(nodes[dict].items.end(), kv.begin(), kv.end());
  };
  auto read_string = [&](std::uint64_t n) {
    need(n);
    std::string s(data.substr(static_cast<std::size_t>(pos), static_cast<std::size_t>(n)));
    if (!pickle_detail::valid_utf8(s)) fail(cat(op_str(), " string of ", n, " bytes is not valid UTF-8"));
    pos += n;
    const std::size_t node = add(Kind::String);
    nodes[node].s = std::move(s);
    push(node);
  };
  auto make_int = [&](std::int64_t v) {
    const std::size_t n = add(Kind::Int);
    nodes[n].i = v;
    push(n);
  };
  auto make_tuple = [&](std::vector<std::size_t> items) {
    const std::size_t n = add(Kind::Tuple);
    nodes[n].items = std::move(items);
    push(n);
  };

  if (size == 0) fail_at(0, "the pickle is empty");
  for (;;) {
    if (pos >= size) fail_at(size, "the pickle ends without a STOP opcode (it is truncated)");
    op_at = pos;
    op = byte_at(pos++);
    if (!opcode_name(op))
      fail(cat("unknown or unsupported pickle opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15],
               (op >= 0x20 && op < 0x7F) ? cat(" ('", static_cast<char>(op), "')") : std::string(),
               "; a state_dict saved by torch.save uses only a few simple opcodes"));
    switch (op) {
      case 0x80: {  // PROTO
        const std::uint64_t v = read_uint(1);
        if (v < 2 || v > 5) fail(cat("pickle protocol ", v, " is not supported (torch.save writes protocol 2)"));
        break;
      }
      case 0x95:  // FRAME: a length hint for buffered readers; the bytes follow inline
        read_uint(8);
        break;
      case 'c': {  // GLOBAL "module\nname\n"
        std::string_view parts[2];
        for (auto& part : parts) {
          const std::size_t nl = data.find('\n', static_cast<std::size_t>(pos));
          if (nl == std::string_view::npos || nl - pos > 256)
            fail(nl == std::string_view::npos ? "GLOBAL's module and name are not ended by newlines (the pickle is truncated)"
                                              : "GLOBAL's module or name is longer than 256 bytes");
          part = data.substr(static_cast<std::size_t>(pos), nl - static_cast<std::size_t>(pos));
          pos = nl + 1;
        }
        make_global(parts[0], parts[1]);
        break;
      }
      case 0x93: {  // STACK_GLOBAL: module and name strings from the stack
        const std::size_t name = pop(), module = pop();
        if (nodes[name].kind != Kind::String || nodes[module].kind != Kind::String)
          fail("STACK_GLOBAL needs two strings (module, name) on the stack");
        make_global(nodes[module].s, nodes[name].s);
        break;
      }
      case 'q': memo_put(read_uint(1)); break;
      case 'r': memo_put(read_uint(4)); break;
      case 0x94: memo_put(memo.size()); break;
      case 'h': memo_get(read_uint(1)); break;
      case 'j': memo_get(read_uint(4)); break;
      case '(': marks.push_back(stack.size()); break;
      case ')': make_tuple({}); break;
      case '}': push(add(Kind::Dict)); break;
      case ']': push(add(Kind::List)); break;
      case 'a': {
        const std::size_t v = pop(), list = top();
        if (nodes[list].kind != Kind::List) fail(cat("APPEND needs a list, found ", kind_name(nodes[list].kind)));
        nodes[list].items.push_back(v);
        break;
      }
      case 'e': {
        std::vector<std::size_t> items = pop_mark();
        const std::size_t list = top();
        if (nodes[list].kind != Kind::List) fail(cat("APPENDS needs a list, found ", kind_name(nodes[list].kind)));
        nodes[list].items.insert(nodes[list].items.end(), items.begin(), items.end());
        break;
      }
      case 't': make_tuple(pop_mark()); break;
      case 0x85: case 0x86: case 0x87: {
        std::vector<std::size_t> items(static_cast<std::size_t>(op - 0x84));
        for (std::size_t k = items.size(); k-- > 0;) items[k] = pop();
        make_tuple(std::move(items));
        break;
      }
      case 'J': make_int(static_cast<std::int32_t>(static_cast<std::uint32_t>(read_uint(4)))); break;
      case 'K': make_int(static_cast<std::int64_t>(read_uint(1))); break;
      case 'M': make_int(static_cast<std::int64_t>(read_uint(2))); break;
      case 0x8a: {  // LONG1: n bytes of little-endian two's complement
        const std::uint64_t n = read_uint(1);
        if (n > 8) fail(cat("LONG1 integer of ", n, " bytes does not fit in 64 bits"));
        std::uint64_t v = read_uint(static_cast<int>(n));
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~std::uint64_t(0) << (8 * n);  // sign-extend
        make_int(static_cast<std::int64_t>(v));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        need(8);
        std::uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | byte_at(pos + static_cast<std::uint64_t>(k));
        pos += 8;
        const std::size_t n = add(Kind::Float);
        std::memcpy(&nodes[n].f, &bits, 8);
        push(n);
        break;
      }
      case 'X': read_string(read_uint(4)); break;
      case 0x8c: read_string(read_uint(1)); break;
      case 0x88: case 0x89: {
        const std::size_t n = add(Kind::Bool);
        nodes[n].i = op == 0x88;
        push(n);
        break;
      }
      case 'N': push(add(Kind::None)); break;
      case 'R': {
        const std::size_t args = pop(), callable = pop();
        if (nodes[callable].kind != Kind::Global)
          fail(cat("REDUCE needs a GLOBAL to call, found ", kind_name(nodes[callable].kind)));
        if (nodes[args].kind != Kind::Tuple)
          fail(cat("REDUCE of ", nodes[callable].s, " needs a tuple of arguments, found ", kind_name(nodes[args].kind)));
        if (nodes[callable].global == Global::OrderedDict) {
          if (!nodes[args].items.empty())
            fail(cat("REDUCE of collections OrderedDict with ", nodes[args].items.size(),
                     " arguments; a state_dict's OrderedDict() is built empty, then filled with SETITEMS"));
          push(add(Kind::Dict));
          break;
        }
        const std::size_t n = add(Kind::Call);
        nodes[n].items = {callable, args};
        push(n);
        break;
      }
      case 'Q': {
        const std::size_t id = pop();
        const std::size_t n = add(Kind::PersId);
        nodes[n].items = {id};
        push(n);
        break;
      }
      case 's': {
        const std::size_t value = pop(), key = pop();
        set_items(top(), {key, value});
        break;
      }
      case 'u': {
        std::vector<std::size_t> items = pop_mark();
        set_items(top(), items);
        break;
      }
      case 'b': {  // BUILD: OrderedDict's attributes (state_dict's _metadata), which a loader does not need
        const std::size_t state = pop(), target = top();
        if (nodes[target].kind != Kind::Dict)
          fail(cat("BUILD is only accepted on a dict (a state_dict's _metadata), found ", kind_name(nodes[target].kind)));
        if (nodes[state].kind != Kind::Dict && nodes[state].kind != Kind::None && nodes[state].kind != Kind::Tuple)
          fail(cat("BUILD needs a dict of attributes, found ", kind_name(nodes[state].kind)));
        break;
      }
      case '.': {
        out.root = pop();
        if (pos != size)
          fail_at(pos, cat("the pickle has ", size - pos, " bytes after its STOP opcode; the entry is damaged"));
        return out;
      }
      default: break;  // unreachable: opcode_name filtered the rest
    }
  }
}

/// Writes protocol-2 pickle opcodes the way Python's pickler does for torch.save: every string, tuple,
/// GLOBAL and REDUCE result is memoized (BINPUT), and a GLOBAL or a shared string met again is fetched
/// from the memo (BINGET), so an OrderedDict of tensors comes out byte for byte as torch.save writes it.
class Writer {
 public:
  Writer() { out_ += "\x80\x02"; }

  void global(const std::string& module, const std::string& name) {
    const std::string key = "c" + module + "\n" + name;
    if (get(key)) return;
    out_ += 'c';
    out_ += module;
    out_ += '\n';
    out_ += name;
    out_ += '\n';
    put(key);
  }
  /// A string; `shared` strings (one Python object used again, like "storage") are fetched from the
  /// memo the second time.
  void string(const std::string& s, bool shared) {
    const std::string key = "X" + s;
    if (shared && get(key)) return;
    out_ += 'X';
    u32(static_cast<std::uint32_t>(s.size()));
    out_ += s;
    if (shared) put(key);
    else memoize();
  }
  /// The shortest integer opcode Python's pickler would pick.
  void integer(std::int64_t v) {
    if (v >= 0 && v <= 0xFF) {
      out_ += 'K';
      out_ += static_cast<char>(v);
    } else if (v >= 0 && v <= 0xFFFF) {
      out_ += 'M';
      out_ += static_cast<char>(v & 0xFF);
      out_ += static_cast<char>(v >> 8);
    } else if (v >= -2147483648LL && v <= 2147483647LL) {
      out_ += 'J';
      u32(static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
    } else {  // LONG1: the fewest little-endian two's-complement bytes that keep the sign
      std::string bytes;
      auto u = static_cast<std::uint64_t>(v);
      for (int k = 0; k < 8; ++k) bytes += static_cast<char>((u >> (8 * k)) & 0xFF);
      while (bytes.size() > 1) {
        const auto last = static_cast<unsigned char>(bytes.back());
        const auto prev = static_cast<unsigned char>(bytes[bytes.size() - 2]);
        if ((last == 0 && !(prev & 0x80)) || (last == 0xFF && (prev & 0x80))) bytes.pop_back();
        else break;
      }
      out_ += '\x8a';
      out_ += static_cast<char>(bytes.size());
      out_ += bytes;
    }
  }
  void mark() { out_ += '('; }
  /// TUPLE of the items since the last mark.
  void tuple() {
    out_ += 't';
    memoize();
  }
  /// A tuple of integers: EMPTY_TUPLE, TUPLE1/2/3, or MARK ... TUPLE, as Python picks.
  void int_tuple(const std::vector<std::int64_t>& values) {
    if (values.empty()) {
      out_ += ')';
      return;
    }
    if (values.size() > 3) mark();
    for (const std::int64_t v : values) integer(v);
    if (values.size() > 3) {
      tuple();
    } else {
      out_ += static_cast<char>(0x84 + values.size());
      memoize();
    }
  }
  void empty_tuple() { out_ += ')'; }
  void boolean(bool b) { out_ += b ? '\x88' : '\x89'; }
  void reduce() {
    out_ += 'R';
    memoize();
  }
  void binpersid() { out_ += 'Q'; }
  void setitem() { out_ += 's'; }
  void setitems() { out_ += 'u'; }
  /// Ends the pickle and returns its bytes.
  std::string finish() {
    out_ += '.';
    return std::move(out_);
  }

 private:
  bool get(const std::string& key) {
    const auto it = memo_.find(key);
    if (it == memo_.end()) return false;
    emit_get(it->second);
    return true;
  }
  void put(const std::string& key) { memo_[key] = memoize(); }
  std::uint32_t memoize() {
    const std::uint32_t index = next_++;
    if (index < 256) {
      out_ += 'q';
      out_ += static_cast<char>(index);
    } else {
      out_ += 'r';
      u32(index);
    }
    return index;
  }
  void emit_get(std::uint32_t index) {
    if (index < 256) {
      out_ += 'h';
      out_ += static_cast<char>(index);
    } else {
      out_ += 'j';
      u32(index);
    }
  }
  void u32(std::uint32_t v) {
    for (int k = 0; k < 4; ++k) out_ += static_cast<char>((v >> (8 * k)) & 0xFF);
  }

  std::string out_;
  std::unordered_map<std::string, std::uint32_t> memo_;
  std::uint32_t next_ = 0;
};

}  // namespace tapegrad::io::detail::pickle
