// Small read helpers for RapidJSON documents of outside formats (OSV, package metadata, image
// configs), where a field may be missing or of another type.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "base/result.h"

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

// The Error for a document that did not parse: RapidJSON's reason at the line and column of
// its byte offset in `text` (columns count bytes, from 1).
inline Error jsonParseError(const rapidjson::Document& d, std::string_view text,
                            const std::string& file) {
  size_t offset = std::min(d.GetErrorOffset(), text.size());
  SourcePos pos{1, 1};
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.col = 1;
    } else {
      ++pos.col;
    }
  }
  return Error{std::string("not JSON: ") + rapidjson::GetParseError_En(d.GetParseError()), file,
               pos};
}

}  // namespace kh
