#include "config/suppressions.h"

#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>

#include "base/strings.h"
#include "checks/registry.h"
#include "dockerfile/model.h"

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
  uint32_t from_line = 0, to_line = UINT32_MAX;  // a Dockerfile pragma's instruction
  std::string reason_text;                       // when the reason is made up here
};

bool listsCheck(const std::vector<std::string_view>& ids, std::string_view id) {
  for (std::string_view i : ids)
    if (i == id || i == "*" || i == "all") return true;
  return false;
}

// hadolint's codes (DL3008, SC2086) to the checks that cover them.
const std::multimap<std::string, std::string, std::less<>>& hadolintCodes() {
  static const auto* codes = [] {
    auto* m = new std::multimap<std::string, std::string, std::less<>>();
    for (const auto& c : makeCatalogue())
      for (std::string_view code : splitTrimmed(c->meta().refs.hadolint, ','))
        m->emplace(std::string(code), std::string(c->meta().id));
    return m;
  }();
  return *codes;
}

// `key=value` and `key="value with spaces"` words of a pragma.
std::vector<std::pair<std::string_view, std::string_view>> pragmaFields(std::string_view s) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  size_t p = 0;
  while (p < s.size()) {
    while (p < s.size() && (s[p] == ' ' || s[p] == '\t')) ++p;
    size_t start = p;
    while (p < s.size() && s[p] != '=' && s[p] != ' ' && s[p] != '\t') ++p;
    std::string_view key = s.substr(start, p - start);
    std::string_view value;
    if (p < s.size() && s[p] == '=') {
      ++p;
      if (p < s.size() && (s[p] == '"' || s[p] == '\'')) {
        char q = s[p++];
        size_t end = s.find(q, p);
        if (end == std::string_view::npos) end = s.size();
        value = s.substr(p, end - p);
        p = end == s.size() ? end : end + 1;
      } else {
        size_t vs = p;
        while (p < s.size() && s[p] != ' ' && s[p] != '\t') ++p;
        value = s.substr(vs, p - vs);
      }
    }
    if (!key.empty()) out.emplace_back(key, value);
  }
  return out;
}

// The pragmas of a Dockerfile: `# hadolint ignore=DL3008,DL3015` and
// `# kubeharden ignore=ID,ID reason="..." [until=YYYY-MM-DD]` for the next instruction, and the
// same with `global` for the whole file.
std::vector<InlineRule> dockerfileRules(const Object& o, const SuppressionOptions& opts,
                                        const std::set<std::string, std::less<>>& known,
                                        std::vector<Diagnostic>& diags) {
  std::vector<InlineRule> rules;
  const dockerfile::Dockerfile& df = *o.dockerfile;
  for (const dockerfile::Comment& c : df.comments) {
    std::string_view t = c.text;
    bool hadolint = t.starts_with("hadolint ");
    if (!hadolint && !t.starts_with("kubeharden ")) continue;
    t.remove_prefix(hadolint ? 9 : 11);
    t = trim(t);
    bool global = t.starts_with("global ");
    if (global) t = trim(t.substr(7));
    if (!t.starts_with("ignore=")) continue;  // `hadolint shell=...` and others: not ours
    InlineRule r;
    std::string_view ids, reason, until;
    for (auto [k, v] : pragmaFields(t)) {
      if (k == "ignore")
        ids = v;
      else if (k == "reason")
        reason = v;
      else if (k == "until")
        until = v;
    }
    for (std::string_view id : splitTrimmed(ids, ',')) {
      if (id == "*" || id == "all" || known.count(id)) {
        r.ids.push_back(id);
        continue;
      }
      auto [lo, hi] = hadolintCodes().equal_range(id);
      if (lo == hi) {
        diags.push_back({"unknown-check",
                         fmt::format("{}: pragma names '{}', which no kubeharden check covers",
                                     o.displayName(), id),
                         std::string(o.file), c.pos});
        continue;
      }
      for (auto it = lo; it != hi; ++it) r.ids.push_back(known.find(it->second)->c_str());
    }
    if (!until.empty()) {
      if (!isValidDate(until)) {
        diags.push_back({"bad-ignore-until",
                         fmt::format("{}: until '{}' is not a date (YYYY-MM-DD); the suppression "
                                     "is not applied",
                                     o.displayName(), until),
                         std::string(o.file), c.pos});
        r.lapsed = true;
      } else if (std::string(until) < opts.today) {
        diags.push_back({"suppression-expired",
                         fmt::format("{}: suppression expired on {}; its findings are reported "
                                     "again",
                                     o.displayName(), until),
                         std::string(o.file), c.pos});
        r.lapsed = true;
      }
    }
    if (hadolint) {
      r.reason_text = fmt::format("hadolint pragma on line {}", c.pos.line);
    } else if (reason.empty()) {
      diags.push_back(
          {"ignore-without-reason",
           fmt::format("{}: kubeharden ignore pragma has no reason=\"...\"", o.displayName()),
           std::string(o.file), c.pos});
    }
    r.reason = reason;
    if (!global) {
      // The first instruction after the comment, all of its lines.
      const dockerfile::Instruction* next = nullptr;
      for (const dockerfile::Instruction& in : df.instructions)
        if (in.pos.line > c.pos.line) {
          next = &in;
          break;
        }
      if (!next) continue;
      r.from_line = next->pos.line;
      r.to_line = next->end_line;
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

// The inline rules of one object: from its metadata and its pod template's metadata, or a
// Dockerfile's pragmas.
std::vector<InlineRule> inlineRules(const Object& o, const SuppressionOptions& opts,
                                    const std::set<std::string, std::less<>>& known,
                                    std::vector<Diagnostic>& diags) {
  if (o.dockerfile) return dockerfileRules(o, opts, known, diags);
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
        if (id != "*" && id != "all" && !known.count(id) && !id.starts_with("vap:") &&
            !id.starts_with("vpol:"))
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
         (ex.container == "*" || globMatch(ex.container, f.container)) &&
         (ex.file == "*" || globMatch(ex.file, reportedFile(f)) ||
          globMatch(ex.file, f.object->file));
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
      if (f.pos.line < r.from_line || f.pos.line > r.to_line) continue;
      f.suppressed = true;
      f.suppression_kind = f.object->dockerfile ? "pragma" : "annotation";
      f.suppression_reason = r.reason.empty() ? r.reason_text : std::string(r.reason);
      break;
    }
  }
}

}  // namespace kh
