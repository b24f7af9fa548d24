// The Kubernetes version table behind the cluster-version-* and node-kubelet-* checks: each minor
// release's dates (released, maintenance mode, end of life) and newest known patch, and the CVEs
// of kube-apiserver and the kubelet with their affected ranges (data/kubernetes-versions.json,
// built in; `--k8s-data FILE` replaces it). Dated: `updated` says how fresh it is, and a scan
// warns when it is over 120 days old (docs/cluster.md, "Versions").
//
// Tables are immutable once loaded and shared (thread-safe to read).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "checks/check.h"
#include "model/object.h"

namespace kh::k8sver {

// A Kubernetes version as the components report it: v1.30.4, v1.30.4-eks-a737599,
// v1.29.3+k3s1, 1.31.0-gke.1. The suffix (a provider's build) is kept for messages only.
struct Version {
  int major = 0, minor = 0, patch = 0;
  std::string text;  // as reported
  auto operator<=>(const Version& o) const {
    if (auto c = major <=> o.major; c != 0) return c;
    if (auto c = minor <=> o.minor; c != 0) return c;
    return patch <=> o.patch;
  }
  bool operator==(const Version& o) const {
    return major == o.major && minor == o.minor && patch == o.patch;
  }
  std::string minorText() const;  // "1.30"
};
std::optional<Version> parseVersion(std::string_view s);

using Date = std::chrono::sys_days;
std::optional<Date> parseDate(std::string_view yyyy_mm_dd);
std::string formatDate(Date d);

struct Release {
  int major = 1, minor = 0;
  Date released, maintenance, end_of_life;
  std::optional<Version> latest_patch;  // the newest the table knows
};

struct Range {
  std::optional<Version> introduced;  // none: every earlier version
  Version fixed;
};

struct Cve {
  std::string id, component, title, url;  // component: kube-apiserver or kubelet
  Severity severity = Severity::kMedium;
  double cvss = 0;
  std::vector<Range> affected;
  bool affects(const Version& v) const;
  // The fixed version for v's minor (or the lowest fix above v), for messages.
  std::string fixedFor(const Version& v) const;
};

struct Table {
  std::string source;  // "built in" or the file
  Date updated;
  std::vector<Release> releases;  // newest first
  std::vector<Cve> cves;
  const Release* find(int major, int minor) const;
  const Release* oldest() const { return releases.empty() ? nullptr : &releases.back(); }
  const Release* newest() const { return releases.empty() ? nullptr : &releases.front(); }
};

// Parses the JSON (or YAML) table; errors name file:line:column.
Result<std::shared_ptr<const Table>> parseTable(std::string_view text, const std::string& name);
// The built-in table, or FILE's (read and parsed once per path, then shared).
Result<std::shared_ptr<const Table>> loadTable(const std::string& path);

// Days after which a table counts as stale, and the warning a scan prints then (nullopt: fresh).
inline constexpr int kStaleDays = 120;
std::optional<std::string> staleWarning(const Table& t, Date today);

// What a scan says about the table itself, when the input holds versions to judge (a ClusterInfo,
// Nodes with a kubelet version): that it is stale, and which versions are newer than every
// release it knows (nothing can be said of them). One diagnostic each: (code, message, object).
struct Note {
  std::string code, message;
  const Object* object = nullptr;
};
std::vector<Note> tableNotes(const ScanIndex& index, const Table& t, Date today);

// The kubelet skew the version skew policy allows: the kubelet may be this many minors older
// than kube-apiserver (3 from 1.28, 2 before), never newer.
int allowedKubeletSkew(const Version& apiserver);

// The control plane's version as the input tells it: a ClusterInfo object (cluster scan), else
// the image tag of a kube-apiserver static pod. nullopt when neither says.
std::optional<Version> controlPlaneVersion(const ScanIndex* index, const Object** from);

// The options every version check takes: `now` (YYYY-MM-DD, default today in UTC, or
// KUBEHARDEN_TODAY) and `data` (a table file replacing the built-in one).
struct Options {
  Date today;
  std::shared_ptr<const Table> table;
};
Result<Options> readOptions(const Node* options);

}  // namespace kh::k8sver
