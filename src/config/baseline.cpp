#include "config/baseline.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <fstream>
#include <sstream>

#include "base/strings.h"

namespace kh {

std::string fingerprintOf(const Finding& f) {
  const ObjectRef& r = f.object->ref;
  std::string key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", f.check_id, r.api_version,
                                r.kind, r.namespace_, r.name, f.container, f.path);
  if (!f.rule.empty()) fmt::format_to(std::back_inserter(key), "\x1f{}", f.rule);
  return fingerprintHex(key);
}

Result<std::unordered_set<std::string>> loadBaseline(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the baseline file", path, {}};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError())
    return Error{
        fmt::format("the baseline is not valid JSON ({} at byte {})",
                    rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset()),
        path,
        {}};
  if (!doc.IsObject() || !doc.HasMember("schema") || !doc["schema"].IsString() ||
      std::string_view(doc["schema"].GetString()) != "kubeharden/scan/v1")
    return Error{
        "the baseline is not a kubeharden JSON report (schema kubeharden/scan/v1)", path, {}};
  std::unordered_set<std::string> out;
  if (!doc.HasMember("findings") || !doc["findings"].IsArray()) return out;
  for (const auto& f : doc["findings"].GetArray()) {
    if (f.IsObject() && f.HasMember("fingerprint") && f["fingerprint"].IsString())
      out.emplace(f["fingerprint"].GetString());
  }
  return out;
}

}  // namespace kh
