#include "checks/registry.h"

#include <algorithm>

#include "checks/scan_index.h"

namespace kh {

Registry::Registry(std::vector<std::unique_ptr<Check>> checks) : checks_(std::move(checks)) {
  std::sort(checks_.begin(), checks_.end(),
            [](const auto& a, const auto& b) { return a->meta().id < b->meta().id; });
  for (const auto& c : checks_) {
    if (c->meta().scope == Scope::kPodSpec) {
      pod_checks_.push_back(c.get());
      // A pod-spec check may judge other kinds too (image-registry-not-allowed: Dockerfiles).
      for (std::string_view k : c->meta().kinds) by_kind_[k].push_back(c.get());
    } else if (c->meta().scope == Scope::kAll) {
      all_checks_.push_back(c.get());
    } else {
      for (std::string_view k : c->meta().kinds) by_kind_[k].push_back(c.get());
    }
  }
}

void Registry::dispatch(const Object& obj, const CheckContext& ctx, FindingSink& sink) const {
  // On a single object under review, checks of the whole input have nothing to judge.
  auto run = [&](const Check* c) {
    if (ctx.single_object && c->meta().whole_input) return;
    if (!ctx.consults) return c->check(obj, ctx, sink);
    ConsultScope scope(ctx.consults, c->meta().id);
    c->check(obj, ctx, sink);
  };
  if (obj.pod)
    for (const Check* c : pod_checks_) run(c);
  // A Dockerfile meets only the checks of its kind: "every object" means every Kubernetes one.
  if (!obj.dockerfile)
    for (const Check* c : all_checks_) run(c);
  if (auto it = by_kind_.find(obj.ref.kind); it != by_kind_.end())
    for (const Check* c : it->second) run(c);
}

void Registry::finish(const CheckContext& ctx, FindingSink& sink) const {
  for (const auto& c : checks_) {
    if (ctx.single_object && c->meta().whole_input) continue;
    ConsultScope scope(ctx.consults, c->meta().id);
    c->finish(ctx, sink);
  }
}

std::vector<const Check*> Registry::applicable(const Object& obj) const {
  std::vector<const Check*> out;
  if (obj.pod) out = pod_checks_;
  if (!obj.dockerfile) out.insert(out.end(), all_checks_.begin(), all_checks_.end());
  if (auto it = by_kind_.find(obj.ref.kind); it != by_kind_.end())
    out.insert(out.end(), it->second.begin(), it->second.end());
  std::erase_if(out, [&](const Check* c) { return !c->appliesTo(obj); });
  return out;
}

const Check* Registry::find(std::string_view id) const {
  for (const auto& c : checks_)
    if (c->meta().id == id) return c.get();
  return nullptr;
}

}  // namespace kh
