// The Pod Security Standards evaluator: what Pod Security Admission (PSA) of a given policy
// version says about a pod spec, with PSA's check IDs, reasons and details, in PSA's order.
//
// Facts come from kubernetes/pod-security-admission (policy/check_*.go at release-1.36/1.37);
// the version table and the decisions are in docs/design/pss.md. evaluate() works on an already
// parsed pod spec, does no I/O, and allocates nothing when the pod is allowed (the Scratch is
// reused across calls). Thread-safe with one Scratch per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/node.h"
#include "model/pod_spec.h"

namespace kh::pss {

enum class Level : uint8_t { kPrivileged, kBaseline, kRestricted };

// The newest policy version kubeharden knows; `latest` and anything newer evaluate as this.
constexpr int kLatestMinor = 37;

struct Policy {
  Level level = Level::kRestricted;
  int minor = kLatestMinor;  // requested v1.<minor>
  bool latest = true;        // requested as "latest"
  int effectiveMinor() const { return latest || minor > kLatestMinor ? kLatestMinor : minor; }
};

std::optional<Level> parseLevel(std::string_view s);
std::string_view levelName(Level l);
// "latest" or "v1.N" (PSA's format); nothing for anything else.
std::optional<Policy> parseVersion(std::string_view s, Level level);
// PSA's rendering of a policy, e.g. "restricted:latest", "baseline:v1.29".
std::string policyLabel(const Policy& p);
// "v1.37" for latest, "v1.29" otherwise (the version whose rules apply).
std::string effectiveVersion(const Policy& p);

struct Violation {
  std::string_view check;  // PSA check ID, e.g. "runAsNonRoot"
  std::string reason;      // e.g. "runAsNonRoot != true"
  std::string detail;  // e.g. `pod or container "app" must set securityContext.runAsNonRoot=true`
};

struct ContainerFacts;
// Reusable working memory of evaluate(); keep one per thread.
struct Scratch {
  std::vector<ContainerFacts>* containers = nullptr;
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// What a pod spec belongs to. PSA sees a Pod after the API server has defaulted it and run the
// pod strategy's PrepareForCreate, which a pod template (in a Deployment, ...) does not go
// through: for a Pod, evaluate() applies what those steps change that PSA reads (hostPort from
// containerPort under hostNetwork, AppArmor annotations copied to fields). Volumes without a
// source are emptyDirs for both. The list is in docs/pss.md.
enum class Subject : uint8_t { kPod, kTemplate };

// Evaluates the pod spec `spec` with pod (template) metadata `meta` (for annotations; may be
// null) against `policy`, appending violations to `out` in PSA's order. Privileged allows all.
void evaluate(const Policy& policy, Subject subject, const Node* meta, const Node* spec,
              Scratch& scratch, std::vector<Violation>& out);
// The same for the pod spec of an object (a Pod's own, or a workload's template).
inline void evaluate(const Policy& policy, const PodSpecView& pod, Scratch& scratch,
                     std::vector<Violation>& out) {
  evaluate(policy, pod.is_pod ? Subject::kPod : Subject::kTemplate, pod.template_meta, pod.spec,
           scratch, out);
}

// PSA's joined form: `reason (detail), reason (detail)`.
std::string joinViolations(const std::vector<Violation>& v);

// Facts of single rules, shared with the scan checks: is the sysctl in the safe set of policy
// v1.<minor>, and is the SELinux type one the baseline level allows at that version?
bool safeSysctl(std::string_view name, int minor);
bool allowedSeLinuxType(std::string_view type, int minor);

// The check IDs of a level at a version, in PSA's order (for docs, tests and `--list`).
std::vector<std::string_view> checkIds(const Policy& policy);

}  // namespace kh::pss
