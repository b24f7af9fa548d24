#include "image/license_policy.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/strings.h"
#include "image/licenses.h"

namespace kh::image {

namespace {

struct Eval {
  LicenseVerdict v = LicenseVerdict::kAllowed;
  std::vector<std::string> denied;
};

class Parser {
 public:
  Parser(std::string_view expr, const std::vector<std::string>& deny) : deny_(deny) {
    for (size_t i = 0; i < expr.size();) {
      char c = expr[i];
      if (c == ' ' || c == '\t') {
        ++i;
      } else if (c == '(' || c == ')') {
        tokens_.emplace_back(expr.substr(i, 1));
        ++i;
      } else {
        size_t end = expr.find_first_of(" \t()", i);
        if (end == std::string_view::npos) end = expr.size();
        tokens_.emplace_back(expr.substr(i, end - i));
        i = end;
      }
    }
  }

  bool parse(Eval& out) {
    if (!orExpr(out)) return false;
    return at_ == tokens_.size();
  }

 private:
  bool op(std::string_view word) {
    if (at_ < tokens_.size() && toLower(tokens_[at_]) == toLower(word)) {
      ++at_;
      return true;
    }
    return false;
  }
  // OR is a choice (the best side), AND is not (the worst); denied identifiers are named only
  // when the result is denied.
  static void merge(Eval& into, Eval&& from, bool choice) {
    into.v = choice ? std::min(into.v, from.v) : std::max(into.v, from.v);
    for (std::string& d : from.denied)
      if (std::find(into.denied.begin(), into.denied.end(), d) == into.denied.end())
        into.denied.push_back(std::move(d));
    if (into.v != LicenseVerdict::kDenied) into.denied.clear();
  }
  bool orExpr(Eval& out) {
    if (!andExpr(out)) return false;
    while (op("OR")) {
      Eval rhs;
      if (!andExpr(rhs)) return false;
      merge(out, std::move(rhs), true);
    }
    return true;
  }
  bool andExpr(Eval& out) {
    if (!withExpr(out)) return false;
    while (op("AND")) {
      Eval rhs;
      if (!withExpr(rhs)) return false;
      merge(out, std::move(rhs), false);
    }
    return true;
  }
  bool withExpr(Eval& out) {
    if (!atom(out)) return false;
    if (op("WITH")) {
      if (at_ >= tokens_.size() || tokens_[at_] == "(" || tokens_[at_] == ")") return false;
      ++at_;  // the exception does not change the licence's verdict
    }
    return true;
  }
  bool atom(Eval& out) {
    if (at_ >= tokens_.size()) return false;
    std::string_view t = tokens_[at_];
    if (t == "(") {
      ++at_;
      if (!orExpr(out) || !op(")")) return false;
      return true;
    }
    if (t == ")" || toLower(t) == "and" || toLower(t) == "or" || toLower(t) == "with") return false;
    ++at_;
    out = leaf(t);
    return true;
  }
  Eval leaf(std::string_view id) const {
    Eval e;
    for (const std::string& d : deny_)
      if (globMatch(toLower(d), toLower(id))) {  // identifiers compare without case
        e.v = LicenseVerdict::kDenied;
        e.denied.emplace_back(id);
        return e;
      }
    // Public domain is a known state (the normaliser's own LicenseRef); other LicenseRef-... and
    // words that are not SPDX identifiers are unknown.
    if (!isKnownSpdxId(id) && id != "LicenseRef-public-domain") e.v = LicenseVerdict::kUnknown;
    return e;
  }

  const std::vector<std::string>& deny_;
  std::vector<std::string_view> tokens_;
  size_t at_ = 0;
};

}  // namespace

Result<std::vector<std::string>> parseLicenseDenyList(std::string_view list,
                                                      std::vector<std::string>* warnings) {
  std::vector<std::string> out;
  std::vector<std::string_view> known = knownSpdxIds();
  for (std::string_view item : splitTrimmed(list, ',')) {
    bool ok = std::all_of(item.begin(), item.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '+' ||
             c == '*';
    });
    if (!ok)
      return Error{fmt::format("'{}' is not an SPDX licence identifier (one per item, "
                               "comma-separated; '*' as a wildcard)",
                               item),
                   {},
                   {}};
    std::string id(item);
    if (item.find('*') == std::string_view::npos) {
      auto same = std::find_if(known.begin(), known.end(),
                               [&](std::string_view k) { return toLower(k) == toLower(item); });
      if (same != known.end())
        id = std::string(*same);
      else if (warnings && !item.starts_with("LicenseRef-"))
        warnings->push_back(
            fmt::format("'{}' is not an SPDX licence identifier kubeharden "
                        "knows; it is compared as written",
                        item));
    }
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(std::move(id));
  }
  return out;
}

LicenseJudgement judgeLicenses(const std::vector<std::string>& licenses,
                               const std::vector<std::string>& deny) {
  LicenseJudgement j;
  if (licenses.empty()) {
    j.verdict = LicenseVerdict::kUnknown;
    return j;
  }
  for (const std::string& l : licenses) {
    // Declared text that is not an SPDX expression ("GPL version 2 or later, with some
    // exceptions") has words that are not operators kubeharden may trust: unknown, as is an
    // expression that does not parse (and nothing it named so far counts as denied).
    bool prose = !isSpdxExpression(l) && l.find_first_of(" ()") != std::string::npos;
    Eval e;
    if (prose || !Parser(l, deny).parse(e)) e = Eval{LicenseVerdict::kUnknown, {}};
    if (e.v > j.verdict) j.verdict = e.v;
    for (std::string& d : e.denied)
      if (std::find(j.denied.begin(), j.denied.end(), d) == j.denied.end())
        j.denied.push_back(std::move(d));
  }
  if (j.verdict != LicenseVerdict::kDenied) j.denied.clear();
  return j;
}

std::vector<LicenseFinding> evaluateLicensePolicy(const Inventory& inv,
                                                  const LicensePolicy& policy) {
  std::vector<LicenseFinding> out;
  for (const Package& p : inv.packages) {
    LicenseJudgement j = judgeLicenses(p.licenses, policy.deny);
    if (j.verdict != LicenseVerdict::kAllowed) out.push_back({&p, std::move(j)});
  }
  return out;
}

}  // namespace kh::image
