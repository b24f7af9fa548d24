// ValidatingAdmissionPolicy and its bindings (admissionregistration.k8s.io v1 and v1beta1),
// evaluated as the API server evaluates them (issue #24; docs/policies.md): matchConstraints and
// the binding's matchResources, matchConditions, variables, validations with message,
// messageExpression and reason, auditAnnotations, failurePolicy, params (paramKind and the
// binding's paramRef by name or selector, parameterNotFoundAction), and the validation actions
// Deny, Warn and Audit with the API server's messages.
//
// A PolicySet is built once from the policy objects (compiling every expression) and is then
// immutable: `admit` is a pure function of a request, safe from any number of threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/diagnostic.h"
#include "base/result.h"
#include "cel/eval.h"
#include "cel/kubernetes.h"
#include "load/loader.h"
#include "model/label_selector.h"
#include "model/object.h"

namespace kh::policy {

// What the API server tells admission about a request, and what CEL sees as `request`.
struct Attributes {
  std::string operation = "CREATE";   // CREATE, UPDATE, DELETE, CONNECT
  std::string group, version, kind;   // of the object
  std::string resource, subresource;  // plural resource, e.g. deployments
  std::string name, namespace_;
  const Node* object = nullptr;      // null for DELETE
  const Node* old_object = nullptr;  // UPDATE and DELETE
  // The Namespace object of `namespace_` (its labels select; CEL's namespaceObject), when
  // known; else `namespace_labels` stand for its labels.
  const Node* namespace_object = nullptr;
  std::vector<std::pair<std::string, std::string>> namespace_labels;
  std::string username, uid;
  std::vector<std::string> groups;
  bool dry_run = false;
  // Decides `authorizer` checks (the input's RBAC objects, scan/policies.cpp); none: unknown.
  std::shared_ptr<const cel::kubernetes::Authorize> authorize;
};

// The attributes of a CREATE of `o` (the request a manifest would make): group and version
// from apiVersion, the plural resource guessed from the kind as the API server's REST mapper
// does for most kinds (lower case; -s, -es after s, -ies after a consonant y; Endpoints and a
// few irregular kinds from a table).
Attributes createOf(const Object& o);
std::string resourceForKind(std::string_view kind);

enum class ActionBits : uint8_t { kDeny = 1, kWarn = 2, kAudit = 4 };

// One outcome for one (policy, binding, param) on one request: a failed validation, or an
// error (compile, evaluation, configuration) that failurePolicy turned into a denial.
struct Outcome {
  std::string policy, binding;  // a Kyverno ValidatingPolicy has no binding (empty)
  bool kyverno = false;         // from a policies.kyverno.io ValidatingPolicy
  int validation = -1;          // index in spec.validations; -1 for configuration or match errors
  bool error = false;           // an error, not a validation that returned false
  bool unevaluable = false;     // what only the cluster knows (an authorizer check)
  std::string message;          // the decision's message (without the policy prefix)
  std::string reason;           // Invalid unless the validation names another
  uint8_t actions = 0;          // ActionBits of the binding
  // Where: the policy object's file and the failing expression's position in it.
  std::string file;
  SourcePos pos;
};

// The outcome's message as the API server (or Kyverno) words a denial, and a warning:
// `ValidatingAdmissionPolicy 'p' with binding 'b' denied request: ...`,
// `Validation failed for ValidatingAdmissionPolicy 'p' with binding 'b': ...`; for a Kyverno
// ValidatingPolicy `ValidatingPolicy 'p' denied request: ...`, `Validation failed for
// ValidatingPolicy 'p': ...`.
std::string denialText(const Outcome& o);
std::string warningText(const Outcome& o);

// The admission answer of all the policies together, as the API server gives it.
struct Verdict {
  bool allowed = true;
  int code = 0;         // 422 Invalid, 403 Forbidden, ... when denied
  std::string reason;   // the first denial's reason
  std::string message;  // `deployments.apps "x" is forbidden: ValidatingAdmissionPolicy ...`
  // The denial as a webhook answers it (the API server adds its own "is forbidden" wrapping):
  // `ValidatingAdmissionPolicy 'p' with binding 'b' denied request: ...`.
  std::string denial;
  std::vector<std::string> warnings;
  std::map<std::string, std::string> audit_annotations;
  std::vector<Outcome> outcomes;  // every failed validation or error, in policy order
};

struct PolicyOptions {
  int k8s_minor = 0;  // the Kubernetes 1.x profile; 0: the newest supported
};

class PolicySet {
 public:
  PolicySet();
  ~PolicySet();
  PolicySet(PolicySet&&) noexcept;
  PolicySet& operator=(PolicySet&&) noexcept;

  // The ValidatingAdmissionPolicies and bindings among `objects` (other kinds are ignored),
  // their expressions compiled. Problems (a compile error, a binding to no policy, a malformed
  // field) are diagnostics naming the file and line; a policy with compile errors stays, and
  // its bindings deny or ignore per failurePolicy as the API server's would.
  static PolicySet build(const std::vector<const Object*>& objects, const PolicyOptions& opts,
                         std::vector<Diagnostic>& diagnostics);

  size_t policies() const;
  size_t bindings() const;
  bool empty() const { return bindings() == 0; }
  // The kinds policies take params of (apiVersion, kind), for the caller to look them up.
  std::vector<std::pair<std::string, std::string>> paramKinds() const;

  // Every binding of every policy on the request. `params` are the objects params may be (of
  // any kind; those of a policy's paramKind are chosen by the binding's paramRef).
  Verdict admit(const Attributes& a, const std::vector<const Object*>& params) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The objects that are policy configuration, not subjects of the policies: ValidatingAdmission-
// Policies and their bindings, Kyverno ValidatingPolicies.
bool isPolicyKind(std::string_view api_version, std::string_view kind);

// Policies, bindings and params read from files, compiled: what the webhook and `review`
// enforce. Immutable once loaded; one per configuration generation.
struct Bundle {
  std::vector<std::unique_ptr<SourceFile>> files;
  std::vector<const Object*> objects;  // every object of the files: the params' candidates
  PolicySet set;
  std::vector<Diagnostic> diagnostics;  // compile errors and binding problems
};

// Reads `paths` (files or directories); an unreadable or unparsable file is an Error.
Result<std::shared_ptr<const Bundle>> loadBundle(const std::vector<std::string>& paths,
                                                 const PolicyOptions& opts);

}  // namespace kh::policy
