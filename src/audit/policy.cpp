#include "audit/policy.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/strings.h"

namespace kh::audit {
namespace {

bool has(const std::vector<std::string_view>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// A list of strings, each item checked to be a string.
std::vector<std::string_view> strings(const Node* list, const std::string& path,
                                      std::vector<Policy::Problem>& problems) {
  std::vector<std::string_view> out;
  if (!list || list->isNull()) return out;
  if (!list->isSeq()) {
    problems.push_back({"must be a list of strings", path, list->pos});
    return out;
  }
  size_t i = 0;
  for (const Node* item : list->seqItems()) {
    if (!item->isString())
      problems.push_back({"must be a string", fmt::format("{}[{}]", path, i), item->pos});
    else
      out.push_back(item->text);
    ++i;
  }
  return out;
}

void checkStages(const std::vector<std::string_view>& stages, const Node* list,
                 const std::string& path, std::vector<Policy::Problem>& problems) {
  size_t i = 0;
  for (std::string_view s : stages) {
    if (std::find(std::begin(kStages), std::end(kStages), s) == std::end(kStages))
      problems.push_back({fmt::format("unsupported stage \"{}\" (one of RequestReceived, "
                                      "ResponseStarted, ResponseComplete, Panic)",
                                      s),
                          fmt::format("{}[{}]", path, i), list->seqItems()[i]->pos});
    ++i;
  }
}

bool pathMatches(std::string_view path, std::string_view spec) {
  if (spec == "*" || spec == path) return true;
  if (spec.ends_with('*')) {
    while (spec.ends_with('*')) spec.remove_suffix(1);
    return path.starts_with(spec);
  }
  return false;
}

}  // namespace

std::string_view levelName(Level l) {
  switch (l) {
    case Level::kNone:
      return "None";
    case Level::kMetadata:
      return "Metadata";
    case Level::kRequest:
      return "Request";
    case Level::kRequestResponse:
      return "RequestResponse";
  }
  return "None";
}

std::optional<Level> parseLevel(std::string_view s) {
  if (s == "None") return Level::kNone;
  if (s == "Metadata") return Level::kMetadata;
  if (s == "Request") return Level::kRequest;
  if (s == "RequestResponse") return Level::kRequestResponse;
  return std::nullopt;
}

Policy readPolicy(const Node* root) {
  Policy p;
  p.node = root;
  auto& problems = p.problems;
  p.omit_stages = strings(get(root, "omitStages"), "omitStages", problems);
  if (const Node* s = get(root, "omitStages"); s && s->isSeq())
    checkStages(p.omit_stages, s, "omitStages", problems);
  p.omit_managed_fields = getTrue(root, "omitManagedFields");
  const Node* rules = get(root, "rules");
  if (rules && !rules->isSeq() && !rules->isNull())
    problems.push_back({"must be a list of rules", "rules", rules->pos});
  size_t i = 0;
  for (const Node* r : seqOf(rules)) {
    std::string at = fmt::format("rules[{}]", i);
    PolicyRule rule;
    rule.index = i++;
    rule.node = r;
    if (!r->isMap()) {
      problems.push_back({"a rule must be a map", at, r->pos});
      continue;
    }
    const Node* level = get(r, "level");
    auto l = level ? parseLevel(level->str()) : std::nullopt;
    if (!level || level->str().empty()) {
      problems.push_back({"level is required", at + ".level", level ? level->pos : r->pos});
      continue;
    }
    if (!l) {
      problems.push_back({fmt::format("unsupported level \"{}\" (one of None, Metadata, Request, "
                                      "RequestResponse)",
                                      level->text),
                          at + ".level", level->pos});
      continue;
    }
    rule.level = *l;
    rule.users = strings(get(r, "users"), at + ".users", problems);
    rule.user_groups = strings(get(r, "userGroups"), at + ".userGroups", problems);
    rule.verbs = strings(get(r, "verbs"), at + ".verbs", problems);
    rule.namespaces = strings(get(r, "namespaces"), at + ".namespaces", problems);
    rule.non_resource_urls = strings(get(r, "nonResourceURLs"), at + ".nonResourceURLs", problems);
    rule.omit_stages = strings(get(r, "omitStages"), at + ".omitStages", problems);
    if (const Node* s = get(r, "omitStages"); s && s->isSeq())
      checkStages(rule.omit_stages, s, at + ".omitStages", problems);
    if (const Node* o = get(r, "omitManagedFields"); o && (o->isTrue() || o->isFalse()))
      rule.omit_managed_fields = o->isTrue();
    size_t j = 0;
    for (const Node* gr : seqOf(get(r, "resources"))) {
      std::string grp = fmt::format("{}.resources[{}]", at, j++);
      GroupResources g;
      g.group = getStr(gr, "group");
      g.resources = strings(get(gr, "resources"), grp + ".resources", problems);
      g.resource_names = strings(get(gr, "resourceNames"), grp + ".resourceNames", problems);
      if (!g.resource_names.empty() && g.resources.empty())
        problems.push_back({"resourceNames need resources to name", grp + ".resourceNames",
                            get(gr, "resourceNames")->pos});
      rule.resources.push_back(std::move(g));
    }
    if (!rule.non_resource_urls.empty() && (!rule.resources.empty() || !rule.namespaces.empty()))
      problems.push_back({"a rule with nonResourceURLs cannot also name resources or namespaces",
                          at + ".nonResourceURLs", get(r, "nonResourceURLs")->pos});
    for (size_t k = 0; k < rule.non_resource_urls.size(); ++k) {
      std::string_view u = rule.non_resource_urls[k];
      const Node* item = get(r, "nonResourceURLs")->seqItems()[k];
      if (u == "*") continue;
      if (!u.starts_with('/'))
        problems.push_back({fmt::format("non-resource URL \"{}\" must begin with /", u),
                            fmt::format("{}.nonResourceURLs[{}]", at, k), item->pos});
      else if (size_t star = u.find('*'); star != std::string_view::npos && star + 1 != u.size())
        problems.push_back(
            {fmt::format("non-resource URL \"{}\": a wildcard may only end the path", u),
             fmt::format("{}.nonResourceURLs[{}]", at, k), item->pos});
    }
    p.rules.push_back(std::move(rule));
  }
  return p;
}

bool ruleMatches(const PolicyRule& rule, const Request& r) {
  if (!rule.users.empty() && !has(rule.users, r.user)) return false;
  if (!rule.user_groups.empty()) {
    bool any = false;
    for (const std::string& g : r.groups) any |= has(rule.user_groups, g);
    if (!any) return false;
  }
  if (!rule.verbs.empty() && !has(rule.verbs, r.verb)) return false;
  if (!rule.namespaces.empty() || !rule.resources.empty()) {
    if (!r.resource_request) return false;
    if (!rule.namespaces.empty() && !has(rule.namespaces, r.namespace_)) return false;
    if (rule.resources.empty()) return true;
    std::string combined = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
    for (const GroupResources& g : rule.resources) {
      if (g.group != r.api_group) continue;
      if (g.resources.empty()) return true;
      if (!g.resource_names.empty() && !has(g.resource_names, r.name)) continue;
      for (std::string_view res : g.resources) {
        if (res == combined || res == "*") return true;
        if (!r.subresource.empty() && res.starts_with("*/") && res.substr(2) == r.subresource)
          return true;
        if (res.ends_with("/*") && res.substr(0, res.size() - 2) == r.resource) return true;
      }
    }
    return false;
  }
  if (!rule.non_resource_urls.empty()) {
    if (r.resource_request) return false;
    for (std::string_view spec : rule.non_resource_urls)
      if (pathMatches(r.path, spec)) return true;
    return false;
  }
  return true;
}

Decision evaluate(const Policy& p, const Request& r) {
  Decision d;
  d.omit_managed_fields = p.omit_managed_fields;
  d.omit_stages = p.omit_stages;
  for (const PolicyRule& rule : p.rules) {
    if (!ruleMatches(rule, r)) continue;
    d.rule = &rule;
    d.level = rule.level;
    for (std::string_view s : rule.omit_stages)
      if (!has(d.omit_stages, s)) d.omit_stages.push_back(s);
    if (rule.omit_managed_fields) d.omit_managed_fields = *rule.omit_managed_fields;
    break;
  }
  std::sort(d.omit_stages.begin(), d.omit_stages.end());
  d.omit_stages.erase(std::unique(d.omit_stages.begin(), d.omit_stages.end()), d.omit_stages.end());
  return d;
}

std::string resourceName(const Request& r) {
  std::string what = r.resource;
  if (!r.api_group.empty()) what += "." + r.api_group;
  if (!r.subresource.empty()) what += "/" + r.subresource;
  return what;
}

std::string describe(const Request& r) {
  std::string who =
      r.groups.empty() ? r.user : fmt::format("{} ({})", r.user, join(r.groups, ", "));
  if (!r.resource_request) return fmt::format("{} {} as {}", r.verb, r.path, who);
  std::string what = resourceName(r);
  if (!r.name.empty()) what += " " + r.name;
  return fmt::format("{} {}{} as {}", r.verb, what,
                     r.namespace_.empty() ? "" : " in namespace " + r.namespace_, who);
}

}  // namespace kh::audit
