// `kubeharden cluster scan`: the connection options (as kubectl's) and reading the cluster into
// documents for the scan pipeline (docs/cluster.md).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "cli/cluster_images.h"

namespace kh {

struct ClusterArgs {
  std::string kubeconfig, context, cluster, user, as;
  std::vector<std::string> as_groups;
  std::vector<std::string> exclude_resources = {"events",
                                                "events.events.k8s.io"};  // unless included
  std::string secrets = "metadata";                                       // metadata, skip or full
  std::vector<std::string> include_resources;             // only these (plural[.group])
  std::vector<std::string> include_kinds, exclude_kinds;  // Pod, Deployment (case-insensitive)
  size_t page_size = 500;
  unsigned parallel = 4;  // resource types read at once
  unsigned timeout = 30;
  double qps = 20;
  int burst = 40;
  bool allow_partial = false;
  std::string save_snapshot;     // a directory: one List per type, and what was read
  bool snapshot_note = true;     // say how to scan the snapshot (not for a temporary one)
  std::string from_snapshot;     // a directory a previous run saved: read it instead of a cluster
  std::string report_configmap;  // NAMESPACE/NAME: publish the summary there (the one write)
  std::vector<std::string> namespaces;          // only these (namespaced types listed in each)
  std::vector<std::string> exclude_namespaces;  // all but these (a field selector)
  std::string label_selector;
  ImagesArgs images;  // --images: scan the images the cluster runs
};

void addClusterOptions(CLI::App& app, ClusterArgs& a);

// Reads every listable type of the selected cluster into `texts` (one typed List per page,
// named by its API path). The coverage goes to stderr. Returns 0, or the exit code of a
// failure (2 usage, 3 connection or discovery); `source` says what was read and what was not.
struct ClusterSource;
int readCluster(const ClusterArgs& a, std::vector<std::pair<std::string, std::string>>& texts,
                ClusterSource* source);

// `cluster scan --from-snapshot DIR`: what the snapshot says of its read (context, server,
// version, coverage) into `source`; the caller scans DIR's files. 0, or an exit code.
int readSnapshotIndex(const ClusterArgs& a, ClusterSource* source);

// `--report-configmap NS/NAME`: the summary (report/report.h) into that ConfigMap, by
// server-side apply, over the same connection settings. 0, or an exit code.
int publishSummary(const ClusterArgs& a, const std::string& summary);

// --images: the ImageScan documents of the images these pages' Pods run, appended to them.
// With `pull_secrets`, images are pulled with their Pods' pull secrets (--use-pull-secrets).
void addImageScans(const ImagesArgs& images,
                   std::vector<std::pair<std::string, std::string>>& texts,
                   const std::vector<registry::PullSecretEntry>* pull_secrets = nullptr);

// `kubeharden cluster permissions`: the ClusterRole a scan needs, as YAML.
struct PermissionArgs {
  std::string name = "kubeharden-reader";
  bool secrets = false, nodes_proxy = false;
  std::vector<std::string> custom_groups;
};
std::string readerClusterRole(const PermissionArgs& a);

}  // namespace kh
