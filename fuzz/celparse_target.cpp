#include "fuzz/celparse_target.h"

#include <optional>
#include <string_view>

#include "cel/eval.h"
#include "cel/parser.h"
#include "load/loader.h"

namespace kh {

namespace {

// A Pod the expressions may read in place (`o`), as policies read their objects.
const Node* document() {
  static SourceFile f = [] {
    SourceFile s;
    s.path = "pod.yaml";
    s.buffer =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\n"
        "spec:\n  containers:\n  - {name: a, image: 'r/a:1', resources: {limits: {memory: 1Gi}}}\n"
        "  - {name: b, ports: [{containerPort: 8080}], args: ['1.5', 10.0.0.1, '::1/64']}\n";
    parseSource(LoadOptions{}, s);
    return s;
  }();
  return f.objects.empty() ? nullptr : f.objects[0].root;
}

// The value kind a static type promises (nullopt: any, dyn and type parameters).
std::optional<cel::Kind> promised(const cel::Type& t) {
  switch (t.kind) {
    case cel::TypeKind::kNull:
      return cel::Kind::kNull;
    case cel::TypeKind::kBool:
      return cel::Kind::kBool;
    case cel::TypeKind::kInt:
      return cel::Kind::kInt;
    case cel::TypeKind::kUint:
      return cel::Kind::kUint;
    case cel::TypeKind::kDouble:
      return cel::Kind::kDouble;
    case cel::TypeKind::kString:
      return cel::Kind::kString;
    case cel::TypeKind::kBytes:
      return cel::Kind::kBytes;
    case cel::TypeKind::kList:
      return cel::Kind::kList;
    case cel::TypeKind::kMap:
      return cel::Kind::kMap;
    case cel::TypeKind::kType:
      return cel::Kind::kType;
    case cel::TypeKind::kTimestamp:
      return cel::Kind::kTimestamp;
    case cel::TypeKind::kDuration:
      return cel::Kind::kDuration;
    case cel::TypeKind::kOpaque:
      return t.isOptional() ? cel::Kind::kOptional : cel::Kind::kOpaque;
    default:
      return std::nullopt;
  }
}

}  // namespace

void fuzzCelParseOnce(const uint8_t* data, size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  for (bool all : {true, false}) {
    cel::ParseOptions o;
    o.optional_syntax = all;
    o.two_variable_macros = all;
    o.bind_macro = all;
    o.optional_macros = all;
    o.max_recursion_depth = all ? 250 : 12;
    cel::ParseResult r = cel::parse(src, o);
    if (r.ok() != (r.expr != nullptr)) __builtin_trap();
    if (r.ok()) {
      if (cel::debugString(*r.expr, true).empty()) __builtin_trap();
      // Evaluation ends (the step bound), whatever the expression; an error is a value.
      cel::Activation act;
      act.vars.emplace("x", cel::Value::integer(7));
      act.vars.emplace("m", cel::Value::mapOf({{cel::Value::string("k"), cel::Value::listOf({})}}));
      act.vars.emplace("o", cel::Value::fromNode(document()));
      cel::Value v = cel::evaluate(*r.expr, act, 20000);
      (void)cel::toString(v);
      // The Kubernetes profile of the oldest supported version: compiles or says why.
      cel::Env env;
      env.variables = {"x", "m", "o"};
      env.types = {cel::Type(cel::TypeKind::kInt),
                   cel::Type::map(cel::Type(cel::TypeKind::kString), cel::Type::list(cel::Type())),
                   cel::Type()};
      env.homogeneous_literals = !all;
      env.strict = true;
      env.k8s_minor = all ? 0 : 27;
      env.parse = o;
      cel::CompileResult c = cel::compile(src, env);
      if (!c.ok() && c.message.find("ERROR: ") != 0) __builtin_trap();
      // What the checker accepts, the planner resolves (the checker's declarations and the
      // evaluator's functions agree), and the value has the kind its type promises (the checker
      // is sound).
      if (c.ok()) {
        cel::Value vars[3] = {cel::Value::integer(7), act.vars.at("m"), act.vars.at("o")};
        cel::Value r = c.program->evaluate(vars);
        if (r.isError() &&
            (r.str().starts_with("unbound function") || r.str().starts_with("no such attribute") ||
             r.str().starts_with("unknown type")))
          __builtin_trap();
        if (!r.failed())
          if (auto k = promised(c.type); k && *k != r.kind) __builtin_trap();
      }
      if (c.ok()) {
        // Never past the cost limit: an evaluation that costs more is cancelled.
        cel::Value vars[3] = {cel::Value::integer(7), act.vars.at("m"), act.vars.at("o")};
        cel::EvalOptions opts;
        opts.cost_limit = 5000;
        uint64_t cost = 0;
        opts.actual_cost = &cost;
        cel::Value r = c.program->evaluate(vars, opts);
        bool cancelled =
            r.isError() && (r.str() == "operation cancelled: actual cost limit exceeded" ||
                            r.str() == "operation cancelled: step limit exceeded");
        if (!cancelled && cost > opts.cost_limit) __builtin_trap();
        if (cancelled && r.str().find("cost") != std::string_view::npos && cost <= opts.cost_limit)
          __builtin_trap();
      }
    } else {
      for (const cel::Issue& i : r.errors)
        if (i.message.empty() || i.offset > static_cast<int64_t>(size)) __builtin_trap();
      if (cel::formatIssues(src, "<input>", r.errors).find("ERROR: ") != 0) __builtin_trap();
    }
  }
}

}  // namespace kh
