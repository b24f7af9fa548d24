// The Kubernetes CEL libraries (docs/policies.md "Libraries"): the examples Kubernetes documents
// for each function and the edge cases around them, as tables; and the version profiles, where a
// function its Kubernetes version lacks is a compile error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cel/eval.h"
#include "cel/kubernetes.h"
#include "load/loader.h"

namespace kh::test {
namespace cel_k8s_lib_tests {

// The value written as a CEL literal, or "error(message)".
std::string eval(const std::string& src, int k8s_minor = 0) {
  cel::Env env;
  env.strict = true;
  env.k8s_minor = k8s_minor;
  cel::CompileResult r = cel::compile(src, env);
  if (!r.ok()) return "compile: " + r.message;
  return cel::toString(r.program->evaluate({}));
}

struct Case {
  const char* expr;
  const char* want;
};

void runTable(const std::vector<Case>& cases) {
  for (const Case& c : cases) EXPECT_EQ(eval(c.expr), c.want) << c.expr;
}

TEST(CelKubernetesLibraries, Lists) {
  runTable({
      {"[1, 2, 3].isSorted()", "true"},
      {"['a', 'b', 'b', 'c'].isSorted()", "true"},
      {"[2.0, 1.0].isSorted()", "false"},
      {"[1].isSorted()", "true"},
      {"[].isSorted()", "true"},
      {"[1, 2u, 3.5].isSorted()", "true"},
      {"[1, 3].sum()", "4"},
      {"[1.0, 3.0].sum()", "4"},
      {"[duration('1m'), duration('1s')].sum()", "duration(\"61s\")"},
      {"[].sum()", "0"},
      {"[9223372036854775807, 1].sum()", "error(integer overflow)"},
      {"[1, 3].min()", "1"},
      {"[1, 3].max()", "3"},
      {"[].min()", "error(min called on empty list)"},
      {"[].max()", "error(max called on empty list)"},
      {"['b', 'a', 'c'].min()", "\"a\""},
      {"[1].min()", "1"},
      {"[1, 2, 2, 3].indexOf(2)", "1"},
      {"['a', 'b', 'b', 'c'].lastIndexOf('b')", "2"},
      {"[1.0].indexOf(1.1)", "-1"},
      {"[].indexOf('string')", "-1"},
      // Checked as cel-go checks it: list(int).indexOf(uint) has no overload; through dyn the
      // comparison is CEL's heterogeneous equality.
      {"[1, 2].indexOf(2u)",
       "compile: ERROR: <input>:1:15: found no matching overload for 'indexOf' applied to "
       "'list(int).(uint)'\n | [1, 2].indexOf(2u)\n | ..............^"},
      {"[1, 2].indexOf(dyn(2u))", "1"},
      // The strings extension's indexOf and the list library's share the name.
      {"'hello'.indexOf('l')", "2"},
      {"'hello'.lastIndexOf('l')", "3"},
      {"[true, 'x'].isSorted()", "error(no such overload: isSorted(list))"},
  });
}

// cel-go's lists extension, version 3 (Kubernetes 1.34): its documented examples and errors.
TEST(CelKubernetesLibraries, ListsExtension) {
  runTable({
      {"[1, 2, 3, 4].slice(1, 3)", "[2, 3]"},
      {"[1, 2, 3, 4].slice(2, 4)", "[3, 4]"},
      {"[1, 2].slice(-1, 1)", "error(cannot slice(-1, 1), negative indexes not supported)"},
      {"[1, 2].slice(2, 1)",
       "error(cannot slice(2, 1), start index must be less than or equal to end index)"},
      {"[1, 2].slice(0, 3)", "error(cannot slice(0, 3), list is length 2)"},
      {"[1, [2, 3], [4]].flatten()", "[1, 2, 3, 4]"},
      {"[1, [2, [3, 4]]].flatten()", "[1, 2, [3, 4]]"},
      {"[1, 2, [], [], [3, 4]].flatten()", "[1, 2, 3, 4]"},
      {"[1, [2, [3, [4]]]].flatten(2)", "[1, 2, 3, [4]]"},
      {"[1, [2, [3, [4]]]].flatten(-1)", "error(level must be non-negative)"},
      {"[3, 2, 1].sort()", "[1, 2, 3]"},
      {"['b', 'c', 'a'].sort()", "[\"a\", \"b\", \"c\"]"},
      {"[1, 'b'].sort()", "error(list elements must have the same type)"},
      {"[1, 2u].sort()", "error(list elements must have the same type)"},
      {"[dyn([1])].sort()", "error(list elements must be comparable)"},
      {"[].sort()", "[]"},
      {"lists.range(5)", "[0, 1, 2, 3, 4]"},
      {"lists.range(0)", "[]"},
      {"[5, 3, 1, 2].reverse()", "[2, 1, 3, 5]"},
      {"[1, 2, 2, 3, 3, 3].distinct()", "[1, 2, 3]"},
      {"['b', 'b', 'c', 'a', 'c'].distinct()", "[\"b\", \"c\", \"a\"]"},
      {"[1, 'b', 2, 'b'].distinct()", "[1, \"b\", 2]"},
      {"[1, 1.0, 1u].distinct()", "[1]"},
      {"[{'n': 'foo', 's': 0}, {'n': 'bar', 's': -10}, {'n': 'baz', 's': 1000}]"
       ".sortBy(e, e.s).map(e, e.n)",
       "[\"bar\", \"foo\", \"baz\"]"},
      {"[3, 1, 2].sortBy(x, -x)", "[3, 2, 1]"},
      // Ties keep their order.
      {"['bb', 'a', 'cc', 'd'].sortBy(s, size(s))", "[\"a\", \"d\", \"bb\", \"cc\"]"},
      // Typed as the extension declares it.
      {"[[1], [2]].flatten().map(x, x + 1)", "[2, 3]"},
      {"[1, 2].sort() + [3]", "[1, 2, 3]"},
  });
  EXPECT_EQ(eval("'a'.sortBy(x, x)"),
            "compile: ERROR: <input>:1:1: sortBy can only be applied to a list, identifier, "
            "comprehension, call or select expression\n | 'a'.sortBy(x, x)\n | ^");
  EXPECT_EQ(eval("[1].sort()", 34), "[1]");
  EXPECT_EQ(eval("[1].sort()", 33),
            "compile: ERROR: <input>:1:9: undeclared reference to 'sort' (in container '')\n | "
            "[1].sort()\n | ........^");
  EXPECT_EQ(eval("lists.range(2)", 33).find("undeclared reference to 'lists'") != std::string::npos,
            true);
}

// Kubernetes 1.29's literal validators: a constant argument that cannot work is a compile error
// at the literal (before 1.29, an evaluation error).
TEST(CelKubernetesLibraries, LiteralValidators) {
  EXPECT_EQ(eval("duration('1x') > duration('1s')"),
            "compile: ERROR: <input>:1:10: invalid duration argument\n"
            " | duration('1x') > duration('1s')\n"
            " | .........^");
  EXPECT_EQ(eval("duration('1x') > duration('1s')", 28), "error(cannot parse duration \"1x\")");
  EXPECT_NE(eval("timestamp('nope') < timestamp(1)", 29).find("invalid timestamp argument"),
            std::string::npos);
  EXPECT_NE(eval("'a'.matches('[')", 29).find("1:13: invalid matches argument"), std::string::npos);
  // As cel-go: the first argument apart from a receiver, the text of the global form.
  EXPECT_NE(eval("matches('[', 'a')", 29).find("1:9: invalid matches argument"), std::string::npos);
  EXPECT_EQ(eval("duration('1h') > duration('1s') && 'a'.matches('^a') && "
                 "timestamp('2024-01-01T00:00:00Z') < timestamp(1893456000)"),
            "true");
}

TEST(CelKubernetesLibraries, Regex) {
  runTable({
      {"'abc 123'.find('[0-9]+')", "\"123\""},
      {"'abc 123'.find('xyz')", "\"\""},
      {"'123 abc 456'.findAll('[0-9]+')", "[\"123\", \"456\"]"},
      {"'123 abc 456'.findAll('[0-9]+', 1)", "[\"123\"]"},
      {"'123 abc 456'.findAll('[0-9]+', 0)", "[]"},
      {"'123 abc 456'.findAll('xyz')", "[]"},
      {"'abc'.findAll('x*')", "[\"\", \"\", \"\", \"\"]"},
      {"'aaa'.findAll('a*')", "[\"aaa\"]"},
      {"'héllo wörld'.findAll('[^ ]+')", "[\"héllo\", \"wörld\"]"},
      {"'abc'.matches('^a')", "true"},
      {"'abc'.matches('b$')", "false"},
  });
  // A pattern that does not compile is an error naming it (constant or not).
  EXPECT_TRUE(eval("'a'.find('(')").starts_with("error(Illegal regex: ")) << eval("'a'.find('(')");
  EXPECT_TRUE(eval("'a'.findAll(['('][0])").starts_with("error(Illegal regex: "));
}

TEST(CelKubernetesLibraries, Urls) {
  runTable({
      {"url('https://example.com:80/').getHost()", "\"example.com:80\""},
      {"url('https://example.com/').getHost()", "\"example.com\""},
      {"url('https://[::1]:80/').getHost()", "\"[::1]:80\""},
      {"url('https://[::1]/').getHost()", "\"[::1]\""},
      {"url('/path').getHost()", "\"\""},
      {"url('https://example.com:80/').getHostname()", "\"example.com\""},
      {"url('https://[::1]:80/').getHostname()", "\"::1\""},
      {"url('https://example.com:80/').getPort()", "\"80\""},
      {"url('https://example.com/').getPort()", "\"\""},
      {"url('/path').getScheme()", "\"\""},
      {"url('HTTPS://example.com/').getScheme()", "\"https\""},
      {"url('https://example.com/path').getEscapedPath()", "\"/path\""},
      {"url('https://example.com/path with spaces/').getEscapedPath()",
       "\"/path%20with%20spaces/\""},
      {"url('https://example.com/a%2Fb').getEscapedPath()", "\"/a%2Fb\""},
      {"url('https://example.com/').getEscapedPath()", "\"/\""},
      {"url('https://example.com/?k=a&k=b&x=1').getQuery()",
       "{\"k\": [\"a\", \"b\"], \"x\": [\"1\"]}"},
      {"url('https://example.com/?q=a+b%21').getQuery()", "{\"q\": [\"a b!\"]}"},
      {"url('https://example.com/#frag').getEscapedPath()", "\"/\""},
      {"isURL('https://example.com')", "true"},
      {"isURL('/absolute/path')", "true"},
      {"isURL('example.com')", "false"},
      {"isURL('relative/path')", "false"},
      {"isURL('https://example.com:port/')", "false"},
      {"url('https://a.com/') == url('https://a.com/')", "true"},
      {"url('example.com')",
       "error(URL parse error during conversion from string: parse \"example.com\": invalid URI "
       "for request)"},
  });
}

TEST(CelKubernetesLibraries, Quantities) {
  runTable({
      {"isQuantity('1.3')", "true"},
      {"isQuantity('1.3Gi')", "true"},
      {"isQuantity('1.3GiB')", "false"},
      {"isQuantity('')", "false"},
      {"isQuantity('1Kk')", "false"},
      {"isQuantity('.')", "false"},
      {"isQuantity('1.2.3')", "false"},
      {"quantity('50M').isLessThan(quantity('100M'))", "true"},
      {"quantity('50M').isGreaterThan(quantity('100M'))", "false"},
      {"quantity('1Gi').compareTo(quantity('1024Mi'))", "0"},
      {"quantity('1G').compareTo(quantity('1Gi'))", "-1"},
      {"quantity('100m') == quantity('0.1')", "true"},
      {"quantity('1k') == quantity('1000')", "true"},
      {"quantity('1e3') == quantity('1k')", "true"},
      {"quantity('1Ki') == quantity('1024')", "true"},
      {"quantity('1Ki') == quantity('1k')", "false"},
      {"quantity('50k').add(20) == quantity('50020')", "true"},
      {"quantity('50k').sub(20) == quantity('49980')", "true"},
      {"quantity('50k').add(quantity('20')).asInteger()", "50020"},
      {"quantity('0.1').add(quantity('0.2')) == quantity('300m')", "true"},
      {"quantity('50k').asInteger()", "50000"},
      {"quantity('1Ki').asInteger()", "1024"},
      {"quantity('1.5').isInteger()", "false"},
      {"quantity('1.5').asInteger()", "error(cannot convert value to integer)"},
      {"quantity('9223372036854775807').isInteger()", "true"},
      {"quantity('9223372036854775808').isInteger()", "false"},
      {"quantity('1.5').asApproximateFloat()", "1.5"},
      {"quantity('200M').asApproximateFloat()", "200000000"},
      {"quantity('-10').sign()", "-1"},
      {"quantity('0').sign()", "0"},
      {"quantity('+5n').sign()", "1"},
      {"quantity('abc')",
       "error(quantities must match the regular expression "
       "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$')"},
      {"quantity('1Kk')", "error(unable to parse quantity's suffix)"},
  });
}

TEST(CelKubernetesLibraries, IpAddresses) {
  runTable({
      {"ip('127.0.0.1').family()", "4"},
      {"ip('::1').family()", "6"},
      {"isIP('192.168.0.1')", "true"},
      {"isIP('192.168.0.1.0')", "false"},
      {"isIP('::ffff:1.2.3.4')", "false"},
      {"isIP('fe80::1%en0')", "false"},
      {"isIP('01.2.3.4')", "false"},
      {"isIP('256.0.0.1')", "false"},
      {"ip.isCanonical('127.0.0.1')", "true"},
      {"ip.isCanonical('2001:db8::1')", "true"},
      {"ip.isCanonical('2001:db8:0:0:0:0:0:1')", "false"},
      {"ip.isCanonical('2001:DB8::1')", "false"},
      {"ip('127.0.0.1').isLoopback()", "true"},
      {"ip('::1').isLoopback()", "true"},
      {"ip('0.0.0.0').isUnspecified()", "true"},
      {"ip('::').isUnspecified()", "true"},
      {"ip('224.0.0.1').isLinkLocalMulticast()", "true"},
      {"ip('ff02::1').isLinkLocalMulticast()", "true"},
      {"ip('224.0.1.1').isLinkLocalMulticast()", "false"},
      {"ip('169.254.1.1').isLinkLocalUnicast()", "true"},
      {"ip('fe80::1').isLinkLocalUnicast()", "true"},
      {"ip('192.168.0.1').isGlobalUnicast()", "true"},
      {"ip('2001:db8::1').isGlobalUnicast()", "true"},
      {"ip('255.255.255.255').isGlobalUnicast()", "false"},
      {"ip('224.0.0.1').isGlobalUnicast()", "false"},
      {"string(ip('2001:0db8::0001'))", "\"2001:db8::1\""},
      {"ip('10.0.0.1') == ip('10.0.0.1')", "true"},
      {"ip('10.0.0.1') == ip('10.0.0.2')", "false"},
      {"ip('192.168.0.1.0')",
       "error(IP Address \"192.168.0.1.0\" parse error during conversion from string: "
       "ParseAddr(\"192.168.0.1.0\"): IPv4 address too long)"},
      {"ip('1.2.3')",
       "error(IP Address \"1.2.3\" parse error during conversion from string: "
       "ParseAddr(\"1.2.3\"): IPv4 address too short)"},
      {"ip('fe80::1%en0')", "error(IP address \"fe80::1%en0\" with zone value is not allowed)"},
      {"ip('::ffff:1.2.3.4')", "error(IPv4-mapped IPv6 address \"::ffff:1.2.3.4\" is not allowed)"},
  });
}

TEST(CelKubernetesLibraries, Cidrs) {
  runTable({
      {"cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))", "true"},
      {"cidr('192.168.0.0/24').containsIP('192.168.1.1')", "false"},
      {"cidr('2001:db8::/32').containsIP('2001:db8::1')", "true"},
      {"cidr('2001:db8::/32').containsIP('10.0.0.1')", "false"},
      {"cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))", "true"},
      {"cidr('192.168.0.0/24').containsCIDR('192.168.0.0/24')", "true"},
      {"cidr('192.168.0.0/24').containsCIDR('192.168.0.0/23')", "false"},
      {"cidr('0.0.0.0/0').containsCIDR('10.0.0.0/8')", "true"},
      {"cidr('192.168.0.1/24').ip() == ip('192.168.0.1')", "true"},
      {"cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')", "true"},
      {"cidr('192.168.0.1/24') == cidr('192.168.0.0/24')", "false"},
      {"cidr('2001:db8::1/33').masked()", "cidr(\"2001:db8::/33\")"},
      {"cidr('192.168.0.0/24').prefixLength()", "24"},
      {"string(cidr('::1/128'))", "\"::1/128\""},
      {"isCIDR('192.168.0.0/24')", "true"},
      {"isCIDR('192.168.0.0/33')", "false"},
      {"isCIDR('192.168.0.0')", "false"},
      {"isCIDR('::ffff:1.2.3.4/128')", "false"},
      {"isCIDR('10.0.0.0/08')", "false"},
  });
}

TEST(CelKubernetesLibraries, SemanticVersions) {
  runTable({
      {"semver('1.2.3').major()", "1"},
      {"semver('1.2.3').minor()", "2"},
      {"semver('1.2.3').patch()", "3"},
      {"isSemver('1.0.0')", "true"},
      {"isSemver('1.0.0-rc.1+build.5')", "true"},
      {"isSemver('v1.0.0')", "false"},
      {"isSemver('v1.0', true)", "true"},
      {"isSemver('01.2.3')", "false"},
      {"isSemver('01.2.3', true)", "true"},
      {"isSemver('1.0.0-01')", "false"},
      {"semver('v1', true) == semver('1.0.0')", "true"},
      {"semver('1.2.3').isLessThan(semver('1.10.0'))", "true"},
      {"semver('1.10.0').isGreaterThan(semver('1.2.3'))", "true"},
      {"semver('1.0.0-alpha').isLessThan(semver('1.0.0'))", "true"},
      {"semver('1.0.0-alpha.1').compareTo(semver('1.0.0-alpha.beta'))", "-1"},
      {"semver('1.0.0-alpha.2').compareTo(semver('1.0.0-alpha.10'))", "-1"},
      {"semver('1.0.0-beta').compareTo(semver('1.0.0-alpha.1'))", "1"},
      {"semver('1.0.0-alpha').compareTo(semver('1.0.0-alpha.1'))", "-1"},
      {"semver('1.0.0+build') == semver('1.0.0')", "true"},
      {"semver('1.0.0').compareTo(semver('1.0.0'))", "0"},
  });
  EXPECT_TRUE(eval("semver('01.0.0')").starts_with("error(")) << eval("semver('01.0.0')");
}

TEST(CelKubernetesLibraries, NamedFormats) {
  runTable({
      {"format.dns1123Label().validate('my-name')", "optional.none()"},
      {"format.dns1123Label().validate('my.name').value()", "[\"must not contain dots\"]"},
      {"format.dns1123Label().validate('My_Name').value()",
       "[\"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
       "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
       "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')\"]"},
      {"format.dns1123Subdomain().validate('apiextensions.k8s.io')", "optional.none()"},
      {"format.dns1035Label().validate('1abc').hasValue()", "true"},
      {"format.dns1035Label().validate('abc-1')", "optional.none()"},
      {"format.dns1123LabelPrefix().validate('my-prefix-')", "optional.none()"},
      {"format.dns1123Label().validate('my-prefix-').hasValue()", "true"},
      {"format.qualifiedName().validate('apiextensions.k8s.io/v1beta1')", "optional.none()"},
      {"format.qualifiedName().validate('/name').value()", "[\"prefix part must be non-empty\"]"},
      {"format.labelValue().validate('')", "optional.none()"},
      {"format.labelValue().validate('-bad').hasValue()", "true"},
      {"format.uuid().validate('123e4567-e89b-12d3-a456-426614174000')", "optional.none()"},
      {"format.uuid().validate('nope').value()", "[\"does not match the UUID format\"]"},
      {"format.byte().validate('aGVsbG8=')", "optional.none()"},
      {"format.byte().validate('aGVsbG8').value()", "[\"invalid base64\"]"},
      {"format.date().validate('2021-01-01')", "optional.none()"},
      {"format.date().validate('2021-13-01').value()", "[\"invalid date\"]"},
      {"format.datetime().validate('2021-01-01T00:00:00Z')", "optional.none()"},
      {"format.uri().validate('http://example.com')", "optional.none()"},
      {"format.named('dns1123Label').hasValue()", "true"},
      {"format.named('nope').hasValue()", "false"},
      {"format.named('labelValue').value().validate('ok')", "optional.none()"},
  });
  std::string long_label = "format.dns1123Label().validate('" + std::string(64, 'a') + "').value()";
  EXPECT_EQ(eval(long_label), "[\"must be no more than 63 characters\"]");
}

TEST(CelKubernetesLibraries, Sets) {
  runTable({
      {"sets.contains([1, 2, 3], [1, 2])", "true"},
      {"sets.contains([1, 2], [1, 2, 3])", "false"},
      {"sets.contains([], [])", "true"},
      {"sets.contains([1], [1.0, 1u])", "true"},
      {"sets.equivalent([1, 2, 3], [3, 2, 1, 1])", "true"},
      {"sets.equivalent([1, 2], [1, 2, 3])", "false"},
      {"sets.intersects([1, 2], [2, 3])", "true"},
      {"sets.intersects([1, 2], [3])", "false"},
      {"sets.intersects([], [1])", "false"},
  });
}

// What each Kubernetes version's environment has: a function newer than the profile is an
// undeclared reference at compile time, as the API server of that version reports it.
TEST(CelKubernetesLibraries, VersionProfiles) {
  struct Intro {
    const char* expr;
    int since;
  };
  for (const Intro& c : std::vector<Intro>{{"quantity('1').sign() == 1", 28},
                                           {"optional.of(1).hasValue()", 28},
                                           {"sets.contains([1], [1])", 29},
                                           {"'%d'.format([1]) == '1'", 29},
                                           {"isIP('1.2.3.4')", 30},
                                           {"format.named('uri').hasValue()", 31},
                                           {"isSemver('1.0.0')", 33}}) {
    EXPECT_EQ(eval(c.expr, c.since), "true") << c.expr;
    std::string before = eval(c.expr, c.since - 1);
    EXPECT_TRUE(before.starts_with("compile: ERROR: <input>:1:")) << c.expr << ": " << before;
    EXPECT_NE(before.find("undeclared reference to '"), std::string::npos) << before;
  }
  // The core libraries are in every version.
  EXPECT_EQ(eval("[1, 2].isSorted() && 'a1'.find('[0-9]') == '1' && isURL('/x')", 25), "true");
  EXPECT_EQ(eval("'abc'.charAt(1) == 'b'", 25), "true");
}

// Values borrowed from a loaded document behave as CEL's maps, lists and scalars.
TEST(CelKubernetesLibraries, DocumentValues) {
  SourceFile f;
  f.path = "pod.yaml";
  f.buffer =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\n"
      "spec:\n  containers:\n  - {name: a, image: 'r/a:1', resources: {limits: {memory: 1Gi}}}\n"
      "  - {name: b, image: 'r/b:2', ports: [{containerPort: 8080}]}\n"
      "  initContainers: null\n";
  parseSource(LoadOptions{}, f);
  ASSERT_EQ(f.objects.size(), 1u);
  cel::Env env;
  env.variables = {"object"};
  env.strict = true;
  cel::Value obj = cel::Value::fromNode(f.objects[0].root);
  auto run = [&](const std::string& src) {
    cel::CompileResult r = cel::compile(src, env);
    if (!r.ok()) return "compile: " + r.message;
    return cel::toString(r.program->evaluate(std::span<const cel::Value>(&obj, 1)));
  };
  EXPECT_EQ(run("object.metadata.name"), "\"web\"");
  EXPECT_EQ(run("object.spec.containers.map(c, c.name)"), "[\"a\", \"b\"]");
  EXPECT_EQ(run("object.spec.containers[1].ports[0].containerPort == 8080"), "true");
  EXPECT_EQ(run("object.spec.containers.size()"), "2");
  EXPECT_EQ(run("'app' in object.metadata.labels"), "true");
  EXPECT_EQ(run("object.metadata.labels == {'app': 'web'}"), "true");
  EXPECT_EQ(run("object.spec.containers.exists(c, has(c.resources.limits) && "
                "quantity(c.resources.limits.memory).isGreaterThan(quantity('512Mi')))"),
            "true");
  EXPECT_EQ(run("object.spec.containers.all(c, c.image.contains(':'))"), "true");
  EXPECT_EQ(run("object.metadata.namespace"), "error(no such key: namespace)");
  EXPECT_EQ(run("object.?metadata.?namespace.orValue('default')"), "\"default\"");
  EXPECT_EQ(run("object.spec.containers[2]"), "error(index out of range: 2)");
  EXPECT_EQ(run("object.kind + '/' + object.metadata.name"), "\"Pod/web\"");
  // A field set to null is absent, as the API server's decoding leaves it.
  EXPECT_EQ(run("has(object.spec.initContainers)"), "false");
  EXPECT_EQ(run("object.spec.?initContainers.orValue([]).size()"), "0");
  EXPECT_EQ(run("object.spec.size()"), "1");
  EXPECT_EQ(run("object.spec.map(k, k)"), "[\"containers\"]");
  EXPECT_EQ(run("'initContainers' in object.spec"), "false");
  EXPECT_EQ(run("other"),
            "compile: ERROR: <input>:1:1: undeclared reference to 'other' (in container '')\n"
            " | other\n | ^");
}

}  // namespace cel_k8s_lib_tests
}  // namespace kh::test

namespace kh::test {
namespace cel_k8s_lib_tests {

// The runtime cost as Kubernetes counts it (cel-go's cost units and Kubernetes' estimator).
uint64_t costOf(const std::string& src, const cel::Value& object = cel::Value::null()) {
  cel::Env env;
  env.variables = {"object", "authorizer"};
  env.strict = true;
  cel::CompileResult r = cel::compile(src, env);
  EXPECT_TRUE(r.ok()) << r.message;
  if (!r.ok()) return 0;
  cel::Value vars[2] = {object, cel::kubernetes::authorizer("alice", {})};
  uint64_t cost = 0;
  cel::EvalOptions opts;
  opts.actual_cost = &cost;
  r.program->evaluate(vars, opts);
  return cost;
}

TEST(CelCost, CelGoAndKubernetesUnits) {
  EXPECT_EQ(costOf("1 + 2"), 1u);                     // a call; constants are free
  EXPECT_EQ(costOf("true && (false || 1 < 2)"), 1u);  // logic is free, the comparison 1
  EXPECT_EQ(costOf("'abc' == 'abc'"), 1u);            // ceil(min(3, 3) * 0.1)
  EXPECT_EQ(costOf("'abcdefghijklmnopqrstuvwxy' == 'abcdefghijklmnopqrstuvwxy'"), 3u);
  EXPECT_EQ(costOf("'' == ''"), 0u);
  EXPECT_EQ(costOf("[1, 2, 3]"), 10u);  // a list literal
  EXPECT_EQ(costOf("{'a': 1}"), 30u);   // a map literal
  // all(): the range 10; per element the loop condition (@result 1, @not_strictly_false 1) and
  // the step (@result 1, x 1, > 1); the result 1.
  EXPECT_EQ(costOf("[1, 2, 3].all(x, x > 0)"), 26u);
  // map(): the range 10, the empty accumulator 10; per element @result + [x * 2] (14); result 1.
  EXPECT_EQ(costOf("[1, 2, 3].map(x, x * 2)"), 63u);
  EXPECT_EQ(costOf("'hello world'.contains('wor')"), 2u);  // ceil(1.1) * ceil(0.3)
  EXPECT_EQ(costOf("'abc'.matches('a.*')"), 1u);           // ceil(0.4) * ceil(0.75)
  EXPECT_EQ(costOf("'hello' + ' world'"), 2u);             // ceil((5 + 6) * 0.1)
  EXPECT_EQ(costOf("2 in [1, 2, 3]"), 13u);                // 10 + the list's size
  EXPECT_EQ(costOf("[3, 1, 2].isSorted()"), 13u);          // 10 + a traversal of 3 ints
  EXPECT_EQ(costOf("authorizer.group('').resource('pods').check('get')"), 1u + 1 + 1 + 350000);
  // The lists extension (1.34): the call 1 and the list it makes 10, plus 2 per pair of elements
  // for sort (2.1 for strings), the result's size for range, depth times the size for flatten.
  EXPECT_EQ(costOf("[3, 2, 1].sort()"), 10u + 11 + 2 * 9);
  EXPECT_EQ(costOf("['b', 'a'].sort()"), 10u + 11 + 8);  // trunc(4 * 2.1)
  EXPECT_EQ(costOf("lists.range(3)"), 11u + 3);
  EXPECT_EQ(costOf("[[1], [2]].flatten()"), 10u + 10 + 10 + 11 + 2);
  SourceFile f;
  f.path = "o.yaml";
  f.buffer = "apiVersion: v1\nkind: Pod\nmetadata: {name: web-frontend-0123456789}\n";
  parseSource(LoadOptions{}, f);
  cel::Value o = cel::Value::fromNode(f.objects[0].root);
  // object (1), metadata (1), name (1), startsWith ceil(23 * 0.1) = 3.
  EXPECT_EQ(costOf("object.metadata.name.startsWith('web')", o), 6u);
}

TEST(CelCost, LimitCancelsTheWholeEvaluation) {
  cel::Env env;
  env.strict = true;
  const std::string cube =
      "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, "
      "[1,2,3,4,5,6,7,8,9,10].map(c, a * b * c))).size() > 0";
  auto r = cel::compile(cube + " || true", env);
  ASSERT_TRUE(r.ok());
  uint64_t cost = 0;
  cel::EvalOptions unlimited;
  unlimited.actual_cost = &cost;
  EXPECT_EQ(cel::toString(r.program->evaluate({}, unlimited)), "true");
  EXPECT_GT(cost, 10000u);
  cel::EvalOptions limited;
  limited.cost_limit = cost / 2;
  // Cancelled: `|| true` does not absorb it, as cel-go's cancellation ends the evaluation.
  EXPECT_EQ(cel::toString(r.program->evaluate({}, limited)),
            "error(operation cancelled: actual cost limit exceeded)");
  limited.cost_limit = cost;
  EXPECT_EQ(cel::toString(r.program->evaluate({}, limited)), "true");
}

}  // namespace cel_k8s_lib_tests
}  // namespace kh::test
