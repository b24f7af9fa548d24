// `cluster scan --images`: the images the cluster runs, each distinct one scanned once by this
// binary's `image scan` (registry pull, the layer cache, the vulnerability database), and the
// result as one ImageScan object per image (kubeharden.io/v1: the image, the workloads running
// it, its vulnerabilities or why it could not be scanned), judged by cluster-image-vulnerabilities
// like any object (docs/cluster.md, "Running images").
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "registry/pull_secrets.h"

namespace kh {

struct ImagesArgs {
  bool enabled = false;
  std::string db;                     // vulnerability database (default: image scan's)
  std::string cache_dir;              // layer cache (default: image scan's)
  std::vector<std::string> insecure;  // registries allowed over plain HTTP or unverified TLS
  unsigned timeout = 600;             // seconds per image
  // --use-pull-secrets: the Pods' imagePullSecrets as credentials, as the kubelet would use
  // them (read with their values, kept in memory only).
  bool use_pull_secrets = false;
};

struct RunningImage {
  std::string ref;      // repository@sha256:... as the runtime resolved it, else the reference run
  bool by_tag = false;  // the runtime reported no repository digest: pulled by the reference
  std::set<std::string> workloads;  // namespace/Kind/name (Deployments for their ReplicaSets)
  // The imagePullSecrets of the Pods that run it (namespace/name), in the order first met.
  std::vector<std::string> pull_secrets;
};

// The images of the Pods in these list pages (status.containerStatuses and
// initContainerStatuses; ReplicaSet pages name each ReplicaSet's Deployment), sorted.
std::vector<RunningImage> runningImages(
    const std::vector<std::pair<std::string, std::string>>& pages);

// Each image scanned by `self image scan`; one ImageScan document (name, JSON) per image.
// Progress and failures go to stderr.
// With `pull_secrets` (--use-pull-secrets), an image's pull secrets give its credentials: the
// entry the kubelet would try first, in a private auth file the child reads (--authfile) and
// that is removed after; else the child's own sources (the Docker config, ...).
std::vector<std::pair<std::string, std::string>> scanRunningImages(
    const std::vector<RunningImage>& images, const ImagesArgs& a, const std::string& self,
    const std::vector<registry::PullSecretEntry>* pull_secrets = nullptr);

}  // namespace kh
