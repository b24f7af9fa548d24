#include "checks/util/capabilities.h"

#include "base/strings.h"

namespace kh {

std::string canonicalCapability(std::string_view name) {
  std::string up = toUpper(trim(name));
  if (up.starts_with("CAP_")) up.erase(0, 4);
  return up;
}

bool dropsAll(const Node* container) {
  const Node* drop = get(get(get(container, "securityContext"), "capabilities"), "drop");
  if (!drop) return false;
  for (const Node* d : drop->seqItems())
    if (d->isString() && canonicalCapability(d->text) == "ALL") return true;
  return false;
}

std::span<const std::string_view> defaultDangerousCapabilities() {
  static constexpr std::string_view kList[] = {
      "ALL",          "SYS_ADMIN",       "NET_ADMIN", "NET_RAW",      "SYS_MODULE", "SYS_PTRACE",
      "SYS_RAWIO",    "SYS_BOOT",        "SYS_TIME",  "BPF",          "PERFMON",    "MAC_ADMIN",
      "MAC_OVERRIDE", "DAC_READ_SEARCH", "SYSLOG",    "SYS_RESOURCE",
  };
  return kList;
}

bool baselineCapability(std::string_view canonical) {
  static constexpr std::string_view kBaseline[] = {
      "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL",      "MKNOD",
      "NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT"};
  for (std::string_view c : kBaseline)
    if (c == canonical) return true;
  return false;
}

}  // namespace kh
