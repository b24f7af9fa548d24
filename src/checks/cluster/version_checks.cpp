// cluster-version-end-of-life, cluster-version-patch, cluster-version-cve,
// cluster-kubelet-skew, cluster-kubelet-end-of-life, cluster-kubelet-cve.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "checks/cluster/cluster_checks.h"
#include "checks/cluster/versions.h"
#include "checks/scan_index.h"

namespace kh {
namespace {

using k8sver::Version;

constexpr std::string_view kClusterInfo[] = {"ClusterInfo"};
constexpr std::string_view kNode[] = {"Node"};

constexpr CheckRefs kVersionRefs{.cis = "",
                                 .nsa = "Upgrading and application security practices",
                                 .mitre = "T1190",
                                 .trivy = "",
                                 .kubescape = "C-0273"};

// The version checks share their options (now, data) and the way they find a version.
class VersionCheck : public Check {
 public:
  explicit VersionCheck(const CheckMeta& meta) : meta_(meta) {}
  const CheckMeta& meta() const override { return meta_; }
  Status configure(const Node* options) override {
    auto o = k8sver::readOptions(options);
    if (!o) return o.error();
    opts_ = std::move(o.value());
    return {};
  }

 protected:
  const k8sver::Options& opts() const {
    if (!opts_.table) {
      // Not configured (a test building the check by hand): today and the built-in table.
      static const k8sver::Options kDefault = [] {
        auto o = k8sver::readOptions(nullptr);
        return o ? o.value() : k8sver::Options{};
      }();
      return kDefault;
    }
    return opts_;
  }
  // The control plane's version of a ClusterInfo object, with where it is written.
  static std::optional<Version> clusterVersion(const Object& obj, const Node** at) {
    const Node* v = get(get(obj.root, "version"), "gitVersion");
    *at = v;
    return v ? k8sver::parseVersion(v->text) : std::nullopt;
  }
  static std::optional<Version> kubeletVersion(const Object& obj, const Node** at) {
    const Node* v = get(get(get(obj.root, "status"), "nodeInfo"), "kubeletVersion");
    *at = v;
    return v ? k8sver::parseVersion(v->text) : std::nullopt;
  }
  // End of life: the finding's message and severity, or nothing for a supported release.
  struct Eol {
    Severity severity;
    std::string message;
  };
  std::optional<Eol> endOfLife(const Version& v, std::string_view what) const {
    const k8sver::Table& t = *opts().table;
    const k8sver::Release* r = t.find(v.major, v.minor);
    const k8sver::Release* oldest = t.oldest();
    if (!r) {
      if (oldest && std::tie(v.major, v.minor) < std::tie(oldest->major, oldest->minor))
        return Eol{Severity::kHigh,
                   fmt::format("{} {} is older than {}.{}, the oldest release the version table "
                               "knows: past end of life, with no security fixes",
                               what, v.text, oldest->major, oldest->minor)};
      return std::nullopt;  // newer than the table: the stale-table warning covers it
    }
    auto days = (r->end_of_life - opts().today).count();
    const k8sver::Release* newest = t.newest();
    if (days < 0)
      return Eol{Severity::kHigh,
                 fmt::format("{} {} reached end of life on {} ({} days ago): no security fixes "
                             "since; {}.{} is the newest release the version table knows",
                             what, v.text, k8sver::formatDate(r->end_of_life), -days, newest->major,
                             newest->minor)};
    if (days <= 31)
      return Eol{Severity::kMedium,
                 fmt::format("{} {} reaches end of life on {}, in {} days: plan the upgrade to "
                             "{}.{}",
                             what, v.text, k8sver::formatDate(r->end_of_life), days, newest->major,
                             newest->minor)};
    return std::nullopt;
  }
  void reportCves(const Object& obj, const Node* at, std::string_view path, const Version& v,
                  std::string_view component, FindingSink& sink) const {
    for (const k8sver::Cve& c : opts().table->cves) {
      if (c.component != component || !c.affects(v)) continue;
      Finding f = finding(obj, at->pos, std::string(path),
                          fmt::format("{} {} is affected by {} ({}{}): {}; fixed in {} ({})",
                                      component, v.text, c.id, severityName(c.severity),
                                      c.cvss > 0 ? fmt::format(", CVSS {:.1f}", c.cvss) : "",
                                      c.title, c.fixedFor(v), c.url));
      f.rule = c.id;
      f.severity = c.severity;
      sink.add(std::move(f));
    }
  }

  const CheckMeta& meta_;
  k8sver::Options opts_;
};

constexpr CheckMeta kEol{
    .id = "cluster-version-end-of-life",
    .title = "Kubernetes release past or near its end of life",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kClusterInfo,
    .remediation =
        "Upgrade the control plane, one minor release at a time, to a release the "
        "Kubernetes project still supports (kubernetes.io/releases).",
    .refs = kVersionRefs,
};

class ClusterEol final : public VersionCheck {
 public:
  ClusterEol() : VersionCheck(kEol) {}
  void check(const Object& obj, const CheckContext&, FindingSink& sink) const override {
    const Node* at = nullptr;
    auto v = clusterVersion(obj, &at);
    if (!v) return;
    if (auto e = endOfLife(*v, "Kubernetes")) {
      Finding f = finding(obj, at->pos, "version.gitVersion", std::move(e->message));
      f.severity = e->severity;
      sink.add(std::move(f));
    }
  }
};

constexpr CheckMeta kPatch{
    .id = "cluster-version-patch",
    .title = "Control plane not on the newest patch of its release",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kClusterInfo,
    .remediation =
        "Upgrade the control plane to the newest patch release of its minor version: "
        "patch releases carry the security fixes.",
    .refs = kVersionRefs,
};

class ClusterPatch final : public VersionCheck {
 public:
  ClusterPatch() : VersionCheck(kPatch) {}
  void check(const Object& obj, const CheckContext&, FindingSink& sink) const override {
    const Node* at = nullptr;
    auto v = clusterVersion(obj, &at);
    if (!v) return;
    const k8sver::Table& t = *opts().table;
    const k8sver::Release* r = t.find(v->major, v->minor);
    // Past end of life, the end-of-life finding says what matters: no patch will come.
    if (!r || !r->latest_patch || r->end_of_life < opts().today) return;
    if (!(*v < *r->latest_patch)) return;
    sink.add(finding(obj, at->pos, "version.gitVersion",
                     fmt::format("Kubernetes {} is behind {}, the newest {} patch the version "
                                 "table (updated {}) knows",
                                 v->text, r->latest_patch->text, v->minorText(),
                                 k8sver::formatDate(t.updated))));
  }
};

constexpr CheckMeta kCve{
    .id = "cluster-version-cve",
    .title = "Control plane version with known CVEs",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kClusterInfo,
    .remediation =
        "Upgrade kube-apiserver to a release that fixes the CVE (the finding names "
        "it), or apply the mitigation its announcement describes.",
    .refs = kVersionRefs,
};

class ClusterCve final : public VersionCheck {
 public:
  ClusterCve() : VersionCheck(kCve) {}
  void check(const Object& obj, const CheckContext&, FindingSink& sink) const override {
    const Node* at = nullptr;
    auto v = clusterVersion(obj, &at);
    if (v) reportCves(obj, at, "version.gitVersion", *v, "kube-apiserver", sink);
  }
};

constexpr CheckMeta kSkew = wholeInput({
    .id = "cluster-kubelet-skew",
    .title = "Kubelet version outside the supported skew",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kNode,
    .remediation = "Upgrade (or drain and replace) the node so its kubelet is no newer than "
                   "kube-apiserver and at most three minor releases older (two before 1.28); "
                   "finish upgrades so all nodes run one minor release.",
    .refs = kVersionRefs,
});

class KubeletSkew final : public VersionCheck {
 public:
  KubeletSkew() : VersionCheck(kSkew) {}
  void check(const Object&, const CheckContext&, FindingSink&) const override {}
  // Judged once over all nodes: the mixed-minors rule needs them together.
  void finish(const CheckContext& ctx, FindingSink& sink) const override {
    if (!ctx.index) return;
    std::optional<Version> cp = k8sver::controlPlaneVersion(ctx.index, nullptr);
    struct Kubelet {
      const Object* node;
      const Node* at;
      Version v;
    };
    std::vector<Kubelet> kubelets;
    std::map<std::pair<int, int>, size_t> minors;
    for (const Object* o : ctx.index->ofKind("Node")) {
      const Node* at = nullptr;
      if (auto v = kubeletVersion(*o, &at)) {
        kubelets.push_back({o, at, *v});
        ++minors[{v->major, v->minor}];
      }
    }
    if (kubelets.empty()) return;
    // The minor the others are measured against: the newest one the control plane allows (a
    // kubelet ahead of it is reported as such, not taken as the target).
    std::pair<int, int> newest{-1, -1};
    for (const auto& [minor, n] : minors)
      if (!cp || minor <= std::pair(cp->major, cp->minor)) newest = std::max(newest, minor);
    for (const Kubelet& k : kubelets) {
      const Version& v = k.v;
      constexpr std::string_view kPath = "status.nodeInfo.kubeletVersion";
      if (cp && std::tie(v.major, v.minor) > std::tie(cp->major, cp->minor)) {
        Finding f = finding(*k.node, k.at->pos, std::string(kPath),
                            fmt::format("kubelet {} is newer than kube-apiserver {}: the version "
                                        "skew policy never allows a kubelet ahead of the API "
                                        "server",
                                        v.text, cp->text));
        f.rule = "newer";
        sink.add(std::move(f));
        continue;
      }
      int allowed = cp ? k8sver::allowedKubeletSkew(*cp) : 0;
      if (cp && cp->major == v.major && cp->minor - v.minor > allowed) {
        Finding f = finding(
            *k.node, k.at->pos, std::string(kPath),
            fmt::format("kubelet {} is {} minor releases older than kube-apiserver {}: at most {} "
                        "are supported",
                        v.text, cp->minor - v.minor, cp->text, allowed));
        f.rule = "too-old";
        sink.add(std::move(f));
        continue;
      }
      if (minors.size() > 1 && std::pair(v.major, v.minor) < newest) {
        size_t on_newest = minors[newest];
        Finding f =
            finding(*k.node, k.at->pos, std::string(kPath),
                    fmt::format("kubelet {} while {} of {} nodes run {}.{}: the nodes run {} minor "
                                "releases (an upgrade left unfinished?)",
                                v.text, on_newest, kubelets.size(), newest.first, newest.second,
                                minors.size()));
        f.rule = "mixed";
        f.severity = Severity::kLow;
        sink.add(std::move(f));
      }
    }
  }
};

constexpr CheckMeta kKubeletEol = wholeInput({
    .id = "cluster-kubelet-end-of-life",
    .title = "Kubelet release past or near its end of life",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kNode,
    .remediation = "Upgrade the node's kubelet (or replace the node) to a supported release.",
    .refs = kVersionRefs,
});

class KubeletEol final : public VersionCheck {
 public:
  KubeletEol() : VersionCheck(kKubeletEol) {}
  void check(const Object& obj, const CheckContext& ctx, FindingSink& sink) const override {
    const Node* at = nullptr;
    auto v = kubeletVersion(obj, &at);
    if (!v) return;
    // One finding for a cluster on an old release, not one per node: when the kubelet runs the
    // control plane's minor release, cluster-version-end-of-life says it.
    if (auto cp = k8sver::controlPlaneVersion(ctx.index, nullptr);
        cp && cp->major == v->major && cp->minor == v->minor)
      return;
    if (auto e = endOfLife(*v, "kubelet")) {
      Finding f = finding(obj, at->pos, "status.nodeInfo.kubeletVersion", std::move(e->message));
      f.severity = e->severity;
      sink.add(std::move(f));
    }
  }
};

constexpr CheckMeta kKubeletCve{
    .id = "cluster-kubelet-cve",
    .title = "Kubelet version with known CVEs",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kNode,
    .remediation =
        "Upgrade the node's kubelet to a release that fixes the CVE (the finding "
        "names it), or apply the mitigation its announcement describes.",
    .refs = kVersionRefs,
};

class KubeletCve final : public VersionCheck {
 public:
  KubeletCve() : VersionCheck(kKubeletCve) {}
  void check(const Object& obj, const CheckContext&, FindingSink& sink) const override {
    const Node* at = nullptr;
    auto v = kubeletVersion(obj, &at);
    if (v) reportCves(obj, at, "status.nodeInfo.kubeletVersion", *v, "kubelet", sink);
  }
};

}  // namespace

void addVersionChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<KubeletCve>());
  out.push_back(std::make_unique<KubeletEol>());
  out.push_back(std::make_unique<KubeletSkew>());
  out.push_back(std::make_unique<ClusterCve>());
  out.push_back(std::make_unique<ClusterEol>());
  out.push_back(std::make_unique<ClusterPatch>());
}

}  // namespace kh
