// The CEL type checker (src/cel/checker.*): the types it deduces, the errors it reports in
// cel-go's words and places, the Kubernetes environment's declarations (typed request, the
// policy's variables, homogeneous literals, what each version declares), the return types the
// API server demands, and its declarations against the evaluator's function table.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "cel/checker.h"
#include "cel/eval.h"
#include "cel/internal.h"
#include "load/loader.h"
#include "policy/vap.h"

namespace kh::test {
namespace cel_checker_tests {

// The expression's type, or its issues as cel-go prints them.
std::string typeOf(const std::string& src, cel::CheckEnv env = {}) {
  cel::ParseResult p = cel::parse(src);
  if (!p.ok()) return "parse: " + cel::formatIssues(src, "<input>", p.errors);
  cel::CheckResult r = cel::check(*p.expr, env);
  if (!r.ok()) return cel::formatIssues(src, "<input>", r.issues);
  return r.type.str();
}

cel::CheckEnv kubernetesEnv(int minor = 0) {
  cel::CheckEnv env;
  env.variables = {{"object", cel::Type()},
                   {"authorizer", cel::Type::opaque("kubernetes.authorization.Authorizer")}};
  env.homogeneous_literals = true;
  env.k8s_minor = minor;
  return env;
}

TEST(CelChecker, DeducesTypes) {
  const std::pair<const char*, const char*> cases[] = {
      {"1 + 2", "int"},
      {"[1, 2].map(x, x * 2)", "list(int)"},
      {"[1, 2].filter(x, x > 1)", "list(int)"},
      {"{'a': [1]}['a'][0]", "int"},
      {"['a'].exists_one(s, s == 'a')", "bool"},
      {"[1, 'a']", "list(dyn)"},
      {"{'a': 1, 'b': 'x'}", "map(string, dyn)"},
      {"[]", "list(dyn)"},
      {"{}", "map(dyn, dyn)"},
      {"type(1)", "type(int)"},
      {"int", "type(int)"},
      {"optional.of(1).orValue(2)", "int"},
      {"{'a': 1}[?'a']", "optional_type(int)"},
      {"{'a': {'b': 1}}.?a.b", "optional_type(int)"},
      {"[?optional.of(1), 2]", "list(int)"},
      {"timestamp('2024-01-01T00:00:00Z') - duration('1h')", "google.protobuf.Timestamp"},
      {"true ? 1 : 2", "int"},
      {"1 < 2.0 && 1u > 0", "bool"},
      {"cel.bind(x, 'a', x + x)", "string"},
      {"[1, 2].all(i, v, i < v)", "bool"},
      {"{'a': 1}.transformMap(k, v, v * 2)", "map(string, int)"},
      {"null", "null_type"},
      {"dyn(1)", "dyn"},
  };
  for (const auto& [src, want] : cases) EXPECT_EQ(typeOf(src), want) << src;

  const std::pair<const char*, const char*> k8s[] = {
      {"object.spec.containers.all(c, has(c.securityContext))", "bool"},
      {"object.spec.replicas", "dyn"},
      {"size(object.metadata.name) > 3", "bool"},
      {"quantity('1Gi').add(1)", "kubernetes.Quantity"},
      {"url('https://x/y?a=b').getQuery()", "map(string, list(string))"},
      {"[1, 2].sum()", "int"},
      {"['b', 'a'].min()", "string"},
      {"authorizer.group('').resource('pods').namespace('a').check('get').allowed()", "bool"},
      {"ip('10.0.0.1').family()", "int"},
      {"cidr('10.0.0.0/8').containsIP('10.1.2.3')", "bool"},
      {"format.named('dns1123Label').value().validate('a')", "optional_type(list(string))"},
      {"semver('1.2.3').isGreaterThan(semver('1.0.0'))", "bool"},
      {"sets.contains([1], [1])", "bool"},
      {"'a b'.split(' ').join('-')", "string"},
      {"'%s'.format(['a'])", "string"},
      {"'a1'.findAll('[0-9]')", "list(string)"},
  };
  for (const auto& [src, want] : k8s) EXPECT_EQ(typeOf(src, kubernetesEnv()), want) << src;
}

TEST(CelChecker, ReportsCelGosErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"1 + 'a'",
       "ERROR: <input>:1:3: found no matching overload for '_+_' applied to '(int, string)'\n"
       " | 1 + 'a'\n"
       " | ..^"},
      // A member call is placed at its opening parenthesis, as cel-go's parser places it.
      {"'a'.startsWith(1)",
       "ERROR: <input>:1:15: found no matching overload for 'startsWith' applied to "
       "'string.(int)'\n"
       " | 'a'.startsWith(1)\n"
       " | ..............^"},
      {"x.y",
       "ERROR: <input>:1:1: undeclared reference to 'x' (in container '')\n"
       " | x.y\n"
       " | ^"},
      {"(1).foo",
       "ERROR: <input>:1:4: type 'int' does not support field selection\n"
       " | (1).foo\n"
       " | ...^"},
      {"(1).all(x, x > 0)",
       "ERROR: <input>:1:2: expression of type 'int' cannot be range of a comprehension (must "
       "be list, map, or dynamic)\n"
       " | (1).all(x, x > 0)\n"
       " | .^"},
      {"[1].map(x, x + 'a')",
       "ERROR: <input>:1:14: found no matching overload for '_+_' applied to '(int, string)'\n"
       " | [1].map(x, x + 'a')\n"
       " | .............^"},
      {"1 == 1u",
       "ERROR: <input>:1:3: found no matching overload for '_==_' applied to '(int, uint)'\n"
       " | 1 == 1u\n"
       " | ..^"},
      // A free element type is bound by its use (the filter's predicate is a bool).
      {"[].map(x, x).filter(y, y)", "list(bool)"},
      {"[1].filter(x, x)",
       "ERROR: <input>:1:15: found no matching overload for '_?_:_' applied to '(int, "
       "list(int), list(int))'\n"
       " | [1].filter(x, x)\n"
       " | ..............^"},
  };
  for (const auto& [src, want] : cases) EXPECT_EQ(typeOf(src), want) << src;

  // Homogeneous literals (Kubernetes): one element type, or an error at the first that differs.
  cel::CheckEnv homogeneous;
  homogeneous.homogeneous_literals = true;
  EXPECT_EQ(typeOf("[1, 'a']", homogeneous),
            "ERROR: <input>:1:5: expected type 'int' but found 'string'\n"
            " | [1, 'a']\n"
            " | ....^");
  EXPECT_EQ(typeOf("{'a': 1, 'b': 2u}", homogeneous),
            "ERROR: <input>:1:15: expected type 'int' but found 'uint'\n"
            " | {'a': 1, 'b': 2u}\n"
            " | ..............^");
  EXPECT_EQ(typeOf("[1, dyn('a')]", homogeneous), "list(dyn)");
  EXPECT_EQ(typeOf("[optional.of(1), null][0]", homogeneous), "optional_type(int)");
}

TEST(CelChecker, ObjectTypesAndVersions) {
  cel::CheckEnv env;
  cel::Type str(cel::TypeKind::kString);
  env.variables = {
      {"request",
       cel::Type::object("kubernetes.AdmissionRequest",
                         {{"operation", str},
                          {"userInfo", cel::Type::object("kubernetes.UserInfo",
                                                         {{"groups", cel::Type::list(str)}})}})}};
  EXPECT_EQ(typeOf("request.operation", env), "string");
  EXPECT_EQ(typeOf("request.userInfo.groups", env), "list(string)");
  EXPECT_EQ(typeOf("has(request.operation)", env), "bool");
  EXPECT_EQ(typeOf("request.operatoin", env),
            "ERROR: <input>:1:8: undefined field 'operatoin'\n"
            " | request.operatoin\n"
            " | .......^");
  // A function (or one overload) newer than the profile is undeclared, as in that version.
  EXPECT_EQ(typeOf("isSemver('1.0.0')", kubernetesEnv(33)), "bool");
  EXPECT_EQ(typeOf("isSemver('1.0.0')", kubernetesEnv(32)),
            "ERROR: <input>:1:9: undeclared reference to 'isSemver' (in container '')\n"
            " | isSemver('1.0.0')\n"
            " | ........^");
  EXPECT_EQ(typeOf("string(ip('1.2.3.4'))", kubernetesEnv(30)), "string");
  EXPECT_EQ(typeOf("ip('1.2.3.4')", kubernetesEnv(29)).find("undeclared reference to 'ip'") !=
                std::string::npos,
            true);
  EXPECT_EQ(typeOf("authorizer.group('').resource('r').fieldSelector('a=b')", kubernetesEnv(30)),
            "ERROR: <input>:1:49: undeclared reference to 'fieldSelector' (in container '')\n"
            " | authorizer.group('').resource('r').fieldSelector('a=b')\n"
            " | ................................................^");
}

// Every function the evaluator has is declared with the same call style and version, and every
// declaration is one the evaluator has: the checker and the planner agree on what exists.
TEST(CelChecker, DeclarationsMatchTheEvaluatorsFunctions) {
  // (name, member call, the first version that has it)
  using Key = std::pair<std::string, bool>;
  auto earliest = [](std::map<Key, int>& m, Key k, int since) {
    auto it = m.find(k);
    if (it == m.end() || since < it->second) m[k] = since;
  };
  std::map<Key, int> first_runtime, first_declared;
  for (const cel::FunctionDecl& f : cel::functionTable())
    earliest(first_runtime, {std::string(f.name), f.receiver}, f.since);
  for (const cel::Overload& o : cel::libraryOverloads())
    earliest(first_declared, {o.name, o.receiver}, o.since);
  std::set<std::tuple<std::string, bool, int>> runtime, declared;
  for (const auto& [k, since] : first_runtime) runtime.emplace(k.first, k.second, since);
  for (const auto& [k, since] : first_declared) declared.emplace(k.first, k.second, since);
  // The logic operators, the conditional and `@not_strictly_false` are evaluated by the planner
  // itself, not through the table; the optional selection `_?._` is checked as a selection.
  for (const char* internal : {"_&&_", "_||_", "_?_:_", "@not_strictly_false"})
    declared.erase({internal, false, 0});
  runtime.erase({"_?._", false, 28});
  std::vector<std::string> only_runtime, only_declared;
  for (const auto& r : runtime)
    if (!declared.count(r))
      only_runtime.push_back(std::get<0>(r) + (std::get<1>(r) ? " (member)" : "") + " since " +
                             std::to_string(std::get<2>(r)));
  for (const auto& d : declared)
    if (!runtime.count(d))
      only_declared.push_back(std::get<0>(d) + (std::get<1>(d) ? " (member)" : "") + " since " +
                              std::to_string(std::get<2>(d)));
  EXPECT_TRUE(only_runtime.empty())
      << "evaluated, not declared: " << ::testing::PrintToString(only_runtime);
  EXPECT_TRUE(only_declared.empty())
      << "declared, not evaluated: " << ::testing::PrintToString(only_declared);
}

}  // namespace cel_checker_tests
}  // namespace kh::test
