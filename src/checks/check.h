// The check model (DESIGN.md §2): constexpr metadata, a const and stateless check() per object,
// an optional finish() for cross-object checks, and findings delivered to a FindingSink.
//
// Checks never throw, print or log. Options are read once by configure() before the scan; after
// that a check is immutable and may be called from several threads at once.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/object.h"

namespace kh {

enum class Severity : uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };

std::string_view severityName(Severity s);
std::optional<Severity> parseSeverity(std::string_view s);

// Equivalent controls and IDs in standards and other scanners (comma-separated where several).
struct CheckRefs {
  std::string_view cis;    // CIS Kubernetes Benchmark
  std::string_view nsa;    // NSA/CISA Kubernetes Hardening Guide
  std::string_view pss;    // Pod Security Standards level:check
  std::string_view mitre;  // MITRE ATT&CK technique
  std::string_view kube_linter;
  std::string_view trivy;      // AVD-KSV-xxxx
  std::string_view kubescape;  // C-xxxx
  std::string_view polaris;
  std::string_view checkov;
  std::string_view hadolint;  // DLxxxx, and the ShellCheck SCxxxx it reports through hadolint
};

enum class Scope : uint8_t {
  kPodSpec,  // every object that carries a pod spec (any workload or CRD template), and the
             // objects of the kinds listed in `kinds`, if any
  kKinds,    // the object kinds listed in `kinds`
  kAll,      // every object, whatever its kind
};

struct CheckMeta {
  std::string_view id;     // stable kebab-case <area>-<name>
  std::string_view title;  // short, sentence case
  Severity severity;
  std::string_view group;  // "security" or "reliability"
  bool enabled_by_default;
  Scope scope;
  std::span<const std::string_view> kinds;
  std::string_view remediation;
  CheckRefs refs;
  // The verdict depends on other objects of the input (references, selectors, bindings,
  // policies): meaningful for a scan of manifests, not for the admission webhook, which sees one
  // object at a time and so does not run these.
  bool whole_input = false;
};

constexpr CheckMeta wholeInput(CheckMeta m) {
  m.whole_input = true;
  return m;
}

// Where a finding on a rendered object (Helm chart, kustomization) points in the files the user
// wrote: the template or resource file and a line in it. Set by the scan after the checks ran.
struct SourceLocation {
  std::string file;                 // the chart or kustomization path joined with the file's
  SourcePos pos;                    // line 0: the file is known, the line is not
  bool exact = false;               // the offending key itself (not an enclosing one)
  std::vector<std::string> values;  // Helm values keys the template line reads (best effort)
  uint32_t render = 0;              // index into ScanResult::renders
};

struct Finding {
  std::string_view check_id;
  std::string_view rule;  // sub-rule of the check, when it has several (a PSA check ID, ...)
  Severity severity = Severity::kMedium;
  const Object* object = nullptr;
  std::string container;  // empty when the finding is not about one container
  std::string path;       // field path, e.g. spec.template.spec.containers[0].securityContext
  SourcePos pos;          // the field, or its nearest existing parent
  std::string message;
  std::string_view remediation;
  // Set by the engine after the checks ran.
  std::optional<SourceLocation> source;  // rendered objects only
  bool suppressed = false;
  std::string suppression_kind;  // "annotation" or "config"
  std::string suppression_reason;
  std::string fingerprint;
};

// The file and position a finding is reported at: the source's for a rendered object (and its
// line when known), else the object's file and the finding's position in it.
inline std::string_view reportedFile(const Finding& f) {
  return f.source ? std::string_view(f.source->file) : f.object->file;
}
inline SourcePos reportedPos(const Finding& f) {
  return f.source ? f.source->pos : f.pos;
}

class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void add(Finding f) = 0;
};

class VectorSink : public FindingSink {
 public:
  void add(Finding f) override { findings.push_back(std::move(f)); }
  std::vector<Finding> findings;
};

class ScanIndex;
class ConsultRecorder;

// What a check may consult besides the object: the index of every object in the scan.
struct CheckContext {
  const ScanIndex* index = nullptr;
  // The input is one object under review (the admission webhook), not a set of manifests:
  // whatever the rest of the cluster holds is unknown, so sub-rules about it stay silent.
  bool single_object = false;
  // The objects were read from a live cluster (`cluster scan`, or its snapshot replayed): what
  // is normal there (a Secret holding data) is not a finding about manifests.
  bool live = false;
  // When set, the kinds each check looks up in the index are recorded (a partial cluster read).
  ConsultRecorder* consults = nullptr;
};

class Check {
 public:
  virtual ~Check() = default;
  virtual const CheckMeta& meta() const = 0;
  // Reads the check's options (a map from the config file, or nullptr). The default accepts
  // none. Errors name the offending option.
  virtual Status configure(const Node* options);
  virtual void check(const Object& obj, const CheckContext& ctx, FindingSink& sink) const = 0;
  // Is the object one this check judges at all (for JUnit test cases and compliance counts)?
  // Scope and kinds decide by default; a check may narrow it (cp-apiserver: pods that run
  // kube-apiserver).
  virtual bool appliesTo(const Object& /*obj*/) const { return true; }
  virtual void finish(const CheckContext& /*ctx*/, FindingSink& /*sink*/) const {}

 protected:
  Finding finding(const Object& obj, SourcePos pos, std::string path, std::string message,
                  std::string_view container = {}) const;
};

// A check whose logic is one stateless function (most checks: no options, no state). The
// function receives the check itself for finding().
class FnCheck final : public Check {
 public:
  using Fn = void (*)(const FnCheck& self, const Object& obj, const CheckContext& ctx,
                      FindingSink& sink);
  using FinishFn = void (*)(const FnCheck& self, const CheckContext& ctx, FindingSink& sink);
  FnCheck(const CheckMeta& meta, Fn fn, FinishFn fin = nullptr) : meta_(meta), fn_(fn), fin_(fin) {}
  const CheckMeta& meta() const override { return meta_; }
  void check(const Object& obj, const CheckContext& ctx, FindingSink& sink) const override {
    if (fn_) fn_(*this, obj, ctx, sink);
  }
  void finish(const CheckContext& ctx, FindingSink& sink) const override {
    if (fin_) fin_(*this, ctx, sink);
  }
  using Check::finding;

 private:
  const CheckMeta& meta_;
  Fn fn_;
  FinishFn fin_;
};

}  // namespace kh
