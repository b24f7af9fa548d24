#include "vuln/ignore.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/strings.h"
#include "load/loader.h"
#include "load/yaml_reader.h"

namespace kh::vuln {

Result<std::vector<IgnoreRule>> loadIgnoreFile(const std::string& path) {
  SourceFile src;
  LoadOptions lo;
  if (!readSource(path, lo, src)) return *src.error;
  std::vector<Diagnostic> diags;
  ParseOutput out = parseYamlStream(src.buffer, path, src.arena, lo.limits, diags);
  if (out.error) return *out.error;
  for (const Diagnostic& d : diags) return Error{d.message, path, d.pos};
  std::vector<IgnoreRule> rules;
  if (out.documents.empty() || !out.documents[0].root) return rules;
  const Node* root = out.documents[0].root;
  if (!root->isMap())
    return Error{"the ignore file must be a map with a `vulnerabilities` list", path, root->pos};
  for (const MapEntry& e : root->mapEntries())
    if (e.key != "vulnerabilities")
      return Error{fmt::format("unknown key '{}' (expected `vulnerabilities`)", e.key), path,
                   e.key_pos};
  const Node* list = root->get("vulnerabilities");
  if (list && !list->isSeq() && !list->isNull())
    return Error{"`vulnerabilities` must be a list", path, list->pos};
  for (const Node* item : seqOf(list)) {
    if (!item->isMap())
      return Error{"each ignore must be a map (id, reason, ...)", path, item->pos};
    IgnoreRule r;
    r.pos = item->pos;
    for (const MapEntry& e : item->mapEntries()) {
      std::string value(e.value->isScalar() ? e.value->text : std::string_view());
      if (e.key == "id")
        r.id = value;
      else if (e.key == "package")
        r.package = value;
      else if (e.key == "reason")
        r.reason = value;
      else if (e.key == "expires")
        r.expires = value;
      else
        return Error{fmt::format("unknown key '{}' (id, package, reason, expires)", e.key), path,
                     e.key_pos};
    }
    if (r.id.empty()) return Error{"an ignore needs an `id` (advisory ID or alias)", path, r.pos};
    if (trim(r.reason).empty())
      return Error{fmt::format("the ignore of {} needs a `reason`", r.id), path, r.pos};
    if (!r.expires.empty() && !isValidDate(r.expires))
      return Error{fmt::format("`expires` of {} is not a date (YYYY-MM-DD): {}", r.id, r.expires),
                   path, r.pos};
    rules.push_back(std::move(r));
  }
  return rules;
}

IgnoreOutcome applyIgnores(std::vector<Vulnerability>& vulns, const std::vector<IgnoreRule>& rules,
                           std::string_view today) {
  IgnoreOutcome out;
  std::vector<const IgnoreRule*> live;
  for (const IgnoreRule& r : rules) {
    if (!r.expires.empty() && r.expires < today)
      out.lapsed.push_back(&r);
    else
      live.push_back(&r);
  }
  std::erase_if(vulns, [&](const Vulnerability& v) {
    for (const IgnoreRule* r : live) {
      bool id =
          r->id == v.id || std::find(v.aliases.begin(), v.aliases.end(), r->id) != v.aliases.end();
      if (!id || (!r->package.empty() && r->package != v.package->name)) continue;
      out.ignored.push_back({v, r});
      return true;
    }
    return false;
  });
  return out;
}

}  // namespace kh::vuln
