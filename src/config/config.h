// Config: the .kubeharden.yaml file (checks on/off, severity overrides, per-check options,
// exceptions with reason and expiry, extra pod-template paths). See docs/configuration.md.
//
// Loading is strict: an unknown key, an unknown check ID or a bad value is an Error naming the
// file and line (the CLI exits 2). Config owns the parsed file, so option nodes stay valid for
// as long as the Config lives. Immutable after load; thread-safe to read.
#pragma once

#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "checks/check.h"
#include "load/loader.h"
#include "render/options.h"

namespace kh {

struct ConfigException {
  std::vector<std::string> checks;                                        // check IDs, or "*"
  std::string kind = "*", namespace_ = "*", name = "*", container = "*";  // globs
  // Glob on the file a finding is reported at (a rendered object's template or resource file)
  // or on the chart or kustomization it was rendered from.
  std::string file = "*";
  std::string reason;
  std::string expires;  // YYYY-MM-DD or empty
  SourcePos pos;
};

// The admission webhook's section (`admission:`): see docs/design/admission.md.
struct AdmissionConfig {
  std::string enforce = "baseline", enforce_version = "latest";
  std::string warn = "restricted", warn_version = "latest";
  std::string audit = "restricted", audit_version = "latest";
  bool enforce_on_controllers = false;
  bool mutate_by_default = false;
  std::optional<Severity> deny_severity;  // catalogue findings at or above deny; none: warn only
  std::vector<std::string> deny_checks = {"rbac-risky-permission/anonymous-binding"};
  std::vector<std::string> exempt_namespaces, exempt_usernames, exempt_groups,
      exempt_runtime_classes;
};

// `image scan`'s section (`image:`): the licence policy. The identifiers are checked by the
// image command (they keep their position for its errors).
struct ImageConfig {
  std::vector<std::pair<std::string, SourcePos>> license_deny;
  Severity license_severity = Severity::kHigh;
};

struct Config {
  std::string file;  // empty when no config file was read
  std::set<std::string, std::less<>> disabled;
  std::set<std::string, std::less<>> enabled;  // opt-in checks switched on
  std::map<std::string, Severity, std::less<>> severity;
  std::map<std::string, const Node*, std::less<>> options;
  std::vector<ConfigException> exceptions;
  std::vector<std::string> pod_spec_paths;
  AdmissionConfig admission;
  ImageConfig image;
  std::vector<render::ChartConfig> render_charts;  // `render.charts`
  std::shared_ptr<SourceFile> source;  // keeps option nodes alive
};

// Reads and validates a config file against the check catalogue.
Result<Config> loadConfig(const std::string& path);

// Besides check IDs, `enable` and `disable` take a group ("security", "reliability") or "all".
bool isCheckSelector(std::string_view s);
// Is the check on, given the config's enable/disable sets? The most specific mention wins (its
// ID over its group over "all"); at equal specificity enable wins; unmentioned checks keep
// their default.
bool checkEnabled(const Config& cfg, const CheckMeta& meta);

}  // namespace kh
