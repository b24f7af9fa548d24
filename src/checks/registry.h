// The catalogue: every check kubeharden ships (catalogue.cpp is the one list), and the Registry
// that holds one run's enabled checks indexed by kind, so an object meets only the checks that
// can apply to it. Build the registry once per run; dispatch is read-only and thread-safe.
#pragma once

#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "checks/check.h"

namespace kh {

// Every check, in ID order. Each call creates fresh (unconfigured) instances.
std::vector<std::unique_ptr<Check>> makeCatalogue();

class Registry {
 public:
  explicit Registry(std::vector<std::unique_ptr<Check>> checks);
  const std::vector<std::unique_ptr<Check>>& checks() const { return checks_; }
  // The checks that apply to `obj`, in ID order.
  void dispatch(const Object& obj, const CheckContext& ctx, FindingSink& sink) const;
  void finish(const CheckContext& ctx, FindingSink& sink) const;
  // The checks dispatch() would run on `obj` (for reports that list passes too).
  std::vector<const Check*> applicable(const Object& obj) const;
  const Check* find(std::string_view id) const;

 private:
  std::vector<std::unique_ptr<Check>> checks_;
  std::vector<const Check*> pod_checks_;
  std::vector<const Check*> all_checks_;  // Scope::kAll
  std::unordered_map<std::string_view, std::vector<const Check*>> by_kind_;
};

}  // namespace kh
