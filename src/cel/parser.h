// The CEL parser (docs/policies.md): the whole grammar of the CEL language definition, the
// optional syntax Kubernetes enables (`a.?b`, `a[?i]`, `[?x]`, `{?k: v}`), the macros expanded as
// cel-go expands them (has, all, exists, exists_one/existsOne, map, filter; the two-variable
// comprehensions; cel.bind; optMap, optFlatMap), the limits (expression size in code points,
// nesting depth) and errors formatted as cel-go formats them:
//
//   ERROR: <input>:1:5: Syntax error: ...
//    | a + )
//    | ....^
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cel/ast.h"

namespace kh::cel {

struct ParseOptions {
  bool optional_syntax = true;          // `?.`, `[?`, `?` in list and map literals
  bool two_variable_macros = true;      // all(i, v, p), transformList, transformMap, ...
  bool bind_macro = true;               // cel.bind(name, init, expr)
  bool optional_macros = true;          // x.optMap(v, f), x.optFlatMap(v, f)
  bool sort_by_macro = true;            // x.sortBy(v, key) (the lists extension, version 2+)
  bool identifier_escapes = false;      // a.`b-c` (Kubernetes does not enable it)
  int max_recursion_depth = 250;        // nested expressions (parentheses, arguments, ...)
  size_t max_code_points = 100000;      // the source's size
  std::string description = "<input>";  // names the source in messages
};

// A problem in the source: where (a byte offset; -1 when it has no place) and what.
struct Issue {
  int64_t offset = -1;
  std::string message;
};

struct ParseResult {
  ExprPtr expr;  // null when the source has errors
  std::vector<Issue> errors;
  int64_t max_id = 0;  // the largest node id given
  bool ok() const { return errors.empty(); }
};

ParseResult parse(std::string_view source, const ParseOptions& opts = {});

// The issues as cel-go prints them: "ERROR: DESC:LINE:COL: MESSAGE", the source line (tabs shown
// as spaces) and a caret under the column (code points; East Asian wide characters as wide dots),
// one issue after the other, in the order of their offsets.
std::string formatIssues(std::string_view source, std::string_view description,
                         const std::vector<Issue>& issues);

// Line (1-based) and column (0-based, in code points) of a byte offset.
struct Location {
  int line = -1, column = 0;
};
Location locate(std::string_view source, int64_t offset);

// The expression as cel-go's debug printer writes it (the form the conformance suites use);
// `kinds` adds each node's kind (`^#*expr.Expr_IdentExpr#`).
std::string debugString(const Expr& e, bool kinds = false);

}  // namespace kh::cel
