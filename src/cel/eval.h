// The CEL evaluator (issue #24; docs/design/cel.md "Evaluator"): an expression is planned once
// against an environment (its variables, the Kubernetes version whose libraries it may call) and
// then evaluated any number of times, from any number of threads, over values that may borrow
// the input document (cel/value.h).
//
// Planning resolves what evaluation would otherwise look up each time: every identifier to a
// variable slot, a comprehension variable's place or a type; every call to the function (and the
// overloads) it names, with constant regular expressions compiled once. Evaluation then walks the
// tree with no name lookup and no allocation beyond the values it makes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cel/ast.h"
#include "cel/checker.h"
#include "cel/parser.h"
#include "cel/value.h"

namespace kh::cel {

// What an expression is compiled against.
struct Env {
  std::vector<std::string> variables;  // names (`object`, `a.b.c`); a variable's slot is its index
  // 0: every library the engine has (the CEL conformance profile); else the minor version of
  // Kubernetes 1.x whose CEL environment applies: a function it lacks is an undeclared reference.
  int k8s_minor = 0;
  // The expression is type-checked (cel/checker.h) before it is planned: undeclared identifiers
  // and functions, calls no overload accepts and the checker's other findings are compile
  // errors, worded as cel-go's checker words them. Otherwise nothing is checked and an
  // undeclared name is an error when (and only if) evaluation reaches it.
  bool strict = false;
  // strict: the variables' types, in the order of `variables` (missing ones are dyn), and
  // whether list and map literals must have one element type (Kubernetes: they must).
  std::vector<Type> types;
  bool homogeneous_literals = false;
  ParseOptions parse;
};

// A variable whose fields are computed when first read (Kubernetes' `variables`): selecting a
// field on it asks `field` (false: no such field); using it whole asks `all`.
struct LazyFields {
  virtual ~LazyFields() = default;
  virtual bool field(std::string_view name, Value* out) = 0;
  virtual Value all() = 0;
};

struct EvalOptions {
  // Every node visited costs a step; past this bound the evaluation stops with the error
  // "operation cancelled: step limit exceeded" (no expression runs unbounded).
  uint64_t max_steps = 10'000'000;
  // Kubernetes' runtime cost (cel-go's cost units: an identifier or a field selection 1, a list
  // literal 10, a map literal 30, a call its function's cost, string work by length, ...): past
  // this limit the evaluation stops with "operation cancelled: actual cost limit exceeded".
  uint64_t cost_limit = UINT64_MAX;
  uint64_t* actual_cost = nullptr;  // receives the evaluation's cost
  // The variable (by slot) whose fields are lazy, and what computes them.
  size_t lazy_slot = SIZE_MAX;
  LazyFields* lazy = nullptr;
};

// The Kubernetes versions a profile may name (1.27, the authorizer library, to 1.35), and their
// minor version from "1.30", "v1.30" or "1.30.2" (nullopt for anything else, or outside that
// range).
inline constexpr int kMinK8sMinor = 27;
inline constexpr int kMaxK8sMinor = 35;
std::optional<int> parseKubernetesMinor(std::string_view version);

// Kubernetes' limits (k8s.io/apiserver pkg/apis/cel): one expression's runtime cost, and the
// budget of one ValidatingAdmissionPolicy evaluation.
inline constexpr uint64_t kPerCallCostLimit = 1'000'000;
inline constexpr uint64_t kRuntimeCostBudget = 10'000'000;

class Program {
 public:
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // The variables' values in the order of Env::variables.
  Value evaluate(std::span<const Value> variables, const EvalOptions& opts = {}) const;
  const Expr& expr() const;

  struct Impl;  // the plan (eval.cpp)
  explicit Program(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

struct CompileResult {
  std::shared_ptr<const Program> program;  // null when the source has errors
  std::vector<Issue> issues;
  std::string message;  // the issues as cel-go prints them (formatIssues)
  Type type;            // strict environments: the expression's type; else dyn
  bool ok() const { return program != nullptr; }
};

// What the checker knows of an environment: its variables with their types, its profile.
CheckEnv checkEnv(const Env& env);

// Parses, type-checks (strict environments) and plans `source`.
CompileResult compile(std::string_view source, const Env& env);

// Plans a parsed expression, which must outlive the program. In a strict environment, undeclared
// references are issues (and the result null).
std::shared_ptr<const Program> plan(const Expr& e, const Env& env, std::vector<Issue>* issues);

// Variables by name, for one-off evaluations (tests, the fuzzer).
struct Activation {
  std::map<std::string, Value, std::less<>> vars;
};

// Plans `e` against the activation's names (every library, not strict) and evaluates it.
Value evaluate(const Expr& e, const Activation& vars, uint64_t max_steps = 10'000'000);

}  // namespace kh::cel
