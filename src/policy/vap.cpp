#include "policy/vap.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "cel/kubernetes.h"

namespace kh::policy {

namespace vap_detail {

// The variables every policy expression may name, in slot order.
enum Slot : size_t {
  kObject,
  kOldObject,
  kRequest,
  kParams,
  kNamespaceObject,
  kVariables,
  kAuthorizer,
  kRequestResource,
  kSlots
};
const std::vector<std::string>& slotNames() {
  static const std::vector<std::string> names = {
      "object",          "oldObject", "request",    "params",
      "namespaceObject", "variables", "authorizer", "authorizer.requestResource"};
  return names;
}

struct Expression {
  std::string text;
  SourcePos pos;
  std::shared_ptr<const cel::Program> program;
  std::string error;  // "compilation failed: ERROR: ..." when it did not compile
  bool present() const { return !text.empty(); }
};

struct Rule {
  std::vector<std::string> operations, groups, versions, resources, names;
  std::string scope = "*";
};

struct Match {
  bool present = false;
  bool equivalent = true;  // matchPolicy: Equivalent (the default) or Exact
  std::optional<LabelSelector> namespace_selector, object_selector;
  std::vector<Rule> rules, excludes;
};

struct Validation {
  Expression expr;
  std::string message;
  Expression message_expr;
  std::string reason;
};

struct Policy {
  std::string name, file;
  bool kyverno = false;     // a policies.kyverno.io ValidatingPolicy (its own binding)
  std::string unsupported;  // why it is not applied (a Kyverno-only library)
  SourcePos pos;
  std::optional<std::pair<std::string, std::string>> param_kind;  // apiVersion, kind
  Match match;
  bool fail = true;  // failurePolicy Fail (the default) or Ignore
  std::vector<std::pair<std::string, Expression>> match_conditions, variables;
  std::vector<Validation> validations;
  std::vector<std::pair<std::string, Expression>> audit_annotations;
};

struct ParamRef {
  std::string name, namespace_;
  std::optional<LabelSelector> selector;
  bool deny_not_found = true;
};

struct Binding {
  std::string name, policy_name, file;
  SourcePos pos;
  std::optional<ParamRef> param_ref;
  Match match;
  uint8_t actions = 0;
  std::vector<std::string> action_names;  // as written, for the audit annotation
};

std::vector<std::string> strings(const Node* n) {
  std::vector<std::string> out;
  for (const Node* item : seqOf(n)) out.emplace_back(item->str());
  return out;
}

bool listed(const std::vector<std::string>& list, std::string_view v) {
  for (const std::string& s : list)
    if (s == "*" || s == v) return true;
  return false;
}

bool ruleMatches(const Rule& r, const Attributes& a) {
  if (!listed(r.operations, a.operation) || !listed(r.groups, a.group) ||
      !listed(r.versions, a.version))
    return false;
  bool resource = false;
  for (const std::string& want : r.resources) {
    size_t slash = want.find('/');
    std::string_view res = std::string_view(want).substr(0, slash);
    std::string_view sub =
        slash == std::string::npos ? std::string_view() : std::string_view(want).substr(slash + 1);
    if (slash == std::string::npos)
      resource = resource || ((res == "*" || res == a.resource) && a.subresource.empty());
    else
      resource =
          resource || ((res == "*" || res == a.resource) && (sub == "*" || sub == a.subresource));
  }
  if (!resource) return false;
  bool namespaced = !a.namespace_.empty();
  if (r.scope == "Cluster" && namespaced) return false;
  if (r.scope == "Namespaced" && !namespaced) return false;
  if (!r.names.empty() && std::find(r.names.begin(), r.names.end(), a.name) == r.names.end())
    return false;
  return true;
}

// The same resource served at other group/versions, as the API server's equivalent-resource
// mapper knows them: the built-in resources a supported release serves at two group/versions,
// and the served versions of the input's CustomResourceDefinitions.
struct Equivalents {
  // (group, resource) -> its served (group, version)s, each list one set of equivalents
  std::vector<std::pair<std::pair<std::string, std::string>, std::vector<std::string>>> crds;

  std::vector<std::pair<std::string, std::string>> of(const std::string& group,
                                                      const std::string& version,
                                                      const std::string& resource) const {
    std::vector<std::pair<std::string, std::string>> out;  // (group, version), not the request's
    static const std::vector<std::pair<std::string, std::string>> kHpa = {{"autoscaling", "v1"},
                                                                          {"autoscaling", "v2"}};
    static const std::vector<std::pair<std::string, std::string>> kEvents = {
        {"", "v1"}, {"events.k8s.io", "v1"}};
    auto from = [&](const std::vector<std::pair<std::string, std::string>>& set) {
      bool in = false;
      for (const auto& gv : set) in = in || (gv.first == group && gv.second == version);
      if (in)
        for (const auto& gv : set)
          if (gv.first != group || gv.second != version) out.push_back(gv);
    };
    if (resource == "horizontalpodautoscalers") from(kHpa);
    if (resource == "events") from(kEvents);
    for (const auto& [gr, versions] : crds)
      if (gr.first == group && gr.second == resource) {
        bool served = std::find(versions.begin(), versions.end(), version) != versions.end();
        if (served)
          for (const std::string& v : versions)
            if (v != version) out.emplace_back(group, v);
      }
    return out;
  }
};

// Whether a rule of `rules` matches the request; with matchPolicy Equivalent, also the same
// resource at an equivalent group/version (the API server then converts the object to the
// rule's version; offline the document is evaluated as written). As the API server does it, the
// equivalents are tried only when no rule matches the request's own version, and resourceNames
// are not consulted for them.
bool rulesMatch(const std::vector<Rule>& rules, const Attributes& a, bool equivalent,
                const Equivalents& eq) {
  for (const Rule& r : rules)
    if (ruleMatches(r, a)) return true;
  if (!equivalent) return false;
  auto others = eq.of(a.group, a.version, a.resource);
  if (others.empty()) return false;
  Attributes alt = a;
  for (const Rule& r : rules) {
    Rule unnamed = r;
    unnamed.names.clear();
    for (const auto& [g, v] : others) {
      alt.group = g;
      alt.version = v;
      if (ruleMatches(unnamed, alt)) return true;
    }
  }
  return false;
}

Labels labelsOfNode(const Node* object) {
  return labelsOf(get(get(object, "metadata"), "labels"));
}

// matchConstraints or matchResources. `required_rules`: a policy's rules must name what it
// matches (none: nothing); a binding's empty rules do not constrain.
bool matches(const Match& m, const Attributes& a, bool required_rules, const Equivalents& eq) {
  if (!m.present) return !required_rules;
  if (m.rules.empty() ? required_rules : !rulesMatch(m.rules, a, m.equivalent, eq)) return false;
  if (rulesMatch(m.excludes, a, m.equivalent, eq)) return false;
  if (m.namespace_selector && !m.namespace_selector->matchesEverything()) {
    if (a.kind == "Namespace" && a.group.empty()) {
      if (!m.namespace_selector->matches(labelsOfNode(a.object ? a.object : a.old_object)))
        return false;
    } else if (!a.namespace_.empty()) {
      Labels ns;
      if (a.namespace_object) {
        ns = labelsOfNode(a.namespace_object);
      } else {
        for (const auto& [k, v] : a.namespace_labels) ns.emplace_back(k, v);
        ns.emplace_back("kubernetes.io/metadata.name", a.namespace_);
      }
      if (!m.namespace_selector->matches(ns)) return false;
    }
  }
  if (m.object_selector && !m.object_selector->matchesEverything()) {
    bool any = (a.object && m.object_selector->matches(labelsOfNode(a.object))) ||
               (a.old_object && m.object_selector->matches(labelsOfNode(a.old_object)));
    if (!any) return false;
  }
  return true;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

int codeOf(std::string_view reason) {
  if (reason == "Forbidden") return 403;
  if (reason == "Unauthorized") return 401;
  if (reason == "RequestEntityTooLarge") return 413;
  return 422;  // Invalid, and any other reason
}

// The validation_failure audit annotation's value, as the API server marshals it.
std::string failureAnnotation(const Outcome& o, const std::vector<std::string>& actions) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](std::string_view v) {
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartArray();
  w.StartObject();
  w.Key("message");
  str(o.message);
  w.Key("policy");
  str(o.policy);
  w.Key("binding");
  str(o.binding);
  w.Key("expressionIndex");
  w.Int(std::max(o.validation, 0));
  w.Key("validationActions");
  w.StartArray();
  for (const std::string& a : actions) str(a);
  w.EndArray();
  w.EndObject();
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

cel::Value stringMap(std::initializer_list<std::pair<const char*, cel::Value>> entries) {
  cel::Map m;
  for (const auto& [k, v] : entries) m.emplace_back(cel::Value::string(k), v);
  return cel::Value::mapOf(std::move(m));
}

// `request` as CEL sees it (admission.k8s.io AdmissionRequest, unstructured).
cel::Value requestValue(const Attributes& a) {
  using cel::Value;
  auto gvk = stringMap({{"group", Value::string(a.group)},
                        {"version", Value::string(a.version)},
                        {"kind", Value::string(a.kind)}});
  auto gvr = stringMap({{"group", Value::string(a.group)},
                        {"version", Value::string(a.version)},
                        {"resource", Value::string(a.resource)}});
  cel::List groups;
  for (const std::string& g : a.groups) groups.push_back(Value::string(g));
  auto user = stringMap({{"username", Value::string(a.username)},
                         {"uid", Value::string(a.uid)},
                         {"groups", Value::listOf(std::move(groups))}});
  cel::Map m;
  auto add = [&](const char* k, Value v) { m.emplace_back(Value::string(k), std::move(v)); };
  add("kind", gvk);
  add("resource", gvr);
  if (!a.subresource.empty()) add("subResource", Value::string(a.subresource));
  add("requestKind", gvk);
  add("requestResource", gvr);
  if (!a.subresource.empty()) add("requestSubResource", Value::string(a.subresource));
  if (!a.name.empty()) add("name", Value::string(a.name));
  if (!a.namespace_.empty()) add("namespace", Value::string(a.namespace_));
  add("operation", Value::string(a.operation));
  add("userInfo", user);
  add("dryRun", Value::boolean(a.dry_run));
  return Value::mapOf(std::move(m));
}

// The static types of the variables (k8s.io/apiserver's admission CEL environment): object,
// oldObject and params are dyn (objects are unstructured); request and namespaceObject are the
// API server's kubernetes.AdmissionRequest and kubernetes.Namespace object types.
cel::Type namespaceType() {
  using cel::Type;
  using cel::TypeKind;
  Type str(TypeKind::kString), ts(TypeKind::kTimestamp), i(TypeKind::kInt);
  Type condition = Type::object("kubernetes.NamespaceCondition", {{"status", str},
                                                                  {"type", str},
                                                                  {"lastTransitionTime", ts},
                                                                  {"message", str},
                                                                  {"reason", str}});
  // "UID" is the API server's spelling of the field (the document's is "uid").
  Type metadata =
      Type::object("kubernetes.NamespaceMetadata", {{"name", str},
                                                    {"generateName", str},
                                                    {"namespace", str},
                                                    {"labels", Type::map(str, str)},
                                                    {"annotations", Type::map(str, str)},
                                                    {"UID", str},
                                                    {"creationTimestamp", ts},
                                                    {"deletionGracePeriodSeconds", i},
                                                    {"deletionTimestamp", ts},
                                                    {"generation", i},
                                                    {"resourceVersion", str},
                                                    {"finalizers", Type::list(str)}});
  return Type::object(
      "kubernetes.Namespace",
      {{"metadata", metadata},
       {"spec", Type::object("kubernetes.NamespaceSpec", {{"finalizers", Type::list(str)}})},
       {"status", Type::object("kubernetes.NamespaceStatus",
                               {{"conditions", Type::list(condition)}, {"phase", str}})}});
}

// A Namespace document as the API server hands it to CEL: its timestamps are timestamps.
cel::Value namespaceValue(const Node* ns) {
  if (!ns || !ns->isMap()) return cel::Value::fromNode(ns);
  auto withTimestamps = [](const Node* map, std::initializer_list<std::string_view> keys) {
    cel::Map m;
    for (const MapEntry& e : map->mapEntries()) {
      if (e.value->isNull()) continue;
      cel::Value v = cel::Value::fromNode(e.value);
      for (std::string_view k : keys)
        if (e.key == k && e.value->isString()) v = cel::Value::timestampFromText(e.value->str());
      m.emplace_back(cel::Value::string(std::string(e.key)), std::move(v));
    }
    return m;
  };
  cel::Map top;
  for (const MapEntry& e : ns->mapEntries()) {
    if (e.value->isNull()) continue;
    cel::Value v = cel::Value::fromNode(e.value);
    if (e.key == "metadata" && e.value->isMap()) {
      v = cel::Value::mapOf(withTimestamps(e.value, {"creationTimestamp", "deletionTimestamp"}));
    } else if (e.key == "status" && e.value->isMap()) {
      cel::Map status;
      for (const MapEntry& s : e.value->mapEntries()) {
        if (s.value->isNull()) continue;
        cel::Value sv = cel::Value::fromNode(s.value);
        if (s.key == "conditions" && s.value->isSeq()) {
          cel::List conditions;
          for (const Node* c : s.value->seqItems())
            conditions.push_back(c->isMap()
                                     ? cel::Value::mapOf(withTimestamps(c, {"lastTransitionTime"}))
                                     : cel::Value::fromNode(c));
          sv = cel::Value::listOf(std::move(conditions));
        }
        status.emplace_back(cel::Value::string(std::string(s.key)), std::move(sv));
      }
      v = cel::Value::mapOf(std::move(status));
    }
    top.emplace_back(cel::Value::string(std::string(e.key)), std::move(v));
  }
  return cel::Value::mapOf(std::move(top));
}

cel::Type requestType() {
  using cel::Type;
  using cel::TypeKind;
  Type str(TypeKind::kString);
  Type gvk = Type::object("kubernetes.GroupVersionKind",
                          {{"group", str}, {"version", str}, {"kind", str}});
  Type gvr = Type::object("kubernetes.GroupVersionResource",
                          {{"group", str}, {"version", str}, {"resource", str}});
  Type user = Type::object("kubernetes.UserInfo", {{"username", str},
                                                   {"uid", str},
                                                   {"groups", Type::list(str)},
                                                   {"extra", Type::map(str, Type::list(str))}});
  return Type::object("kubernetes.AdmissionRequest", {{"kind", gvk},
                                                      {"resource", gvr},
                                                      {"subResource", str},
                                                      {"requestKind", gvk},
                                                      {"requestResource", gvr},
                                                      {"requestSubResource", str},
                                                      {"name", str},
                                                      {"namespace", str},
                                                      {"operation", str},
                                                      {"userInfo", user},
                                                      {"dryRun", Type(TypeKind::kBool)},
                                                      {"options", Type()}});
}

// What an expression must evaluate to (the API server's return types for each field).
enum class Returns { kBool, kString, kStringOrNull, kAny };

class Builder {
 public:
  Builder(const PolicyOptions& opts, std::vector<Diagnostic>& diags) : opts_(opts), diags_(diags) {}

  void diag(const std::string& file, SourcePos pos, std::string code, std::string message) {
    diags_.push_back({std::move(code), std::move(message), file, pos});
  }

  Expression compile(const Object& o, const Node* n, std::string_view where, bool authorizer,
                     Returns returns, cel::Type* type = nullptr) {
    Expression e;
    if (!n) return e;
    e.text = std::string(n->str());
    e.pos = n->pos;
    cel::Env env;
    env.variables = slotNames();
    if (!authorizer) env.variables.resize(kAuthorizer);  // messages and audit values
    static const cel::Type request_type = requestType();
    static const cel::Type namespace_type = namespaceType();
    env.types.resize(env.variables.size());
    env.types[kRequest] = request_type;
    env.types[kNamespaceObject] = namespace_type;
    env.types[kVariables] = cel::Type::object("kubernetes.variables", variable_fields_);
    if (authorizer) {
      env.types[kAuthorizer] = cel::Type::opaque("kubernetes.authorization.Authorizer");
      env.types[kRequestResource] = cel::Type::opaque("kubernetes.authorization.ResourceCheck");
    }
    env.homogeneous_literals = true;
    env.strict = true;
    env.k8s_minor = opts_.k8s_minor;
    env.parse.two_variable_macros = opts_.k8s_minor == 0 || opts_.k8s_minor >= 32;
    env.parse.optional_syntax = opts_.k8s_minor == 0 || opts_.k8s_minor >= 28;
    env.parse.optional_macros = env.parse.optional_syntax;
    env.parse.sort_by_macro = opts_.k8s_minor == 0 || opts_.k8s_minor >= 34;
    env.parse.bind_macro = false;
    if (!n->isString()) {
      e.error = "compilation failed: an expression must be a string";
    } else {
      cel::CompileResult r = cel::compile(e.text, env);
      using cel::TypeKind;
      TypeKind t = r.type.kind;
      if (type && r.ok()) *type = r.type;
      if (!r.ok()) e.error = "compilation failed: " + r.message;
      // The API server's texts (k8s.io/apiserver's admission CEL compiler, current releases).
      else if (returns == Returns::kBool && t != TypeKind::kBool)
        e.error = "must evaluate to bool but got " + r.type.str();
      else if (returns == Returns::kString && t != TypeKind::kString)
        e.error = "must evaluate to string but got " + r.type.str();
      else if (returns == Returns::kStringOrNull && t != TypeKind::kString && t != TypeKind::kNull)
        e.error = "must evaluate to one of [string null_type] but got " + r.type.str();
      else
        e.program = std::move(r.program);
    }
    if (!e.error.empty())
      diag(std::string(o.file), e.pos, "vap-compile-error",
           fmt::format("{} {}: {}: {}", o.ref.kind, o.ref.name, where, e.error));
    return e;
  }

  std::optional<LabelSelector> selector(const Object& o, const Node* n, std::string_view where) {
    std::vector<std::string> warnings;
    auto s = parseSelector(n, warnings, where);
    for (const std::string& w : warnings)
      diag(std::string(o.file), n ? n->pos : o.root->pos, "vap-selector", w);
    return s;
  }

  Match match(const Object& o, const Node* n, std::string_view where) {
    Match m;
    if (!n || !n->isMap()) return m;
    m.present = true;
    m.namespace_selector = selector(o, get(n, "namespaceSelector"), where);
    m.object_selector = selector(o, get(n, "objectSelector"), where);
    auto rules = [&](const Node* list) {
      std::vector<Rule> out;
      for (const Node* r : seqOf(list)) {
        Rule rule;
        rule.operations = strings(get(r, "operations"));
        rule.groups = strings(get(r, "apiGroups"));
        rule.versions = strings(get(r, "apiVersions"));
        rule.resources = strings(get(r, "resources"));
        rule.names = strings(get(r, "resourceNames"));
        if (std::string_view s = getStr(r, "scope"); !s.empty()) rule.scope = std::string(s);
        out.push_back(std::move(rule));
      }
      return out;
    };
    m.rules = rules(get(n, "resourceRules"));
    m.excludes = rules(get(n, "excludeResourceRules"));
    m.equivalent = getStr(n, "matchPolicy") != "Exact";
    return m;
  }

  Policy policy(const Object& o) {
    Policy p;
    p.kyverno = o.ref.kind == "ValidatingPolicy";
    p.name = std::string(o.ref.name);
    p.file = std::string(o.file);
    p.pos = o.root->pos;
    const Node* spec = get(o.root, "spec");
    if (const Node* pk = get(spec, "paramKind"))
      p.param_kind.emplace(std::string(getStr(pk, "apiVersion")), std::string(getStr(pk, "kind")));
    p.match = match(o, get(spec, "matchConstraints"), "spec.matchConstraints");
    if (!p.match.present || p.match.rules.empty())
      diag(p.file, p.pos, "vap-matches-nothing",
           fmt::format("{} {}: spec.matchConstraints.resourceRules is "
                       "empty: the policy matches no request",
                       o.ref.kind, p.name));
    p.fail = getStr(spec, "failurePolicy") != "Ignore";
    // Variables first (as the API server compiles them): match conditions, validations,
    // messages and audit values may read them; each variable sees those before it, typed as
    // they compiled (dyn where they did not).
    size_t k = 0;
    variable_fields_.clear();
    for (const Node* v : seqOf(get(spec, "variables"))) {
      cel::Type t;
      std::string name(getStr(v, "name"));
      p.variables.emplace_back(
          name, compile(o, get(v, "expression"), fmt::format("spec.variables[{}].expression", k++),
                        true, Returns::kAny, &t));
      variable_fields_.emplace_back(name, std::move(t));
    }
    k = 0;
    for (const Node* c : seqOf(get(spec, "matchConditions")))
      p.match_conditions.emplace_back(
          std::string(getStr(c, "name")),
          compile(o, get(c, "expression"), fmt::format("spec.matchConditions[{}].expression", k++),
                  true, Returns::kBool));
    k = 0;
    for (const Node* v : seqOf(get(spec, "validations"))) {
      Validation val;
      val.expr = compile(o, get(v, "expression"), fmt::format("spec.validations[{}].expression", k),
                         true, Returns::kBool);
      val.message = std::string(getStr(v, "message"));
      val.message_expr = compile(o, get(v, "messageExpression"),
                                 fmt::format("spec.validations[{}].messageExpression", k), false,
                                 Returns::kString);
      val.reason = std::string(getStr(v, "reason"));
      p.validations.push_back(std::move(val));
      ++k;
    }
    k = 0;
    for (const Node* a : seqOf(get(spec, "auditAnnotations")))
      p.audit_annotations.emplace_back(
          std::string(getStr(a, "key")),
          compile(o, get(a, "valueExpression"),
                  fmt::format("spec.auditAnnotations[{}].valueExpression", k++), false,
                  Returns::kStringOrNull));
    return p;
  }

  Binding binding(const Object& o) {
    Binding b;
    b.name = std::string(o.ref.name);
    b.file = std::string(o.file);
    b.pos = o.root->pos;
    const Node* spec = get(o.root, "spec");
    b.policy_name = std::string(getStr(spec, "policyName"));
    if (const Node* pr = get(spec, "paramRef")) {
      ParamRef r;
      r.name = std::string(getStr(pr, "name"));
      r.namespace_ = std::string(getStr(pr, "namespace"));
      r.selector = selector(o, get(pr, "selector"), "spec.paramRef.selector");
      r.deny_not_found = getStr(pr, "parameterNotFoundAction") != "Allow";
      b.param_ref = std::move(r);
    }
    b.match = match(o, get(spec, "matchResources"), "spec.matchResources");
    actions(o, spec, b);
    return b;
  }

  // spec.validationActions of a binding (or of a Kyverno ValidatingPolicy).
  void actions(const Object& o, const Node* spec, Binding& b) {
    for (const Node* a : seqOf(get(spec, "validationActions"))) {
      std::string_view s = a->str();
      b.action_names.emplace_back(s);
      if (s == "Deny")
        b.actions |= static_cast<uint8_t>(ActionBits::kDeny);
      else if (s == "Warn")
        b.actions |= static_cast<uint8_t>(ActionBits::kWarn);
      else if (s == "Audit")
        b.actions |= static_cast<uint8_t>(ActionBits::kAudit);
      else
        diag(b.file, a->pos, "vap-binding",
             fmt::format("{} {}: unknown validation action \"{}\" "
                         "(Deny, Warn or Audit)",
                         o.ref.kind, b.name, s));
    }
    if (b.action_names.empty())
      diag(b.file, b.pos, "vap-binding",
           fmt::format("{} {}: spec.validationActions is empty: "
                       "the API server refuses such a binding; it does nothing here",
                       o.ref.kind, b.name));
  }

 private:
  const PolicyOptions& opts_;
  std::vector<Diagnostic>& diags_;
  cel::Fields variable_fields_;  // the policy's variables compiled so far, with their types
};

}  // namespace vap_detail
using namespace vap_detail;

struct PolicySet::Impl {
  std::vector<Policy> policies;
  // Per policy, its bindings (indices into `bindings`), in input order.
  std::vector<std::vector<size_t>> bindings_of;
  std::vector<Binding> bindings;
  Equivalents equivalents;
};

PolicySet::PolicySet() : impl_(std::make_unique<Impl>()) {}
PolicySet::~PolicySet() = default;
PolicySet::PolicySet(PolicySet&&) noexcept = default;
PolicySet& PolicySet::operator=(PolicySet&&) noexcept = default;

bool isPolicyKind(std::string_view api_version, std::string_view kind) {
  if (api_version.starts_with("policies.kyverno.io/")) return kind == "ValidatingPolicy";
  return api_version.starts_with("admissionregistration.k8s.io/") &&
         (kind == "ValidatingAdmissionPolicy" || kind == "ValidatingAdmissionPolicyBinding");
}

std::string denialText(const Outcome& o) {
  if (o.kyverno)
    return fmt::format("ValidatingPolicy '{}' denied request: {}", o.policy, o.message);
  return fmt::format("ValidatingAdmissionPolicy '{}' with binding '{}' denied request: {}",
                     o.policy, o.binding, o.message);
}

std::string warningText(const Outcome& o) {
  if (o.kyverno)
    return fmt::format("Validation failed for ValidatingPolicy '{}': {}", o.policy, o.message);
  return fmt::format("Validation failed for ValidatingAdmissionPolicy '{}' with binding '{}': {}",
                     o.policy, o.binding, o.message);
}

namespace {

// Kyverno's own CEL libraries (resource lookups, HTTP calls, global context, image data, ...):
// a ValidatingPolicy that calls them needs Kyverno's runtime, not the API server's.
// Found in the expression's tree: a library's name used as an identifier (`http` of
// `http.Get(...)`) or called (`image(...)`). Only expressions that did not compile are asked, so
// a name the environment has is not mistaken for one.
std::string kyvernoLibrary(const Expression& e) {
  static const char* kLibraries[] = {"resource",  "http",   "globalContext", "image",
                                     "imagedata", "json",   "yaml",          "x509",
                                     "time",      "random", "base64",        "math",
                                     "user",      "gzip",   "generator",     "jsonpatch"};
  if (e.program || e.text.empty()) return {};
  cel::ParseResult parsed = cel::parse(e.text);
  if (!parsed.ok()) return {};
  std::string found;
  std::function<void(const cel::Expr&)> walk = [&](const cel::Expr& x) {
    if (!found.empty()) return;
    if (x.kind == cel::ExprKind::kIdent || (x.kind == cel::ExprKind::kCall && !x.target))
      for (const char* lib : kLibraries)
        if (x.text == lib) found = lib;
    cel::forEachChild(x, walk);
  };
  walk(*parsed.expr);
  return found;
}

std::string kyvernoLibrary(const Policy& p) {
  std::vector<const Expression*> all;
  for (const auto& [name, e] : p.match_conditions) all.push_back(&e);
  for (const auto& [name, e] : p.variables) all.push_back(&e);
  for (const Validation& v : p.validations) {
    all.push_back(&v.expr);
    all.push_back(&v.message_expr);
  }
  for (const auto& [key, e] : p.audit_annotations) all.push_back(&e);
  for (const Expression* e : all)
    if (std::string lib = kyvernoLibrary(*e); !lib.empty()) return lib;
  return {};
}

}  // namespace

PolicySet PolicySet::build(const std::vector<const Object*>& objects, const PolicyOptions& opts,
                           std::vector<Diagnostic>& diagnostics) {
  PolicySet set;
  Impl& s = *set.impl_;
  Builder b(opts, diagnostics);
  std::vector<std::pair<size_t, const Object*>> kyverno;  // policy index, its object
  for (const Object* o : objects) {
    if (o->ref.kind == "CustomResourceDefinition" &&
        o->ref.api_version.starts_with("apiextensions.k8s.io/")) {
      const Node* spec = get(o->root, "spec");
      std::vector<std::string> served;
      for (const Node* v : seqOf(get(spec, "versions")))
        if (const Node* sv = get(v, "served"); !sv || !sv->isFalse())
          served.emplace_back(getStr(v, "name"));
      if (served.size() > 1)
        s.equivalents.crds.push_back({{std::string(getStr(spec, "group")),
                                       std::string(getStr(get(spec, "names"), "plural"))},
                                      std::move(served)});
      continue;
    }
    if (!isPolicyKind(o->ref.api_version, o->ref.kind)) continue;
    if (o->ref.kind == "ValidatingAdmissionPolicy") s.policies.push_back(b.policy(*o));
    if (o->ref.kind == "ValidatingPolicy") {
      // Kyverno's CEL policies: a ValidatingAdmissionPolicy with its binding inside. Those
      // calling Kyverno's own libraries are not applied (diagnosed) rather than half-judged.
      std::vector<Diagnostic> own;
      Builder kb(opts, own);
      Policy p = kb.policy(*o);
      p.unsupported = kyvernoLibrary(p);
      if (!p.unsupported.empty()) {
        b.diag(p.file, p.pos, "kyverno-unsupported",
               fmt::format("ValidatingPolicy {} uses Kyverno's {} library, which only Kyverno "
                           "evaluates: the policy is not applied",
                           p.name, p.unsupported));
        continue;
      }
      diagnostics.insert(diagnostics.end(), own.begin(), own.end());
      kyverno.emplace_back(s.policies.size(), o);
      s.policies.push_back(std::move(p));
    }
  }
  s.bindings_of.resize(s.policies.size());
  for (const auto& [index, o] : kyverno) {
    Binding bind;
    bind.policy_name = s.policies[index].name;
    bind.file = std::string(o->file);
    bind.pos = o->root->pos;
    b.actions(*o, get(o->root, "spec"), bind);
    s.bindings_of[index].push_back(s.bindings.size());
    s.bindings.push_back(std::move(bind));
  }
  for (const Object* o : objects) {
    if (!isPolicyKind(o->ref.api_version, o->ref.kind) ||
        o->ref.kind != "ValidatingAdmissionPolicyBinding")
      continue;
    Binding bind = b.binding(*o);
    auto it = std::find_if(s.policies.begin(), s.policies.end(), [&](const Policy& p) {
      return !p.kyverno && p.name == bind.policy_name;
    });
    if (it == s.policies.end()) {
      b.diag(bind.file, bind.pos, "vap-binding",
             fmt::format("ValidatingAdmissionPolicyBinding {}: no ValidatingAdmissionPolicy "
                         "named \"{}\" in the input: the binding is not applied",
                         bind.name, bind.policy_name));
      continue;
    }
    s.bindings_of[static_cast<size_t>(it - s.policies.begin())].push_back(s.bindings.size());
    s.bindings.push_back(std::move(bind));
  }
  // A policy no binding names does nothing, in the API server as here: said, not silent.
  for (size_t k = 0; k < s.policies.size(); ++k)
    if (s.bindings_of[k].empty())
      b.diag(s.policies[k].file, s.policies[k].pos, "vap-unbound",
             fmt::format("ValidatingAdmissionPolicy {} has no ValidatingAdmissionPolicyBinding in "
                         "the input: it is not applied",
                         s.policies[k].name));
  return set;
}

size_t PolicySet::policies() const {
  return impl_->policies.size();
}
size_t PolicySet::bindings() const {
  return impl_->bindings.size();
}

std::vector<std::pair<std::string, std::string>> PolicySet::paramKinds() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Policy& p : impl_->policies)
    if (p.param_kind && std::find(out.begin(), out.end(), *p.param_kind) == out.end())
      out.push_back(*p.param_kind);
  return out;
}

namespace {

// One policy under one binding with one param (or none).
class Evaluation : public cel::LazyFields {
 public:
  Evaluation(const Policy& p, const Binding& b, const Attributes& a, cel::Value vars[kSlots],
             Verdict& v, std::map<std::string, std::vector<std::string>>& annotations)
      : p_(p), b_(b), a_(a), vars_(vars), verdict_(v), annotations_(annotations) {}

  // Variables are evaluated when first read (by a match condition, a validation, a message or
  // another variable), once; an error stays in its variable and fails only what reads it; the
  // cost is charged to the budget of the expression that read it first.
  bool field(std::string_view name, cel::Value* out) override {
    for (size_t k = 0; k < p_.variables.size(); ++k)
      if (p_.variables[k].first == name) {
        *out = variable(k);
        return true;
      }
    return false;
  }
  cel::Value all() override {
    cel::Map m;
    for (size_t k = 0; k < p_.variables.size(); ++k)
      m.emplace_back(cel::Value::string(p_.variables[k].first), variable(k));
    return cel::Value::mapOf(std::move(m));
  }

  void run() {
    variable_values_.assign(p_.variables.size(), std::nullopt);
    // matchConditions: all must hold; an error follows failurePolicy. They have a budget of
    // their own.
    std::vector<std::string> errors;
    uint64_t match_budget = cel::kRuntimeCostBudget;
    for (const auto& [name, expr] : p_.match_conditions) {
      cel::Value r = eval(expr, &match_budget);
      if (r.failed()) {
        errors.push_back(errorText(expr, r));
        if (r.isUnknown()) unevaluable_ = true;
        continue;
      }
      if (r.kind != cel::Kind::kBool || !r.b) return;  // does not apply
    }
    if (!errors.empty()) {
      std::string msg = errors.size() == 1 ? errors[0] : "[" + join(errors, ", ") + "]";
      return error(msg, -1, p_.pos);
    }
    // Validations and their messages (and the variables they read) share one budget (the API
    // server's RuntimeCELCostBudget); past it, the binding's one decision is that error.
    size_t first = verdict_.outcomes.size();
    budget_ = cel::kRuntimeCostBudget;
    for (size_t k = 0; k < p_.validations.size() && !over_budget_; ++k) validate(k);
    if (over_budget_) {
      verdict_.outcomes.resize(first);
      unevaluable_ = false;
      return error(
          "validation failed due to running out of cost budget, no further validation rules "
          "will be run",
          -1, p_.pos);
    }
    uint64_t audit_budget = cel::kRuntimeCostBudget;
    for (const auto& [key, expr] : p_.audit_annotations) annotate(key, expr, &audit_budget);
  }

 private:
  // One expression, within Kubernetes' per-expression cost limit; its cost comes off `budget`.
  cel::Value eval(const Expression& e, uint64_t* budget) {
    if (!e.program) return cel::Value::error("compilation error: " + e.error);
    cel::EvalOptions opts;
    opts.cost_limit = cel::kPerCallCostLimit;
    uint64_t cost = 0;
    opts.actual_cost = &cost;
    opts.lazy = this;
    opts.lazy_slot = kVariables;
    uint64_t* outer = current_budget_;
    current_budget_ = budget;
    cel::Value v = e.program->evaluate(std::span<const cel::Value>(vars_, kSlots), opts);
    current_budget_ = outer;
    if (cost > *budget) {
      over_budget_ = true;
      *budget = 0;
    } else {
      *budget -= cost;
    }
    return v;
  }

  static std::string errorText(const Expression& e, const cel::Value& r) {
    if (!e.program) return std::string(r.str());
    if (r.isUnknown())
      return fmt::format("expression '{}' cannot be evaluated offline: {}", e.text, r.str());
    std::string_view detail = r.str();
    // An error already worded for its expression (a variable's) is passed on as it is.
    if (detail.starts_with("expression '")) return std::string(detail);
    return fmt::format("expression '{}' resulted in error: {}", e.text, detail);
  }

  static std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (const std::string& s : v) {
      if (!out.empty()) out += sep;
      out += s;
    }
    return out;
  }

  // An error: a denial under failurePolicy Fail, else ignored (recorded, no action).
  void error(std::string message, int validation, SourcePos pos) {
    Outcome o = outcome(std::move(message), validation, pos);
    o.error = true;
    o.unevaluable = unevaluable_;
    if (!p_.fail) o.actions = 0;
    verdict_.outcomes.push_back(std::move(o));
  }

  Outcome outcome(std::string message, int validation, SourcePos pos) const {
    Outcome o;
    o.policy = p_.name;
    o.binding = b_.name;
    o.kyverno = p_.kyverno;
    o.validation = validation;
    o.message = std::move(message);
    o.actions = b_.actions;
    o.file = p_.file;
    o.pos = pos;
    return o;
  }

  void validate(size_t k) {
    const Validation& v = p_.validations[k];
    cel::Value r = eval(v.expr, &budget_);
    if (over_budget_) return;
    unevaluable_ = r.isUnknown();
    if (r.failed()) return error(errorText(v.expr, r), static_cast<int>(k), v.expr.pos);
    if (r.kind != cel::Kind::kBool)
      return error(fmt::format("expression '{}' resulted in error: must evaluate to bool, not {}",
                               v.expr.text, cel::typeName(r)),
                   static_cast<int>(k), v.expr.pos);
    if (r.b) return;
    std::string message;
    if (v.message_expr.program) {
      cel::Value m = eval(v.message_expr, &budget_);
      if (over_budget_) return;
      if (m.kind == cel::Kind::kString) {
        message = trim(m.str());
        if (message.size() > 5 * 1024 || message.find('\n') != std::string::npos) message.clear();
      }
    }
    if (message.empty()) message = trim(v.message);
    if (message.empty()) message = "failed expression: " + trim(v.expr.text);
    Outcome o = outcome(std::move(message), static_cast<int>(k), v.expr.pos);
    o.reason = v.reason.empty() ? "Invalid" : v.reason;
    verdict_.outcomes.push_back(std::move(o));
  }

  void annotate(const std::string& key, const Expression& e, uint64_t* budget) {
    cel::Value r = eval(e, budget);
    if (r.failed()) return error(errorText(e, r), -1, e.pos);
    if (r.kind == cel::Kind::kNull) return;
    if (r.kind != cel::Kind::kString)
      return error(fmt::format("valueExpression '{}' resulted in unsupported return type: {}. "
                               "Return type must be either string or null.",
                               e.text, cel::typeName(r)),
                   -1, e.pos);
    std::string value = trim(r.str());
    if (value.empty()) return;
    if (value.size() > 10 * 1024) value.resize(10 * 1024);
    auto& values = annotations_[key];
    if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
  }

  const Policy& p_;
  const Binding& b_;
  const Attributes& a_;
  cel::Value* vars_;
  Verdict& verdict_;
  std::map<std::string, std::vector<std::string>>& annotations_;
  bool unevaluable_ = false;
  uint64_t budget_ = cel::kRuntimeCostBudget;
  bool over_budget_ = false;
  uint64_t* current_budget_ = &budget_;  // of the expression being evaluated
  std::vector<std::optional<cel::Value>> variable_values_;

  const cel::Value& variable(size_t k) {
    if (!variable_values_[k]) {
      // A variable reads only those before it (the checker sees to it): no cycle.
      const Expression& expr = p_.variables[k].second;
      cel::Value r = eval(expr, current_budget_);
      if (r.isError()) r = cel::Value::error(errorText(expr, r));
      variable_values_[k] = std::move(r);
    }
    return *variable_values_[k];
  }
};

std::pair<std::string, std::string> splitApiVersion(std::string_view av) {
  size_t slash = av.find('/');
  if (slash == std::string_view::npos) return {"", std::string(av)};
  return {std::string(av.substr(0, slash)), std::string(av.substr(slash + 1))};
}

}  // namespace

std::string resourceForKind(std::string_view kind) {
  static const std::pair<std::string_view, std::string_view> kIrregular[] = {
      {"Endpoints", "endpoints"},
      {"PodSecurityPolicy", "podsecuritypolicies"},
      {"NetworkPolicy", "networkpolicies"},
  };
  for (const auto& [k, r] : kIrregular)
    if (kind == k) return std::string(r);
  std::string s;
  for (char c : kind) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.empty()) return s;
  if (s.back() == 's') return s + "es";
  if (s.back() == 'y' && s.size() > 1 &&
      std::string_view("aeiou").find(s[s.size() - 2]) == std::string_view::npos)
    return s.substr(0, s.size() - 1) + "ies";
  return s + "s";
}

Attributes createOf(const Object& o) {
  Attributes a;
  auto [group, version] = splitApiVersion(o.ref.api_version);
  a.group = group;
  a.version = version;
  a.kind = std::string(o.ref.kind);
  a.resource = resourceForKind(o.ref.kind);
  a.name = std::string(o.ref.name);
  if (!isClusterScopedKind(o.ref.kind)) a.namespace_ = std::string(o.namespaceOrDefault());
  a.object = o.root;
  return a;
}

Verdict PolicySet::admit(const Attributes& a, const std::vector<const Object*>& params) const {
  Verdict v;
  const Impl& s = *impl_;
  cel::Value vars[kSlots];
  vars[kObject] = cel::Value::fromNode(a.object);
  vars[kOldObject] = cel::Value::fromNode(a.old_object);
  vars[kNamespaceObject] = namespaceValue(a.namespace_object);
  bool request_made = false;
  struct Denied {
    std::string message, reason;
  };
  std::vector<Denied> denied;
  for (size_t pi = 0; pi < s.policies.size(); ++pi) {
    const Policy& p = s.policies[pi];
    if (s.bindings_of[pi].empty() || !matches(p.match, a, true, s.equivalents)) continue;
    if (!request_made) {
      vars[kRequest] = requestValue(a);
      vars[kAuthorizer] = cel::kubernetes::authorizer(a.username, a.groups, a.authorize);
      vars[kRequestResource] =
          cel::kubernetes::requestResourceCheck(a.username, a.groups, a.group, a.resource,
                                                a.subresource, a.namespace_, a.name, a.authorize);
      request_made = true;
    }
    std::map<std::string, std::vector<std::string>> annotations;
    size_t first_outcome = v.outcomes.size();
    for (size_t bi : s.bindings_of[pi]) {
      const Binding& b = s.bindings[bi];
      if (!matches(b.match, a, false, s.equivalents)) continue;
      // Params: none without a paramKind; else those the paramRef selects.
      std::vector<const Object*> chosen;
      bool config_error = false;
      if (p.param_kind) {
        if (!b.param_ref) {
          Outcome o;
          o.policy = p.name;
          o.binding = b.name;
          o.error = true;
          o.message = fmt::format(
              "failed to configure binding: paramKind kind `{}` is "
              "specified but paramRef is nil",
              p.param_kind->second);
          o.actions = p.fail ? b.actions : 0;
          o.file = b.file;
          o.pos = b.pos;
          v.outcomes.push_back(std::move(o));
          continue;
        }
        const ParamRef& r = *b.param_ref;
        for (const Object* o : params) {
          if (o->ref.api_version != p.param_kind->first || o->ref.kind != p.param_kind->second)
            continue;
          if (!r.namespace_.empty()) {
            if (o->ref.namespace_ != r.namespace_) continue;
          } else if (!o->ref.namespace_.empty() && o->ref.namespace_ != a.namespace_) {
            continue;
          }
          if (!r.name.empty() ? o->ref.name != r.name
                              : (r.selector && !r.selector->matches(labelsOf(o->labels))))
            continue;
          chosen.push_back(o);
        }
        if (chosen.empty()) {
          if (!r.deny_not_found) continue;
          config_error = true;
        }
      } else {
        chosen.push_back(nullptr);
      }
      if (config_error) {
        Outcome o;
        o.policy = p.name;
        o.binding = b.name;
        o.error = true;
        o.message =
            "failed to configure binding: no params found for policy binding with `Deny` "
            "parameterNotFoundAction";
        o.actions = p.fail ? b.actions : 0;
        o.file = b.file;
        o.pos = b.pos;
        v.outcomes.push_back(std::move(o));
        continue;
      }
      for (const Object* param : chosen) {
        vars[kParams] = cel::Value::fromNode(param ? param->root : nullptr);
        Evaluation(p, b, a, vars, v, annotations).run();
      }
    }
    // The actions of this policy's outcomes.
    for (size_t k = first_outcome; k < v.outcomes.size(); ++k) {
      const Outcome& o = v.outcomes[k];
      const Binding* b = nullptr;
      for (size_t bi : s.bindings_of[pi])
        if (s.bindings[bi].name == o.binding) b = &s.bindings[bi];
      if (o.actions & static_cast<uint8_t>(ActionBits::kDeny))
        denied.push_back({denialText(o), o.reason});
      if (o.actions & static_cast<uint8_t>(ActionBits::kWarn)) v.warnings.push_back(warningText(o));
      if ((o.actions & static_cast<uint8_t>(ActionBits::kAudit)) && b)
        v.audit_annotations.emplace("validation.policy.admission.k8s.io/validation_failure",
                                    failureAnnotation(o, b->action_names));
    }
    for (const auto& [key, values] : annotations) {
      std::string joined;
      for (const std::string& s2 : values) {
        if (!joined.empty()) joined += ", ";
        joined += s2;
      }
      v.audit_annotations.emplace(p.name + "/" + key, joined);
    }
  }
  if (!denied.empty()) {
    const Denied& d = denied.front();
    const std::string& message = d.message;
    std::string resource = a.group.empty() ? a.resource : a.resource + "." + a.group;
    v.allowed = false;
    v.denial = message;
    v.reason = d.reason.empty() ? "Invalid" : d.reason;
    v.code = codeOf(v.reason);
    v.message = a.name.empty()
                    ? fmt::format("{} is forbidden: {}", resource, message)
                    : fmt::format("{} \"{}\" is forbidden: {}", resource, a.name, message);
  }
  return v;
}

Result<std::shared_ptr<const Bundle>> loadBundle(const std::vector<std::string>& paths,
                                                 const PolicyOptions& opts) {
  auto b = std::make_shared<Bundle>();
  auto files = collectInputs(paths);
  if (!files) return files.error();
  for (const std::string& path : *files) {
    auto f = std::make_unique<SourceFile>();
    loadFile(path, LoadOptions{}, *f);
    if (f->error) return *f->error;
    for (Diagnostic& d : f->diagnostics) b->diagnostics.push_back(std::move(d));
    b->files.push_back(std::move(f));
  }
  for (const auto& f : b->files)
    for (const Object& o : f->objects) b->objects.push_back(&o);
  b->set = PolicySet::build(b->objects, opts, b->diagnostics);
  return std::shared_ptr<const Bundle>(std::move(b));
}

}  // namespace kh::policy
