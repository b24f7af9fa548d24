#include "checks/util/host_path.h"

#include <array>
#include <vector>

#include "base/strings.h"

namespace kh {
namespace {

// Container runtime API sockets: whoever reaches one controls every container on the node.
constexpr std::array<std::string_view, 12> kSockets = {
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/dockershim.sock",
    "/run/k3s/containerd/containerd.sock",
    "/var/run/podman/podman.sock",
    "/run/podman/podman.sock",
};

// Host directories whose exposure gives away the node (credentials, kernel interfaces, binaries).
constexpr std::array<std::string_view, 20> kSensitive = {
    "/",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib64",
    "/proc",
    "/sys",
    "/usr",
    "/bin",
    "/sbin",
    "/root",
    "/home",
    "/var/lib/kubelet",
    "/var/lib/etcd",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/log",
    "/etc/kubernetes",
    "/var/run/secrets",
};

bool isUnder(std::string_view p, std::string_view dir) {
  if (dir == "/") return p == "/";  // everything is under "/"; only "/" itself counts
  return p == dir || (p.size() > dir.size() && p.starts_with(dir) && p[dir.size()] == '/');
}

}  // namespace

std::string normalizeHostPath(std::string_view p) {
  std::vector<std::string_view> parts;
  for (std::string_view s : splitTrimmed(p, '/')) {
    if (s == ".") continue;
    if (s == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(s);
  }
  std::string out;
  for (std::string_view s : parts) {
    out += '/';
    out += s;
  }
  return out.empty() ? "/" : out;
}

HostPathClass classifyHostPath(std::string_view path) {
  std::string p = normalizeHostPath(path);
  // The socket itself, or a directory under /run or /var/run that contains it. (/var holds
  // /var/run, but that is a symlink to /run on current distributions, so a /var mount does not
  // reach the socket; it is a sensitive mount for /var/lib/kubelet instead.)
  bool in_run = isUnder(p, "/run") || isUnder(p, "/var/run");
  for (std::string_view s : kSockets) {
    if (in_run && isUnder(s, p)) return HostPathClass::kRuntimeSocket;
  }
  for (std::string_view s : kSensitive) {
    if (isUnder(p, s)) return HostPathClass::kSensitive;              // the directory or below it
    if (p != "/" && isUnder(s, p)) return HostPathClass::kSensitive;  // a parent of it (/var)
  }
  return HostPathClass::kOther;
}

}  // namespace kh
