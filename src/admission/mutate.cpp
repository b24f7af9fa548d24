#include "admission/mutate.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "model/object.h"

namespace kh::admission {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

bool unset(const Node* n) {
  return !n || n->isNull();
}

class Patch {
 public:
  Patch() : w_(buf_) { w_.StartArray(); }
  // {"op":"add","path":path,"value":<written by fn>}
  template <typename Fn>
  void add(const std::string& path, Fn value) {
    w_.StartObject();
    w_.Key("op");
    w_.String("add");
    w_.Key("path");
    w_.String(path.data(), static_cast<rapidjson::SizeType>(path.size()));
    w_.Key("value");
    value(w_);
    w_.EndObject();
    ++ops_;
  }
  std::string done() {
    w_.EndArray();
    return ops_ ? std::string(buf_.GetString(), buf_.GetSize()) : std::string();
  }

 private:
  rapidjson::StringBuffer buf_;
  Writer w_;
  size_t ops_ = 0;
};

void dropAll(Writer& w) {
  w.StartArray();
  w.String("ALL");
  w.EndArray();
}

}  // namespace

std::string jsonPointer(std::string_view dotted) {
  std::string out;
  std::string token;
  auto flush = [&] {
    out += '/';
    for (char c : token) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
    token.clear();
  };
  for (size_t i = 0; i < dotted.size(); ++i) {
    char c = dotted[i];
    if (c == '.') {
      flush();
    } else if (c == '[') {
      flush();
      size_t close = dotted.find(']', i);
      token = std::string(dotted.substr(i + 1, close - i - 1));
      i = close;
      if (i + 1 < dotted.size() && dotted[i + 1] == '.') ++i;
      flush();
    } else {
      token += c;
    }
  }
  if (!token.empty()) flush();
  return out;
}

std::string mutationPatch(const AdmissionRequest& req, const MutationPolicy& policy,
                          const Node* namespace_labels) {
  if (!req.object || !req.sub_resource.empty()) return {};
  std::string_view kind = req.kind.kind;
  if (req.operation != "CREATE" && !(req.operation == "UPDATE" && kind != "Pod")) return {};
  std::string_view label = getStr(namespace_labels, "kubeharden.io/mutate");
  bool on = policy.default_on ? label != "false" : label == "true";
  if (!on) return {};
  Object obj = makeObject(req.object, {});
  if (!obj.pod || obj.pod->windows) return {};  // Windows pods cannot carry Linux settings
  const PodSpecView& pod = *obj.pod;
  Patch patch;
  for (const ContainerRef& c : pod.containers) {
    if (c.list == ContainerList::kEphemeral) continue;
    const Node* sc = get(c.node, "securityContext");
    // The API server refuses allowPrivilegeEscalation=false on a privileged container.
    bool privileged = getTrue(sc, "privileged");
    bool want_ape = !privileged && unset(get(sc, "allowPrivilegeEscalation"));
    const Node* caps = get(sc, "capabilities");
    bool want_drop = unset(get(caps, "drop"));
    std::string base = jsonPointer(c.path) + "/securityContext";
    if (unset(sc) || !sc->isMap()) {
      if (!want_ape && !want_drop) continue;
      patch.add(base, [&](Writer& w) {
        w.StartObject();
        if (want_ape) {
          w.Key("allowPrivilegeEscalation");
          w.Bool(false);
        }
        w.Key("capabilities");
        w.StartObject();
        w.Key("drop");
        dropAll(w);
        w.EndObject();
        w.EndObject();
      });
      continue;
    }
    if (want_ape) patch.add(base + "/allowPrivilegeEscalation", [](Writer& w) { w.Bool(false); });
    if (want_drop) {
      if (unset(caps) || !caps->isMap())
        patch.add(base + "/capabilities", [](Writer& w) {
          w.StartObject();
          w.Key("drop");
          dropAll(w);
          w.EndObject();
        });
      else
        patch.add(base + "/capabilities/drop", dropAll);
    }
  }
  // seccomp RuntimeDefault at pod level when neither the pod nor any container chose a profile.
  const Node* psc = pod.podSecurityContext();
  bool any_seccomp = !unset(get(psc, "seccompProfile"));
  for (const ContainerRef& c : pod.containers)
    any_seccomp |= !unset(get(get(c.node, "securityContext"), "seccompProfile"));
  std::string spec = jsonPointer(pod.path);
  auto runtime_default = [](Writer& w) {
    w.StartObject();
    w.Key("type");
    w.String("RuntimeDefault");
    w.EndObject();
  };
  if (!any_seccomp) {
    if (unset(psc) || !psc->isMap())
      patch.add(spec + "/securityContext", [&](Writer& w) {
        w.StartObject();
        w.Key("seccompProfile");
        runtime_default(w);
        w.EndObject();
      });
    else
      patch.add(spec + "/securityContext/seccompProfile", runtime_default);
  }
  // No API token for pods that run as the namespace's default ServiceAccount and say nothing
  // about the token: they name no identity, so they are taken not to call the API.
  if (unset(get(pod.spec, "automountServiceAccountToken")) && pod.serviceAccount() == "default")
    patch.add(spec + "/automountServiceAccountToken", [](Writer& w) { w.Bool(false); });
  return patch.done();
}

}  // namespace kh::admission
