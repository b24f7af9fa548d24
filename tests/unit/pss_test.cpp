// The PSS evaluator against PSA's behaviour: reasons and details as PSA's own tests state them,
// both sides of every version boundary, and a property (restricted-allowed implies baseline-
// allowed) on random pod specs.
#include "pss/pss.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <random>

#include "pss/namespaces.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

struct Eval {
  std::unique_ptr<SourceFile> file;
  std::vector<pss::Violation> violations;
  const pss::Violation* find(std::string_view id) const {
    for (const auto& v : violations)
      if (v.check == id) return &v;
    return nullptr;
  }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const auto& v : violations) out.emplace_back(v.check);
    return out;
  }
};

// `spec` and `meta` are YAML bodies (indented by the caller as a block under the key).
Eval eval(std::string_view level, std::string_view version, const std::string& pod) {
  Eval e;
  e.file = loadText("apiVersion: v1\nkind: Pod\n" + pod);
  EXPECT_FALSE(e.file->error) << e.file->error->describe();
  EXPECT_EQ(e.file->objects.size(), 1u);
  auto policy = pss::parseVersion(version, *pss::parseLevel(level));
  EXPECT_TRUE(policy);
  pss::Scratch scratch;
  const Object& o = e.file->objects[0];
  pss::evaluate(*policy, pss::Subject::kPod, o.metadata, get(o.root, "spec"), scratch,
                e.violations);
  return e;
}

void expectViolation(const Eval& e, std::string_view id, std::string_view reason,
                     std::string_view detail) {
  const pss::Violation* v = e.find(id);
  ASSERT_TRUE(v) << "no " << id << " violation; got: " << pss::joinViolations(e.violations);
  EXPECT_EQ(v->reason, reason);
  EXPECT_EQ(v->detail, detail);
}

TEST(Pss, PrivilegedDetail) {
  auto e = eval("baseline", "latest", R"(metadata: {name: p}
spec:
  containers:
  - {name: a}
  - {name: b, securityContext: {}}
  - {name: c, securityContext: {privileged: false}}
  - {name: d, securityContext: {privileged: true}}
  - {name: e, securityContext: {privileged: true}}
)");
  expectViolation(e, "privileged", "privileged",
                  R"(containers "d", "e" must not set securityContext.privileged=true)");
}

TEST(Pss, CapabilitiesRestrictedDetail) {
  auto e = eval("restricted", "v1.22", R"(metadata: {name: p}
spec:
  containers:
  - {name: a, securityContext: {capabilities: {add: [FOO, BAR]}}}
  - {name: b, securityContext: {capabilities: {add: [BAR, BAZ]}}}
  - {name: c, securityContext: {capabilities: {add: [NET_BIND_SERVICE, CHOWN], drop: [ALL, FOO]}}}
)");
  expectViolation(
      e, "capabilities_restricted", "unrestricted capabilities",
      R"(containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; containers "a", "b", "c" must not include "BAR", "BAZ", "CHOWN", "FOO" in securityContext.capabilities.add)");
  EXPECT_FALSE(e.find("capabilities_baseline")) << "overridden at restricted from v1.22";
}

TEST(Pss, CapabilitiesBaselineDetail) {
  auto e = eval("baseline", "latest", R"(metadata: {name: p}
spec:
  containers:
  - {name: a, securityContext: {capabilities: {add: [NET_ADMIN, CHOWN, cap_sys_admin]}}}
)");
  expectViolation(
      e, "capabilities_baseline", "non-default capabilities",
      R"(container "a" must not include "NET_ADMIN", "cap_sys_admin" in securityContext.capabilities.add)");
}

TEST(Pss, AllowPrivilegeEscalationDetail) {
  auto e = eval("restricted", "latest", R"(metadata: {name: p}
spec:
  containers:
  - {name: a}
  - {name: b, securityContext: {allowPrivilegeEscalation: null}}
  - {name: c, securityContext: {allowPrivilegeEscalation: true}}
  - {name: d, securityContext: {allowPrivilegeEscalation: false}}
)");
  expectViolation(
      e, "allowPrivilegeEscalation", "allowPrivilegeEscalation != false",
      R"(containers "a", "b", "c" must set securityContext.allowPrivilegeEscalation=false)");
}

TEST(Pss, RunAsUserDetails) {
  expectViolation(eval("restricted", "latest",
                       "metadata: {name: p}\nspec:\n  securityContext: {runAsUser: 0}\n  "
                       "containers: [{name: a}]\n"),
                  "runAsUser", "runAsUser=0", "pod must not set runAsUser=0");
  auto e = eval("restricted", "latest", R"(metadata: {name: p}
spec:
  securityContext: {runAsUser: 1000}
  containers:
  - {name: a}
  - {name: b, securityContext: {}}
  - {name: c, securityContext: {runAsUser: 0}}
  - {name: d, securityContext: {runAsUser: 0}}
  - {name: e, securityContext: {runAsUser: 1}}
)");
  expectViolation(e, "runAsUser", "runAsUser=0", R"(containers "c", "d" must not set runAsUser=0)");
  auto both = eval("restricted", "latest",
                   "metadata: {name: p}\nspec:\n  securityContext: {runAsUser: 0}\n  containers: "
                   "[{name: a, securityContext: {runAsUser: 0}}]\n");
  expectViolation(both, "runAsUser", "runAsUser=0",
                  R"(pod and container "a" must not set runAsUser=0)");
}

TEST(Pss, RunAsNonRootDetails) {
  expectViolation(eval("restricted", "latest",
                       "metadata: {name: p}\nspec:\n  containers: [{name: a}, {name: b}]\n"),
                  "runAsNonRoot", "runAsNonRoot != true",
                  R"(pod or containers "a", "b" must set securityContext.runAsNonRoot=true)");
  expectViolation(
      eval("restricted", "latest",
           "metadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: false}\n  containers: "
           "[{name: a, securityContext: {runAsNonRoot: false}}, {name: b}]\n"),
      "runAsNonRoot", "runAsNonRoot != true",
      R"(pod and container "a" must not set securityContext.runAsNonRoot=false)");
  EXPECT_FALSE(eval("restricted", "latest",
                    "metadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true}\n  "
                    "containers: [{name: a}]\n")
                   .find("runAsNonRoot"));
}

TEST(Pss, SeccompRestrictedDetails) {
  expectViolation(
      eval("restricted", "latest", "metadata: {name: p}\nspec:\n  containers: [{name: a}]\n"),
      "seccompProfile_restricted", "seccompProfile",
      R"(pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")");
  expectViolation(eval("restricted", "latest",
                       "metadata: {name: p}\nspec:\n  securityContext: {seccompProfile: {type: "
                       "Unconfined}}\n  containers: [{name: a}]\n"),
                  "seccompProfile_restricted", "seccompProfile",
                  R"(pod must not set securityContext.seccompProfile.type to "Unconfined")");
  auto e = eval("restricted", "latest", R"(metadata: {name: p}
spec:
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  containers:
  - {name: a}
  - {name: b, securityContext: {}}
  - {name: c, securityContext: {seccompProfile: {type: Unconfined}}}
  - {name: d, securityContext: {seccompProfile: {type: Unconfined}}}
  - {name: e, securityContext: {seccompProfile: {type: RuntimeDefault}}}
)");
  expectViolation(
      e, "seccompProfile_restricted", "seccompProfile",
      R"(containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined")");
  expectViolation(
      eval("restricted", "latest", R"(metadata: {name: p}
spec:
  containers:
  - {name: a}
  - {name: b, securityContext: {}}
  - {name: d, securityContext: {seccompProfile: {type: RuntimeDefault}}}
)"),
      "seccompProfile_restricted", "seccompProfile",
      R"(pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")");
}

TEST(Pss, SeccompBaselineAnnotationsBefore119AndFieldsAfter) {
  auto ann = eval("baseline", "v1.18", R"(metadata:
  name: p
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: unconfined
    container.seccomp.security.alpha.kubernetes.io/a: unconfined
    container.seccomp.security.alpha.kubernetes.io/b: unknown
spec:
  securityContext: {seccompProfile: {type: Unconfined}}
  containers: [{name: a}, {name: b}, {name: c}]
)");
  expectViolation(
      ann, "seccompProfile_baseline", "seccompProfile",
      R"(forbidden annotations container.seccomp.security.alpha.kubernetes.io/a="unconfined", container.seccomp.security.alpha.kubernetes.io/b="unknown", seccomp.security.alpha.kubernetes.io/pod="unconfined")");
  auto one = eval("baseline", "v1.18",
                  "metadata:\n  name: p\n  annotations: {seccomp.security.alpha.kubernetes.io/pod: "
                  "unconfined}\nspec:\n  containers: [{name: a}]\n");
  expectViolation(one, "seccompProfile_baseline", "seccompProfile",
                  R"(forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")");
  // From 1.19 the field decides and the annotations are ignored.
  auto field = eval("baseline", "v1.19", R"(metadata:
  name: p
  annotations: {seccomp.security.alpha.kubernetes.io/pod: unconfined}
spec:
  securityContext: {seccompProfile: {type: Unconfined}}
  containers:
  - {name: a}
  - {name: c, securityContext: {seccompProfile: {type: Unconfined}}}
  - {name: d, securityContext: {seccompProfile: {type: Unconfined}}}
)");
  expectViolation(
      field, "seccompProfile_baseline", "seccompProfile",
      R"(pod and containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined")");
  EXPECT_TRUE(
      eval("baseline", "v1.19",
           "metadata:\n  name: p\n  annotations: {seccomp.security.alpha.kubernetes.io/pod: "
           "unconfined}\nspec:\n  containers: [{name: a}]\n")
          .violations.empty());
  EXPECT_TRUE(eval("baseline", "v1.18",
                   "metadata: {name: p}\nspec:\n  securityContext: {seccompProfile: {type: "
                   "Unconfined}}\n  containers: [{name: a}]\n")
                  .violations.empty());
}

TEST(Pss, SeLinuxDetails) {
  auto e = eval("baseline", "v1.31", R"(metadata: {name: p}
spec:
  securityContext: {seLinuxOptions: {type: foo, user: bar, role: baz}}
  containers:
  - {name: a, securityContext: {seLinuxOptions: {type: container_t}}}
  - {name: d, securityContext: {seLinuxOptions: {type: container_engine_t}}}
  - {name: e, securityContext: {seLinuxOptions: {type: bar}}}
  - {name: f, securityContext: {seLinuxOptions: {user: bar}}}
  - {name: g, securityContext: {seLinuxOptions: {role: baz}}}
)");
  expectViolation(
      e, "seLinuxOptions", "seLinuxOptions",
      R"(pod and containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set)");
  expectViolation(eval("baseline", "latest",
                       "metadata: {name: p}\nspec:\n  securityContext: {seLinuxOptions: {user: "
                       "bad}}\n  containers: [{name: a}]\n"),
                  "seLinuxOptions", "seLinuxOptions",
                  "pod set forbidden securityContext.seLinuxOptions: user may not be set");
}

TEST(Pss, ProcMountDetail) {
  for (const char* users : {"true", "false"}) {
    auto e = eval("restricted", "latest",
                  fmt::format(R"(metadata: {{name: p}}
spec:
  hostUsers: {}
  containers:
  - {{name: a}}
  - {{name: b, securityContext: {{}}}}
  - {{name: c, securityContext: {{procMount: Default}}}}
  - {{name: d, securityContext: {{procMount: Unmasked}}}}
  - {{name: e, securityContext: {{procMount: other}}}}
)",
                              users));
    expectViolation(
        e, "procMount_restricted", "procMount",
        R"(containers "d", "e" must not set securityContext.procMount to "Unmasked", "other")");
  }
}

TEST(Pss, RestrictedVolumesDetail) {
  std::string vols;
  const char* allowed[] = {"emptyDir: {}",    "secret: {}",    "persistentVolumeClaim: {}",
                           "downwardAPI: {}", "configMap: {}", "projected: {}",
                           "csi: {}",         "ephemeral: {}", "image: {}"};
  for (int i = 0; i < 9; ++i) vols += fmt::format("  - {{name: a{}, {}}}\n", i + 1, allowed[i]);
  const char* restricted[] = {"hostPath",
                              "gcePersistentDisk",
                              "awsElasticBlockStore",
                              "gitRepo",
                              "nfs",
                              "iscsi",
                              "glusterfs",
                              "rbd",
                              "flexVolume",
                              "cinder",
                              "cephfs",
                              "flocker",
                              "fc",
                              "azureFile",
                              "vsphereVolume",
                              "quobyte",
                              "azureDisk",
                              "photonPersistentDisk",
                              "portworxVolume",
                              "scaleIO",
                              "storageos"};
  for (int i = 0; i < 21; ++i)
    vols += fmt::format("  - {{name: b{}, {}: {{}}}}\n", i + 1, restricted[i]);
  // A volume with only a name is defaulted to emptyDir by the API server before PSA sees it:
  // not restricted, and not "unknown".
  vols += "  - {name: c1}\n";
  auto e = eval("restricted", "latest",
                "metadata: {name: p}\nspec:\n  containers: [{name: a}]\n  volumes:\n" + vols);
  expectViolation(
      e, "restrictedVolumes", "restricted volume types",
      R"(volumes "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10", "b11", "b12", "b13", "b14", "b15", "b16", "b17", "b18", "b19", "b20", "b21" use restricted volume types "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "fc", "flexVolume", "flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "hostPath", "iscsi", "nfs", "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume")");
  EXPECT_FALSE(e.find("hostPathVolumes")) << "overridden by restrictedVolumes at restricted";
  auto b = eval("baseline", "latest",
                "metadata: {name: p}\nspec:\n  containers: [{name: a}]\n  volumes:\n" + vols);
  expectViolation(b, "hostPathVolumes", "hostPath volumes", R"(volume "b1")");
}

TEST(Pss, HostNamespacesPortsAndProbes) {
  auto e = eval("baseline", "latest", R"(metadata: {name: p}
spec:
  hostIPC: true
  hostNetwork: true
  hostPID: true
  containers:
  - name: a
    ports: [{containerPort: 80, hostPort: 8080}, {containerPort: 81, hostPort: 443}]
    livenessProbe: {httpGet: {host: evil.example, port: 80}}
  - name: b
    ports: [{containerPort: 90, hostPort: 10000}]
    lifecycle: {preStop: {tcpSocket: {host: 10.0.0.1, port: 1}}}
)");
  expectViolation(e, "hostNamespaces", "host namespaces",
                  "hostNetwork=true, hostPID=true, hostIPC=true");
  expectViolation(e, "hostPorts", "hostPort",
                  R"(containers "a", "b" use hostPorts 10000, 443, 8080)");
  expectViolation(e, "hostProbesAndHostLifecycle", "probe or lifecycle host",
                  R"(containers "a", "b" use probe or lifecycle hosts "10.0.0.1", "evil.example")");
}

TEST(Pss, AppArmorDetails) {
  expectViolation(eval("baseline", "latest",
                       "metadata: {name: p}\nspec:\n  securityContext: {appArmorProfile: {type: "
                       "Unconfined}}\n  containers: [{name: a}]\n"),
                  "appArmorProfile", "forbidden AppArmor profile",
                  R"(pod must not set AppArmor profile type to "Unconfined")");
  expectViolation(eval("baseline", "latest",
                       "metadata: {name: p}\nspec:\n  containers: [{name: foo}]\n  initContainers: "
                       "[{name: bar, securityContext: {appArmorProfile: {type: Unconfined}}}]\n"),
                  "appArmorProfile", "forbidden AppArmor profile",
                  R"(container "bar" must not set AppArmor profile type to "Unconfined")");
  auto ann = eval("baseline", "latest", R"(metadata:
  name: p
  annotations:
    container.apparmor.security.beta.kubernetes.io/: bogus
    container.apparmor.security.beta.kubernetes.io/a: ""
    container.apparmor.security.beta.kubernetes.io/b: runtime/default
    container.apparmor.security.beta.kubernetes.io/c: localhost/
    container.apparmor.security.beta.kubernetes.io/d: localhost/foo
    container.apparmor.security.beta.kubernetes.io/e: unconfined
    container.apparmor.security.beta.kubernetes.io/f: unknown
spec:
  containers: [{name: a}]
)");
  expectViolation(
      ann, "appArmorProfile", "forbidden AppArmor profiles",
      R"(annotations must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/="bogus"", "container.apparmor.security.beta.kubernetes.io/e="unconfined"", "container.apparmor.security.beta.kubernetes.io/f="unknown"")");
}

// Any object (Pod or workload) through the loader, evaluated as the scan, the CLI and the
// webhook evaluate it (a Pod's own spec gets the API server's Pod-only defaults).
Eval evalObject(std::string_view level, const std::string& yaml) {
  Eval e;
  e.file = loadText(yaml);
  EXPECT_EQ(e.file->objects.size(), 1u);
  const Object& o = e.file->objects[0];
  EXPECT_TRUE(o.pod);
  if (!o.pod) return e;
  pss::Scratch scratch;
  pss::evaluate(*pss::parseVersion("latest", *pss::parseLevel(level)), *o.pod, scratch,
                e.violations);
  return e;
}

// A pod spec as a Pod and as a Deployment's template.
std::string asPod(const std::string& meta, const std::string& spec) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n" + meta + "spec:\n" + spec;
}
std::string asDeployment(const std::string& meta, const std::string& spec) {
  std::string out =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
      "    metadata:\n      labels: {a: b}\n";
  auto indent = [&](const std::string& block) {
    for (size_t start = 0; start < block.size();) {
      size_t nl = block.find('\n', start);
      out += "    " + block.substr(start, nl - start + 1);
      start = nl + 1;
    }
  };
  indent(meta);
  out += "    spec:\n";
  indent(spec);
  return out;
}

TEST(Pss, ServerDefaultsBeforePsa) {
  // A volume with no source (only a name, or a null source) is an emptyDir: allowed at every
  // level, for Pods and templates alike.
  std::string volumes =
      "  containers: [{name: a, image: x, securityContext: {allowPrivilegeEscalation: false, "
      "runAsNonRoot: true, capabilities: {drop: [ALL]}, seccompProfile: {type: "
      "RuntimeDefault}}}]\n  volumes:\n  - {name: scratch}\n  - {name: nulled, hostPath: null}\n";
  for (const std::string& y : {asPod("", volumes), asDeployment("", volumes)}) {
    SCOPED_TRACE(y);
    EXPECT_TRUE(evalObject("restricted", y).violations.empty())
        << pss::joinViolations(evalObject("restricted", y).violations);
    EXPECT_TRUE(evalObject("baseline", y).violations.empty());
  }
  // The other side: a real restricted source is still named.
  auto nfs = evalObject("restricted", asPod("", volumes + "  - {name: share, nfs: {server: s, "
                                                          "path: /}}\n"));
  expectViolation(nfs, "restrictedVolumes", "restricted volume types",
                  R"(volume "share" uses restricted volume type "nfs")");

  // hostNetwork: a Pod's container and init container ports get hostPort = containerPort
  // (ephemeral containers have no ports to default); a template's do not (since v1.28).
  std::string host_net =
      "  hostNetwork: true\n  containers: [{name: a, image: x, ports: [{containerPort: 8080}, "
      "{containerPort: 9090, hostPort: 19090}]}]\n  initContainers: [{name: i, image: x, ports: "
      "[{containerPort: 53, protocol: UDP}]}]\n";
  auto pod = evalObject("baseline", asPod("", host_net));
  expectViolation(pod, "hostNamespaces", "host namespaces", "hostNetwork=true");
  expectViolation(pod, "hostPorts", "hostPort",
                  R"(containers "i", "a" use hostPorts 19090, 53, 8080)");
  auto tmpl = evalObject("baseline", asDeployment("", host_net));
  expectViolation(tmpl, "hostPorts", "hostPort", R"(container "a" uses hostPort 19090)");
  // Without hostNetwork nothing is defaulted.
  auto plain = evalObject("baseline", asPod("",
                                            "  containers: [{name: a, image: x, ports: "
                                            "[{containerPort: 8080}]}]\n"));
  EXPECT_FALSE(plain.find("hostPorts"));

  // AppArmor: creating a Pod, the server copies a container's deprecated annotation into its
  // unset appArmorProfile field (when it differs from the pod's); PSA then names both.
  std::string ann =
      "  annotations:\n    container.apparmor.security.beta.kubernetes.io/a: unconfined\n"
      "    container.apparmor.security.beta.kubernetes.io/b: unconfined\n"
      "    container.apparmor.security.beta.kubernetes.io/c: localhost/prof\n";
  std::string three =
      "  containers:\n  - {name: a, image: x}\n  - {name: b, image: x, securityContext: "
      "{appArmorProfile: {type: RuntimeDefault}}}\n  - {name: c, image: x}\n";
  expectViolation(
      evalObject("baseline", asPod(ann, three)), "appArmorProfile", "forbidden AppArmor profiles",
      R"(container "a" and annotations must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/a="unconfined"", "container.apparmor.security.beta.kubernetes.io/b="unconfined"")");
  expectViolation(
      evalObject("baseline", asDeployment(ann, three)), "appArmorProfile",
      "forbidden AppArmor profiles",
      R"(annotations must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/a="unconfined"", "container.apparmor.security.beta.kubernetes.io/b="unconfined"")");
  // Equal to the pod's profile: not copied, the pod is named once.
  expectViolation(
      evalObject("baseline",
                 asPod("  annotations:\n    container.apparmor.security.beta.kubernetes.io/a: "
                       "unconfined\n",
                       "  securityContext: {appArmorProfile: {type: Unconfined}}\n  containers: "
                       "[{name: a, image: x}]\n")),
      "appArmorProfile", "forbidden AppArmor profiles",
      R"(pod and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/a="unconfined"")");
  // Windows pods are not synced.
  expectViolation(
      evalObject("baseline",
                 asPod("  annotations:\n    container.apparmor.security.beta.kubernetes.io/a: "
                       "unconfined\n",
                       "  os: {name: windows}\n  containers: [{name: a, image: x}]\n")),
      "appArmorProfile", "forbidden AppArmor profile",
      R"(annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/a="unconfined"")");
}

TEST(Pss, WindowsHostProcessAndSysctls) {
  auto e = eval("baseline", "latest", R"(metadata: {name: p}
spec:
  securityContext:
    windowsOptions: {hostProcess: true}
    sysctls: [{name: kernel.msgmax, value: "1"}, {name: net.ipv4.tcp_syncookies, value: "1"}, {name: a.b, value: "1"}]
  containers:
  - {name: a, securityContext: {windowsOptions: {hostProcess: true}}}
)");
  expectViolation(
      e, "windowsHostProcess", "hostProcess",
      R"(pod and container "a" must not set securityContext.windowsOptions.hostProcess=true)");
  expectViolation(e, "sysctls", "forbidden sysctls", "kernel.msgmax, a.b");
}

// --- both sides of every version boundary -------------------------------------------------

bool allowed(std::string_view level, std::string_view version, const std::string& pod) {
  return eval(level, version, pod).violations.empty();
}

std::string sysctlPod(std::string_view name) {
  return fmt::format(
      "metadata: {{name: p}}\nspec:\n  securityContext: {{sysctls: [{{name: {}, value: '1'}}]}}\n  "
      "containers: [{{name: a}}]\n",
      name);
}

TEST(PssVersions, SafeSysctlsGrowAt127_129_132_137) {
  struct B {
    const char* name;
    const char* before;
    const char* at;
  } bs[] = {
      {"net.ipv4.ip_local_reserved_ports", "v1.26", "v1.27"},
      {"net.ipv4.tcp_keepalive_time", "v1.28", "v1.29"},
      {"net.ipv4.tcp_fin_timeout", "v1.28", "v1.29"},
      {"net.ipv4.tcp_keepalive_intvl", "v1.28", "v1.29"},
      {"net.ipv4.tcp_keepalive_probes", "v1.28", "v1.29"},
      {"net.ipv4.tcp_rmem", "v1.31", "v1.32"},
      {"net.ipv4.tcp_wmem", "v1.31", "v1.32"},
      {"net.ipv4.tcp_slow_start_after_idle", "v1.36", "v1.37"},
      {"net.ipv4.tcp_notsent_lowat", "v1.36", "v1.37"},
  };
  for (const B& b : bs) {
    EXPECT_FALSE(allowed("baseline", b.before, sysctlPod(b.name))) << b.name << " at " << b.before;
    EXPECT_TRUE(allowed("baseline", b.at, sysctlPod(b.name))) << b.name << " at " << b.at;
    EXPECT_TRUE(allowed("baseline", "latest", sysctlPod(b.name))) << b.name;
  }
  EXPECT_TRUE(allowed("baseline", "v1.0", sysctlPod("kernel.shm_rmid_forced")));
  EXPECT_FALSE(allowed("baseline", "latest", sysctlPod("net.ipv4.ip_forward")));
}

TEST(PssVersions, SeLinuxContainerEngineFrom131) {
  std::string pod =
      "metadata: {name: p}\nspec:\n  securityContext: {seLinuxOptions: {type: "
      "container_engine_t}}\n  containers: [{name: a}]\n";
  EXPECT_FALSE(allowed("baseline", "v1.30", pod));
  EXPECT_TRUE(allowed("baseline", "v1.31", pod));
}

TEST(PssVersions, HostProbesFrom134) {
  std::string pod =
      "metadata: {name: p}\nspec:\n  containers: [{name: a, readinessProbe: {tcpSocket: {host: "
      "1.2.3.4, port: 80}}}]\n";
  EXPECT_TRUE(allowed("baseline", "v1.33", pod));
  EXPECT_FALSE(allowed("baseline", "v1.34", pod));
}

const char* kRestrictedOk =
    R"(  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: a
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}%s}
)";

std::string restrictedPod(std::string_view spec_extra, std::string_view container_extra = "") {
  std::string body = kRestrictedOk;
  body.replace(body.find("%s"), 2, container_extra);
  return fmt::format("metadata: {{name: p}}\nspec:\n{}{}", spec_extra, body);
}

TEST(PssVersions, UserNamespaceRelaxationsAt135) {
  std::string pod =
      "metadata: {name: p}\nspec:\n  hostUsers: false\n  securityContext: {runAsUser: 0, "
      "seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - {name: a, securityContext: "
      "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}\n";
  auto before = eval("restricted", "v1.34", pod);
  EXPECT_EQ(before.ids(), (std::vector<std::string>{"runAsNonRoot", "runAsUser"}));
  EXPECT_TRUE(allowed("restricted", "v1.35", pod));
  std::string pm =
      "metadata: {name: p}\nspec:\n  hostUsers: false\n  containers: [{name: a, securityContext: "
      "{procMount: Unmasked}}]\n";
  EXPECT_FALSE(allowed("baseline", "v1.34", pm));
  EXPECT_TRUE(allowed("baseline", "v1.35", pm));
  auto r =
      eval("restricted", "v1.35", restrictedPod("  hostUsers: false\n", ", procMount: Unmasked"));
  EXPECT_EQ(r.ids(), std::vector<std::string>{"procMount_restricted"});
  auto r34 =
      eval("restricted", "v1.34", restrictedPod("  hostUsers: false\n", ", procMount: Unmasked"));
  EXPECT_EQ(r34.ids(), std::vector<std::string>{"procMount"});
}

TEST(PssVersions, RunAsUserFrom123) {
  std::string pod = restrictedPod("", ", runAsUser: 0");
  EXPECT_TRUE(allowed("restricted", "v1.22", pod));
  EXPECT_FALSE(allowed("restricted", "v1.23", pod));
}

TEST(PssVersions, SeccompRestrictedFrom119) {
  std::string pod =
      "metadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers: [{name: "
      "a, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]\n";
  EXPECT_TRUE(allowed("restricted", "v1.18", pod));
  EXPECT_EQ(eval("restricted", "v1.19", pod).ids(),
            std::vector<std::string>{"seccompProfile_restricted"});
}

TEST(PssVersions, CapabilitiesRestrictedFrom122) {
  std::string pod =
      "metadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: "
      "RuntimeDefault}}\n  containers: [{name: a, securityContext: {allowPrivilegeEscalation: "
      "false, capabilities: {add: [SYS_ADMIN]}}}]\n";
  EXPECT_EQ(eval("restricted", "v1.21", pod).ids(),
            std::vector<std::string>{"capabilities_baseline"});
  EXPECT_EQ(eval("restricted", "v1.22", pod).ids(),
            std::vector<std::string>{"capabilities_restricted"});
}

TEST(PssVersions, AllowPrivilegeEscalationFrom18AndWindowsFrom125) {
  std::string pod =
      "metadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers: [{name: "
      "a}]\n";
  EXPECT_TRUE(allowed("restricted", "v1.7", pod));
  EXPECT_EQ(eval("restricted", "v1.8", pod).ids(),
            std::vector<std::string>{"allowPrivilegeEscalation"});
  std::string win =
      "metadata: {name: p}\nspec:\n  os: {name: windows}\n  securityContext: {runAsNonRoot: "
      "true}\n  containers: [{name: a}]\n";
  EXPECT_EQ(eval("restricted", "v1.24", win).ids(),
            (std::vector<std::string>{"allowPrivilegeEscalation", "capabilities_restricted",
                                      "seccompProfile_restricted"}));
  EXPECT_TRUE(allowed("restricted", "v1.25", win));
}

TEST(PssVersions, NewerThanKnownBehavesAsLatestAndOrderIsPsas) {
  std::string pod =
      "metadata: {name: p}\nspec:\n  hostNetwork: true\n  containers: [{name: a, securityContext: "
      "{privileged: true}}]\n";
  auto latest = eval("restricted", "latest", pod);
  auto future = eval("restricted", "v1.99", pod);
  EXPECT_EQ(pss::joinViolations(latest.violations), pss::joinViolations(future.violations));
  EXPECT_EQ(latest.ids(),
            (std::vector<std::string>{"hostNamespaces", "privileged", "allowPrivilegeEscalation",
                                      "capabilities_restricted", "runAsNonRoot",
                                      "seccompProfile_restricted"}));
  EXPECT_EQ(
      pss::joinViolations(eval("baseline", "latest", pod).violations),
      R"(host namespaces (hostNetwork=true), privileged (container "a" must not set securityContext.privileged=true))");
}

TEST(PssVersions, ParseVersionLikePsa) {
  EXPECT_TRUE(pss::parseVersion("v1.0", pss::Level::kBaseline));
  EXPECT_TRUE(pss::parseVersion("v1.37", pss::Level::kBaseline));
  for (const char* bad : {"v1.01", "v2.0", "1.29", "v1.", "v1.x", "latest ", "v1.-1", ""})
    EXPECT_FALSE(pss::parseVersion(bad, pss::Level::kBaseline)) << bad;
  auto p = pss::parseVersion("v1.50", pss::Level::kRestricted);
  EXPECT_EQ(pss::policyLabel(*p), "restricted:v1.50");
  EXPECT_EQ(pss::effectiveVersion(*p), "v1.37");
}

TEST(PssNamespaces, LabelsAndFallbacks) {
  auto f = loadText(R"(apiVersion: v1
kind: Namespace
metadata:
  name: a
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/enforce-version: v1.29
    pod-security.kubernetes.io/warn: strict
    pod-security.kubernetes.io/audit-version: v9
)");
  auto p = pss::policyFromLabels(f->objects[0].labels);
  EXPECT_EQ(pss::policyLabel(p.enforce.policy), "baseline:v1.29");
  EXPECT_TRUE(p.enforce.labelled);
  EXPECT_EQ(pss::policyLabel(p.warn.policy), "privileged:latest");  // invalid warn fails open
  EXPECT_EQ(pss::policyLabel(p.audit.policy), "privileged:latest");
  EXPECT_EQ(p.errors.size(), 2u);
  auto bad = loadText(
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n  labels: "
      "{pod-security.kubernetes.io/enforce: Restricted}\n");
  EXPECT_EQ(pss::policyFromLabels(bad->objects[0].labels).enforce.policy.level,
            pss::Level::kRestricted)
      << "an invalid enforce level fails closed";
  EXPECT_EQ(pss::policyFromLabels(nullptr).enforce.policy.level, pss::Level::kPrivileged);
}

// --- property: anything restricted allows, baseline allows ----------------------------------

// Random pods that the API server would accept (PSA relies on validation: for instance a
// Windows pod cannot set seccompProfile or capabilities, which is why PSA exempts Windows pods
// from restricted checks whose baseline twins it overrides). Each list starts with its
// restricted-compliant choice; "careful" pods mostly take it, so the generator yields compliant
// pods and near misses as well as plainly bad ones.
std::string randomPod(std::mt19937& rng) {
  bool careful = std::bernoulli_distribution(0.5)(rng);
  auto pick = [&](std::initializer_list<const char*> opts) {
    if (careful && std::bernoulli_distribution(0.85)(rng)) return *opts.begin();
    std::uniform_int_distribution<size_t> d(0, opts.size() - 1);
    return *(opts.begin() + d(rng));
  };
  bool windows = std::bernoulli_distribution(0.15)(rng);
  std::string spec;
  spec += pick({"", "  hostNetwork: true\n", "  hostPID: false\n"});
  if (windows) {
    spec += "  os: {name: windows}\n";
    std::vector<std::string> parts;
    for (const char* part : {pick({"runAsNonRoot: true", "", "runAsNonRoot: false"}),
                             pick({"", "windowsOptions: {hostProcess: true}"})})
      if (*part) parts.emplace_back(part);
    spec += fmt::format("  securityContext: {{{}}}\n", fmt::join(parts, ", "));
  } else {
    spec += pick({"", "  hostUsers: false\n"});
    spec += fmt::format(
        "  securityContext: {{{}{}{}}}\n",
        pick({"runAsNonRoot: true, ", "", "runAsNonRoot: false, "}),
        pick({"", "runAsUser: 0, ", "runAsUser: 1000, "}),
        pick({"seccompProfile: {type: RuntimeDefault}", "", "seccompProfile: {type: Unconfined}",
              "sysctls: [{name: kernel.msgmax, value: '1'}]"}));
  }
  spec += "  containers:\n";
  std::uniform_int_distribution<int> n(1, 3);
  int count = n(rng);
  for (int i = 0; i < count; ++i) {
    if (windows) {
      spec += fmt::format("  - name: c{}\n    securityContext: {{{}}}\n", i,
                          pick({"", "runAsNonRoot: true", "windowsOptions: {hostProcess: true}"}));
    } else {
      spec += fmt::format(
          "  - name: c{}\n    securityContext: {{{}{}{}{}}}\n", i,
          pick({"", "privileged: true, ", "privileged: false, "}),
          pick({"allowPrivilegeEscalation: false, ", "", "allowPrivilegeEscalation: true, "}),
          pick({"capabilities: {drop: [ALL]}, ", "",
                "capabilities: {add: [NET_ADMIN], drop: [ALL]}, ", "capabilities: {add: [CHOWN]}, ",
                "capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}, "}),
          pick({"", "procMount: Unmasked", "runAsNonRoot: true",
                "seccompProfile: {type: Localhost}", "seLinuxOptions: {type: spc_t}",
                "appArmorProfile: {type: Unconfined}"}));
    }
    spec += pick({"", "    ports: [{containerPort: 80, hostPort: 80}]\n",
                  "    livenessProbe: {httpGet: {host: h, port: 1}}\n"});
  }
  spec += pick({"", "  volumes: [{name: v, hostPath: {path: /}}]\n",
                "  volumes: [{name: v, nfs: {server: s, path: /}}]\n",
                "  volumes: [{name: v, emptyDir: {}}]\n"});
  return "metadata: {name: p}\nspec:\n" + spec;
}

TEST(PssProperty, RestrictedAllowedImpliesBaselineAllowed) {
  std::mt19937 rng(20261123);
  const char* versions[] = {"v1.0",  "v1.18", "v1.19", "v1.22", "v1.25",
                            "v1.31", "v1.34", "v1.35", "latest"};
  int restricted_allowed = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string pod = randomPod(rng);
    for (const char* v : versions) {
      auto r = eval("restricted", v, pod);
      auto b = eval("baseline", v, pod);
      if (r.violations.empty()) {
        ++restricted_allowed;
        EXPECT_TRUE(b.violations.empty()) << v << "\n" << pod << pss::joinViolations(b.violations);
      }
      // Baseline violations are always restricted violations too, unless a stricter restricted
      // check replaced the baseline one.
      if (!b.violations.empty()) {
        EXPECT_FALSE(r.violations.empty()) << v << "\n" << pod;
      }
    }
  }
  EXPECT_GT(restricted_allowed, 20) << "the generator should produce some compliant pods";
}

}  // namespace
}  // namespace kh::test
