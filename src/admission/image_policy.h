// admission.verifyImages compiled (docs/signatures.md): which images of a request a rule governs,
// and what the verdicts on them do to the answer. Pure, like the rest of the decision: the
// verdicts that need a registry come from image_verifier.h, computed by the caller before it
// decides. Only compileImagePolicy reads files (keys, the trusted root).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admission/review.h"
#include "base/result.h"
#include "config/config.h"
#include "registry/reference.h"
#include "sigstore/trusted_root.h"
#include "sigstore/verify.h"

namespace kh::admission {

struct Attestor {
  sigstore::Policy policy;
  std::string name;  // "key /etc/kubeharden/cosign.pub", "identity ... issuer ..."
};

struct ImageRule {
  std::string name;
  std::vector<std::string> patterns;  // normalised globs
  std::vector<std::string> namespaces, exclude_namespaces;
  std::vector<std::pair<std::string, std::string>> namespace_labels;
  VerifyImagesRule::Action action = VerifyImagesRule::Action::kVerify;
  std::vector<Attestor> attestors;
  int count = 1;
  std::vector<AttestationRequirement> attestations;
  bool require_signature = true;
  std::optional<registry::Reference> signature_repository;
  bool mutate_digest = true, verify_digest = true, audit = false;
  // SHA-256 (hex) of everything a verdict under this rule depends on: its attestors (the keys'
  // bytes, not their paths), attestations, requirements and the trusted root. Cached verdicts
  // are keyed by it, so a changed rule never reuses an old verdict.
  std::string hash;
};

struct ImagePolicy {
  std::vector<ImageRule> rules;
  sigstore::TrustedRoot root;
  std::string root_warning;  // the built-in root is old (said once, when the policy loads)
  double success_ttl = 600, failure_ttl = 30, tag_ttl = 60;
  std::string ca_file;
  std::vector<std::string> insecure_registries;
  bool needsRegistry() const;  // some rule verifies
};

// Compiles the config's rules: patterns normalised, keys read and parsed, regular expressions
// checked, the trusted root loaded when a rule verifies. Errors name the config file and line.
Result<std::shared_ptr<const ImagePolicy>> compileImagePolicy(const VerifyImagesConfig& c);

// Glob on an image reference: `*` and `?` stay within a path segment, `**` crosses them.
bool imageGlobMatch(std::string_view pattern, std::string_view text);
// A pattern in the normalised form references take: "nginx" -> "docker.io/library/nginx",
// "acme/*" -> "docker.io/acme/*"; patterns naming a registry (or starting with a wildcard)
// are kept.
std::string normalisePattern(std::string_view pattern);
// Does the pattern match the reference (its repository, repository:tag, repository@digest or
// the whole of it)?
bool ruleMatches(const ImageRule& rule, const registry::Reference& ref);

// One container image of the request that a rule governs.
struct ImageUse {
  std::string pointer;  // JSON Pointer of the image field ("/spec/containers/0/image")
  std::string image;    // as written
  registry::Reference ref;
  size_t rule = 0;  // index into ImagePolicy::rules
  // Needs the registry (or a layout) to be judged: a verify rule, and a digest to verify (or a
  // tag the rule lets through unpinned, or that the mutating webhook pins).
  bool needs_verification = false;
  std::string key() const;  // of its verdict: rule and image
};

// The images `req` introduces that a rule governs: every container, init container and
// ephemeral container of a pod or pod template; on UPDATE only images the old object did not
// have, on the ephemeralcontainers subresource only new ephemeral containers. None for requests
// the webhook does not judge (deletions, other subresources, exempt namespaces, users, groups
// and runtime classes, namespaces the rule does not select).
struct Policy;
std::vector<ImageUse> imagesToVerify(const AdmissionRequest& req, const Policy& policy,
                                     const Node* namespace_labels, bool mutating);

// What became of one image under a verify rule.
struct ImageVerdict {
  bool verified = false;
  std::string digest;   // the digest verified (a tag resolved)
  std::string message;  // who signed it, or why it is refused
};
using ImageVerdicts = std::map<std::string, ImageVerdict>;  // by ImageUse::key()

// The mutating webhook's digest pins (RFC 6902 "replace" ops, a JSON array; empty when none):
// each tag a mutateDigest rule governs whose digest is known becomes NAME:TAG@DIGEST.
std::string pinPatch(const std::vector<ImageUse>& uses, const ImagePolicy& policy,
                     const ImageVerdicts& verdicts);

// Two JSON Patch arrays as one (either may be empty).
std::string joinPatches(const std::string& a, const std::string& b);

}  // namespace kh::admission
