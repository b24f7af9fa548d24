#include "load/json_reader.h"

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <vector>

#include "load/scalar.h"

namespace kh {
namespace {

// A string stream that knows its line and column (for node positions and errors).
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  SourcePos pos(size_t offset) {
    for (; scanned_ < offset && scanned_ < s_.size(); ++scanned_) {
      if (s_[scanned_] == '\n') {
        ++line_;
        line_start_ = scanned_ + 1;
      }
    }
    return {line_, static_cast<uint32_t>(offset - line_start_ + 1)};
  }

 private:
  std::string_view s_;
  size_t scanned_ = 0, line_start_ = 0;
  uint32_t line_ = 1;
};

class Builder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Builder> {
 public:
  Builder(Arena& arena, const JsonLimits& limits, rapidjson::StringStream& stream, Cursor& cursor)
      : arena_(arena), limits_(limits), stream_(stream), cursor_(cursor) {}

  bool Null() { return scalar(NodeType::kNull, {}); }
  bool Bool(bool b) {
    Node* n = node(NodeType::kBool);
    n->bool_value = b;
    n->text = b ? "true" : "false";
    return push(n);
  }
  bool RawNumber(const char* s, rapidjson::SizeType len, bool) {
    std::string_view text = arena_.copy(std::string_view(s, len));
    Node* n = node(NodeType::kInt);
    // JSON numbers: an integer when it has no fraction or exponent and fits; a float otherwise.
    resolvePlainScalar(text, *n);
    if (n->type != NodeType::kInt && n->type != NodeType::kFloat) n->type = NodeType::kFloat;
    n->text = text;
    return push(n);
  }
  bool String(const char* s, rapidjson::SizeType len, bool) {
    return scalar(NodeType::kString, arena_.copy(std::string_view(s, len)));
  }
  bool Key(const char* s, rapidjson::SizeType len, bool) {
    keys_.push_back({arena_.copy(std::string_view(s, len)), here()});
    return true;
  }
  bool StartObject() { return open(NodeType::kMap); }
  bool EndObject(rapidjson::SizeType) {
    Frame f = frames_.back();
    frames_.pop_back();
    std::vector<MapEntry> entries;
    size_t count = values_.size() - f.first_value;
    entries.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      const PendingKey& k = keys_[f.first_key + i];
      const Node* v = values_[f.first_value + i];
      bool replaced = false;
      for (MapEntry& e : entries)
        if (e.key == k.text) {
          e.value = v;  // last wins, as encoding/json
          e.key_pos = k.pos;
          replaced = true;
        }
      if (!replaced) entries.push_back({k.text, k.pos, v});
    }
    auto* arr = arena_.makeArray<MapEntry>(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) arr[i] = entries[i];
    f.node->entries = arr;
    f.node->size = static_cast<uint32_t>(entries.size());
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
  bool tooDeep() const { return too_deep_; }

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
    if (frames_.size() >= limits_.max_depth) {
      too_deep_ = true;
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
  rapidjson::StringStream& stream_;
  Cursor& cursor_;
  std::vector<Frame> frames_;
  std::vector<PendingKey> keys_;
  std::vector<const Node*> values_;
  const Node* root_ = nullptr;
  bool too_deep_ = false;
};

}  // namespace

Result<const Node*> parseJson(std::string_view text, Arena& arena, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    return Error{fmt::format("JSON body of {} bytes is over the {} byte limit", text.size(),
                             limits.max_bytes)};
  // RapidJSON reads up to a NUL: copy into a terminated buffer (a NUL inside is an error). Its
  // UTF-8 validation reads the continuation bytes of a multi-byte sequence without stopping at
  // the terminator, so a body cut inside a sequence would read past it: pad with NULs.
  if (text.find('\0') != std::string_view::npos) return Error{"JSON body contains a NUL byte"};
  std::string buf;
  buf.reserve(text.size() + 8);
  buf.assign(text);
  buf.append(8, '\0');
  rapidjson::StringStream stream(buf.c_str());
  Cursor cursor(text);
  Builder builder(arena, limits, stream, cursor);
  rapidjson::Reader reader;
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseIterativeFlag;
  rapidjson::ParseResult ok = reader.Parse<kFlags>(stream, builder);
  if (!ok) {
    SourcePos pos = Cursor(text).pos(ok.Offset());
    std::string why = builder.tooDeep()
                          ? fmt::format("nesting deeper than {} levels", limits.max_depth)
                          : rapidjson::GetParseError_En(ok.Code());
    return Error{fmt::format("invalid JSON: {}", why), "", pos};
  }
  if (!builder.root()) return Error{"empty JSON body"};
  return builder.root();
}

}  // namespace kh
