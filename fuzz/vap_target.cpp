#include "fuzz/vap_target.h"

#include <string>

#include "load/loader.h"
#include "policy/vap.h"

namespace kh {

void fuzzVapOnce(const uint8_t* data, size_t size) {
  SourceFile f;
  f.path = "fuzz.yaml";
  f.buffer.assign(reinterpret_cast<const char*>(data), size);
  parseSource(LoadOptions{}, f);
  std::vector<const Object*> objects;
  for (const Object& o : f.objects) objects.push_back(&o);
  for (int minor : {0, 27}) {
    std::vector<Diagnostic> diags;
    policy::PolicyOptions opts;
    opts.k8s_minor = minor;
    policy::PolicySet set = policy::PolicySet::build(objects, opts, diags);
    for (const Diagnostic& d : diags)
      if (d.code.empty() || d.message.empty()) __builtin_trap();
    for (const Object* o : objects) {
      if (policy::isPolicyKind(o->ref.api_version, o->ref.kind)) continue;
      for (const char* op : {"CREATE", "UPDATE", "DELETE"}) {
        policy::Attributes a = policy::createOf(*o);
        a.operation = op;
        if (a.operation != "CREATE") a.old_object = o->root;
        if (a.operation == "DELETE") a.object = nullptr;
        policy::Verdict v = set.admit(a, objects);
        if (v.allowed == !v.message.empty()) __builtin_trap();  // a denial always says why
        if (!v.allowed && (v.code < 400 || v.denial.empty())) __builtin_trap();
      }
    }
  }
}

}  // namespace kh
