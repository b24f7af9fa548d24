// End-to-end tests of the kubeharden binary: exit codes, formats, suppressions, config,
// baselines and error reporting, asserting on real output.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <set>

#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

const std::string kExamples = std::string(KH_SOURCE_DIR) + "/examples";

const char* kPrivileged = R"(apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: ns
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: p-7d4b9, uid: 1, controller: true}]
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: app
      image: nginx:1.27
      resources: {limits: {memory: 64Mi}, requests: {cpu: 10m}}
      securityContext:
        privileged: true
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: {drop: [ALL]}
)";

rapidjson::Document parseJson(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  EXPECT_FALSE(d.HasParseError()) << s.substr(0, 300);
  return d;
}

std::vector<std::string> checksIn(const rapidjson::Document& d, bool include_suppressed = false) {
  std::vector<std::string> out;
  for (const auto& f : d["findings"].GetArray())
    if (include_suppressed || !f["suppressed"].GetBool()) out.push_back(f["check"].GetString());
  return out;
}

TEST(Cli, VersionAndHelp) {
  auto r = runCli("--version");
  EXPECT_EQ(r.exit_code, 0);
  // The version, then the Sigstore trusted root built in (or "none" in a build without one).
  EXPECT_EQ(r.out.substr(0, r.out.find('\n') + 1), "kubeharden 0.1.0\n");
  EXPECT_TRUE(r.out.find("\nSigstore trusted root: @sigstore/tuf ") != std::string::npos ||
              r.out.find("\nSigstore trusted root: none (pass --trusted-root)\n") !=
                  std::string::npos)
      << r.out;
  auto h = runCli("scan --help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--fail-on"), std::string::npos);
}

TEST(Cli, UsageErrorsExit2) {
  EXPECT_EQ(runCli("").exit_code, 2);
  EXPECT_EQ(runCli("frobnicate").exit_code, 2);
  auto r = runCli("scan --fail-on severe " + kExamples);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown severity 'severe'"), std::string::npos);
  EXPECT_EQ(runCli("scan --format xml " + kExamples).exit_code, 2);
  auto two = runCli("scan --format json --format sarif " + kExamples);
  EXPECT_EQ(two.exit_code, 2);
  EXPECT_NE(two.err.find("more than one format writes to standard output"), std::string::npos);
}

TEST(Cli, TextReportOnExamples) {
  auto r = runCli("scan " + kExamples);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("insecure-deployment.yaml:28:13 critical pod-privileged container \"api\" "
                       "runs privileged"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("critical pod-runtime-socket"), std::string::npos);
  EXPECT_NE(r.out.find("high secrets-env-literal"), std::string::npos);
  EXPECT_EQ(r.out.find("Pr0duct10n"), std::string::npos) << "secret value leaked";
  EXPECT_EQ(r.out.find("hardened-deployment.yaml"), std::string::npos)
      << "hardened example has findings:\n"
      << r.out;
  // The Dockerfiles next to the manifests are linted in the same run; the hardened one is clean.
  EXPECT_NE(r.out.find("app/Dockerfile:5:5 high dockerfile-curl-pipe-shell"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("hardened.Dockerfile"), std::string::npos) << r.out;
  // The chart is rendered (helm from scripts/install-deps) and reported on its template.
  EXPECT_NE(r.out.find("examples/charts/shop/templates/deployment.yaml:42:13 critical "
                       "pod-privileged container \"debug\""),
            std::string::npos)
      << r.out << r.err;
  EXPECT_NE(r.out.find("7 files, 10 objects:"), std::string::npos) << r.out;  // audit/ too
  EXPECT_NE(r.out.find("1 suppressed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\x1b["), std::string::npos) << "colour without a terminal";
}

TEST(Cli, FailOnThresholds) {
  TempDir d;
  std::string f = d.write("p.yaml", kPrivileged);
  EXPECT_EQ(runCli("scan " + f).exit_code, 1);
  EXPECT_EQ(runCli("scan --fail-on critical " + f).exit_code, 1);
  EXPECT_EQ(runCli("scan --fail-on none " + f).exit_code, 0);
  std::string clean = kPrivileged;
  clean.replace(clean.find("privileged: true"), 16, "privileged: false");
  std::string g = d.write("clean.yaml", clean);
  auto r = runCli("scan --fail-on low " + g);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("0 findings"), std::string::npos);
}

TEST(Cli, JsonReportSchema) {
  TempDir d;
  std::string f = d.write("p.yaml", kPrivileged);
  auto r = runCli("scan --format json " + f);
  ASSERT_EQ(r.exit_code, 1);
  auto j = parseJson(r.out);
  EXPECT_STREQ(j["schema"].GetString(), "kubeharden/scan/v1");
  EXPECT_EQ(j["objects"].GetUint(), 1u);
  ASSERT_EQ(j["findings"].Size(), 1u);
  const auto& x = j["findings"][0];
  EXPECT_STREQ(x["check"].GetString(), "pod-privileged");
  EXPECT_STREQ(x["severity"].GetString(), "critical");
  EXPECT_STREQ(x["object"]["kind"].GetString(), "Pod");
  EXPECT_STREQ(x["object"]["namespace"].GetString(), "ns");
  EXPECT_STREQ(x["container"].GetString(), "app");
  EXPECT_STREQ(x["path"].GetString(), "spec.containers[0].securityContext.privileged");
  EXPECT_EQ(x["line"].GetUint(), 15u);
  EXPECT_EQ(x["column"].GetUint(), 9u);
  EXPECT_FALSE(x["suppressed"].GetBool());
  EXPECT_EQ(std::string(x["fingerprint"].GetString()).size(), 16u);
  EXPECT_EQ(j["summary"]["bySeverity"]["critical"].GetUint(), 1u);
}

TEST(Cli, SeveralFormatsInOneRun) {
  TempDir d;
  std::string f = d.write("p.yaml", kPrivileged);
  auto r = runCli(
      fmt::format("scan {} --format sarif={}/r.sarif --format junit -o {}/r.xml --format json", f,
                  d.path(), d.path()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  parseJson(r.out);
  auto sarif = parseJson(readFile(d.path() + "/r.sarif"));
  EXPECT_STREQ(sarif["version"].GetString(), "2.1.0");
  const auto& run = sarif["runs"][0];
  EXPECT_GE(run["tool"]["driver"]["rules"].Size(), 20u);
  const auto& rule0 = run["tool"]["driver"]["rules"][0];
  EXPECT_TRUE(rule0.HasMember("helpUri"));
  EXPECT_TRUE(rule0["help"].HasMember("markdown"));
  EXPECT_TRUE(rule0["properties"].HasMember("security-severity"));
  ASSERT_EQ(run["results"].Size(), 1u);
  const auto& res = run["results"][0];
  EXPECT_STREQ(res["ruleId"].GetString(), "pod-privileged");
  EXPECT_STREQ(res["level"].GetString(), "error");
  const auto& loc = res["locations"][0]["physicalLocation"];
  EXPECT_EQ(loc["region"]["startLine"].GetUint(), 15u);
  EXPECT_EQ(std::string(loc["artifactLocation"]["uri"].GetString()).rfind("file://", 0), 0u)
      << "a file outside the working directory gets an absolute URI";
  std::string junit = readFile(d.path() + "/r.xml");
  EXPECT_NE(junit.find("<testcase classname=\"Pod ns/p\" name=\"pod-privileged\">"),
            std::string::npos)
      << junit;
  EXPECT_NE(junit.find("<failure message=\"container &quot;app&quot; runs privileged"),
            std::string::npos);
  EXPECT_NE(junit.find("<testcase classname=\"Pod ns/p\" name=\"pod-host-pid\"/>"),
            std::string::npos);
}

TEST(Cli, SarifUrisAreRelativeToTheWorkingDirectory) {
  TempDir d;
  d.write("k8s/p.yaml", kPrivileged);
  auto r = runCli("scan --format sarif k8s", d.path());
  auto sarif = parseJson(r.out);
  const auto& al =
      sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
  EXPECT_STREQ(al["uri"].GetString(), "k8s/p.yaml");
  EXPECT_STREQ(al["uriBaseId"].GetString(), "%SRCROOT%");
}

TEST(Cli, StdinInput) {
  auto r = runCli("scan --format json -", "", kPrivileged);
  EXPECT_EQ(r.exit_code, 1);
  auto j = parseJson(r.out);
  EXPECT_STREQ(j["findings"][0]["file"].GetString(), "<stdin>");
}

TEST(Cli, BadFileIsReportedAndOthersStillScanned) {
  TempDir d;
  d.write("a-good.yaml", kPrivileged);
  d.write("b-bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n");
  auto r = runCli("scan --format json " + d.path());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("b-bad.yaml:5:1: YAML syntax error"), std::string::npos) << r.err;
  auto j = parseJson(r.out);
  EXPECT_EQ(checksIn(j), std::vector<std::string>{"pod-privileged"});
  EXPECT_EQ(j["errors"].Size(), 1u);
}

TEST(Cli, NoObjectsIsNeverASilentPass) {
  TempDir d;
  d.write("values.yaml", "replicaCount: 1\nimage: {tag: x}\n");
  auto r = runCli("scan " + d.path());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no Kubernetes objects or Dockerfiles found"), std::string::npos);
  EXPECT_NE(r.out.find("not a Kubernetes object"), std::string::npos) << r.out;
  TempDir empty;
  EXPECT_EQ(runCli("scan " + empty.path()).exit_code, 3);
  EXPECT_EQ(runCli("scan /nonexistent/path").exit_code, 3);
}

TEST(Cli, StrictPromotesDiagnostics) {
  TempDir d;
  std::string text = std::string(kPrivileged) + "---\nfoo: bar\n";
  std::string f = d.write("p.yaml", text);
  EXPECT_EQ(runCli("scan --fail-on none " + f).exit_code, 0);
  EXPECT_EQ(runCli("scan --fail-on none --strict " + f).exit_code, 3);
}

std::string withAnnotations(const std::string& ann) {
  std::string t = kPrivileged;
  t.insert(t.find("spec:"), "  annotations:\n" + ann);
  return t;
}

TEST(Cli, InlineSuppressions) {
  TempDir d;
  std::string f =
      d.write("p.yaml", withAnnotations("    kubeharden.io/ignore: pod-privileged\n    "
                                        "kubeharden.io/ignore-reason: \"GPU driver installer\"\n"));
  auto r = runCli("scan --format json " + f);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  auto j = parseJson(r.out);
  ASSERT_EQ(j["findings"].Size(), 1u);
  EXPECT_TRUE(j["findings"][0]["suppressed"].GetBool());
  EXPECT_STREQ(j["findings"][0]["suppression"]["reason"].GetString(), "GPU driver installer");
  EXPECT_EQ(j["summary"]["suppressed"].GetUint(), 1u);
  // --no-inline-ignores: authors cannot exempt themselves.
  EXPECT_EQ(runCli("scan --no-inline-ignores " + f).exit_code, 1);
}

TEST(Cli, ContainerScopedSuppression) {
  TempDir d;
  std::string other =
      d.write("o.yaml", withAnnotations("    kubeharden.io/ignore.sidecar: pod-privileged\n    "
                                        "kubeharden.io/ignore-reason: x\n"));
  EXPECT_EQ(runCli("scan " + other).exit_code, 1);
  std::string mine = d.write(
      "m.yaml",
      withAnnotations(
          "    kubeharden.io/ignore.app: pod-privileged\n    kubeharden.io/ignore-reason: x\n"));
  EXPECT_EQ(runCli("scan " + mine).exit_code, 0);
}

TEST(Cli, ExpiredSuppressionLapsesAndSaysSo) {
  TempDir d;  // runCli pins today to 2026-06-15
  std::string f = d.write(
      "p.yaml",
      withAnnotations("    kubeharden.io/ignore: pod-privileged\n    kubeharden.io/ignore-reason: "
                      "temporary\n    kubeharden.io/ignore-until: \"2026-06-14\"\n"));
  auto r = runCli("scan " + f);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("suppression expired on 2026-06-14"), std::string::npos) << r.out;
  std::string g = d.write(
      "q.yaml",
      withAnnotations("    kubeharden.io/ignore: pod-privileged\n    kubeharden.io/ignore-reason: "
                      "temporary\n    kubeharden.io/ignore-until: \"2026-06-15\"\n"));
  EXPECT_EQ(runCli("scan " + g).exit_code, 0);
}

TEST(Cli, UnknownCheckInIgnoreIsDiagnosed) {
  TempDir d;
  std::string f = d.write(
      "p.yaml",
      withAnnotations(
          "    kubeharden.io/ignore: pod-privilegd\n    kubeharden.io/ignore-reason: typo\n"));
  auto r = runCli("scan " + f);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("names unknown check 'pod-privilegd' [unknown-check]"), std::string::npos)
      << r.out;
}

TEST(Cli, ConfigFile) {
  TempDir d;
  d.write("p.yaml", kPrivileged);
  d.write(".kubeharden.yaml", R"(checks:
  severity:
    pod-privileged: low
exceptions:
  - checks: [pod-memory-limit]
    namespace: "n*"
    reason: not relevant here
)");
  auto r = runCli("scan --format json p.yaml", d.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = parseJson(r.out);
  EXPECT_STREQ(j["findings"][0]["severity"].GetString(), "low");
  d.write("off.yaml", "checks:\n  disable: [pod-privileged]\n");
  auto off = runCli("scan --config off.yaml --format json p.yaml", d.path());
  EXPECT_EQ(parseJson(off.out)["findings"].Size(), 0u);
}

// Checks on and off by ID, group or "all"; the most specific mention wins; the command line
// overrides the config file about the same name; unknown names are usage errors.
TEST(Cli, EnableAndDisableByIdGroupAndAll) {
  TempDir d;
  d.write("p.yaml", kPrivileged);
  auto ids = [&](const std::string& args) {
    auto r = runCli("scan --fail-on none --format json " + args + " p.yaml", d.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> out;
    for (const std::string& c : checksIn(parseJson(r.out))) out.insert(c);
    return out;
  };
  EXPECT_EQ(ids("--disable all --enable pod-privileged"), std::set<std::string>{"pod-privileged"});
  auto rel = ids("--disable all --enable reliability");
  EXPECT_TRUE(rel.count("rel-liveness-probe")) << "the group turns its checks on";
  EXPECT_FALSE(rel.count("pod-privileged")) << "security checks stay off";
  for (const std::string& id : rel) EXPECT_TRUE(id.starts_with("rel-")) << id;
  auto most = ids("--enable all --disable rel-sorted-keys,misc-naked-pod");
  EXPECT_TRUE(most.count("rel-dnsconfig"));     // opt-in, turned on by all
  EXPECT_FALSE(most.count("rel-sorted-keys"));  // the ID beats "all"
  EXPECT_TRUE(most.count("pod-privileged"));
  d.write("cfg.yaml", "checks:\n  disable: [pod-privileged]\n  enable: [reliability]\n");
  auto cfg = ids("-c cfg.yaml");
  EXPECT_FALSE(cfg.count("pod-privileged"));
  EXPECT_TRUE(cfg.count("rel-liveness-probe"));
  auto cli = ids("-c cfg.yaml --enable pod-privileged --disable reliability");
  EXPECT_TRUE(cli.count("pod-privileged")) << "the command line overrides the config file";
  EXPECT_FALSE(cli.count("rel-liveness-probe"));
  // Repeatable, not only comma-separated.
  auto repeated = ids("--disable all --enable pod-privileged --enable reliability");
  EXPECT_TRUE(repeated.count("pod-privileged"));
  EXPECT_TRUE(repeated.count("rel-liveness-probe"));
  auto bad = runCli("scan --enable pod-privilegd p.yaml", d.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown check or group 'pod-privilegd'"), std::string::npos) << bad.err;
  d.write("badcfg.yaml", "checks:\n  enable: [realiability]\n");
  auto badcfg = runCli("scan -c badcfg.yaml p.yaml", d.path());
  EXPECT_EQ(badcfg.exit_code, 2);
  EXPECT_NE(badcfg.err.find("badcfg.yaml:2"), std::string::npos) << badcfg.err;
}

TEST(Cli, ConfigExceptionSuppressesByGlob) {
  TempDir d;
  d.write("p.yaml", kPrivileged);
  d.write("c.yaml",
          "exceptions:\n  - checks: [pod-privileged]\n    kind: Pod\n    name: \"p*\"\n    reason: "
          "installer\n    expires: 2027-01-01\n");
  auto r = runCli("scan -c c.yaml --format json p.yaml", d.path());
  EXPECT_EQ(r.exit_code, 0);
  auto j = parseJson(r.out);
  EXPECT_STREQ(j["findings"][0]["suppression"]["kind"].GetString(), "config");
  d.write("old.yaml",
          "exceptions:\n  - checks: [pod-privileged]\n    reason: installer\n    expires: "
          "2026-01-01\n");
  auto old = runCli("scan -c old.yaml p.yaml", d.path());
  EXPECT_EQ(old.exit_code, 1);
  EXPECT_NE(old.out.find("config exception expired on 2026-01-01"), std::string::npos);
}

TEST(Cli, BadConfigIsAUsageErrorNamingTheLine) {
  TempDir d;
  d.write("p.yaml", kPrivileged);
  struct Case {
    const char* config;
    const char* expect;
  } cases[] = {
      {"checks:\n  disable: [pod-nope]\n", "c.yaml:2:13: unknown check 'pod-nope'"},
      {"checks:\n  severity: {pod-privileged: severe}\n", "c.yaml:2:30: unknown severity 'severe'"},
      {"exceptions:\n  - checks: [pod-privileged]\n",
       "c.yaml:2:5: exceptions: 'reason' is required"},
      {"bogus: 1\n", "c.yaml:1:1: unknown key 'bogus'"},
      {"checks: [\n", "c.yaml:2:1: YAML syntax error"},
      {"checks:\n  options:\n    pod-privileged: {x: 1}\n",
       "c.yaml:3:22: check pod-privileged has no option 'x'"},
  };
  for (const auto& c : cases) {
    d.write("c.yaml", c.config);
    auto r = runCli("scan -c c.yaml p.yaml", d.path());
    EXPECT_EQ(r.exit_code, 2) << c.config;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.config << "\n" << r.err;
  }
  EXPECT_EQ(runCli("scan -c missing.yaml p.yaml", d.path()).exit_code, 2);
}

TEST(Cli, CheckOptionsChangeBehaviour) {
  TempDir d;
  d.write("p.yaml",
          "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    "
          "image: x:1\n    securityContext: {capabilities: {add: [CHOWN, NET_ADMIN]}}\n");
  auto def = parseJson(runCli("scan --format json p.yaml", d.path()).out);
  auto count = [](const rapidjson::Document& j, const char* id) {
    size_t n = 0;
    for (const auto& f : j["findings"].GetArray()) n += std::string(f["check"].GetString()) == id;
    return n;
  };
  EXPECT_EQ(count(def, "pod-capabilities-dangerous"), 1u);
  d.write("c.yaml",
          "checks:\n  options:\n    pod-capabilities-dangerous:\n      capabilities: [CHOWN, "
          "NET_ADMIN]\n");
  auto opt = parseJson(runCli("scan -c c.yaml --format json p.yaml", d.path()).out);
  EXPECT_EQ(count(opt, "pod-capabilities-dangerous"), 2u);
}

TEST(Cli, BaselineSurvivesMovedLines) {
  TempDir d;
  std::string f = d.write("p.yaml", kPrivileged);
  auto first = runCli("scan --format json -o " + d.path() + "/base.json " + f);
  EXPECT_EQ(first.exit_code, 1);
  // Move every line down; add a new problem.
  std::string moved = "# a comment\n# another\n" + std::string(kPrivileged);
  moved.replace(moved.find("automountServiceAccountToken: false"), 35, "hostPID: true");
  d.write("p.yaml", moved);
  auto r = runCli("scan --format json --baseline " + d.path() + "/base.json " + f);
  auto j = parseJson(r.out);
  EXPECT_EQ(checksIn(j), (std::vector<std::string>{"pod-host-pid", "pod-sa-token-automount"}));
  EXPECT_EQ(j["summary"]["baselined"].GetUint(), 1u);
  d.write("bad.json", "{\"schema\": \"other\"}");
  EXPECT_EQ(runCli("scan --baseline " + d.path() + "/bad.json " + f).exit_code, 2);
}

TEST(Cli, ChecksAndExplain) {
  auto t = runCli("checks");
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_NE(t.out.find("pod-privileged"), std::string::npos);
  EXPECT_NE(t.out.find("Trivy KSV-0017"), std::string::npos);
  auto j = parseJson(runCli("checks --format json").out);
  EXPECT_STREQ(j["schema"].GetString(), "kubeharden/checks/v1");
  EXPECT_GE(j["checks"].Size(), 20u);
  bool found = false;
  for (const auto& c : j["checks"].GetArray())
    if (std::string(c["id"].GetString()) == "pod-host-network") {
      found = true;
      EXPECT_STREQ(c["refs"]["kubescape"].GetString(), "C-0041");
    }
  EXPECT_TRUE(found);
  auto e = runCli("explain pod-runtime-socket");
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(e.out.rfind("# pod-runtime-socket", 0), 0u);
  EXPECT_NE(e.out.find("## References"), std::string::npos);
  EXPECT_NE(e.out.find("KSV-0006"), std::string::npos);
  auto bad = runCli("explain pod-runtime");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("did you mean: pod-runtime-class pod-runtime-socket"), std::string::npos);
}

TEST(Cli, OutputIsDeterministicAcrossThreadCounts) {
  KH_NEED_SHARED(corpus, "corpus/bitnami");
  auto one = runCli("scan --format json -j 1 " + corpus);
  auto two = runCli("scan --format json -j 2 " + corpus);
  EXPECT_EQ(one.exit_code, two.exit_code);
  EXPECT_EQ(one.out, two.out);
  auto j = parseJson(one.out);
  EXPECT_GT(j["objects"].GetUint(), 2000u);
  EXPECT_EQ(j["errors"].Size(), 0u);
}

}  // namespace
}  // namespace kh::test

namespace kh::test {
namespace {

TEST(Cli, ReviewDecidesOneAdmissionReview) {
  std::string dir = std::string(KH_SOURCE_DIR) + "/fuzz/corpus/admission/";
  auto denied = runCli("review " + dir + "pod.json");
  EXPECT_EQ(denied.exit_code, 1) << denied.err;
  auto j = parseJson(denied.out);
  EXPECT_STREQ(j["kind"].GetString(), "AdmissionReview");
  EXPECT_STREQ(j["response"]["uid"].GetString(), "u-1");
  EXPECT_FALSE(j["response"]["allowed"].GetBool());
  EXPECT_TRUE(std::string(j["response"]["status"]["message"].GetString())
                  .starts_with("violates PodSecurity \"baseline:latest\": "));
  auto privileged =
      runCli("review --namespace-label kubeharden.io/enforce=privileged " + dir + "pod.json");
  EXPECT_EQ(privileged.exit_code, 0) << privileged.out;
  auto mutate = runCli("review --mutate --namespace-label kubeharden.io/mutate=true " + dir +
                       "deployment.json");
  EXPECT_EQ(mutate.exit_code, 0);
  auto m = parseJson(mutate.out);
  EXPECT_STREQ(m["response"]["patchType"].GetString(), "JSONPatch");
  auto bad = runCli("review -", "", "{\"apiVersion\":\"v1\"}");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("admission.k8s.io/v1"), std::string::npos) << bad.err;
  EXPECT_EQ(runCli("review --namespace-label nolabel " + dir + "pod.json").exit_code, 2);
  // Several labels, and labels with quotes and backslashes (escaped into the engine's JSON).
  auto two = runCli(
      "review --namespace-label 'we\"ird=va\\lue' --namespace-label "
      "kubeharden.io/enforce=privileged " +
      dir + "pod.json");
  EXPECT_EQ(two.exit_code, 0) << two.out << two.err;
}

}  // namespace
}  // namespace kh::test
