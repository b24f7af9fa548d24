// cluster-*: the checks of a live cluster's Kubernetes itself: the control plane's version
// against the release table (end of life, patch level, known CVEs) and the nodes' kubelets (skew
// against the control plane, end of life, known CVEs). They judge the ClusterInfo object that
// `cluster scan` reads (and snapshots keep) and the Nodes; for manifests, a kube-apiserver static
// pod's image stands in for the control plane's version.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "checks/check.h"

namespace kh {

void addClusterChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh

namespace kh {
// The two halves, registered by addClusterChecks.
void addVersionChecks(std::vector<std::unique_ptr<Check>>& out);
void addDriftChecks(std::vector<std::unique_ptr<Check>>& out);
void addImageVulnerabilityChecks(std::vector<std::unique_ptr<Check>>& out);
// The checks that read the version table (options `now` and `data`; the CLI's --now and
// --k8s-data set them).
inline constexpr std::string_view kVersionCheckIds[] = {
    "cluster-kubelet-cve", "cluster-kubelet-end-of-life", "cluster-kubelet-skew",
    "cluster-version-cve", "cluster-version-end-of-life", "cluster-version-patch"};
}  // namespace kh
