// The CEL parser against cel-go's parser suites (from the npm package @bufbuild/cel-spec, read
// through node; skipped with a message where scripts/install-deps has not installed it): every
// expression the suites parse gives the tree they state, node for node (cel-go's debug form),
// and every expression they refuse is refused, at the same place, with the same words where the
// words are not ANTLR's recovery (docs/design/cel.md says why those differ). Then the options
// (optional syntax, two-variable macros, cel.bind, optMap), the limits and the error format.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>
#include <string>

#include "cel/parser.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace cel_parser_tests {

const std::string kSuites =
    std::string(KH_SOURCE_DIR) + "/deps/npm/node_modules/@bufbuild/cel-spec/dist/cjs/testdata/";

#define KH_NEED_CEL_SPEC()                                     \
  if (::access((kSuites + "parsing.js").c_str(), R_OK) != 0 || \
      image::fixtures::shell("node --version") != 0)           \
  GTEST_SKIP() << "needs node and @bufbuild/cel-spec in deps/npm (scripts/install-deps)"

// A suite's tests as JSON (node prints the module's data).
rapidjson::Document suite(const std::string& file) {
  std::string out;
  int rc = image::fixtures::shell(
      fmt::format("node -e 'process.stdout.write(JSON.stringify(require(\"{}\").tests))'",
                  kSuites + file),
      &out);
  rapidjson::Document d;
  if (rc == 0) d.Parse(out.c_str());
  return d;
}

// The first line of a formatted error: "ERROR: :L:C: message".
std::string firstLine(const std::string& s) {
  return s.substr(0, s.find('\n'));
}
// "L:C" of such a line.
std::string place(const std::string& line) {
  size_t a = line.find(':');         // after ERROR
  size_t b = line.find(':', a + 1);  // after the description
  size_t c = line.find(':', b + 1);  // after the line
  size_t d = line.find(':', c + 1);  // after the column
  return line.substr(b + 1, d - b - 1);
}

cel::ParseOptions suiteOptions() {
  // The suites were made by cel-go's parser with its standard macros only, no optional syntax,
  // and a nesting limit of 32.
  cel::ParseOptions o;
  o.optional_syntax = false;
  o.two_variable_macros = false;
  o.bind_macro = false;
  o.optional_macros = false;
  o.max_recursion_depth = 32;
  o.description = "";
  return o;
}

void runSuite(const std::string& file, size_t min_trees) {
  rapidjson::Document d = suite(file);
  ASSERT_TRUE(d.IsObject() && d.HasMember("tests")) << file;
  size_t trees = 0, refusals = 0, limit_after_syntax = 0;
  for (const auto& t : d["tests"].GetArray()) {
    const auto& x = t["original"]["expr"];
    std::string src(x.GetString(), x.GetStringLength());
    SCOPED_TRACE(src);
    cel::ParseOptions o = suiteOptions();
    cel::ParseResult r = cel::parse(src, o);
    if (t.HasMember("ast")) {
      ++trees;
      ASSERT_TRUE(r.ok()) << cel::formatIssues(src, "", r.errors);
      EXPECT_EQ(cel::debugString(*r.expr, true), t["ast"].GetString());
      continue;
    }
    ++refusals;
    ASSERT_FALSE(r.ok()) << "parsed, but the suite refuses it:\n" << t["error"].GetString();
    std::string want = firstLine(t["error"].GetString());
    std::string got = firstLine(cel::formatIssues(src, "", r.errors));
    // ANTLR recovers from a syntax error and parses on; cel-go may then hit a limit (nesting,
    // recovery lookahead) reported without a place before the syntax error. We stop at the first
    // syntax error: both refuse the input.
    if (place(want) == "-1:0" && got.find("Syntax error:") != std::string::npos &&
        (want.find("recursion limit") != std::string::npos ||
         want.find("recovery") != std::string::npos)) {
      ++limit_after_syntax;
      continue;
    }
    EXPECT_EQ(place(got), place(want)) << got << "\n" << want;
    if (want.find("Syntax error:") == std::string::npos) {
      EXPECT_EQ(got, want);
    }
  }
  std::printf("%s: %zu trees equal, %zu refusals (%zu of them a limit after a syntax error)\n",
              file.c_str(), trees, refusals, limit_after_syntax);
  EXPECT_GE(trees, min_trees);
  EXPECT_GT(refusals, 0u);
  EXPECT_LE(limit_after_syntax, 2u);
}

TEST(CelParser, CelGoParsingSuite) {
  KH_NEED_CEL_SPEC();
  runSuite("parsing.js", 100);
}

TEST(CelParser, CelGoComprehensionSuite) {
  KH_NEED_CEL_SPEC();
  runSuite("comprehension.js", 70);
}

// The conformance suite states the parsed tree of each of its expressions too: with every
// option on (it covers optionals, bindings, two-variable comprehensions, quoted identifiers),
// every one must parse to that tree.
TEST(CelParser, ConformanceSuiteTrees) {
  KH_NEED_CEL_SPEC();
  rapidjson::Document d = suite("conformance.js");
  ASSERT_TRUE(d.IsObject() && d.HasMember("suites"));
  // As the suite's trees were made: optional syntax and quoted identifiers on, the extension
  // macros (cel.bind, two-variable comprehensions, optMap) left as calls.
  cel::ParseOptions o;
  o.identifier_escapes = true;
  o.bind_macro = false;
  o.two_variable_macros = false;
  o.optional_macros = false;
  o.description = "";
  size_t trees = 0, without = 0;
  std::map<std::string, size_t> failed;
  std::function<void(const rapidjson::Value&, const std::string&)> walk =
      [&](const rapidjson::Value& s, const std::string& file) {
        if (s.HasMember("tests"))
          for (const auto& t : s["tests"].GetArray()) {
            if (!t.HasMember("ast")) {
              ++without;
              continue;
            }
            const auto& x = t["original"]["expr"];
            std::string src(x.GetString(), x.GetStringLength());
            cel::ParseResult r = cel::parse(src, o);
            std::string got =
                r.ok() ? cel::debugString(*r.expr, true) : cel::formatIssues(src, "", r.errors);
            ++trees;
            if (got != t["ast"].GetString()) {
              ++failed[file];
              ADD_FAILURE() << file << ": " << src << "\n"
                            << got << "\n---\n"
                            << t["ast"].GetString();
            }
          }
        if (s.HasMember("suites"))
          for (const auto& sub : s["suites"].GetArray())
            walk(sub, file.empty() ? sub["name"].GetString() : file);
      };
  walk(d, "");
  std::printf("conformance: %zu trees compared, %zu tests without a tree\n", trees, without);
  EXPECT_GT(trees, 2000u);
  EXPECT_TRUE(failed.empty());
}

std::string tree(const std::string& src, const cel::ParseOptions& o = {}) {
  cel::ParseResult r = cel::parse(src, o);
  return r.ok() ? cel::debugString(*r.expr) : cel::formatIssues(src, "<input>", r.errors);
}

TEST(CelParser, OptionalSyntax) {
  EXPECT_EQ(tree("a.?b"), "_?._(\n  a,\n  \"b\"\n)");
  EXPECT_EQ(tree("a[?0]"), "_[?_](\n  a,\n  0\n)");
  EXPECT_EQ(tree("[?a, b]"), "[\n  ?a,\n  b\n]");
  EXPECT_EQ(tree("{?'k': v}"), "{\n  ?\"k\":v\n}");
  cel::ParseOptions off;
  off.optional_syntax = false;
  EXPECT_EQ(tree("a.?b", off), "ERROR: <input>:1:2: unsupported syntax '.?'\n | a.?b\n | .^");
}

TEST(CelParser, KubernetesMacros) {
  // Two-variable comprehensions, as Kubernetes 1.33+ enables them.
  std::string all = tree("m.all(k, v, v > 0)");
  EXPECT_NE(all.find("// Variable\n  k,\n  v,\n"), std::string::npos) << all;
  std::string tm = tree("l.transformMap(i, v, v * 2)");
  EXPECT_NE(tm.find("cel.@mapInsert(\n    @result,\n    i,\n"), std::string::npos) << tm;
  std::string bind = tree("cel.bind(x, 1, x + x)");
  EXPECT_NE(bind.find("// Accumulator\n  x,\n  // Init\n  1,\n"), std::string::npos) << bind;
  std::string opt = tree("o.optMap(v, v + 1)");
  EXPECT_NE(opt.find("o.hasValue()"), std::string::npos) << opt;
  EXPECT_NE(opt.find("optional.of("), std::string::npos) << opt;
  EXPECT_NE(opt.find("optional.none()"), std::string::npos) << opt;
  // A receiver call that is no macro stays a call.
  EXPECT_EQ(tree("x.all(y)"), "x.all(\n  y\n)");
}

TEST(CelParser, LiteralsAndLexis) {
  EXPECT_EQ(tree("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(tree("9223372036854775808"),
            "ERROR: <input>:1:1: invalid int literal\n | 9223372036854775808\n | ^");
  EXPECT_EQ(tree("18446744073709551615u"), "18446744073709551615u");
  EXPECT_EQ(tree("1e3"), "1000");
  EXPECT_EQ(tree("1.5e7"), "1.5e+07");
  EXPECT_EQ(tree(".5"), "0.5");
  EXPECT_EQ(tree("r'\\d+'"), "\"\\\\d+\"");
  EXPECT_EQ(tree("'''a\nb'''"), "\"a\\nb\"");
  EXPECT_EQ(tree("b'\\xff'"), "b\"\\xff\"");
  EXPECT_EQ(tree("'\\u00e9'"), "\"é\"");
  EXPECT_EQ(tree("a // comment\n + b"), "_+_(\n  a,\n  b\n)");
  EXPECT_EQ(tree("!!a"), "a");
  EXPECT_EQ(tree("!a"), "!_(\n  a\n)");
  EXPECT_EQ(tree("-a"), "-_(\n  a\n)");
  EXPECT_EQ(tree("a ? b : c ? d : e"),
            "_?_:_(\n  a,\n  b,\n  _?_:_(\n    c,\n    d,\n    e\n  )\n)");
  EXPECT_EQ(tree(".a.b"), ".a.b");
  EXPECT_EQ(tree("a.b.C{f: 1}"), "a.b.C{\n  f:1\n}");
  cel::ParseOptions escapes;
  escapes.identifier_escapes = true;
  EXPECT_EQ(tree("a.`b-c`", escapes), "a.b-c");
  EXPECT_EQ(tree("a.`b-c`"), "ERROR: <input>:1:3: unsupported syntax: '`'\n | a.`b-c`\n | ..^");
}

TEST(CelParser, ErrorsAndLimits) {
  // optMap doubles its target in the tree: a chain of them is bounded, not expanded without end
  // (twelve expand; thirty would be a billion nodes).
  std::string chain = "optional.of(1)";
  for (int k = 0; k < 12; ++k) chain += ".optMap(x, x)";
  EXPECT_TRUE(cel::parse(chain).ok());
  for (int k = 12; k < 30; ++k) chain += ".optMap(x, x)";
  cel::ParseResult big = cel::parse(chain);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.errors[0].message,
            "expression too large: more than 100000 nodes after expanding optMap()");
  EXPECT_LT(big.max_id, 200000);
  EXPECT_EQ(tree("a + )"),
            "ERROR: <input>:1:5: Syntax error: unexpected ')', expecting an expression\n"
            " | a + )\n"
            " | ....^");
  // Tabs show as spaces; wide characters get wide dots.
  EXPECT_EQ(tree("\t'你' + )"),
            "ERROR: <input>:1:8: Syntax error: unexpected ')', expecting an expression\n"
            " |  '你' + )\n"
            " | ..．....^");
  EXPECT_EQ(
      tree("1 + $"),
      "ERROR: <input>:1:5: Syntax error: token recognition error at: '$'\n | 1 + $\n | ....^");
  EXPECT_EQ(tree("has(a)"),
            "ERROR: <input>:1:5: invalid argument to has() macro\n | has(a)\n | ....^");
  EXPECT_EQ(tree("if"), "ERROR: <input>:1:1: reserved identifier: if\n | if\n | ^");
  cel::ParseOptions small;
  small.max_code_points = 5;
  EXPECT_EQ(tree("a + bc", small),
            "ERROR: <input>:-1:0: expression code point size exceeds limit: size: 6, limit 5");
  cel::ParseOptions shallow;
  shallow.max_recursion_depth = 3;
  EXPECT_EQ(tree("((1))", shallow), "1");
  EXPECT_EQ(tree("(((1)))", shallow),
            "ERROR: <input>:-1:0: expression recursion limit exceeded: 3");
  // Deep input never overflows the stack: the limit stops it first.
  std::string deep(100000, '(');
  EXPECT_NE(tree(deep).find("expression recursion limit exceeded: 250"), std::string::npos);
}

}  // namespace cel_parser_tests
}  // namespace kh::test
