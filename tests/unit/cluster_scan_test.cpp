// `kubeharden cluster scan` against the fake API server: the same findings as `kubeharden scan`
// of the same objects as a file (locations aside), in pages of any size; incomplete coverage
// (a forbidden type, an unavailable group) is stated and exits 3 unless --allow-partial;
// connection errors are clear; nothing but GET reaches the server.
#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "tests/unit/fake_apiserver.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

const std::string kObjects = std::string(KH_SOURCE_DIR) + "/tests/cluster/objects.json";

// (check, kind, namespace, name, container, message) of every finding of a JSON report.
std::multiset<std::string> findingsOf(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  std::multiset<std::string> out;
  EXPECT_TRUE(d.IsObject() && d.HasMember("findings")) << json.substr(0, 500);
  if (!d.IsObject() || !d.HasMember("findings")) return out;
  for (const auto& f : d["findings"].GetArray())
    out.insert(fmt::format("{} {} {}/{} [{}] {}", f["check"].GetString(),
                           f["object"]["kind"].GetString(), f["object"]["namespace"].GetString(),
                           f["object"]["name"].GetString(), f["container"].GetString(),
                           f["message"].GetString()));
  return out;
}

// The ClusterInfo object a cluster scan reads from the fake's /version (context "fake"): the
// same objects as files need it too.
std::string clusterInfoFile(TempDir& d) {
  return d.write("cluster-info.yaml",
                 "apiVersion: kubeharden.io/v1\nkind: ClusterInfo\nmetadata: {name: fake}\n"
                 "version: {gitVersion: v1.31.2}\n");
}

struct Cluster {
  TempDir d;
  Pki pki;
  std::unique_ptr<FakeApiServer> api;
  std::string kubeconfig;
  bool start(std::string* why, const std::function<void(FakeApiServer&)>& faults = {},
             const std::string& objects = readFile(kObjects)) {
    if (image::fixtures::shell("openssl version") != 0) {
      *why = "needs openssl";
      return false;
    }
    if (!pki.make(d, why)) return false;
    api = std::make_unique<FakeApiServer>(pki);
    api->addObjects(objects);
    api->addToken("scanner-token", "scanner");
    if (faults) faults(*api);
    api->start();
    kubeconfig = api->writeKubeconfig(d, "scanner-token");
    return true;
  }
  CmdResult scan(const std::string& flags) {
    return runCli(
        fmt::format("cluster scan --kubeconfig {} --fail-on none -f json {}", kubeconfig, flags),
        d.path(), "", "HOME=" + d.path());
  }
};

TEST(ClusterScan, SameFindingsAsTheObjectsScannedAsFiles) {
  Cluster c;
  std::string why;
  if (!c.start(&why)) GTEST_SKIP() << why;
  auto files =
      runCli(fmt::format("scan --fail-on none -f json {} {}", kObjects, clusterInfoFile(c.d)));
  ASSERT_EQ(files.exit_code, 0) << files.err;
  std::multiset<std::string> expected = findingsOf(files.out);
  ASSERT_GT(expected.size(), 20u);
  // Page sizes, and workers: the same findings whatever the number of types read at once.
  for (const char* page : {"500", "1 --parallel 1", "3 --parallel 8"}) {
    auto live = c.scan(std::string("--page-size ") + page);
    ASSERT_EQ(live.exit_code, 0) << live.err;
    std::multiset<std::string> got = findingsOf(live.out);
    EXPECT_EQ(got, expected) << "page size " << page;
    EXPECT_NE(
        live.err.find("cluster: context fake, server " + c.api->url() + " (Kubernetes v1.31.2)"),
        std::string::npos)
        << live.err;
    EXPECT_NE(live.err.find("read: 17 objects of "), std::string::npos) << live.err;
    rapidjson::Document j;
    j.Parse(live.out.c_str());
    ASSERT_TRUE(j.IsObject() && j.HasMember("cluster"));
    EXPECT_TRUE(j["cluster"]["complete"].GetBool());
    EXPECT_EQ(j["cluster"]["objects"].GetUint(), 17u);
  }
  // A snapshot scans offline to the same findings.
  std::string snap = c.d.path() + "/snap";
  auto saved = c.scan("--page-size 2 --save-snapshot " + snap);
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  EXPECT_EQ(findingsOf(saved.out), expected);
  auto offline = runCli(fmt::format("scan --fail-on none -f json {}", snap));
  ASSERT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_EQ(findingsOf(offline.out), expected);
  // cluster scan --from-snapshot: the same findings, and the read's context and coverage.
  auto replayed =
      runCli(fmt::format("cluster scan --fail-on none -f json --from-snapshot {}", snap));
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  EXPECT_EQ(findingsOf(replayed.out), expected);
  rapidjson::Document rj;
  rj.Parse(replayed.out.c_str());
  ASSERT_TRUE(rj.IsObject() && rj.HasMember("cluster")) << replayed.out.substr(0, 300);
  EXPECT_STREQ(rj["cluster"]["context"].GetString(), "fake");
  EXPECT_STREQ(rj["cluster"]["kubernetesVersion"].GetString(), "v1.31.2");
  EXPECT_EQ(rj["cluster"]["objects"].GetUint(), 17u);
  EXPECT_EQ(rj["cluster"]["snapshot"].GetString(), snap);
  EXPECT_TRUE(rj["cluster"]["complete"].GetBool());
  EXPECT_NE(replayed.err.find("snapshot: " + snap + " of context fake"), std::string::npos)
      << replayed.err;
  // Connection options make no sense with it; a directory without an index is not a snapshot.
  EXPECT_EQ(runCli(fmt::format("cluster scan --from-snapshot {} --context x", snap)).exit_code, 2);
  auto none = runCli("cluster scan --from-snapshot " + c.d.path());
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("no snapshot.txt there"), std::string::npos) << none.err;
  std::string index = readFile(snap + "/snapshot.txt");
  EXPECT_NE(index.find("server: " + c.api->url() + "\ncontext: fake\nkubernetes: v1.31.2\n"),
            std::string::npos)
      << index;
  EXPECT_NE(index.find("  pods: 1 objects\n"), std::string::npos) << index;
  EXPECT_NE(index.find("  deployments.apps: 2 objects\n"), std::string::npos) << index;
  EXPECT_TRUE(std::filesystem::exists(snap + "/apps_v1_deployments.json"));
  EXPECT_TRUE(std::filesystem::exists(snap + "/core_v1_pods.json"));
  EXPECT_TRUE(std::filesystem::exists(snap + "/cluster-info.json"));
  // The server's version is judged: 1.31 is past its end of life (2025-10-28).
  bool eol = false;
  for (const std::string& f : expected)
    eol |= f.starts_with("cluster-version-end-of-life ClusterInfo /fake ");
  EXPECT_TRUE(eol);
  // Read-only: nothing but GET, and the one SelfSubjectReview per run that asks who we are.
  size_t reviews = 0;
  for (const ApiRequest& r : c.api->requests()) {
    bool review =
        r.method == "POST" && r.target == "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    reviews += review;
    EXPECT_TRUE(r.method == "GET" || review) << r.method << " " << r.target;
    EXPECT_EQ(r.user, "token:scanner");
  }
  EXPECT_EQ(reviews, 4u);  // four runs
  EXPECT_NE(saved.err.find(", as scanner (system:authenticated)"), std::string::npos) << saved.err;
  rapidjson::Document sj;
  sj.Parse(saved.out.c_str());
  EXPECT_STREQ(sj["cluster"]["identity"].GetString(), "scanner (system:authenticated)");
  // --fail-on works as for files.
  auto fail = runCli(fmt::format("cluster scan --kubeconfig {} --fail-on high", c.kubeconfig),
                     c.d.path(), "", "HOME=" + c.d.path());
  EXPECT_EQ(fail.exit_code, 1) << fail.err;
}

// The namespace of a finding line of findingsOf ("check Kind ns/name ...").
std::string nsOf(const std::string& finding) {
  size_t a = finding.find(' ', finding.find(' ') + 1) + 1;
  return finding.substr(a, finding.find('/', a) - a);
}

TEST(ClusterScan, NamespacesExclusionsAndLabelSelectors) {
  Cluster c;
  std::string why;
  // An identity that may list Pods and Deployments in namespaces, not cluster-wide.
  if (!c.start(&why, [](FakeApiServer& a) {
        a.forbidClusterWide("pods");
        a.forbidClusterWide("deployments");
      }))
    GTEST_SKIP() << why;
  auto files =
      runCli(fmt::format("scan --fail-on none -f json {} {}", kObjects, clusterInfoFile(c.d)));
  std::multiset<std::string> all = findingsOf(files.out);
  // Cluster-wide, the forbidden types make the read incomplete.
  EXPECT_EQ(c.scan("").exit_code, 3);
  // Per namespace: complete for those namespaces, and the same findings there.
  auto two = c.scan("--namespaces shop,default");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  // Expected: the findings about objects of those namespaces, cluster-scoped ones and the
  // selected Namespaces; not the RBAC risk that a RoleBinding in another namespace gives a
  // ClusterRole (that binding is not read), nor other Namespaces.
  std::multiset<std::string> expected;
  for (const std::string& f : all) {
    bool cluster_scoped = nsOf(f).empty();
    if (f.find(" Namespace /") != std::string::npos)
      cluster_scoped = f.find(" Namespace /shop ") != std::string::npos ||
                       f.find(" Namespace /default ") != std::string::npos;
    if (f.find("in namespace team") != std::string::npos) continue;
    if (cluster_scoped || nsOf(f) == "shop" || nsOf(f) == "default") expected.insert(f);
  }
  std::multiset<std::string> got = findingsOf(two.out);
  for (const std::string& f : got) EXPECT_TRUE(expected.count(f)) << "extra: " << f;
  for (const std::string& f : expected) EXPECT_TRUE(got.count(f)) << "missing: " << f;
  bool per_namespace = false;
  for (const ApiRequest& r : c.api->requests())
    per_namespace |= r.target.starts_with("/apis/apps/v1/namespaces/shop/deployments?");
  EXPECT_TRUE(per_namespace);
  // Exclusions: a field selector, every type.
  std::string kubeconfig = c.kubeconfig;
  Cluster open;
  ASSERT_TRUE(open.start(&why)) << why;
  auto without = open.scan("--exclude-namespaces shop --exclude-namespaces logging");
  ASSERT_EQ(without.exit_code, 0) << without.err;
  expected.clear();
  for (const std::string& f : all)
    if (nsOf(f) != "shop" && nsOf(f) != "logging") expected.insert(f);
  EXPECT_EQ(findingsOf(without.out), expected);
  bool selected = false;
  for (const ApiRequest& r : open.api->requests())
    selected |= r.target.find(
                    "fieldSelector=metadata.namespace%21%3Dshop%2Cmetadata.namespace%"
                    "21%3Dlogging") != std::string::npos;
  EXPECT_TRUE(selected);
  // A label selector: only Namespaces carry labels here.
  auto labelled = open.scan("-l kubernetes.io/metadata.name=shop");
  ASSERT_EQ(labelled.exit_code, 0) << labelled.err;
  for (const std::string& f : findingsOf(labelled.out))
    EXPECT_TRUE(f.find(" Namespace /shop ") != std::string::npos ||
                f.find(" ClusterInfo /fake ") != std::string::npos)
        << f;
}

TEST(ClusterScan, IncompleteCoverageIsStatedAndExits3) {
  Cluster c;
  std::string why;
  if (!c.start(&why, [](FakeApiServer& a) {
        a.forbid("clusterroles");
        a.staleGroup("networking.k8s.io/v1");
      }))
    GTEST_SKIP() << why;
  auto r = c.scan("");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("INCOMPLETE: 2 resource types were not read"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("clusterroles.rbac.authorization.k8s.io (forbidden: clusterroles is "
                       "forbidden: User \"token:scanner\" cannot list resource \"clusterroles\""),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("networking.k8s.io/v1 (discovery failed: "), std::string::npos) << r.err;
  // The report is still written: what could be read was judged, and the report says what was
  // not, first.
  EXPECT_GT(findingsOf(r.out).size(), 10u);
  rapidjson::Document j;
  j.Parse(r.out.c_str());
  ASSERT_TRUE(j.IsObject() && j.HasMember("cluster")) << r.out.substr(0, 300);
  EXPECT_FALSE(j["cluster"]["complete"].GetBool());
  EXPECT_EQ(j["cluster"]["notRead"].Size(), 2u);
  EXPECT_STREQ(j["cluster"]["context"].GetString(), "fake");
  EXPECT_STREQ(j["cluster"]["kubernetesVersion"].GetString(), "v1.31.2");
  auto text =
      runCli(fmt::format("cluster scan --kubeconfig {} --fail-on none --no-color", c.kubeconfig),
             c.d.path(), "", "HOME=" + c.d.path());
  EXPECT_TRUE(text.out.starts_with("cluster fake (" + c.api->url() +
                                   ", Kubernetes v1.31.2), as scanner (system:authenticated): "))
      << text.out.substr(0, 300);
  EXPECT_NE(text.out.find("\nINCOMPLETE: 2 resource types were not read"), std::string::npos);
  auto allowed = c.scan("--allow-partial");
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  // A snapshot of the incomplete read replays its coverage: incomplete, exit 3.
  std::string snap = c.d.path() + "/partial";
  EXPECT_EQ(c.scan("--allow-partial --save-snapshot " + snap).exit_code, 0);
  auto replayed = runCli("cluster scan --fail-on none -f json --from-snapshot " + snap);
  EXPECT_EQ(replayed.exit_code, 3) << replayed.err;
  EXPECT_NE(replayed.err.find("INCOMPLETE: 2 resource types were not read when the snapshot"),
            std::string::npos)
      << replayed.err;
  rapidjson::Document rj;
  rj.Parse(replayed.out.c_str());
  ASSERT_TRUE(rj.IsObject() && rj.HasMember("cluster"));
  EXPECT_FALSE(rj["cluster"]["complete"].GetBool());
  ASSERT_EQ(rj["cluster"]["notRead"].Size(), 2u);
  EXPECT_NE(std::string(rj["cluster"]["notRead"][1].GetString())
                .find("clusterroles.rbac.authorization.k8s.io (forbidden: clusterroles is "
                      "forbidden: User \"token:scanner\""),
            std::string::npos)
      << rj["cluster"]["notRead"][1].GetString();
  EXPECT_EQ(runCli("cluster scan --fail-on none --allow-partial --from-snapshot " + snap).exit_code,
            0);
}

// Each check that a type not read kept from judging is named, with the kind: those whose scope is
// that kind, and those that looked it up (a ServiceAccount for the token automount check); the
// checks that needed nothing missing are not named. In JSON, text, SARIF, and from a snapshot.
TEST(ClusterScan, ChecksNotEvaluatedForLackOfATypeAreNamed) {
  Cluster c;
  std::string why;
  if (!c.start(&why, [](FakeApiServer& a) {
        a.forbid("serviceaccounts");
        a.forbid("networkpolicies");
      }))
    GTEST_SKIP() << why;
  auto r = c.scan("--allow-partial");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document j;
  j.Parse(r.out.c_str());
  ASSERT_TRUE(j.IsObject() && j.HasMember("cluster")) << r.out.substr(0, 300);
  auto notEvaluated = [](const rapidjson::Document& doc) {
    std::map<std::string, std::string> out;  // check -> kinds
    for (const auto& e : doc["cluster"]["notEvaluated"].GetArray()) {
      std::string kinds;
      for (const auto& k : e["kinds"].GetArray()) kinds += std::string(k.GetString()) + " ";
      out[e["check"].GetString()] = kinds;
    }
    return out;
  };
  std::map<std::string, std::string> ne = notEvaluated(j);
  std::string all;
  for (const auto& [check, kinds] : ne) all += check + ": " + kinds + "\n";
  EXPECT_EQ(ne["pod-sa-token-automount"], "ServiceAccount ") << all;
  EXPECT_EQ(ne["network-no-default-deny"], "NetworkPolicy ") << all;
  EXPECT_EQ(ne["pod-missing-service-account"], "ServiceAccount ") << all;
  EXPECT_EQ(ne.count("pod-run-as-non-root"), 0u) << all;
  EXPECT_EQ(ne.count("rbac-wildcard-rule"), 0u) << all;
  // Text: per kind, the checks.
  auto text =
      runCli(fmt::format("cluster scan --kubeconfig {} --fail-on none --no-color --allow-partial",
                         c.kubeconfig),
             c.d.path(), "", "HOME=" + c.d.path());
  EXPECT_NE(text.out.find("  not judged for lack of ServiceAccount (serviceaccounts forbidden), "),
            std::string::npos)
      << text.out.substr(0, 2000);
  // SARIF: warnings of the invocation, tied to the rules.
  auto sarif = runCli(fmt::format("cluster scan --kubeconfig {} --fail-on none --allow-partial "
                                  "-f sarif",
                                  c.kubeconfig),
                      c.d.path(), "", "HOME=" + c.d.path());
  EXPECT_NE(sarif.out.find(R"("toolExecutionNotifications")"), std::string::npos);
  EXPECT_NE(sarif.out.find("pod-sa-token-automount could not judge what it needs of "
                           "ServiceAccount (not read)"),
            std::string::npos);
  if (std::string schemas = sharedDir("schemas/sarif-2.1.0"); !schemas.empty()) {
    std::string out;
    EXPECT_EQ(image::fixtures::shell(
                  fmt::format("/usr/bin/python3 {}/tests/tools/validate_sbom.py "
                              "{}/sarif-schema-2.1.0.json {}",
                              KH_SOURCE_DIR, schemas, c.d.write("partial.sarif", sarif.out)),
                  &out),
              0)
        << out;
  }
  // A snapshot replays it.
  std::string snap = c.d.path() + "/partial";
  ASSERT_EQ(c.scan("--allow-partial --save-snapshot " + snap).exit_code, 0);
  auto replayed =
      runCli("cluster scan --fail-on none --allow-partial -f json --from-snapshot " + snap);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  rapidjson::Document rj;
  rj.Parse(replayed.out.c_str());
  ASSERT_TRUE(rj.IsObject() && rj.HasMember("cluster"));
  EXPECT_EQ(notEvaluated(rj), ne);
  // A complete read names none.
  Cluster whole;
  ASSERT_TRUE(whole.start(&why)) << why;
  rapidjson::Document wj;
  auto w = whole.scan("");
  wj.Parse(w.out.c_str());
  ASSERT_TRUE(wj.IsObject() && wj.HasMember("cluster"));
  EXPECT_EQ(wj["cluster"]["notEvaluated"].Size(), 0u);
}

// A Secret whose value is also in kubectl's last-applied annotation.
const char* kSecret =
    R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"shop",
  "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"data\":{\"password\":\"c3VwZXJzZWNyZXQ=\"},\"kind\":\"Secret\"}"}},
  "type":"Opaque","data":{"password":"c3VwZXJzZWNyZXQ="}})";

TEST(ClusterScan, SecretsAreReadAsMetadataOnly) {
  Cluster c;
  std::string why;
  if (!c.start(&why, [](FakeApiServer& a) { a.addObjects(kSecret); })) GTEST_SKIP() << why;
  auto r = c.scan("--include-resources secrets");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("c3VwZXJzZWNyZXQ"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("supersecret"), std::string::npos);
  std::multiset<std::string> got = findingsOf(r.out);
  bool annotation = false, object = false;
  for (const std::string& f : got) {
    annotation |= f.starts_with("secrets-annotation Secret shop/db") &&
                  f.find("holds a copy of the Secret's data") != std::string::npos;
    object |= f.starts_with("secrets-secret-object");
  }
  EXPECT_TRUE(annotation) << r.out;  // judged on the redacted marker
  EXPECT_FALSE(object);              // no values were read to judge
  bool asked_metadata = false;
  for (const ApiRequest& q : c.api->requests())
    if (q.target.starts_with("/api/v1/secrets"))
      asked_metadata = q.accept.starts_with("application/json;as=PartialObjectMetadataList");
  EXPECT_TRUE(asked_metadata);
  // A snapshot holds no value either.
  std::string snap = c.d.path() + "/snap";
  ASSERT_EQ(c.scan("--include-resources secrets --save-snapshot " + snap).exit_code, 0);
  std::string saved = readFile(snap + "/core_v1_secrets.json");
  EXPECT_NE(saved.find(R"("name":"db")"), std::string::npos) << saved;
  EXPECT_EQ(saved.find("c3VwZXJzZWNyZXQ"), std::string::npos) << saved;
  // skip: not even listed; full: the values are judged.
  size_t before = c.api->requests().size();
  auto skipped = c.scan("--include-resources secrets --secrets skip");
  for (size_t i = before; i < c.api->requests().size(); ++i)
    EXPECT_FALSE(c.api->requests()[i].target.starts_with("/api/v1/secrets"));
  std::string snap_full = c.d.path() + "/snap-full";
  auto full = c.scan("--include-resources secrets --secrets full --save-snapshot " + snap_full);
  EXPECT_EQ(readFile(snap_full + "/core_v1_secrets.json").find("c3VwZXJzZWNyZXQ"),
            std::string::npos);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  // Full: the values were read (the annotation check judged the real last-applied copy), yet
  // no report format carries them, and a Secret holding data in a cluster is no finding (it is
  // where secrets belong; secrets-secret-object is about repositories).
  object = annotation = false;
  for (const std::string& f : findingsOf(full.out)) {
    object |= f.starts_with("secrets-secret-object");
    annotation |= f.starts_with("secrets-annotation Secret shop/db");
  }
  EXPECT_FALSE(object) << full.out;
  EXPECT_TRUE(annotation) << full.out;
  bool asked_full = false;
  for (const ApiRequest& q : c.api->requests())
    if (q.target.starts_with("/api/v1/secrets")) asked_full = q.accept == "application/json";
  EXPECT_TRUE(asked_full);
  for (const char* format : {"json", "sarif", "text", "junit"}) {
    auto out = runCli(fmt::format("cluster scan --kubeconfig {} --fail-on none -f {} "
                                  "--include-resources secrets --secrets full",
                                  c.kubeconfig, format),
                      c.d.path(), "", "HOME=" + c.d.path());
    ASSERT_EQ(out.exit_code, 0) << out.err;
    EXPECT_NE(out.out.find("db"), std::string::npos) << format;
    for (const char* value : {"c3VwZXJzZWNyZXQ", "supersecret"}) {
      EXPECT_EQ(out.out.find(value), std::string::npos) << format << ": " << out.out;
      EXPECT_EQ(out.err.find(value), std::string::npos) << format << ": " << out.err;
    }
  }
  // The same Secret in a file is a finding: it is committed where it should not be.
  std::string file = c.d.write("secret.json", kSecret);
  auto files = runCli("scan --fail-on none -f json " + file);
  object = false;
  for (const std::string& f : findingsOf(files.out))
    object |= f.starts_with("secrets-secret-object");
  EXPECT_TRUE(object) << files.out;
}

// Selections by kind, and what counts as a gap: a group whose discovery failed is one only when
// the selection could include its types.
TEST(ClusterScan, KindSelectionAndRelevantGaps) {
  Cluster c;
  std::string why;
  if (!c.start(&why, [](FakeApiServer& a) { a.staleGroup("networking.k8s.io/v1"); }))
    GTEST_SKIP() << why;
  EXPECT_EQ(c.scan("").exit_code, 3);  // everything wanted: the stale group is a gap
  auto pods = c.scan("--include-resources pods");
  EXPECT_EQ(pods.exit_code, 0) << pods.err;  // pods are core: the stale group is not wanted
  EXPECT_EQ(c.scan("--include-resources networkpolicies.networking.k8s.io").exit_code, 3);
  EXPECT_EQ(c.scan("--include-kinds Pod").exit_code, 3);  // a kind's group is unknown: kept
  size_t before = c.api->requests().size();
  auto kinds = c.scan("--include-kinds pod,Namespace --allow-partial");
  ASSERT_EQ(kinds.exit_code, 0) << kinds.err;
  std::set<std::string> listed;
  std::vector<ApiRequest> requests = c.api->requests();
  for (size_t i = before; i < requests.size(); ++i) {
    const std::string& t = requests[i].target;
    if (t.find("?limit=") != std::string::npos) listed.insert(t.substr(0, t.find('?')));
  }
  EXPECT_EQ(listed, (std::set<std::string>{"/api/v1/pods", "/api/v1/namespaces"}));
  auto without = c.scan("--exclude-kinds Pod --allow-partial");
  ASSERT_EQ(without.exit_code, 0);
  for (const std::string& f : findingsOf(without.out))
    EXPECT_EQ(f.find(" Pod "), std::string::npos) << f;
}

// A server that accepts a list and never answers: the request times out (--request-timeout:
// stalled for that long), the type is marked failed, the rest is read, and the run ends.
TEST(ClusterScan, StalledServerTimesOut) {
  Cluster c;
  std::string why;
  if (!c.start(&why, [](FakeApiServer& a) { a.stall("pods"); })) GTEST_SKIP() << why;
  auto start = std::chrono::steady_clock::now();
  auto r = c.scan("--request-timeout 1 --include-resources pods --include-resources namespaces");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("INCOMPLETE: 1 resource types were not read"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pods (failed: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
  // Two attempts of 1 s (a stalled server is given one retry, not five) and the backoff.
  EXPECT_LT(seconds, 10) << "a stalled server held the scan";
  EXPECT_GT(findingsOf(r.out).size(), 0u);  // the namespaces were read and judged
}

// --report-configmap: the counts published by server-side apply into a ConfigMap (the one write,
// only when asked), equal to the report's; failures are clear.
TEST(ClusterScan, ReportConfigMap) {
  Cluster c;
  std::string why;
  if (!c.start(&why)) GTEST_SKIP() << why;
  auto r = c.scan("--report-configmap kubeharden/kubeharden-cluster-scan");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("summary: published in ConfigMap kubeharden/kubeharden-cluster-scan"),
            std::string::npos)
      << r.err;
  std::string applied = c.api->applied("kubeharden/kubeharden-cluster-scan");
  rapidjson::Document cm;
  cm.Parse(applied.c_str());
  ASSERT_TRUE(cm.IsObject()) << applied;
  EXPECT_STREQ(cm["kind"].GetString(), "ConfigMap");
  EXPECT_STREQ(cm["metadata"]["namespace"].GetString(), "kubeharden");
  rapidjson::Document summary;
  summary.Parse(cm["data"]["summary.json"].GetString());
  ASSERT_TRUE(summary.IsObject());
  EXPECT_STREQ(summary["schema"].GetString(), "kubeharden/cluster-summary/v1");
  EXPECT_STREQ(summary["cluster"]["kubernetesVersion"].GetString(), "v1.31.2");
  EXPECT_TRUE(summary["cluster"]["complete"].GetBool());
  rapidjson::Document report;
  report.Parse(r.out.c_str());
  for (const char* sev : {"critical", "high", "medium", "low", "info"})
    EXPECT_EQ(summary["bySeverity"][sev].GetUint64(),
              report["summary"]["bySeverity"][sev].GetUint64())
        << sev;
  size_t by_check = 0;
  for (const auto& ck : summary["byCheck"].GetObject())
    for (const auto& n : ck.value.GetObject()) by_check += n.value.GetUint64();
  EXPECT_EQ(by_check, report["summary"]["findings"].GetUint64());
  // The one write: a PATCH of that ConfigMap; everything else read.
  size_t patches = 0;
  for (const ApiRequest& q : c.api->requests()) {
    if (q.method == "PATCH") {
      ++patches;
      EXPECT_TRUE(q.target.starts_with(
          "/api/v1/namespaces/kubeharden/configmaps/kubeharden-cluster-scan?fieldManager="))
          << q.target;
    } else {
      EXPECT_TRUE(q.method == "GET" || q.method == "POST") << q.method << " " << q.target;
    }
  }
  EXPECT_EQ(patches, 1u);
  // The bearer token reaches no report, log line or summary, whatever the format or outcome.
  for (const char* format : {"json", "text", "sarif", "junit"}) {
    auto any = runCli(fmt::format("cluster scan --kubeconfig {} --fail-on none -f {} "
                                  "--report-configmap kubeharden/x",
                                  c.kubeconfig, format),
                      c.d.path(), "", "HOME=" + c.d.path());
    EXPECT_EQ(any.exit_code, 0) << format << any.err;
    EXPECT_NE(any.out.find("shop"), std::string::npos) << format;
    EXPECT_EQ(any.out.find("scanner-token"), std::string::npos) << format;
    EXPECT_EQ(any.err.find("scanner-token"), std::string::npos) << format;
  }
  EXPECT_EQ(c.api->applied("kubeharden/x").find("scanner-token"), std::string::npos);
  EXPECT_EQ(c.scan("--report-configmap nonamespace").exit_code, 2);
  // Refused: exit 3, the server's message.
  Cluster refused;
  ASSERT_TRUE(refused.start(&why, [](FakeApiServer& a) { a.forbid("configmaps"); })) << why;
  auto no = refused.scan("--include-resources pods --report-configmap kubeharden/x");
  EXPECT_EQ(no.exit_code, 3);
  EXPECT_EQ(no.err.find("scanner-token"), std::string::npos) << no.err;
  EXPECT_NE(no.err.find("--report-configmap kubeharden/x: HTTP 403: configmaps \"x\" is forbidden"),
            std::string::npos)
      << no.err;
}

// A managed control plane shows no kube-apiserver pod: the report says it is not visible (not
// judged, never "passing"); kubeadm's mirror pods are judged by the cp-* checks.
TEST(ClusterScan, ControlPlaneVisibility) {
  Cluster managed;
  std::string why;
  if (!managed.start(&why)) GTEST_SKIP() << why;
  auto m = managed.scan("");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  rapidjson::Document mj;
  mj.Parse(m.out.c_str());
  ASSERT_TRUE(mj.IsObject() && mj.HasMember("cluster"));
  EXPECT_FALSE(mj["cluster"]["controlPlane"]["visible"].GetBool());
  EXPECT_FALSE(mj["cluster"]["controlPlane"]["judged"].GetBool());
  auto text = runCli(
      fmt::format("cluster scan --kubeconfig {} --fail-on none --no-color", managed.kubeconfig),
      managed.d.path(), "", "HOME=" + managed.d.path());
  EXPECT_NE(text.out.find("control plane: not visible (managed by the provider"), std::string::npos)
      << text.out.substr(0, 400);
  Cluster kubeadm;
  ASSERT_TRUE(kubeadm.start(&why, [](FakeApiServer& a) {
    a.addObjects(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"kube-apiserver-cp1",
      "namespace":"kube-system","labels":{"component":"kube-apiserver","tier":"control-plane"}},
      "spec":{"containers":[{"name":"kube-apiserver","image":"registry.k8s.io/kube-apiserver:v1.31.2",
      "command":["kube-apiserver","--anonymous-auth=true","--authorization-mode=AlwaysAllow"]}]}})");
  })) << why;
  auto k = kubeadm.scan("");
  ASSERT_EQ(k.exit_code, 0) << k.err;
  rapidjson::Document kj;
  kj.Parse(k.out.c_str());
  EXPECT_EQ(kj["cluster"]["controlPlane"]["apiServerPods"].GetUint(), 1u);
  EXPECT_TRUE(kj["cluster"]["controlPlane"]["judged"].GetBool());
  bool cp = false;
  for (const std::string& f : findingsOf(k.out))
    cp |= f.starts_with("cp-apiserver Pod kube-system/");
  EXPECT_TRUE(cp) << k.out.substr(0, 300);
}

// cluster rbac: the rbac subcommands over the cluster's own roles and bindings give what they give
// over the same objects in a file (without kubeharden's built-in roles: the cluster has its
// own); only the RBAC types are read, and the temporary snapshot is removed.
TEST(ClusterRbac, SameAnswersAsTheObjectsInAFile) {
  Cluster c;
  std::string why;
  if (!c.start(&why)) GTEST_SKIP() << why;
  for (const char* q :
       {"who-can list pods -n team", "risks", "escalation", "can user:owner create pods -n team",
        "can user:owner create pods -n dev", "permissions sa:dev/deployer"}) {
    std::string cmd(q);
    auto file = runCli(fmt::format("rbac {} {} --no-defaults", cmd, kObjects));
    auto live = runCli(fmt::format("cluster rbac --kubeconfig {} {}", c.kubeconfig, cmd),
                       c.d.path(), "", "HOME=" + c.d.path() + " TMPDIR=" + c.d.path());
    EXPECT_EQ(live.exit_code, file.exit_code) << q << "\n" << live.err;
    EXPECT_EQ(live.out, file.out) << q;
    EXPECT_FALSE(live.out.empty()) << q;
  }
  for (const ApiRequest& r : c.api->requests()) {
    if (r.target.find("?limit=") != std::string::npos) {
      EXPECT_TRUE(r.target.starts_with("/apis/rbac.authorization.k8s.io/")) << r.target;
    }
  }
  for (const auto& e : std::filesystem::directory_iterator(c.d.path()))
    EXPECT_FALSE(e.path().filename().string().starts_with("kubeharden-rbac-")) << e.path();
  // A type it may not read: no answer rather than a wrong one.
  Cluster blind;
  ASSERT_TRUE(blind.start(&why, [](FakeApiServer& a) { a.forbid("rolebindings"); })) << why;
  auto r = runCli(fmt::format("cluster rbac --kubeconfig {} who-can list pods", blind.kubeconfig),
                  blind.d.path(), "", "HOME=" + blind.d.path());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("not every RBAC type could be read"), std::string::npos) << r.err;
}

// The ClusterRole `cluster permissions` prints: read-only, enough for every type of the test
// cluster, Secrets and nodes/proxy only when asked, and clean under kubeharden's own checks.
TEST(ClusterPermissions, ReadOnlyRoleJudgedByOurOwnRbacEngine) {
  TempDir d;
  std::string binding = d.write("binding.yaml", R"(apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubeharden-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubeharden-reader}
subjects: [{kind: ServiceAccount, name: scanner, namespace: kubeharden}]
)");
  auto role = [&](const std::string& flags) {
    auto r = runCli("cluster permissions " + flags);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return d.write("role.yaml", r.out);
  };
  auto can = [&](const std::string& role_file, const std::string& question) {
    return runCli(fmt::format("rbac can sa:kubeharden/scanner {} {} {} --no-defaults", question,
                              role_file, binding))
        .exit_code;
  };
  std::string plain = role("");
  auto own = runCli(fmt::format("scan --fail-on info {} {}", plain, binding));
  EXPECT_EQ(own.exit_code, 0) << own.out;
  for (const char* q :
       {"list pods", "list namespaces", "list services", "list serviceaccounts",
        "list deployments --api-group apps", "list daemonsets --api-group apps",
        "list networkpolicies --api-group networking.k8s.io",
        "list clusterroles --api-group rbac.authorization.k8s.io",
        "list rolebindings --api-group rbac.authorization.k8s.io",
        "list customresourcedefinitions --api-group apiextensions.k8s.io", "get nodes"})
    EXPECT_EQ(can(plain, q), 0) << q;
  for (const char* q :
       {"list secrets", "get secrets", "create pods", "delete pods", "create pods/exec",
        "get nodes/proxy", "update deployments --api-group apps",
        "list widgets --api-group example.com"})
    EXPECT_EQ(can(plain, q), 1) << q;
  std::string more = role("--secrets --nodes-proxy --group example.com");
  EXPECT_EQ(can(more, "list secrets"), 0);
  EXPECT_EQ(can(more, "get secrets"), 1);  // list is all a scan does
  EXPECT_EQ(can(more, "get nodes/proxy"), 0);
  EXPECT_EQ(can(more, "list widgets --api-group example.com"), 0);
  EXPECT_EQ(can(more, "create widgets --api-group example.com"), 1);
}

TEST(ClusterScan, ConnectionErrorsAreClear) {
  TempDir d;
  auto none = runCli(fmt::format("cluster scan --kubeconfig {}/missing", d.path()), d.path(), "",
                     "HOME=" + d.path());
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("missing: the kubeconfig file does not exist"), std::string::npos)
      << none.err;
  std::string k = d.write("k", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  auto refused = runCli(fmt::format("cluster scan --kubeconfig {} --request-timeout 2", k),
                        d.path(), "", "HOME=" + d.path());
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_NE(refused.err.find("cannot reach https://127.0.0.1:1"), std::string::npos) << refused.err;
  auto wrong = runCli(fmt::format("cluster scan --kubeconfig {} --context nope", k), d.path(), "",
                      "HOME=" + d.path());
  EXPECT_EQ(wrong.exit_code, 3);
  EXPECT_NE(wrong.err.find("context \"nope\" is not in the kubeconfig"), std::string::npos)
      << wrong.err;
}

// The first file of a zip archive.
std::string unzipFirst(const std::string& path) {
  archive* a = archive_read_new();
  archive_read_support_format_zip(a);
  std::string out;
  archive_entry* e = nullptr;
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) == ARCHIVE_OK &&
      archive_read_next_header(a, &e) == ARCHIVE_OK) {
    char buf[1 << 16];
    for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<size_t>(n));
  }
  archive_read_free(a);
  return out;
}

// Findings per (check, kind): the comparison for runs of six-figure finding counts.
std::map<std::string, size_t> findingCounts(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  std::map<std::string, size_t> out;
  EXPECT_TRUE(d.IsObject() && d.HasMember("findings")) << json.substr(0, 300);
  if (!d.IsObject() || !d.HasMember("findings")) return out;
  for (const auto& f : d["findings"].GetArray())
    ++out[fmt::format("{} {}", f["check"].GetString(), f["object"]["kind"].GetString())];
  return out;
}

// The recorded 15,000-pod cluster (../shared/clusters, objects as a real API server returned
// them: managedFields, defaults, status): served by the fake in pages, read whole, and judged
// exactly as the same objects in a file; its snapshot (split into files of bounded size) scans
// offline to the same findings.
TEST(ClusterScan, RecordedClusterOf15000Pods) {
  KH_NEED_SHARED(dir, "clusters");
  std::string recorded = unzipFirst(dir + "/kwok-15k-pods.json.zip");
  ASSERT_GT(recorded.size(), 50u << 20);
  Cluster c;
  std::string why;
  if (!c.start(&why, {}, recorded)) GTEST_SKIP() << why;
  // The same objects as one List file (as `kubectl get -o json` would write them).
  rapidjson::Document map;
  map.Parse(recorded.c_str(), recorded.size());
  ASSERT_TRUE(map.IsObject());
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("apiVersion");
  w.String("v1");
  w.Key("kind");
  w.String("List");
  w.Key("items");
  w.StartArray();
  for (const auto& m : map.GetObject()) m.value.Accept(w);
  w.EndArray();
  w.EndObject();
  std::string list = c.d.write("recorded.json", std::string(buf.GetString(), buf.GetSize()));
  auto files = runCli(fmt::format("scan --fail-on none -f json {} {}", list, clusterInfoFile(c.d)));
  ASSERT_EQ(files.exit_code, 0) << files.err;
  std::map<std::string, size_t> expected = findingCounts(files.out);
  size_t total = 0;
  for (const auto& [k, n] : expected) total += n;
  EXPECT_GT(total, 100'000u);
  EXPECT_GT(expected["pod-privilege-escalation Pod"], 14'000u);

  std::string snap = c.d.path() + "/snap";
  auto live = c.scan("--save-snapshot " + snap);
  ASSERT_EQ(live.exit_code, 0) << live.err;
  EXPECT_NE(live.err.find("read: 15267 objects of "), std::string::npos) << live.err;
  EXPECT_EQ(findingCounts(live.out), expected);
  // Pods: 14,651 objects, more than one snapshot file holds.
  EXPECT_TRUE(std::filesystem::exists(snap + "/core_v1_pods.json"));
  EXPECT_TRUE(std::filesystem::exists(snap + "/core_v1_pods.2.json"));
  auto offline = runCli(fmt::format("scan --fail-on none -f json {}", snap));
  ASSERT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_EQ(findingCounts(offline.out), expected);
}

}  // namespace
}  // namespace kh::test
