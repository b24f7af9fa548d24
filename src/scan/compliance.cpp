#include "scan/compliance.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "scan/scan.h"

namespace kh {

ComplianceResult assessCompliance(const Framework& fw, const ScanResult& scan) {
  ComplianceResult out;
  out.framework = &fw;
  std::unordered_map<std::string_view, size_t> index;  // control ID -> position
  out.controls.resize(fw.controls.size());
  for (size_t i = 0; i < fw.controls.size(); ++i) {
    out.controls[i].control = &fw.controls[i];
    index.emplace(fw.controls[i].id, i);
  }
  // Which controls each enabled check serves (computed once per check).
  std::unordered_map<const Check*, std::vector<size_t>> served;
  std::unordered_map<std::string_view, const Check*> by_id;
  for (const auto& c : scan.registry->checks()) {
    by_id.emplace(c->meta().id, c.get());
    std::vector<size_t>& v = served[c.get()];
    for (std::string_view id : controlsOf(fw, c->meta()))
      if (auto it = index.find(id); it != index.end()) {
        v.push_back(it->second);
        out.controls[it->second].checks.push_back(c->meta().id);
      }
  }
  std::vector<std::unordered_set<const Object*>> checked(fw.controls.size());
  for (const Object* o : scan.index.all())
    for (const Check* c : scan.registry->applicable(*o))
      for (size_t ci : served[c]) checked[ci].insert(o);
  std::vector<std::unordered_set<const Object*>> failing(fw.controls.size());
  for (const Finding& f : scan.findings) {
    if (f.suppressed || !f.object) continue;
    auto it = by_id.find(f.check_id);
    if (it == by_id.end()) continue;
    for (std::string_view id : controlsOf(fw, it->second->meta(), f.rule)) {
      auto ci = index.find(id);
      if (ci == index.end()) continue;
      // A cross-object finding may sit on an object its check does not otherwise judge.
      checked[ci->second].insert(f.object);
      if (failing[ci->second].insert(f.object).second)
        out.controls[ci->second].failing.push_back(f.object);
    }
  }
  double sum = 0;
  size_t judged = 0;
  for (size_t i = 0; i < out.controls.size(); ++i) {
    ControlResult& c = out.controls[i];
    c.checked = checked[i].size();
    if (c.checks.empty()) {
      c.status = "not-evaluated";
      ++out.not_evaluated;
    } else if (c.checked == 0) {
      c.status = "not-applicable";
      ++out.not_applicable;
    } else {
      c.status = c.failing.empty() ? "pass" : "fail";
      ++(c.failing.empty() ? out.passed : out.failed);
      sum += static_cast<double>(c.checked - c.failing.size()) / static_cast<double>(c.checked);
      ++judged;
    }
  }
  out.score = judged ? 100.0 * sum / static_cast<double>(judged) : 100.0;
  return out;
}

}  // namespace kh
