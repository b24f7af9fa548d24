// cp-apiserver, cp-controller-manager, cp-scheduler, cp-etcd and cp-kubelet-config: the flag
// rules of the CIS Kubernetes Benchmark v1.12 (sections 1.2, 1.3, 1.4, 2 and 4.2) over static-pod
// manifests (/etc/kubernetes/manifests) and KubeletConfiguration files. A missing flag is judged
// by the component's upstream default for the Kubernetes version of its image (the newest
// version kubeharden models when the tag says nothing), not by its absence: a missing
// --bind-address on the scheduler is 0.0.0.0, a missing --profiling is true. Each finding's rule
// is the CIS recommendation number.
#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "base/strings.h"
#include "checks/cp/cp_checks.h"
#include "checks/cp/flags.h"
#include "checks/scan_index.h"

namespace kh {
namespace {

constexpr int kLatestMinor = 33;  // the newest Kubernetes minor whose defaults are modelled

struct Ctx {
  const FlagSet& flags;
  int minor;
};

// What a rule says about one component: nothing, or the problem (with the flag it is about).
struct Problem {
  std::string flag;  // the flag the finding points at when present
  std::string message;
};
using Eval = std::function<std::optional<Problem>(const Ctx&)>;

struct Rule {
  std::string_view cis;
  Severity severity;
  Eval eval;
};

// The effective value of a flag: the last one written, else the default.
std::string value(const Ctx& c, std::string_view flag, std::string_view dflt) {
  const FlagValue* v = c.flags.last(flag);
  return v ? v->value : std::string(dflt);
}
bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
std::optional<Problem> problem(std::string_view flag, std::string message) {
  return Problem{std::string(flag), std::move(message)};
}

Eval mustEqual(std::string_view flag, std::string_view dflt, std::string_view want) {
  return [=](const Ctx& c) -> std::optional<Problem> {
    std::string v = toLower(value(c, flag, dflt));
    if (v == want) return std::nullopt;
    return problem(flag, c.flags.has(flag)
                             ? fmt::format("--{}={} (should be {})", flag, v, want)
                             : fmt::format("--{} is not set and defaults to {} (should be {})",
                                           flag, dflt, want));
  };
}
Eval mustNotEqual(std::string_view flag, std::string_view dflt, std::string_view bad) {
  return [=](const Ctx& c) -> std::optional<Problem> {
    if (toLower(value(c, flag, dflt)) != bad) return std::nullopt;
    return problem(flag, c.flags.has(flag) ? fmt::format("--{}={}", flag, bad)
                                           : fmt::format("--{} defaults to {}", flag, bad));
  };
}
Eval mustBeSet(std::initializer_list<std::string_view> flags_in) {
  std::vector<std::string_view> flags(flags_in);
  return [flags](const Ctx& c) -> std::optional<Problem> {
    std::vector<std::string> missing;
    for (std::string_view f : flags)
      if (!c.flags.last(f) || c.flags.last(f)->value.empty())
        missing.push_back("--" + std::string(f));
    if (missing.empty()) return std::nullopt;
    return problem("", fmt::format("{} {} not set", join(missing, " and "),
                                   missing.size() == 1 ? "is" : "are"));
  };
}
Eval mustNotBeSet(std::string_view flag, std::string_view why) {
  return [=](const Ctx& c) -> std::optional<Problem> {
    if (!c.flags.has(flag)) return std::nullopt;
    return problem(flag, fmt::format("--{} is set: {}", flag, why));
  };
}
Eval atLeast(std::string_view flag, long dflt, long min, std::string_view needs) {
  return [=](const Ctx& c) -> std::optional<Problem> {
    if (!needs.empty() && !c.flags.has(needs)) return std::nullopt;  // the parent rule reports
    const FlagValue* v = c.flags.last(flag);
    long n = dflt;
    if (v) n = std::strtol(v->value.c_str(), nullptr, 10);
    if (n >= min) return std::nullopt;
    return problem(flag, v ? fmt::format("--{}={} (should be at least {})", flag, n, min)
                           : fmt::format("--{} is not set and defaults to {} (should be at "
                                         "least {})",
                                         flag, dflt, min));
  };
}
// An admission plugin the API server runs: enabled explicitly (or by default) and not disabled.
bool pluginOn(const Ctx& c, std::string_view plugin, bool on_by_default) {
  if (contains(c.flags.list("disable-admission-plugins"), plugin)) return false;
  return on_by_default || contains(c.flags.list("enable-admission-plugins"), plugin);
}
Eval pluginMustBeOn(std::string_view plugin, bool on_by_default) {
  return [=](const Ctx& c) -> std::optional<Problem> {
    if (pluginOn(c, plugin, on_by_default)) return std::nullopt;
    bool disabled = contains(c.flags.list("disable-admission-plugins"), plugin);
    return problem(disabled ? "disable-admission-plugins" : "enable-admission-plugins",
                   disabled ? fmt::format("admission plugin {} is disabled", plugin)
                            : fmt::format("admission plugin {} is not enabled", plugin));
  };
}
Eval pluginMustBeOff(std::string_view plugin) {
  return [=](const Ctx& c) -> std::optional<Problem> {
    if (!pluginOn(c, plugin, false)) return std::nullopt;
    return problem("enable-admission-plugins",
                   fmt::format("admission plugin {} is enabled", plugin));
  };
}
// The API server's authorization modes; empty when a structured --authorization-config file
// decides (its content is not in the manifest).
std::optional<std::vector<std::string>> authzModes(const Ctx& c) {
  if (c.flags.has("authorization-config")) return std::nullopt;
  auto modes = c.flags.list("authorization-mode");
  if (modes.empty()) modes.push_back("AlwaysAllow");
  return modes;
}
Eval authzMustHave(std::string_view mode) {
  return [=](const Ctx& c) -> std::optional<Problem> {
    auto modes = authzModes(c);
    if (!modes || contains(*modes, mode)) return std::nullopt;
    return problem("authorization-mode", fmt::format("--authorization-mode={} does not include {}",
                                                     join(*modes, ","), mode));
  };
}
Eval featureNotFalse(std::string_view gate) {
  return [=](const Ctx& c) -> std::optional<Problem> {
    for (const std::string& g : c.flags.list("feature-gates"))
      if (iequals(g, std::string(gate) + "=false"))
        return problem("feature-gates", fmt::format("feature gate {} is turned off", gate));
    return std::nullopt;
  };
}
Eval bindLocal(std::string_view dflt) {
  return [=](const Ctx& c) -> std::optional<Problem> {
    std::string v = value(c, "bind-address", dflt);
    if (v == "127.0.0.1" || v == "::1" || v == "localhost") return std::nullopt;
    return problem("bind-address",
                   c.flags.has("bind-address")
                       ? fmt::format("--bind-address={}: the component's HTTPS endpoint (metrics, "
                                     "profiling, health) listens beyond localhost",
                                     v)
                       : fmt::format("--bind-address is not set and defaults to {}: the "
                                     "endpoint listens on every interface",
                                     dflt));
  };
}

std::optional<Problem> weakCiphers(const std::vector<std::string>& suites, bool set,
                                   std::string_view flag) {
  if (!set)
    return problem("", fmt::format("--{} is not set: Go's default list includes CBC-mode suites "
                                   "without AEAD",
                                   flag));
  std::vector<std::string> weak;
  for (const std::string& s : suites)
    if (!strongCipherSuite(s)) weak.push_back(s);
  if (weak.empty()) return std::nullopt;
  return problem(flag, fmt::format("weak cipher suites allowed: {}", join(weak, ", ")));
}

const std::vector<Rule>& apiserverRules() {
  static const std::vector<Rule> rules = {
      {"1.2.1", Severity::kMedium, mustEqual("anonymous-auth", "true", "false")},
      {"1.2.2", Severity::kMedium,
       mustNotBeSet("token-auth-file", "static bearer tokens cannot be rotated or revoked")},
      {"1.2.3", Severity::kLow, pluginMustBeOn("DenyServiceExternalIPs", false)},
      {"1.2.4", Severity::kMedium, mustBeSet({"kubelet-client-certificate", "kubelet-client-key"})},
      {"1.2.5", Severity::kMedium, mustBeSet({"kubelet-certificate-authority"})},
      {"1.2.6", Severity::kHigh,
       [](const Ctx& c) -> std::optional<Problem> {
         auto modes = authzModes(c);
         if (!modes || !contains(*modes, "AlwaysAllow")) return std::nullopt;
         return problem("authorization-mode",
                        c.flags.has("authorization-mode")
                            ? "--authorization-mode includes AlwaysAllow: every request is "
                              "authorized"
                            : "--authorization-mode is not set and defaults to AlwaysAllow: every "
                              "request is authorized");
       }},
      {"1.2.7", Severity::kMedium, authzMustHave("Node")},
      {"1.2.8", Severity::kHigh, authzMustHave("RBAC")},
      {"1.2.9", Severity::kLow, pluginMustBeOn("EventRateLimit", false)},
      {"1.2.10", Severity::kHigh, pluginMustBeOff("AlwaysAdmit")},
      {"1.2.11", Severity::kLow, pluginMustBeOn("AlwaysPullImages", false)},
      {"1.2.12", Severity::kMedium, pluginMustBeOn("ServiceAccount", true)},
      {"1.2.13", Severity::kMedium, pluginMustBeOn("NamespaceLifecycle", true)},
      {"1.2.14", Severity::kMedium, pluginMustBeOn("NodeRestriction", false)},
      {"1.2.15", Severity::kLow, mustEqual("profiling", "true", "false")},
      {"1.2.16", Severity::kMedium,
       [](const Ctx& c) -> std::optional<Problem> {
         if (c.flags.has("audit-log-path") || c.flags.has("audit-webhook-config-file"))
           return std::nullopt;
         return problem("", "--audit-log-path is not set: the API server keeps no audit log");
       }},
      {"1.2.17", Severity::kLow, atLeast("audit-log-maxage", 0, 30, "audit-log-path")},
      {"1.2.18", Severity::kLow, atLeast("audit-log-maxbackup", 0, 10, "audit-log-path")},
      {"1.2.19", Severity::kLow, atLeast("audit-log-maxsize", 0, 100, "audit-log-path")},
      {"1.2.21", Severity::kMedium, mustNotEqual("service-account-lookup", "true", "false")},
      {"1.2.22", Severity::kMedium, mustBeSet({"service-account-key-file"})},
      {"1.2.23", Severity::kMedium, mustBeSet({"etcd-certfile", "etcd-keyfile"})},
      {"1.2.24", Severity::kMedium, mustBeSet({"tls-cert-file", "tls-private-key-file"})},
      {"1.2.25", Severity::kMedium, mustBeSet({"client-ca-file"})},
      {"1.2.26", Severity::kMedium, mustBeSet({"etcd-cafile"})},
      {"1.2.27", Severity::kMedium, mustBeSet({"encryption-provider-config"})},
      {"1.2.29", Severity::kLow,
       [](const Ctx& c) {
         return weakCiphers(c.flags.list("tls-cipher-suites"), c.flags.has("tls-cipher-suites"),
                            "tls-cipher-suites");
       }},
      {"1.2.30", Severity::kLow,
       mustEqual("service-account-extend-token-expiration", "true", "false")},
      // Before 1.20 the unauthenticated port 8080 was on unless --insecure-port=0; 1.20 to 1.23
      // default to 0; 1.24 removed the flag. (CIS 1.6 numbered this 1.2.19.)
      {"insecure-port", Severity::kCritical,
       [](const Ctx& c) -> std::optional<Problem> {
         if (c.minor >= 24) return std::nullopt;
         std::string dflt = c.minor < 20 ? "8080" : "0";
         std::string v = value(c, "insecure-port", dflt);
         if (v == "0") return std::nullopt;
         return problem("insecure-port",
                        fmt::format("the unauthenticated, unauthorized HTTP port is open ({}{})", v,
                                    c.flags.has("insecure-port")
                                        ? ""
                                        : fmt::format(", the default of 1.{}", c.minor)));
       }},
  };
  return rules;
}

const std::vector<Rule>& controllerManagerRules() {
  static const std::vector<Rule> rules = {
      {"1.3.1", Severity::kLow,
       [](const Ctx& c) -> std::optional<Problem> {
         if (c.flags.has("terminated-pod-gc-threshold")) return std::nullopt;
         return problem("",
                        "--terminated-pod-gc-threshold is not set (default 12500 terminated "
                        "pods are kept)");
       }},
      {"1.3.2", Severity::kLow, mustEqual("profiling", "true", "false")},
      {"1.3.3", Severity::kMedium, mustEqual("use-service-account-credentials", "false", "true")},
      {"1.3.4", Severity::kMedium, mustBeSet({"service-account-private-key-file"})},
      {"1.3.5", Severity::kMedium, mustBeSet({"root-ca-file"})},
      {"1.3.6", Severity::kMedium, featureNotFalse("RotateKubeletServerCertificate")},
      {"1.3.7", Severity::kMedium, bindLocal("0.0.0.0")},
  };
  return rules;
}

const std::vector<Rule>& schedulerRules() {
  static const std::vector<Rule> rules = {
      {"1.4.1", Severity::kLow, mustEqual("profiling", "true", "false")},
      {"1.4.2", Severity::kMedium, bindLocal("0.0.0.0")},
  };
  return rules;
}

const std::vector<Rule>& etcdRules() {
  static const std::vector<Rule> rules = {
      {"2.1", Severity::kHigh, mustBeSet({"cert-file", "key-file"})},
      {"2.2", Severity::kHigh, mustEqual("client-cert-auth", "false", "true")},
      {"2.3", Severity::kMedium, mustNotEqual("auto-tls", "false", "true")},
      {"2.4", Severity::kMedium, mustBeSet({"peer-cert-file", "peer-key-file"})},
      {"2.5", Severity::kMedium, mustEqual("peer-client-cert-auth", "false", "true")},
      {"2.6", Severity::kMedium, mustNotEqual("peer-auto-tls", "false", "true")},
      {"2.7", Severity::kLow, mustBeSet({"trusted-ca-file"})},
  };
  return rules;
}

constexpr std::string_view kBoolFlags[] = {
    "anonymous-auth",
    "profiling",
    "service-account-lookup",
    "client-cert-auth",
    "auto-tls",
    "peer-client-cert-auth",
    "peer-auto-tls",
    "use-service-account-credentials",
    "service-account-extend-token-expiration",
};

constexpr CheckRefs kApiRefs{
    .cis = "1.2",
    .nsa = "Control plane hardening",
    .mitre = "T1078",
    .trivy =
        "KCV-0001,KCV-0002,KCV-0003,KCV-0004,KCV-0005,KCV-0006,KCV-0007,KCV-0008,KCV-0009,KCV-0010,"
        "KCV-0011,KCV-0012,KCV-0013,KCV-0014,KCV-0015,KCV-0016,KCV-0017,KCV-0018,KCV-0019,KCV-0020,"
        "KCV-0021,KCV-0022,KCV-0023,KCV-0024,KCV-0025,KCV-0026,KCV-0027,KCV-0028,KCV-0029,KCV-0030",
    .kubescape = "C-0005",
    .checkov =
        "CKV_K8S_68,CKV_K8S_69,CKV_K8S_70,CKV_K8S_71,CKV_K8S_72,CKV_K8S_73,CKV_K8S_74,CKV_K8S_75,"
        "CKV_K8S_76,CKV_K8S_77,CKV_K8S_78,CKV_K8S_79,CKV_K8S_80,CKV_K8S_81,CKV_K8S_82,CKV_K8S_83,"
        "CKV_K8S_84,CKV_K8S_85,CKV_K8S_86,CKV_K8S_87,CKV_K8S_88,CKV_K8S_89,CKV_K8S_90,CKV_K8S_91,"
        "CKV_K8S_92,CKV_K8S_93,CKV_K8S_94,CKV_K8S_95,CKV_K8S_96,CKV_K8S_97,CKV_K8S_98,CKV_K8S_99,"
        "CKV_K8S_100,CKV_K8S_101,CKV_K8S_102,CKV_K8S_103,CKV_K8S_104,CKV_K8S_105"};

constexpr CheckMeta kApiserver{
    .id = "cp-apiserver",
    .title = "kube-apiserver flag breaks a CIS recommendation",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set the flag in the static-pod manifest as the finding says; the kubelet "
        "restarts the component when the file changes.",
    .refs = kApiRefs,
};

constexpr CheckMeta kControllerManager{
    .id = "cp-controller-manager",
    .title = "kube-controller-manager flag breaks a CIS recommendation",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Set the flag in the static-pod manifest as the finding says.",
    .refs = {.cis = "1.3",
             .nsa = "Control plane hardening",
             .trivy = "KCV-0033,KCV-0034,KCV-0035,KCV-0036,KCV-0037,KCV-0038,KCV-0039",
             .checkov = "CKV_K8S_106,CKV_K8S_107,CKV_K8S_108,CKV_K8S_109,CKV_K8S_110,CKV_K8S_111,"
                        "CKV_K8S_112,CKV_K8S_113"},
};

constexpr CheckMeta kScheduler{
    .id = "cp-scheduler",
    .title = "kube-scheduler flag breaks a CIS recommendation",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Set the flag in the static-pod manifest as the finding says.",
    .refs = {.cis = "1.4",
             .nsa = "Control plane hardening",
             .trivy = "KCV-0040,KCV-0041",
             .checkov = "CKV_K8S_114,CKV_K8S_115"},
};

constexpr CheckMeta kEtcd{
    .id = "cp-etcd",
    .title = "etcd flag breaks a CIS recommendation",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set the flag (or the ETCD_* environment variable) as the finding says; etcd "
        "holds every Secret of the cluster.",
    .refs = {.cis = "2",
             .nsa = "Control plane hardening",
             .trivy = "KCV-0042,KCV-0043,KCV-0044,KCV-0045,KCV-0046,KCV-0047",
             .checkov = "CKV_K8S_116,CKV_K8S_117,CKV_K8S_118,CKV_K8S_119,CKV_K8S_120,CKV_K8S_121"},
};

// Could the container run `binary`? A cheap look at the first word of its command, so the flag
// parser runs only for candidates; a shell wrapper (`sh -c ...`) is always a candidate.
bool mayRun(const ContainerRef& c, std::string_view binary) {
  const Node* cmd = get(c.node, "command");
  if (!cmd || cmd->seqItems().empty()) cmd = get(c.node, "args");
  if (!cmd || cmd->seqItems().empty()) return false;
  std::string_view first = cmd->seqItems()[0]->str();
  std::string_view base = first.substr(first.rfind('/') + 1);
  return base == binary || base.ends_with("sh");
}

class ComponentCheck final : public Check {
 public:
  ComponentCheck(const CheckMeta& meta, std::string_view binary, const std::vector<Rule>& rules)
      : meta_(meta), binary_(binary), rules_(rules) {}
  const CheckMeta& meta() const override { return meta_; }

  bool appliesTo(const Object& o) const override {
    if (!o.pod) return false;
    for (const ContainerRef& c : o.pod->containers)
      if (mayRun(c, binary_) && FlagSet::parse(c, kBoolFlags).binary() == binary_) return true;
    return false;
  }

  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    for (const ContainerRef& c : o.pod->containers) {
      if (!mayRun(c, binary_)) continue;
      FlagSet flags = FlagSet::parse(c, kBoolFlags);
      if (flags.binary() != binary_) continue;
      // etcd reads every flag from ETCD_<NAME> too (flags win).
      if (binary_ == "etcd") flags.addEnvironment(c, "ETCD_");
      if (binary_ == "etcd" && flags.has("config-file")) continue;  // the file decides
      int minor = kubernetesMinorFromImage(getStr(c.node, "image")).value_or(kLatestMinor);
      Ctx ctx{flags, minor};
      for (const Rule& r : rules_) {
        auto p = r.eval(ctx);
        if (!p) continue;
        const FlagValue* at = p->flag.empty() ? nullptr : flags.last(p->flag);
        Finding f =
            finding(o, at ? at->pos : flags.missingPos(), at ? at->path : flags.missingPath(),
                    fmt::format("{} ({}): {}", binary_,
                                r.cis[0] >= '0' && r.cis[0] <= '9'
                                    ? fmt::format("CIS {}", r.cis)
                                    : std::string("CIS v1.6 1.2.19, before 1.24"),
                                p->message),
                    c.name);
        f.rule = r.cis;
        f.severity = r.severity;
        sink.add(std::move(f));
      }
    }
  }

 private:
  const CheckMeta& meta_;
  std::string_view binary_;
  const std::vector<Rule>& rules_;
};

// --- cp-apiserver-config-files: the files the API server's flags name ----------------------------

constexpr CheckMeta kConfigFiles = wholeInput({
    .id = "cp-apiserver-config-files",
    .title = "kube-apiserver names a configuration file that is not in the input",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Scan the control plane's configuration directory with the manifests "
                   "(kubeharden scan /etc/kubernetes), so the files the flags name are judged.",
    .refs = {.cis = "1.2.16,1.2.27,3.2.1", .nsa = "Control plane hardening"},
});

// The flags whose value is a file kubeharden judges, and what that file must hold.
struct ConfigFlag {
  std::string_view flag, kind, api_group, what;
};
constexpr ConfigFlag kConfigFlags[] = {
    {"encryption-provider-config", "EncryptionConfiguration", "apiserver.config.k8s.io/",
     "encryption at rest"},
    {"audit-policy-file", "Policy", "audit.k8s.io/", "the audit policy"},
    {"admission-control-config-file", "AdmissionConfiguration", "apiserver.",
     "the admission plugins' configuration"},
    {"audit-webhook-config-file", "Config", "v1", "the audit webhook's kubeconfig"},
};

// How many trailing path components two paths share ("/etc/kubernetes/enc/enc.yaml" and
// "cp/etc/kubernetes/enc/enc.yaml": 4).
size_t sharedTail(std::string_view a, std::string_view b) {
  size_t n = 0;
  while (!a.empty() && !b.empty()) {
    size_t sa = a.rfind('/'), sb = b.rfind('/');
    std::string_view ca = sa == std::string_view::npos ? a : a.substr(sa + 1);
    std::string_view cb = sb == std::string_view::npos ? b : b.substr(sb + 1);
    if (ca.empty() || ca != cb) break;
    ++n;
    a = sa == std::string_view::npos ? std::string_view() : a.substr(0, sa);
    b = sb == std::string_view::npos ? std::string_view() : b.substr(0, sb);
  }
  return n;
}

class ConfigFilesCheck final : public Check {
 public:
  const CheckMeta& meta() const override { return kConfigFiles; }
  bool appliesTo(const Object& o) const override {
    if (!o.pod) return false;
    for (const ContainerRef& c : o.pod->containers)
      if (mayRun(c, "kube-apiserver") && FlagSet::parse(c, kBoolFlags).binary() == "kube-apiserver")
        return true;
    return false;
  }
  void check(const Object& o, const CheckContext& ctx, FindingSink& sink) const override {
    // A live cluster's API serves no file: there the files are never in the input, by design.
    if (!ctx.index || ctx.live) return;
    for (const ContainerRef& c : o.pod->containers) {
      if (!mayRun(c, "kube-apiserver")) continue;
      FlagSet flags = FlagSet::parse(c, kBoolFlags);
      if (flags.binary() != "kube-apiserver") continue;
      for (const ConfigFlag& cf : kConfigFlags) {
        const FlagValue* v = flags.last(cf.flag);
        if (!v || v->value.empty()) continue;
        // The input file that shares the most trailing path components with the flag's path
        // (its name at least), holding an object of the kind the flag reads.
        size_t best = 0;
        const Object* found = nullptr;
        std::string_view other_file;
        for (const Object* x : ctx.index->ofKind(cf.kind)) {
          if (!x->ref.api_version.starts_with(cf.api_group)) continue;
          size_t n = sharedTail(v->value, x->file);
          if (n > best) best = n, found = x;
        }
        if (found) continue;
        for (const Object* x : ctx.index->all())
          if (sharedTail(v->value, x->file) > 0) other_file = x->file;
        Finding f = finding(
            o, v->pos, v->path,
            other_file.empty()
                ? fmt::format("--{}={} is not in the input: {} is not judged (scan that file "
                              "with the manifest)",
                              cf.flag, v->value, cf.what)
                : fmt::format("--{}={}: {} in the input holds no {}: {} is not judged", cf.flag,
                              v->value, other_file, cf.kind, cf.what),
            c.name);
        f.rule = cf.flag;
        sink.add(std::move(f));
      }
    }
  }
};

}  // namespace

void addCpComponentChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<ConfigFilesCheck>());
  out.push_back(std::make_unique<ComponentCheck>(kApiserver, "kube-apiserver", apiserverRules()));
  out.push_back(std::make_unique<ComponentCheck>(kControllerManager, "kube-controller-manager",
                                                 controllerManagerRules()));
  out.push_back(std::make_unique<ComponentCheck>(kScheduler, "kube-scheduler", schedulerRules()));
  out.push_back(std::make_unique<ComponentCheck>(kEtcd, "etcd", etcdRules()));
}

}  // namespace kh
