// Dockerfile LABEL checks: label keys as Docker's naming rules want them (hadolint DL3048), and a
// label schema from the config (hadolint DL3049-DL3058): labels that must be present, with a
// type each (text, url, rfc3339, spdx, hash, semver, email), and optionally no others.
#include <fmt/format.h>

#include <cctype>
#include <map>

#include "base/strings.h"
#include "checks/dockerfile/dockerfile_checks.h"
#include "checks/dockerfile/util.h"

namespace kh::dockerfile_checks {
namespace {

constexpr CheckMeta kKey = dockerfileMeta(
    "dockerfile-label-key-invalid", "LABEL key breaks Docker's naming rules", Severity::kInfo, true,
    "Use lower-case reverse-DNS keys (org.opencontainers.image.source): letters, digits, dots "
    "and dashes, starting with a letter and ending with a letter or digit, no '..' or '--', and "
    "not in Docker's reserved com.docker., io.docker. and org.dockerproject. namespaces.",
    {.hadolint = "DL3048"});

bool validKey(std::string_view k) {
  if (k.empty() || !(k.front() >= 'a' && k.front() <= 'z')) return false;
  char last = k.back();
  if (!((last >= 'a' && last <= 'z') || (last >= '0' && last <= '9'))) return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  if (k.find("..") != std::string_view::npos || k.find("--") != std::string_view::npos)
    return false;
  for (std::string_view reserved : {"com.docker.", "io.docker.", "org.dockerproject."})
    if (k.starts_with(reserved)) return false;
  return true;
}

void key(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kLabel) return;
    for (const dockerfile::Pair& p : in.pairs)
      if (!validKey(p.key.text))
        sink.add(
            self.finding(o, p.key.pos, pathOf(df, in, outer),
                         fmt::format("label key {} breaks Docker's naming rules", p.key.text)));
  });
}

constexpr CheckMeta kSchema = dockerfileMeta(
    "dockerfile-label-schema", "LABELs do not follow the configured schema", Severity::kLow, true,
    "Set every label the schema names, with a value of its type, in the final stage (or a stage "
    "it builds on).",
    {.hadolint = "DL3049,DL3050,DL3051,DL3052,DL3053,DL3054,DL3055,DL3056,DL3058"});

enum class LabelType { kText, kUrl, kRfc3339, kSpdx, kHash, kSemver, kEmail };

std::optional<LabelType> parseType(std::string_view t) {
  static const std::map<std::string_view, LabelType> kTypes = {
      {"text", LabelType::kText},  {"url", LabelType::kUrl},   {"rfc3339", LabelType::kRfc3339},
      {"spdx", LabelType::kSpdx},  {"hash", LabelType::kHash}, {"semver", LabelType::kSemver},
      {"email", LabelType::kEmail}};
  auto it = kTypes.find(t);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

bool isUrl(std::string_view v) {
  size_t colon = v.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  for (char c : v.substr(0, colon))
    if (!std::isalpha(static_cast<unsigned char>(c)) && c != '+' && c != '.' && c != '-')
      return false;
  std::string_view rest = v.substr(colon + 3);
  return !rest.empty() && rest.find(' ') == std::string_view::npos;
}

// RFC 3339 date-time: 2024-05-01T12:30:00Z, with optional fraction and a numeric offset.
bool isRfc3339(std::string_view v) {
  auto digits = [&](size_t at, size_t n) {
    if (at + n > v.size()) return false;
    for (size_t i = at; i < at + n; ++i)
      if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
    return true;
  };
  if (v.size() < 20 || !isValidDate(v.substr(0, 10))) return false;
  if ((v[10] != 'T' && v[10] != 't' && v[10] != ' ') || !digits(11, 2) || v[13] != ':' ||
      !digits(14, 2) || v[16] != ':' || !digits(17, 2))
    return false;
  size_t p = 19;
  if (p < v.size() && v[p] == '.') {
    ++p;
    size_t start = p;
    while (p < v.size() && std::isdigit(static_cast<unsigned char>(v[p]))) ++p;
    if (p == start) return false;
  }
  if (p < v.size() && (v[p] == 'Z' || v[p] == 'z')) return p + 1 == v.size();
  return p + 6 == v.size() && (v[p] == '+' || v[p] == '-') && digits(p + 1, 2) && v[p + 3] == ':' &&
         digits(p + 4, 2);
}

// An SPDX license expression's syntax: ids of letters, digits, '.', '-' and '+', joined by AND,
// OR and WITH, with parentheses. (Whether an id is on the SPDX list is not judged here.)
bool isSpdx(std::string_view v) {
  int depth = 0;
  bool want_id = true;
  for (std::string_view tok : splitTrimmed(v, ' ')) {
    while (want_id && tok.starts_with('(')) {
      ++depth;
      tok.remove_prefix(1);
    }
    size_t closing = 0;
    while (!tok.empty() && tok.back() == ')') {
      ++closing;
      tok.remove_suffix(1);
    }
    if (tok.empty()) return false;
    if (want_id) {
      for (char c : tok)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' &&
            c != ':')
          return false;
      want_id = false;
    } else {
      if (tok != "AND" && tok != "OR" && tok != "WITH" && tok != "and" && tok != "or" &&
          tok != "with")
        return false;
      if (closing) return false;
      want_id = true;
    }
    depth -= static_cast<int>(closing);
    if (depth < 0) return false;
  }
  return !want_id && depth == 0;
}

bool isHash(std::string_view v) {
  if (v.size() < 7 || v.size() > 64) return false;
  for (char c : v)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH[-pre][+build], no leading zeros in numbers.
bool isSemver(std::string_view v) {
  std::string_view core = v.substr(0, v.find_first_of("-+"));
  std::vector<std::string_view> parts = splitTrimmed(core, '.');
  if (parts.size() != 3 || core.find(' ') != std::string_view::npos) return false;
  for (std::string_view n : parts) {
    if (n.empty() || (n.size() > 1 && n[0] == '0')) return false;
    for (char c : n)
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  std::string_view tail = v.substr(core.size());
  for (char c : tail)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+')
      return false;
  return tail.empty() || tail.size() > 1;
}

bool isEmail(std::string_view v) {
  size_t at = v.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= v.size() ||
      v.find('@', at + 1) != std::string_view::npos)
    return false;
  std::string_view domain = v.substr(at + 1);
  return domain.find('.') != std::string_view::npos && !domain.starts_with('.') &&
         !domain.ends_with('.') && v.find(' ') == std::string_view::npos;
}

class LabelSchema final : public Check {
 public:
  const CheckMeta& meta() const override { return kSchema; }

  Status configure(const Node* options) override {
    for (const MapEntry& e : mapOf(options)) {
      if (e.key == "strict") {
        if (!e.value->isTrue() && !e.value->isFalse())
          return Error{fmt::format("check {}: 'strict' must be true or false", kSchema.id), "",
                       e.key_pos};
        strict_ = e.value->isTrue();
      } else if (e.key == "schema" && e.value->isMap()) {
        for (const MapEntry& l : e.value->mapEntries()) {
          auto t = parseType(l.value->str());
          if (!t)
            return Error{fmt::format("check {}: label {} has type '{}' (expected text, url, "
                                     "rfc3339, spdx, hash, semver or email)",
                                     kSchema.id, l.key, l.value->text),
                         "", l.value->pos};
          schema_.emplace(std::string(l.key), *t);
        }
      } else {
        return Error{fmt::format("check {}: unknown option '{}' (expected 'schema: {{label: "
                                 "type}}' and 'strict: true|false')",
                                 kSchema.id, e.key),
                     "", e.key_pos};
      }
    }
    return {};
  }

  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (schema_.empty() || !o.dockerfile || o.dockerfile->stages.empty()) return;
    const Dockerfile& df = *o.dockerfile;
    // The labels of the final stage and of the stages it builds on.
    std::map<std::string_view, std::pair<const dockerfile::Pair*, const Instruction*>> labels;
    for (int32_t s = static_cast<int32_t>(df.stages.size()) - 1; s >= 0;
         s = df.stages[static_cast<size_t>(s)].base_stage) {
      const dockerfile::Stage& st = df.stages[static_cast<size_t>(s)];
      for (uint32_t i = st.from; i < st.end; ++i) {
        const Instruction& in = df.instructions[i];
        if (in.keyword != Keyword::kLabel) continue;
        for (const dockerfile::Pair& p : in.pairs) labels.emplace(p.key.text, std::pair{&p, &in});
      }
    }
    const Instruction& from = df.instructions[df.stages.back().from];
    for (const auto& [name, type] : schema_) {
      auto it = labels.find(name);
      if (it == labels.end()) {
        report(o, sink, from.pos, pathOf(df, from), "missing",
               fmt::format("label {} is missing from the final stage", name));
        continue;
      }
      const auto& [pair, in] = it->second;
      std::string_view v = pair->value.text;
      std::string where = pathOf(df, *in);
      if (v.empty()) {
        report(o, sink, pair->key.pos, where, "empty", fmt::format("label {} is empty", name));
        continue;
      }
      if (v.find('$') != std::string_view::npos) continue;  // set from a build argument
      const char* want = nullptr;
      const char* rule = nullptr;
      switch (type) {
        case LabelType::kText:
          break;
        case LabelType::kUrl:
          if (!isUrl(v)) want = "a URL", rule = "url";
          break;
        case LabelType::kRfc3339:
          if (!isRfc3339(v)) want = "an RFC 3339 time", rule = "rfc3339";
          break;
        case LabelType::kSpdx:
          if (!isSpdx(v)) want = "an SPDX license expression", rule = "spdx";
          break;
        case LabelType::kHash:
          if (!isHash(v)) want = "a git commit hash", rule = "hash";
          break;
        case LabelType::kSemver:
          if (!isSemver(v)) want = "a semantic version", rule = "semver";
          break;
        case LabelType::kEmail:
          if (!isEmail(v)) want = "an email address", rule = "email";
          break;
      }
      if (want)
        report(o, sink, pair->value.pos, where, rule,
               fmt::format("label {}={} is not {}", name, v, want));
    }
    if (!strict_) return;
    for (const auto& [name, at] : labels)
      if (!schema_.count(std::string(name)))
        report(o, sink, at.first->key.pos, pathOf(df, *at.second), "superfluous",
               fmt::format("label {} is not in the schema", name));
  }

 private:
  void report(const Object& o, FindingSink& sink, SourcePos pos, std::string path,
              std::string_view rule, std::string msg) const {
    Finding f = finding(o, pos, std::move(path), std::move(msg));
    f.rule = rule;
    sink.add(std::move(f));
  }

  std::map<std::string, LabelType, std::less<>> schema_;
  bool strict_ = false;
};

}  // namespace
}  // namespace kh::dockerfile_checks

namespace kh {

void addDockerfileLabelChecks(std::vector<std::unique_ptr<Check>>& out) {
  using namespace dockerfile_checks;
  out.push_back(std::make_unique<FnCheck>(kKey, key));
  out.push_back(std::make_unique<LabelSchema>());
}

}  // namespace kh
