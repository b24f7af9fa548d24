#include "admission/handler.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "checks/scan_index.h"
#include "config/suppressions.h"
#include "model/object.h"
#include "pss/pss.h"

namespace kh::admission {
namespace {

constexpr std::string_view kAnnotationPrefix = "kubeharden.io/";

// Pod subresources PSA lets through without evaluation (ephemeralcontainers is evaluated).
bool ignoredSubresource(std::string_view sub) {
  return !sub.empty() && sub != "ephemeralcontainers";
}

bool sameNode(const Node* a, const Node* b) {
  if (!a || !b) return a == b;
  if (a->isMap() != b->isMap() || a->isSeq() != b->isSeq()) return false;
  if (a->isMap()) {
    if (a->size != b->size) return false;
    for (const MapEntry& e : a->mapEntries())
      if (!sameNode(e.value, b->get(e.key))) return false;
    return true;
  }
  if (a->isSeq()) {
    if (a->size != b->size) return false;
    for (uint32_t i = 0; i < a->size; ++i)
      if (!sameNode(a->items[i], b->items[i])) return false;
    return true;
  }
  return a->type == b->type && a->text == b->text;
}

size_t utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string truncateRunes(std::string_view s, size_t max_runes) {
  if (utf8Length(s) <= max_runes) return std::string(s);
  std::string out;
  size_t runes = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (runes == max_runes - 1) break;
      ++runes;
    }
    out += s[i];
  }
  return out + "\u2026";
}

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

pss::DefaultPolicies Policy::defaultModes() {
  pss::DefaultPolicies d;
  d.enforce.level = pss::Level::kBaseline;
  d.warn.level = pss::Level::kRestricted;
  d.audit.level = pss::Level::kRestricted;
  return d;
}

Policy policyFromConfig(const Config& cfg, const Registry* registry, std::string today) {
  Policy p;
  const AdmissionConfig& a = cfg.admission;
  auto mode = [](const std::string& level, const std::string& version) {
    pss::Level l = pss::parseLevel(level).value_or(pss::Level::kRestricted);
    return pss::parseVersion(version, l).value_or(pss::Policy{.level = l});
  };
  p.defaults.enforce = mode(a.enforce, a.enforce_version);
  p.defaults.warn = mode(a.warn, a.warn_version);
  p.defaults.audit = mode(a.audit, a.audit_version);
  p.enforce_on_controllers = a.enforce_on_controllers;
  p.deny_at = a.deny_severity;
  p.deny_rules = a.deny_checks;
  p.exempt_namespaces = a.exempt_namespaces;
  p.exempt_usernames = a.exempt_usernames;
  p.exempt_groups = a.exempt_groups;
  p.exempt_runtime_classes = a.exempt_runtime_classes;
  p.registry = registry;
  p.config = &cfg;
  p.today = std::move(today);
  return p;
}

std::vector<std::string> budgetWarnings(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  size_t total = 0;
  for (const std::string& w : in) {
    std::string t = truncateRunes(w, 120);
    if (!seen.insert(t).second) continue;
    size_t len = utf8Length(t);
    if (total + len > 4096) break;
    total += len;
    out.push_back(std::move(t));
  }
  return out;
}

std::string_view exemption(const AdmissionRequest& req, const Policy& policy, const Object& obj) {
  if (contains(policy.exempt_namespaces, req.namespace_)) return "namespace";
  if (contains(policy.exempt_usernames, req.username)) return "user";
  for (std::string_view g : req.groups)
    if (contains(policy.exempt_groups, g)) return "group";
  if (obj.pod && contains(policy.exempt_runtime_classes, getStr(obj.pod->spec, "runtimeClassName")))
    return "runtimeClass";
  return {};
}

namespace {

AdmissionResponse decideCatalogue(const AdmissionRequest& req, const Policy& policy,
                                  const Node* namespace_labels, const ImageVerdicts* images,
                                  const std::vector<ImageUse>* uses) {
  AdmissionResponse resp;
  resp.uid = std::string(req.uid);
  // Nothing to judge: deletions, connections, and subresources other than ephemeral containers.
  if (req.operation == "DELETE" || req.operation == "CONNECT" || !req.object) return resp;
  if (ignoredSubresource(req.sub_resource)) return resp;
  // An update that leaves the spec as it was (labels, annotations, finalizers) changes nothing
  // the policy judges: allow it, as PSA does, so existing objects stay manageable.
  if (req.operation == "UPDATE" && req.old_object && req.sub_resource.empty() &&
      sameNode(get(req.object, "spec"), get(req.old_object, "spec")))
    return resp;

  const std::string_view kind = req.kind.kind;
  // Exemptions, recorded as PSA records them.
  Object obj = makeObject(req.object, {});
  if (obj.ref.namespace_.empty()) obj.ref.namespace_ = req.namespace_;
  std::string_view exempt = exemption(req, policy, obj);
  if (!exempt.empty()) {
    resp.audit_annotations[fmt::format("{}exempt", kAnnotationPrefix)] = std::string(exempt);
    return resp;
  }

  // The namespace's modes: kubeharden.io labels over the configured defaults. A Namespace
  // request is judged on its own labels (as PSA does), and invalid values are refused.
  const Node* labels = namespace_labels;
  if (kind == "Namespace" && req.sub_resource.empty()) {
    auto ns = pss::policyFromLabels(get(get(req.object, "metadata"), "labels"), "kubeharden.io",
                                    policy.defaults);
    if (!ns.errors.empty()) {
      resp.allowed = false;
      resp.code = 422;
      resp.reason = "Invalid";
      resp.message = join(ns.errors, "; ");
    }
    return resp;
  }
  pss::NamespacePolicy modes = pss::policyFromLabels(labels, "kubeharden.io", policy.defaults);

  std::vector<std::string> warnings, pss_warnings;
  std::vector<std::string> denials;
  // Pod Security Standards, as PSA applies them.
  if (obj.pod) {
    // Enforce on Pods; on controllers (and custom kinds with pod templates) only when asked.
    const bool enforce = kind == "Pod" || policy.enforce_on_controllers;
    thread_local pss::Scratch scratch;
    std::vector<pss::Violation> v;
    auto evaluate = [&](const pss::Policy& p) {
      v.clear();
      pss::evaluate(p, *obj.pod, scratch, v);
      return !v.empty();
    };
    if (enforce && modes.enforce.policy.level != pss::Level::kPrivileged &&
        evaluate(modes.enforce.policy))
      denials.push_back(fmt::format("violates PodSecurity \"{}\": {}",
                                    pss::policyLabel(modes.enforce.policy),
                                    pss::joinViolations(v)));
    if (modes.warn.policy.level != pss::Level::kPrivileged && evaluate(modes.warn.policy))
      for (const pss::Violation& x : v)
        pss_warnings.push_back(fmt::format("would violate PodSecurity \"{}\": {} ({})",
                                           pss::policyLabel(modes.warn.policy), x.reason,
                                           x.detail));
    if (modes.audit.policy.level != pss::Level::kPrivileged) {
      resp.audit_annotations[fmt::format("{}enforce-policy", kAnnotationPrefix)] =
          pss::policyLabel(modes.enforce.policy);
      if (evaluate(modes.audit.policy))
        resp.audit_annotations[fmt::format("{}audit-violations", kAnnotationPrefix)] =
            fmt::format("would violate PodSecurity \"{}\": {}",
                        pss::policyLabel(modes.audit.policy), pss::joinViolations(v));
    }
  }

  // The scan catalogue on the object alone: checks that judge an object by the rest of the
  // input (whole_input) are left out; RBAC risks of a binding are judged with the built-in
  // roles.
  if (policy.registry) {
    ScanIndex index;
    index.add(&obj);
    CheckContext ctx{.index = &index, .single_object = true};
    VectorSink sink;
    policy.registry->dispatch(obj, ctx, sink);
    policy.registry->finish(ctx, sink);
    if (policy.config) {
      std::vector<Diagnostic> diags;
      applySuppressions(sink.findings, *policy.config,
                        {.inline_ignores = false, .today = policy.today}, diags);
    }
    std::vector<std::string> ids, excepted;
    for (const Finding& f : sink.findings) {
      if (f.check_id.starts_with("pss-")) continue;  // the modes above decide PSS
      if (f.suppressed) {
        if (std::find(excepted.begin(), excepted.end(), f.check_id) == excepted.end())
          excepted.emplace_back(f.check_id);
        continue;
      }
      std::string id =
          f.rule.empty() ? std::string(f.check_id) : fmt::format("{}/{}", f.check_id, f.rule);
      bool deny = contains(policy.deny_rules, id) || contains(policy.deny_rules, f.check_id) ||
                  (policy.deny_at && f.severity >= *policy.deny_at);
      std::string text = fmt::format("{}: {}", f.check_id, f.message);
      if (deny && modes.enforce.policy.level != pss::Level::kPrivileged)
        denials.push_back(text);
      else
        warnings.push_back(text);
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    if (!ids.empty())
      resp.audit_annotations[fmt::format("{}violations", kAnnotationPrefix)] = join(ids, ",");
    if (!excepted.empty())
      resp.audit_annotations[fmt::format("{}exceptions", kAnnotationPrefix)] = join(excepted, ",");
  }

  // admission.verifyImages: static allow and deny, digests required, and the verdicts.
  if (policy.images) {
    std::vector<std::string> record;
    std::vector<ImageUse> computed;
    if (!uses) {
      computed = imagesToVerify(req, policy, labels, false);
      uses = &computed;
    }
    for (const ImageUse& u : *uses) {
      const ImageRule& rule = policy.images->rules[u.rule];
      std::string failure;
      if (rule.action == VerifyImagesRule::Action::kAllow) {
        record.push_back(fmt::format("{}: allowed by {}", u.image, rule.name));
        continue;
      }
      if (rule.action == VerifyImagesRule::Action::kDeny) {
        failure = "is not allowed";
      } else if (u.ref.digest.empty() && rule.verify_digest) {
        failure =
            "is not pinned to a digest (the rule verifies digests only; mutateDigest pins "
            "tags in the mutating webhook)";
      } else {
        const ImageVerdict* v = nullptr;
        if (images)
          if (auto it = images->find(u.key()); it != images->end()) v = &it->second;
        if (v && v->verified) {
          record.push_back(fmt::format("{}: {}", u.image, v->message));
          continue;
        }
        failure = v ? v->message : "was not verified";
      }
      record.push_back(fmt::format("{}: {}", u.image, failure));
      if (rule.audit) {
        // Warnings are cut at 120 characters: the digest shortened leaves room for the reason
        // (the audit annotation has it whole).
        std::string shown = u.image;
        if (size_t at = shown.find("@sha256:"); at != std::string::npos && shown.size() > at + 20)
          shown = shown.substr(0, at + 20) + "\u2026";
        warnings.push_back(fmt::format("image \"{}\" {} ({})", shown, failure, rule.name));
      } else {
        denials.push_back(fmt::format("image \"{}\" {} ({})", u.image, failure, rule.name));
      }
    }
    if (!record.empty())
      resp.audit_annotations[fmt::format("{}image-verification", kAnnotationPrefix)] =
          join(record, "; ");
  }

  // As PSA: the warn level's warnings are left out when the request is denied anyway.
  if (denials.empty()) warnings.insert(warnings.begin(), pss_warnings.begin(), pss_warnings.end());
  if (!denials.empty()) {
    resp.allowed = false;
    resp.code = 403;
    resp.reason = "Forbidden";
    resp.message = join(denials, "; ");
  }
  resp.warnings = budgetWarnings(warnings);
  return resp;
}

}  // namespace

policy::Verdict admitPolicies(const AdmissionRequest& req, const Policy& policy,
                              const Node* namespace_labels, const Node* namespace_object) {
  policy::Attributes a;
  a.operation = std::string(req.operation);
  a.group = std::string(req.kind.group);
  a.version = std::string(req.kind.version);
  a.kind = std::string(req.kind.kind);
  a.resource = std::string(req.resource);
  a.subresource = std::string(req.sub_resource);
  a.name = std::string(req.name);
  a.namespace_ = std::string(req.namespace_);
  a.object = req.object;
  a.old_object = req.old_object;
  a.namespace_object = namespace_object;
  if (!namespace_object)
    for (const MapEntry& e : mapOf(namespace_labels))
      a.namespace_labels.emplace_back(e.key, e.value->str());
  a.username = std::string(req.username);
  for (std::string_view g : req.groups) a.groups.emplace_back(g);
  a.dry_run = req.dry_run;
  return policy.vap->set.admit(a, policy.vap->objects);
}

AdmissionResponse decide(const AdmissionRequest& req, const Policy& policy,
                         const Node* namespace_labels, const ImageVerdicts* images,
                         const std::vector<ImageUse>* uses, const Node* namespace_object) {
  AdmissionResponse resp = decideCatalogue(req, policy, namespace_labels, images, uses);
  if (!policy.vap || policy.vap->set.empty()) return resp;
  // The ValidatingAdmissionPolicies, as the API server would apply them: their denial (its
  // reason and code) comes first, their warnings and audit annotations join ours.
  policy::Verdict v = admitPolicies(req, policy, namespace_labels, namespace_object);
  for (const auto& [k, val] : v.audit_annotations) resp.audit_annotations[k] = val;
  // The policies' warnings whole, as the API server words them (ours are cut to PSA's budget).
  if (!v.warnings.empty()) {
    std::vector<std::string> all = v.warnings;
    all.insert(all.end(), resp.warnings.begin(), resp.warnings.end());
    resp.warnings = std::move(all);
  }
  if (!v.allowed) {
    resp.message = resp.allowed ? v.denial : v.denial + "; " + resp.message;
    resp.allowed = false;
    resp.code = v.code;
    resp.reason = v.reason;
  }
  return resp;
}

}  // namespace kh::admission
