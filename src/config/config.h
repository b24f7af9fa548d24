// Config: the .kubeharden.yaml file (checks on/off, severity overrides, per-check options,
// exceptions with reason and expiry, extra pod-template paths). See docs/configuration.md.
//
// Loading is strict: an unknown key, an unknown check ID or a bad value is an Error naming the
// file and line (the CLI exits 2). Config owns the parsed file, so option nodes stay valid for
// as long as the Config lives. Immutable after load; thread-safe to read.
#pragma once

#include <map>
#include <memory>
#include <optional>
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

// admission.verifyImages (docs/signatures.md): which images must be signed, by whom.
struct VerifyAttestor {
  std::string key;  // a PEM public key: inline, or a file (relative to the config file)
  std::string identity, identity_regexp, issuer, issuer_regexp;  // keyless
  SourcePos pos;
};

// An attestation an image must carry: its in-toto predicate type and, optionally, values its
// predicate must have (JSON Pointer -> glob on the value's text).
struct AttestationRequirement {
  std::string type;
  std::vector<std::pair<std::string, std::string>> predicate;
};

struct VerifyImagesRule {
  std::string name;                 // for messages; "rule N" when not given
  std::vector<std::string> images;  // globs on the normalised reference (or its repository)
  // Namespace selection: globs on the name (empty: every namespace), exclusions, and labels the
  // namespace must carry (all of them, exactly).
  std::vector<std::string> namespaces, exclude_namespaces;
  std::vector<std::pair<std::string, std::string>> namespace_labels;
  enum class Action { kVerify, kAllow, kDeny } action = Action::kVerify;
  std::vector<VerifyAttestor> attestors;
  int count = 1;  // attestors that must each have verified the image
  std::vector<AttestationRequirement> attestations;  // each needs an attestation
  bool require_signature = true;
  bool require_timestamp = false;    // key-based signatures too need a log entry or time
  std::string signature_repository;  // where signatures are stored, when not beside it
  bool mutate_digest = true;         // the mutating webhook pins tags to digests
  bool verify_digest = true;         // the validating webhook refuses tags
  bool audit = false;                // failureAction: audit (warn) rather than deny
  SourcePos pos;
};

struct VerifyImagesConfig {
  std::vector<VerifyImagesRule> rules;  // the first whose images match an image decides it
  std::string trusted_root;             // a trusted_root.json; empty: the built-in one
  SourcePos trusted_root_pos;
  double success_ttl = 600, failure_ttl = 30, tag_ttl = 60;  // cache, seconds
  std::string ca_file;                                       // added to the system roots
  std::vector<std::string> insecure_registries;              // plain HTTP or unverified TLS
  std::string file;                                          // the config file (for errors)
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
  VerifyImagesConfig verify_images;
  // ValidatingAdmissionPolicies to enforce (docs/policies.md): files or directories of policies,
  // bindings and params, relative to the config file's directory; the Kubernetes minor version
  // whose CEL environment they compile in (0: the newest supported).
  std::vector<std::string> policies;
  int kubernetes_minor = 0;
};

// `image scan`'s section (`image:`): the licence policy. The identifiers are checked by the
// image command (they keep their position for its errors).
struct ImageConfig {
  std::vector<std::pair<std::string, SourcePos>> license_deny;
  Severity license_severity = Severity::kHigh;
};

// A check written in CEL in the config file (`customChecks:`, docs/policies.md "Custom checks"):
// the expression is true for an object that passes.
struct CustomCheck {
  std::string id, title, expression, message, message_expression, remediation;
  Severity severity = Severity::kMedium;
  std::vector<std::string> kinds;  // empty: every object
  SourcePos pos, expression_pos, message_expression_pos;
};

struct Config {
  std::string file;  // empty when no config file was read
  std::set<std::string, std::less<>> disabled;
  std::set<std::string, std::less<>> enabled;  // opt-in checks switched on
  std::map<std::string, Severity, std::less<>> severity;
  std::vector<CustomCheck> custom_checks;
  std::map<std::string, const Node*, std::less<>> options;
  std::vector<ConfigException> exceptions;
  std::vector<std::string> pod_spec_paths;
  AdmissionConfig admission;
  ImageConfig image;
  std::vector<render::ChartConfig> render_charts;  // `render.charts`
  std::shared_ptr<SourceFile> source;              // keeps option nodes alive
  // Option nodes made from command-line flags (--now, --k8s-data), kept alive likewise.
  std::vector<std::shared_ptr<SourceFile>> flag_sources;
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
