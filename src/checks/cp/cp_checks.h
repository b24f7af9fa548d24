// The control-plane checks: CIS Kubernetes Benchmark flag rules over static-pod manifests and
// KubeletConfiguration files.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

// A check of the configuration files a predicate picks by kind and apiVersion (an audit
// Policy is not Kyverno's Policy): applies to those only, and hands each to `fn`.
class FileCheck final : public Check {
 public:
  using Applies = bool (*)(const Object&);
  using Fn = void (*)(const FileCheck& self, const Object& o, FindingSink& sink);
  FileCheck(const CheckMeta& meta, Applies applies, Fn fn)
      : meta_(meta), applies_(applies), fn_(fn) {}
  const CheckMeta& meta() const override { return meta_; }
  bool appliesTo(const Object& o) const override { return applies_(o); }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (applies_(o)) fn_(*this, o, sink);
  }
  using Check::finding;

 private:
  const CheckMeta& meta_;
  Applies applies_;
  Fn fn_;
};

void addCpComponentChecks(std::vector<std::unique_ptr<Check>>& out);
void addCpKubeletChecks(std::vector<std::unique_ptr<Check>>& out);
void addAuditPolicyChecks(std::vector<std::unique_ptr<Check>>& out);
void addEncryptionChecks(std::vector<std::unique_ptr<Check>>& out);
void addAdmissionConfigChecks(std::vector<std::unique_ptr<Check>>& out);
void addKubeconfigChecks(std::vector<std::unique_ptr<Check>>& out);
void addCpChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
