// Node: one value of an immutable YAML/JSON document, with its source position.
//
// Nodes live in the Arena of the document that owns them and are never modified after loading.
// Strings are views into that arena. Aliases share the anchored node, so a node may be reachable
// from several parents (the loader caps the expanded size). Thread-safe to read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/source_pos.h"

namespace kh {

enum class NodeType : uint8_t { kNull, kBool, kInt, kFloat, kString, kMap, kSeq };

struct Node;

struct MapEntry {
  std::string_view key;  // normalised as Kubernetes does (YAML 1.1 key `on` reads as "true")
  SourcePos key_pos;
  const Node* value = nullptr;
};

struct Node {
  NodeType type = NodeType::kNull;
  bool bool_value = false;
  SourcePos pos;
  std::string_view text;  // scalar text after unescaping, as written (for ints: "0644")
  union {
    int64_t int_value = 0;  // kInt
    double float_value;     // kFloat
  };
  union {
    const MapEntry* entries = nullptr;  // kMap
    const Node* const* items;           // kSeq
  };
  uint32_t size = 0;

  bool isNull() const { return type == NodeType::kNull; }
  bool isMap() const { return type == NodeType::kMap; }
  bool isSeq() const { return type == NodeType::kSeq; }
  bool isString() const { return type == NodeType::kString; }
  bool isScalar() const { return type != NodeType::kMap && type != NodeType::kSeq; }
  bool isTrue() const { return type == NodeType::kBool && bool_value; }
  bool isFalse() const { return type == NodeType::kBool && !bool_value; }

  std::span<const MapEntry> mapEntries() const {
    return type == NodeType::kMap ? std::span<const MapEntry>(entries, size)
                                  : std::span<const MapEntry>();
  }
  std::span<const Node* const> seqItems() const {
    return type == NodeType::kSeq ? std::span<const Node* const>(items, size)
                                  : std::span<const Node* const>();
  }

  // Map lookup; nullptr when this is not a map or has no such key.
  const MapEntry* entry(std::string_view key) const {
    if (type != NodeType::kMap) return nullptr;
    for (uint32_t i = 0; i < size; ++i)
      if (entries[i].key == key) return &entries[i];
    return nullptr;
  }
  const Node* get(std::string_view key) const {
    const MapEntry* e = entry(key);
    return e ? e->value : nullptr;
  }
  // A string value, or empty for any other type (use text for the written form of scalars).
  std::string_view str() const { return type == NodeType::kString ? text : std::string_view(); }
  // Integer value of an int, or of a float that holds an integer (as JSON decoding accepts).
  std::optional<int64_t> asInt() const;
};

// Null-safe helpers for chained lookups: get(get(n, "spec"), "template").
inline const Node* get(const Node* n, std::string_view key) {
  return n ? n->get(key) : nullptr;
}
// Null-safe iteration: the items of a sequence (none for null or any other type), the entries of
// a map.
inline std::span<const Node* const> seqOf(const Node* n) {
  return n ? n->seqItems() : std::span<const Node* const>();
}
inline std::span<const MapEntry> mapOf(const Node* n) {
  return n ? n->mapEntries() : std::span<const MapEntry>();
}
inline const MapEntry* getEntry(const Node* n, std::string_view key) {
  return n ? n->entry(key) : nullptr;
}
inline std::string_view getStr(const Node* n, std::string_view key) {
  const Node* v = get(n, key);
  return v ? v->str() : std::string_view();
}
inline bool getTrue(const Node* n, std::string_view key) {
  const Node* v = get(n, key);
  return v && v->isTrue();
}

}  // namespace kh
