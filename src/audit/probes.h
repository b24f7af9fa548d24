// The probe requests kubeharden asks an audit policy about (the audit-policy-* checks and
// `audit coverage`): a person (alice, system:authenticated) and a workload's service account
// (system:serviceaccount:default:app), each in namespace default and in kube-system (cluster-
// scoped resources: once, without a namespace).
#pragma once

#include <string_view>
#include <vector>

#include "audit/policy.h"

namespace kh::audit {

struct Probe {
  std::string_view category;  // secrets, configmaps, tokens, exec, pods, rbac, workloads, ...
  std::string_view verb, group, resource, subresource;
};

// Reads and writes whose bodies hold Secret or ConfigMap data or tokens.
const std::vector<Probe>& sensitiveProbes();
// Requests an investigation needs: exec and its kin, pod, RBAC and workload changes, Secret reads.
const std::vector<Probe>& activityProbes();

// The probe as requests by each probe identity, in each namespace (once for cluster-scoped
// resources).
std::vector<Request> expandProbe(const Probe& p);

}  // namespace kh::audit
