// RapidJSON in a namespace of its own for this file: the reader parses in place with its SIMD
// string and whitespace scanners (SSE2 is part of x86-64), which read whole aligned 16-byte
// blocks and so may look past the terminator. The buffer below is padded for that; giving this
// configuration its own namespace keeps it from mixing (ODR) with the plain RapidJSON the rest
// of the program uses on unpadded strings.
#define RAPIDJSON_NAMESPACE kh_rapidjson_insitu
#define RAPIDJSON_NAMESPACE_BEGIN namespace kh_rapidjson_insitu {
#define RAPIDJSON_NAMESPACE_END }
#if defined(__SSE2__)
#define RAPIDJSON_SSE2
#endif

#include "load/json_reader.h"

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "base/strings.h"
#include "load/scalar.h"

namespace kh {
namespace {

namespace rapidjson = kh_rapidjson_insitu;

// A string stream that knows its line and column (for node positions and errors).
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s), next_nl_(find(0)) {}
  std::string_view text() const { return s_; }
  // Offsets asked for only grow (token ends, in order), so each newline is found once; a body
  // on one line (as the API server sends it) costs one memchr in all.
  SourcePos pos(size_t offset) {
    while (next_nl_ < offset) {
      ++line_;
      line_start_ = next_nl_ + 1;
      next_nl_ = find(line_start_);
    }
    return {line_, static_cast<uint32_t>(offset - line_start_ + 1)};
  }

 private:
  size_t find(size_t from) const {
    if (from >= s_.size()) return std::string_view::npos;
    const void* nl = std::memchr(s_.data() + from, '\n', s_.size() - from);
    return nl ? static_cast<size_t>(static_cast<const char*>(nl) - s_.data())
              : std::string_view::npos;
  }

  std::string_view s_;
  size_t next_nl_;
  size_t line_start_ = 0;
  uint32_t line_ = 1;
};

class Builder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Builder> {
 public:
  Builder(Arena& arena, const JsonLimits& limits, rapidjson::InsituStringStream& stream,
          Cursor& cursor)
      : arena_(arena),
        limits_(limits),
        stream_(stream),
        cursor_(cursor),
        escapes_(cursor.text().find("\\u") != std::string_view::npos) {
    frames_.reserve(16);
    keys_.reserve(64);
    values_.reserve(64);
  }

  bool Null() { return scalar(NodeType::kNull, {}); }
  bool Bool(bool b) {
    Node* n = node(NodeType::kBool);
    n->bool_value = b;
    n->text = b ? "true" : "false";
    return push(n);
  }
  bool RawNumber(const char* s, rapidjson::SizeType len, bool) {
    std::string_view text(s, len);  // in the arena's copy of the body, parsed in place
    Node* n = node(NodeType::kInt);
    n->text = text;
    // RapidJSON has checked the grammar: a plain integer of up to 18 digits fits an int64 as
    // it is; anything else (fraction, exponent, longer) takes the general path.
    size_t digits = text.size() - (text[0] == '-' ? 1 : 0);
    if (digits <= 18 && text.find_first_of(".eE") == std::string_view::npos) {
      int64_t v = 0;
      for (char c : text.substr(text.size() - digits)) v = v * 10 + (c - '0');
      n->int_value = text[0] == '-' ? -v : v;
      return push(n);
    }
    // JSON numbers: an integer when it has no fraction or exponent and fits; a float otherwise.
    resolvePlainScalar(text, *n);
    if (n->type != NodeType::kInt && n->type != NodeType::kFloat) n->type = NodeType::kFloat;
    n->text = text;
    return push(n);
  }
  bool String(const char* s, rapidjson::SizeType len, bool) {
    std::string_view text(s, len);
    return wellFormed(text) && scalar(NodeType::kString, text);
  }
  bool Key(const char* s, rapidjson::SizeType len, bool) {
    std::string_view text(s, len);
    if (!wellFormed(text)) return false;
    keys_.push_back({text, here()});
    return true;
  }
  bool StartObject() { return open(NodeType::kMap); }
  bool EndObject(rapidjson::SizeType) {
    Frame f = frames_.back();
    frames_.pop_back();
    size_t count = values_.size() - f.first_value;
    auto* entries = arena_.makeArray<MapEntry>(count);
    size_t size = 0;
    // A duplicate key keeps its first place and takes the last value, as encoding/json. Small
    // objects compare keys directly; large ones (a client controls their size) use a hash, so
    // no body costs quadratic time.
    constexpr size_t kLinearUpTo = 32;
    if (count > kLinearUpTo) index_.clear();
    uint64_t seen = 0;  // a one-word filter: a key whose bit is clear was not seen before
    for (size_t i = 0; i < count; ++i) {
      const PendingKey& k = keys_[f.first_key + i];
      const Node* v = values_[f.first_value + i];
      MapEntry* same = nullptr;
      if (count <= kLinearUpTo) {
        size_t last = k.text.empty() ? 0 : static_cast<unsigned char>(k.text.back());
        uint64_t bit = uint64_t{1} << ((k.text.size() * 7 + last) & 63);
        if (seen & bit)
          for (size_t j = 0; j < size && same == nullptr; ++j)
            if (entries[j].key == k.text) same = &entries[j];
        seen |= bit;
      } else {
        auto [it, fresh] = index_.try_emplace(k.text, size);
        if (!fresh) same = &entries[it->second];
      }
      if (same != nullptr) {
        same->value = v;
        same->key_pos = k.pos;
      } else {
        entries[size++] = {k.text, k.pos, v};
      }
    }
    f.node->entries = entries;
    f.node->size = static_cast<uint32_t>(size);
    keys_.resize(f.first_key);
    values_.resize(f.first_value);
    return push(f.node);
  }
  bool StartArray() { return open(NodeType::kSeq); }
  bool EndArray(rapidjson::SizeType) {
    Frame f = frames_.back();
    frames_.pop_back();
    size_t count = values_.size() - f.first_value;
    auto** arr = arena_.makeArray<const Node*>(count);
    for (size_t i = 0; i < count; ++i) arr[i] = values_[f.first_value + i];
    f.node->items = arr;
    f.node->size = static_cast<uint32_t>(count);
    values_.resize(f.first_value);
    return push(f.node);
  }

  const Node* root() const { return root_; }
  enum class Stop { kNone, kTooDeep, kLoneSurrogate };
  // Why the handler stopped the parse, if it did.
  Stop stopped() const { return stopped_; }

 private:
  struct Frame {
    Node* node;
    size_t first_key, first_value;
  };
  struct PendingKey {
    std::string_view text;
    SourcePos pos;
  };

  SourcePos here() { return cursor_.pos(stream_.Tell()); }
  Node* node(NodeType t) {
    Node* n = arena_.make<Node>();
    n->type = t;
    n->pos = here();
    return n;
  }
  bool scalar(NodeType t, std::string_view text) {
    Node* n = node(t);
    n->text = text;
    return push(n);
  }
  bool open(NodeType t) {
    if (frames_.size() >= std::min(limits_.max_depth, kMaxJsonDepth)) {
      stopped_ = Stop::kTooDeep;
      return false;
    }
    frames_.push_back({node(t), keys_.size(), values_.size()});
    return true;
  }
  bool push(const Node* n) {
    if (frames_.empty())
      root_ = n;
    else
      values_.push_back(n);
    return true;
  }

  Arena& arena_;
  const JsonLimits& limits_;
  rapidjson::InsituStringStream& stream_;
  Cursor& cursor_;
  std::vector<Frame> frames_;
  std::vector<PendingKey> keys_;
  std::vector<const Node*> values_;
  std::unordered_map<std::string_view, size_t> index_;  // key -> entry, for large objects
  const Node* root_ = nullptr;
  Stop stopped_ = Stop::kNone;
  bool escapes_;  // the body has \u escapes: decoded strings may hold a surrogate

  // The body was valid UTF-8, but RapidJSON writes a lone low surrogate escape ("\udc00") as
  // the three bytes of that code point, which UTF-8 may not hold: refuse it, as other bad text.
  bool wellFormed(std::string_view text) {
    if (!escapes_ || invalidUtf8At(text) == std::string_view::npos) return true;
    stopped_ = Stop::kLoneSurrogate;
    return false;
  }
};

}  // namespace

Result<const Node*> parseJson(std::string_view text, Arena& arena, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    return Error{fmt::format("JSON body of {} bytes is over the {} byte limit", text.size(),
                             limits.max_bytes)};
  // RapidJSON reads up to a NUL: a NUL inside is an error. The body is copied once into the
  // arena and parsed in place (strings unescaped where they stand; nodes point into it), the
  // copy aligned and NUL-padded to whole 16-byte blocks for the SIMD scanners. UTF-8 is checked
  // over the whole body first, in one pass, rather than byte by byte inside the parser.
  if (text.find('\0') != std::string_view::npos) return Error{"JSON body contains a NUL byte"};
  if (size_t bad = invalidUtf8At(text); bad != std::string_view::npos)
    return Error{"invalid JSON: invalid UTF-8", "", Cursor(text).pos(bad)};
  constexpr size_t kBlock = 16;
  const size_t padded = (text.size() / kBlock + 2) * kBlock;
  char* buf = static_cast<char*>(arena.allocate(padded, kBlock));
  std::memcpy(buf, text.data(), text.size());
  std::memset(buf + text.size(), 0, padded - text.size());
  rapidjson::InsituStringStream stream(buf);
  Cursor cursor(text);
  Builder builder(arena, limits, stream, cursor);
  rapidjson::Reader reader;
  // The recursive parser (faster than the iterative one): its depth is bounded by the
  // handler, which stops the parse at limits.max_depth.
  constexpr unsigned kFlags = rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult ok = reader.Parse<kFlags>(stream, builder);
  if (!ok) {
    SourcePos pos = Cursor(text).pos(ok.Offset());
    std::string why;
    switch (builder.stopped()) {
      case Builder::Stop::kTooDeep:
        why =
            fmt::format("nesting deeper than {} levels", std::min(limits.max_depth, kMaxJsonDepth));
        break;
      case Builder::Stop::kLoneSurrogate:
        why = "a \\u escape names a lone surrogate";
        break;
      case Builder::Stop::kNone:
        why = rapidjson::GetParseError_En(ok.Code());
        break;
    }
    return Error{fmt::format("invalid JSON: {}", why), "", pos};
  }
  if (!builder.root()) return Error{"empty JSON body"};
  return builder.root();
}

}  // namespace kh
