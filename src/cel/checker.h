// The CEL type checker (issue #24; docs/design/cel.md "Type checking"): deduces the static type
// of every node of a parsed expression from the declarations of its environment (variables and
// their types, every function's overloads with their type parameters), resolving overloads and
// unifying type parameters as cel-go's checker does, and reports what cel-go reports at compile
// time, worded as it words it: undeclared references, calls no overload accepts, selections on
// types without fields, undefined fields of object types, ranges that are not lists or maps, and
// (with homogeneous literals, as Kubernetes configures it) mixed element types of literals.
#pragma once

#include <string>
#include <vector>

#include "cel/ast.h"
#include "cel/parser.h"
#include "cel/types.h"

namespace kh::cel {

// One overload of a function: its parameter types (the receiver first for `x.f(...)`), its
// result; type parameters are written as such in both (`list(A), int -> A`).
struct Overload {
  std::string name;
  bool receiver = false;
  std::vector<Type> params;
  Type result;
  int since = 0;  // the first Kubernetes minor version that has it (0: every version)
};

// Parses "list(A), int -> A" into an overload of `name`.
Overload overload(std::string name, bool receiver, std::string_view signature, int since = 0);

// The overloads of every function the engine evaluates (the CEL standard library, the
// extensions Kubernetes enables, the Kubernetes libraries), with the version of each.
const std::vector<Overload>& libraryOverloads();

struct CheckEnv {
  std::vector<std::pair<std::string, Type>> variables;  // qualified names allowed (`a.b`)
  std::vector<Overload> functions;                      // beyond the libraries
  int k8s_minor = 0;                  // 0: every overload; else those of that version
  bool homogeneous_literals = false;  // list and map literals of one element type
};

struct CheckResult {
  Type type;                  // the expression's type (type parameters left free are dyn)
  std::vector<Issue> issues;  // cel-go's messages
  bool ok() const { return issues.empty(); }
};

CheckResult check(const Expr& e, const CheckEnv& env);

}  // namespace kh::cel
