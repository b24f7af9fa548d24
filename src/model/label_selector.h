// Kubernetes label selectors (matchLabels AND matchExpressions with In, NotIn, Exists,
// DoesNotExist), shared by NetworkPolicy analysis and RBAC aggregation. Views into documents.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/node.h"

namespace kh {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

Labels labelsOf(const Node* labels);

struct LabelSelector {
  struct Expr {
    enum class Op { kIn, kNotIn, kExists, kDoesNotExist, kInvalid } op;
    std::string_view key;
    std::vector<std::string_view> values;
  };
  std::vector<std::pair<std::string_view, std::string_view>> match_labels;
  std::vector<Expr> exprs;
  bool matchesEverything() const { return match_labels.empty() && exprs.empty(); }
  // NotIn and DoesNotExist match objects that lack the key; an invalid operator matches nothing.
  bool matches(const Labels& labels) const;
};

// Nothing when `n` is absent or null (a missing selector), else the parsed selector. Unknown
// operators are appended to `warnings` with `where`.
std::optional<LabelSelector> parseSelector(const Node* n, std::vector<std::string>& warnings,
                                           std::string_view where);

}  // namespace kh
