// Command-line flags of a control-plane container, parsed as the components' flag library
// (spf13/pflag) reads them: `--name=value`, `--name value` for flags that take a value, bare
// `--name` for booleans, repeated flags (the last wins; list flags accumulate), and a command
// wrapped in `sh -c "..."`. Each value remembers the list item it came from.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/pod_spec.h"

namespace kh {

struct FlagValue {
  std::string value;
  SourcePos pos;
  std::string path;  // e.g. spec.containers[0].command[4]
};

class FlagSet {
 public:
  // Parses the container's command and args. `bool_flags` names the flags that take no
  // separate value (`--profiling false` is then a flag and a stray word, as in pflag).
  static FlagSet parse(const ContainerRef& c, std::span<const std::string_view> bool_flags);

  // Adds flags from environment variables (etcd reads ETCD_CLIENT_CERT_AUTH as
  // --client-cert-auth); a flag on the command line wins.
  void addEnvironment(const ContainerRef& c, std::string_view prefix);

  // The binary's base name (kube-apiserver, etcd, ...), empty when there is no command.
  const std::string& binary() const { return binary_; }
  bool has(std::string_view name) const { return flags_.count(std::string(name)) > 0; }
  // The last value of a scalar flag (pflag's last-wins), if the flag is present.
  const FlagValue* last(std::string_view name) const;
  // A list flag (comma-separated, repeatable): every item of every occurrence, in order.
  std::vector<std::string> list(std::string_view name) const;
  // Where to point for a flag that is missing: the command (or args) list of the container.
  SourcePos missingPos() const { return missing_pos_; }
  const std::string& missingPath() const { return missing_path_; }

 private:
  std::string binary_;
  std::map<std::string, std::vector<FlagValue>, std::less<>> flags_;
  SourcePos missing_pos_;
  std::string missing_path_;
};

// Is the TLS cipher suite one CIS accepts as strong (AEAD with forward secrecy, CIS 1.2.29 and
// 4.2.12)?
bool strongCipherSuite(std::string_view name);

// "1.31" from an image reference such as registry.k8s.io/kube-apiserver:v1.31.2; nothing when
// the tag is not a version.
std::optional<int> kubernetesMinorFromImage(std::string_view image);

}  // namespace kh
