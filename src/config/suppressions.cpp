#include "config/suppressions.h"

#include <fmt/format.h>

#include <set>
#include <unordered_map>

#include "base/strings.h"
#include "checks/registry.h"

namespace kh {
namespace {

constexpr std::string_view kIgnore = "kubeharden.io/ignore";
constexpr std::string_view kIgnoreContainer = "kubeharden.io/ignore.";
constexpr std::string_view kReason = "kubeharden.io/ignore-reason";
constexpr std::string_view kUntil = "kubeharden.io/ignore-until";

struct InlineRule {
  std::vector<std::string_view> ids;
  std::string_view container;  // empty: every container
  std::string_view reason;
  bool lapsed = false;
};

bool listsCheck(const std::vector<std::string_view>& ids, std::string_view id) {
  for (std::string_view i : ids)
    if (i == id || i == "*" || i == "all") return true;
  return false;
}

// The inline rules of one object: from its metadata and its pod template's metadata.
std::vector<InlineRule> inlineRules(const Object& o, const SuppressionOptions& opts,
                                    const std::set<std::string, std::less<>>& known,
                                    std::vector<Diagnostic>& diags) {
  std::vector<InlineRule> rules;
  std::vector<const Node*> sources = {o.annotations};
  if (o.pod) sources.push_back(get(o.pod->template_meta, "annotations"));
  for (const Node* ann : sources) {
    if (!ann || !ann->isMap()) continue;
    std::string_view reason = getStr(ann, kReason);
    const MapEntry* until = ann->entry(kUntil);
    bool lapsed = false;
    if (until) {
      std::string_view d = until->value->text;
      if (!isValidDate(d)) {
        diags.push_back({"bad-ignore-until",
                         fmt::format("{}: {} '{}' is not a date (YYYY-MM-DD); the suppression is "
                                     "not applied",
                                     o.displayName(), kUntil, d),
                         std::string(o.file), until->key_pos});
        lapsed = true;
      } else if (std::string(d) < opts.today) {
        diags.push_back(
            {"suppression-expired",
             fmt::format("{}: suppression expired on {}; its findings are reported again",
                         o.displayName(), d),
             std::string(o.file), until->key_pos});
        lapsed = true;
      }
    }
    for (const MapEntry& e : ann->mapEntries()) {
      InlineRule r;
      if (e.key == kIgnore) {
      } else if (e.key.starts_with(kIgnoreContainer)) {
        r.container = e.key.substr(kIgnoreContainer.size());
      } else {
        continue;
      }
      r.ids = splitTrimmed(e.value->text, ',');
      r.reason = reason;
      r.lapsed = lapsed;
      for (std::string_view id : r.ids) {
        if (id != "*" && id != "all" && !known.count(id))
          diags.push_back(
              {"unknown-check",
               fmt::format("{}: {} names unknown check '{}'", o.displayName(), e.key, id),
               std::string(o.file), e.key_pos});
      }
      if (reason.empty() && !lapsed)
        diags.push_back(
            {"ignore-without-reason",
             fmt::format("{}: {} has no {} annotation", o.displayName(), e.key, kReason),
             std::string(o.file), e.key_pos});
      rules.push_back(std::move(r));
    }
  }
  return rules;
}

bool exceptionMatches(const ConfigException& ex, const Finding& f) {
  if (!listsCheck(std::vector<std::string_view>(ex.checks.begin(), ex.checks.end()), f.check_id))
    return false;
  const ObjectRef& r = f.object->ref;
  return globMatch(ex.kind, r.kind) && globMatch(ex.namespace_, r.namespace_) &&
         globMatch(ex.name, r.name) &&
         (ex.container == "*" || globMatch(ex.container, f.container));
}

}  // namespace

void applySuppressions(std::vector<Finding>& findings, const Config& cfg,
                       const SuppressionOptions& opts, std::vector<Diagnostic>& diags) {
  static const std::set<std::string, std::less<>> known = [] {
    std::set<std::string, std::less<>> ids;
    for (const auto& c : makeCatalogue()) ids.emplace(c->meta().id);
    return ids;
  }();

  std::vector<bool> lapsed(cfg.exceptions.size(), false);
  for (size_t i = 0; i < cfg.exceptions.size(); ++i) {
    const ConfigException& ex = cfg.exceptions[i];
    if (!ex.expires.empty() && ex.expires < opts.today) {
      lapsed[i] = true;
      diags.push_back({"exception-expired",
                       fmt::format("config exception expired on {}; its findings are reported "
                                   "again",
                                   ex.expires),
                       cfg.file, ex.pos});
    }
  }

  std::unordered_map<const Object*, std::vector<InlineRule>> cache;
  for (Finding& f : findings) {
    for (size_t i = 0; i < cfg.exceptions.size() && !f.suppressed; ++i) {
      if (lapsed[i] || !exceptionMatches(cfg.exceptions[i], f)) continue;
      f.suppressed = true;
      f.suppression_kind = "config";
      f.suppression_reason = cfg.exceptions[i].reason;
    }
    if (f.suppressed || !opts.inline_ignores) continue;
    auto it = cache.find(f.object);
    if (it == cache.end())
      it = cache.emplace(f.object, inlineRules(*f.object, opts, known, diags)).first;
    for (const InlineRule& r : it->second) {
      if (r.lapsed || !listsCheck(r.ids, f.check_id)) continue;
      if (!r.container.empty() && r.container != f.container) continue;
      f.suppressed = true;
      f.suppression_kind = "annotation";
      f.suppression_reason = r.reason;
      break;
    }
  }
}

}  // namespace kh
