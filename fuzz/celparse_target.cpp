#include "fuzz/celparse_target.h"

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
      env.strict = true;
      env.k8s_minor = 27;
      env.parse = o;
      cel::CompileResult c = cel::compile(src, env);
      if (!c.ok() && c.message.find("ERROR: ") != 0) __builtin_trap();
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
