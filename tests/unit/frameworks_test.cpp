// Compliance frameworks: every check's refs name controls that exist, sub-rules map to the
// narrow control they serve, and `scan --framework` reports statuses, counts and a score.
#include "checks/frameworks.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>

#include "base/strings.h"
#include "checks/registry.h"
#include "pss/pss.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

bool hasControl(const Framework& fw, std::string_view id) {
  for (const Control& c : fw.controls)
    if (c.id == id) return true;
  return false;
}

TEST(Frameworks, EveryRefNamesAControl) {
  const Framework* nsa = findFramework("nsa");
  const Framework* cis = findFramework("cis");
  const Framework* mitre = findFramework("mitre");
  ASSERT_TRUE(nsa && cis && mitre);
  for (const auto& c : makeCatalogue()) {
    const CheckRefs& r = c->meta().refs;
    for (std::string_view t : splitTrimmed(r.nsa, ','))
      EXPECT_FALSE(controlsOf(*nsa, c->meta()).empty()) << c->meta().id << ": NSA '" << t << "'";
    for (std::string_view t : splitTrimmed(r.mitre, ','))
      EXPECT_TRUE(hasControl(*mitre, t)) << c->meta().id << ": MITRE " << t;
    for (std::string_view t : splitTrimmed(r.cis, ',')) {
      bool section = false;
      for (const Control& ctl : cis->controls) section |= ctl.id.starts_with(std::string(t) + ".");
      EXPECT_TRUE(hasControl(*cis, t) || section) << c->meta().id << ": CIS " << t;
    }
    for (std::string_view t : splitTrimmed(r.pss, ',')) {
      // About Pod Security Admission itself, or a whole level (the pss-* checks).
      if (t == "admission" || t == "baseline" || t == "restricted") continue;
      size_t colon = t.find(':');
      ASSERT_NE(colon, std::string_view::npos) << c->meta().id << ": PSS " << t;
      pss::Policy p;
      p.level = *pss::parseLevel(t.substr(0, colon));
      auto ids = pss::checkIds(p);
      EXPECT_NE(std::find(ids.begin(), ids.end(), t.substr(colon + 1)), ids.end())
          << c->meta().id << ": PSS " << t;
    }
  }
}

TEST(Frameworks, SubRulesMapToTheirOwnControl) {
  auto catalogue = makeCatalogue();
  std::map<std::string_view, const CheckMeta*> meta;
  for (const auto& c : catalogue) meta[c->meta().id] = &c->meta();
  const Framework& cis = *findFramework("cis");
  auto ids = [&](std::string_view check, std::string_view rule) {
    std::vector<std::string> out;
    for (std::string_view id : controlsOf(cis, *meta.at(check), rule)) out.emplace_back(id);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("rbac-risky-permission", "secrets-read"), V{"5.1.2"});
  EXPECT_EQ(ids("rbac-risky-permission", "pods-exec"), V{});  // no CIS recommendation of its own
  EXPECT_EQ(ids("pss-baseline", "hostNamespaces"), (V{"5.2.3", "5.2.4", "5.2.5"}));
  EXPECT_EQ(ids("pss-restricted", "restrictedVolumes"), V{});
  EXPECT_EQ(ids("cp-apiserver", "1.2.6"), V{"1.2.6"});
  EXPECT_EQ(ids("pod-host-network", ""), V{"5.2.5"});
  // A check as a whole bears on every control of its sub-rules.
  auto all = ids("rbac-risky-permission", "");
  EXPECT_NE(std::find(all.begin(), all.end(), "5.1.13"), all.end());

  const Framework& restricted = *findFramework("pss-restricted");
  auto r = controlsOf(restricted, *meta.at("pod-hostpath"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], "restrictedVolumes");  // baseline's hostPathVolumes, replaced in restricted
  EXPECT_TRUE(controlsOf(*findFramework("pss-baseline"), *meta.at("pss-restricted")).empty());
}

const char* kCompliance = R"(apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: privileged, namespace: shop}
spec:
  template:
    spec:
      containers:
        - name: app
          image: app:1.0
          securityContext: {privileged: true}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: plain, namespace: shop}
spec:
  template:
    spec:
      containers:
        - name: app
          image: app:1.0
)";

TEST(Frameworks, ScanReportsControlsAndScore) {
  TempDir d;
  std::string f = d.write("m.yaml", kCompliance);
  auto r = runCli("scan --fail-on none -f json --framework cis,pss-baseline " + f);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document j;
  j.Parse(r.out.c_str());
  ASSERT_TRUE(j.HasMember("compliance")) << r.out.substr(0, 300);
  ASSERT_EQ(j["compliance"].Size(), 2u);
  std::map<std::string, const rapidjson::Value*> cis, pss;
  for (const auto& c : j["compliance"][0]["controls"].GetArray()) cis[c["id"].GetString()] = &c;
  for (const auto& c : j["compliance"][1]["controls"].GetArray()) pss[c["id"].GetString()] = &c;
  EXPECT_STREQ(j["compliance"][0]["framework"].GetString(), "cis");
  const auto& priv = *cis.at("5.2.2");
  EXPECT_STREQ(priv["status"].GetString(), "fail");
  EXPECT_EQ(priv["checked"].GetUint(), 2u);
  EXPECT_EQ(priv["failing"].GetUint(), 1u);
  EXPECT_STREQ(priv["failingObjects"][0]["name"].GetString(), "privileged");
  EXPECT_STREQ((*cis.at("5.2.5"))["status"].GetString(), "pass");
  EXPECT_STREQ((*cis.at("5.2.1"))["status"].GetString(), "pass");  // the namespace is labelled
  EXPECT_STREQ((*cis.at("1.2.1"))["status"].GetString(), "not-applicable");  // no API server
  EXPECT_STREQ((*pss.at("privileged"))["status"].GetString(), "fail");
  EXPECT_STREQ((*pss.at("hostPorts"))["status"].GetString(), "pass");
  // The baseline framework turned the opt-in pss-baseline check on.
  bool pss_finding = false;
  for (const auto& fi : j["findings"].GetArray())
    pss_finding |= std::string(fi["check"].GetString()) == "pss-baseline";
  EXPECT_TRUE(pss_finding);
  // Every judged control scores (checked - failing) / checked; the framework score is their mean.
  double sum = 0;
  int judged = 0;
  for (const auto& [id, c] : pss) {
    std::string st = (*c)["status"].GetString();
    if (st != "pass" && st != "fail") continue;
    sum +=
        double((*c)["checked"].GetUint() - (*c)["failing"].GetUint()) / (*c)["checked"].GetUint();
    ++judged;
  }
  EXPECT_NEAR(j["compliance"][1]["score"].GetDouble(), std::round(1000.0 * sum / judged) / 10,
              1e-9);

  auto text = runCli("scan --fail-on none --framework pss-baseline " + f);
  EXPECT_NE(text.out.find("Pod Security Standards: baseline (latest): score"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("privileged"), std::string::npos);
  EXPECT_NE(text.out.find("1 of 2 objects failing: Deployment shop/privileged"), std::string::npos)
      << text.out;

  auto bad = runCli("scan --framework iso27001 " + f);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown framework 'iso27001'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace kh::test
