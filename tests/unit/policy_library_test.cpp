// The policy library of deploy/policies (kubeharden's top pod checks written as
// ValidatingAdmissionPolicies) against the checks it mirrors, on every workload of the shared
// corpus of rendered charts: for each object and each policy, the policy denies exactly when
// the check it names finds something. Both verdicts must occur for every pair, so neither side
// can agree by saying nothing.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "scan/scan.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace policy_library_tests {

const std::map<std::string, std::string> kMirrors = {
    {"vap:kubeharden-pod-privileged", "pod-privileged"},
    {"vap:kubeharden-pod-host-network", "pod-host-network"},
    {"vap:kubeharden-pod-host-pid", "pod-host-pid"},
    {"vap:kubeharden-pod-host-ipc", "pod-host-ipc"},
    {"vap:kubeharden-pod-privilege-escalation", "pod-privilege-escalation"},
    {"vap:kubeharden-pod-run-as-root-user", "pod-run-as-root-user"},
    {"vap:kubeharden-image-latest-tag", "image-latest-tag"},
};

bool workload(const Object& o) {
  static const std::set<std::pair<std::string_view, std::string_view>> kKinds = {
      {"v1", "Pod"},
      {"v1", "PodTemplate"},
      {"v1", "ReplicationController"},
      {"apps/v1", "Deployment"},
      {"apps/v1", "ReplicaSet"},
      {"apps/v1", "StatefulSet"},
      {"apps/v1", "DaemonSet"},
      {"batch/v1", "Job"},
      {"batch/v1", "CronJob"}};
  return kKinds.count({o.ref.api_version, o.ref.kind}) > 0;
}

// Scans `inputs` with the library and compares, per object, each policy with its check.
void compare(const std::vector<std::string>& inputs, bool need_both_sides) {
  ScanOptions opts;
  opts.inputs = inputs;
  opts.render.enabled = false;
  opts.dockerfiles = false;
  opts.policies.paths = {std::string(KH_SOURCE_DIR) + "/deploy/policies"};
  // The checks the policies mirror, some of them opt-in.
  for (const auto& [vap, check] : kMirrors) opts.config.enabled.insert(check);
  auto r = runScan(opts);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_TRUE(r->errors.empty());
  EXPECT_EQ(r->policies, kMirrors.size());
  EXPECT_EQ(r->policy_bindings, kMirrors.size());
  for (const Diagnostic& d : r->diagnostics)
    EXPECT_FALSE(d.code.starts_with("vap-")) << d.file << ":" << d.pos.line << ": " << d.message;

  std::map<const Object*, std::set<std::string>> found;
  for (const Finding& f : r->findings) found[f.object].insert(std::string(f.check_id));
  std::map<std::string, std::pair<size_t, size_t>> sides;  // denied, admitted
  size_t objects = 0;
  for (const auto& file : r->files)
    for (const Object& o : file->objects) {
      if (!workload(o)) continue;
      ++objects;
      const std::set<std::string>& ids = found[&o];
      for (const auto& [vap, check] : kMirrors) {
        bool denied = ids.count(vap) > 0, flagged = ids.count(check) > 0;
        EXPECT_EQ(denied, flagged) << o.displayName() << " in " << o.file << ": " << vap
                                   << (denied ? " denies" : " admits") << " but " << check
                                   << (flagged ? " finds something" : " finds nothing");
        (denied ? sides[vap].first : sides[vap].second)++;
      }
    }
  EXPECT_GT(objects, 0u);
  if (!need_both_sides) return;
  for (const auto& [vap, n] : sides) {
    EXPECT_GT(n.first, 0u) << vap << " never denied: the comparison proves nothing";
    EXPECT_GT(n.second, 0u) << vap << " never admitted";
  }
}

TEST(PolicyLibrary, SameVerdictsAsTheChecksOnTheExamples) {
  compare({std::string(KH_SOURCE_DIR) + "/examples/insecure-deployment.yaml",
           std::string(KH_SOURCE_DIR) + "/examples/hardened-deployment.yaml",
           std::string(KH_SOURCE_DIR) + "/examples/node-agent.yaml"},
          false);
}

TEST(PolicyLibrary, SameVerdictsAsTheChecksOnTheSharedCorpus) {
  KH_NEED_SHARED(corpus, "corpus");
  TempDir t;
  // Workloads that set every field the library reads, both ways, so that each policy is seen
  // deny and admit whatever the corpus holds.
  std::string both =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: bad, namespace: a}\n"
      "spec:\n  hostNetwork: true\n  hostPID: true\n  hostIPC: true\n"
      "  securityContext: {runAsUser: 0}\n"
      "  containers: [{name: c, image: 'r/x', securityContext: {privileged: true, "
      "allowPrivilegeEscalation: true}}]\n"
      "---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: good, namespace: a}\n"
      "spec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
      "          securityContext: {runAsUser: 1000}\n"
      "          containers: [{name: c, image: 'r/x:1@sha256:" +
      std::string(64, 'a') +
      "', securityContext: {privileged: false, allowPrivilegeEscalation: false}}]\n";
  t.write("both.yaml", both);
  compare({corpus, t.path()}, true);
}

}  // namespace policy_library_tests
}  // namespace kh::test
