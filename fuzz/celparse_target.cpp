#include "fuzz/celparse_target.h"

#include <string_view>

#include "cel/eval.h"
#include "cel/parser.h"

namespace kh {

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
      cel::evaluate(*r.expr, act, 20000);
    } else {
      for (const cel::Issue& i : r.errors)
        if (i.message.empty() || i.offset > static_cast<int64_t>(size)) __builtin_trap();
      if (cel::formatIssues(src, "<input>", r.errors).find("ERROR: ") != 0) __builtin_trap();
    }
  }
}

}  // namespace kh
