// Small read helpers for RapidJSON documents of outside formats (OSV, package metadata, image
// configs), where a field may be missing or of another type.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

namespace kh {

// The string member `key` of `o`, or empty when `o` is no object or the member is missing or
// not a string. The view points into the document.
inline std::string_view jsonString(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return {};
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString()
             ? std::string_view(it->value.GetString(), it->value.GetStringLength())
             : std::string_view();
}

// The member `key` of `o`, or a null value when `o` is no object or has no such member.
inline const rapidjson::Value& jsonMember(const rapidjson::Value& o, const char* key) {
  static const rapidjson::Value kNull;
  if (!o.IsObject()) return kNull;
  auto it = o.FindMember(key);
  return it == o.MemberEnd() ? kNull : it->value;
}

}  // namespace kh
