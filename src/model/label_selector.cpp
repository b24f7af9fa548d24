#include "model/label_selector.h"

#include <fmt/format.h>

#include <algorithm>

namespace kh {

Labels labelsOf(const Node* labels) {
  Labels out;
  for (const MapEntry& e :
       labels && labels->isMap() ? labels->mapEntries() : std::span<const MapEntry>())
    out.emplace_back(e.key, e.value->text);
  return out;
}

std::optional<LabelSelector> parseSelector(const Node* n, std::vector<std::string>& warnings,
                                           std::string_view where) {
  if (!n || n->isNull()) return std::nullopt;
  LabelSelector s;
  for (const MapEntry& e : mapOf(get(n, "matchLabels")))
    s.match_labels.emplace_back(e.key, e.value->text);
  const Node* exprs = get(n, "matchExpressions");
  for (const Node* x : seqOf(exprs)) {
    LabelSelector::Expr ex;
    ex.key = getStr(x, "key");
    std::string_view op = getStr(x, "operator");
    using Op = LabelSelector::Expr::Op;
    ex.op = op == "In"             ? Op::kIn
            : op == "NotIn"        ? Op::kNotIn
            : op == "Exists"       ? Op::kExists
            : op == "DoesNotExist" ? Op::kDoesNotExist
                                   : Op::kInvalid;
    if (ex.op == Op::kInvalid)
      warnings.push_back(fmt::format(
          "{}: unknown selector operator '{}'; the selector matches nothing", where, op));
    const Node* vals = get(x, "values");
    for (const Node* v : seqOf(vals)) ex.values.push_back(v->text);
    s.exprs.push_back(std::move(ex));
  }
  return s;
}

bool LabelSelector::matches(const Labels& labels) const {
  auto find = [&](std::string_view key) -> const std::string_view* {
    for (const auto& [k, v] : labels)
      if (k == key) return &v;
    return nullptr;
  };
  for (const auto& [k, v] : match_labels) {
    const std::string_view* have = find(k);
    if (!have || *have != v) return false;
  }
  using Op = Expr::Op;
  for (const Expr& e : exprs) {
    const std::string_view* have = find(e.key);
    bool in = have && std::find(e.values.begin(), e.values.end(), *have) != e.values.end();
    switch (e.op) {
      case Op::kIn:
        if (!in) return false;
        break;
      case Op::kNotIn:
        if (in) return false;
        break;
      case Op::kExists:
        if (!have) return false;
        break;
      case Op::kDoesNotExist:
        if (have) return false;
        break;
      case Op::kInvalid:
        return false;
    }
  }
  return true;
}

}  // namespace kh
