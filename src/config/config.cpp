#include "config/config.h"

#include <fmt/format.h>

#include "base/strings.h"
#include "cel/eval.h"
#include "checks/registry.h"
#include "pss/pss.h"

namespace kh {
namespace {

class Parser {
 public:
  Parser(const std::string& file, Config& cfg) : file_(file), cfg_(cfg) {
    for (const auto& c : makeCatalogue()) ids_.insert(std::string(c->meta().id));
  }

  Status parse(const Node* root) {
    if (!root || root->isNull()) return {};
    if (!root->isMap()) return err(root->pos, "the config file must be a map");
    for (const MapEntry& e : root->mapEntries()) {
      Status s;
      if (e.key == "checks")
        s = parseChecks(e.value);
      else if (e.key == "exceptions")
        s = parseExceptions(e.value);
      else if (e.key == "podSpecPaths")
        s = strings(e.value, cfg_.pod_spec_paths);
      else if (e.key == "admission")
        s = parseAdmission(e.value);
      else if (e.key == "image")
        s = parseImage(e.value);
      else if (e.key == "render")
        s = parseRender(e.value);
      else if (e.key == "customChecks")
        s = parseCustomChecks(e.value);
      else
        s = err(e.key_pos, fmt::format("unknown key '{}' (expected checks, exceptions, "
                                       "podSpecPaths, admission, image, render or "
                                       "customChecks)",
                                       e.key));
      if (!s) return s;
    }
    return {};
  }

 private:
  Error err(SourcePos pos, std::string msg) const { return Error{std::move(msg), file_, pos}; }

  Status checkId(const Node* n, bool allow_star = false) const {
    if (!n->isString() && n->type != NodeType::kString)
      return err(n->pos, "expected a check ID (a string)");
    if (allow_star && n->text == "*") return {};
    if (!ids_.count(std::string(n->text)))
      return err(n->pos, fmt::format("unknown check '{}' (see `kubeharden checks`)", n->text));
    return {};
  }

  Status strings(const Node* n, std::vector<std::string>& out) const {
    if (!n->isSeq()) return err(n->pos, "expected a list");
    for (const Node* item : n->seqItems()) {
      if (!item->isString()) return err(item->pos, "expected a string");
      out.emplace_back(item->text);
    }
    return {};
  }

  Status idSet(const Node* n, std::set<std::string, std::less<>>& out) const {
    if (!n->isSeq()) return err(n->pos, "expected a list of check IDs, groups or all");
    for (const Node* item : n->seqItems()) {
      if (item->isString() && isCheckSelector(item->text)) {
        out.emplace(item->text);
        continue;
      }
      if (Status s = checkId(item); !s) return s;
      out.emplace(item->text);
    }
    return {};
  }

  Status parseChecks(const Node* n) {
    if (!n->isMap()) return err(n->pos, "checks: expected a map");
    for (const MapEntry& e : n->mapEntries()) {
      if (e.key == "disable") {
        if (Status s = idSet(e.value, cfg_.disabled); !s) return s;
      } else if (e.key == "enable") {
        if (Status s = idSet(e.value, cfg_.enabled); !s) return s;
      } else if (e.key == "severity") {
        if (!e.value->isMap()) return err(e.value->pos, "checks.severity: expected a map");
        for (const MapEntry& s : e.value->mapEntries()) {
          // vap:NAME: the findings of the ValidatingAdmissionPolicy NAME (docs/policies.md).
          if (!ids_.count(std::string(s.key)) && !s.key.starts_with("vap:") &&
              !s.key.starts_with("vpol:"))
            return err(s.key_pos,
                       fmt::format("unknown check '{}' (see `kubeharden checks`)", s.key));
          auto sev = parseSeverity(s.value->text);
          if (!sev)
            return err(s.value->pos, fmt::format("unknown severity '{}' (expected critical, high, "
                                                 "medium, low or info)",
                                                 s.value->text));
          cfg_.severity.emplace(std::string(s.key), *sev);
        }
      } else if (e.key == "options") {
        if (!e.value->isMap()) return err(e.value->pos, "checks.options: expected a map");
        for (const MapEntry& o : e.value->mapEntries()) {
          if (!ids_.count(std::string(o.key)))
            return err(o.key_pos,
                       fmt::format("unknown check '{}' (see `kubeharden checks`)", o.key));
          if (!o.value->isMap()) return err(o.value->pos, "check options: expected a map");
          cfg_.options.emplace(std::string(o.key), o.value);
        }
      } else {
        return err(e.key_pos, fmt::format("checks: unknown key '{}' (expected disable, enable, "
                                          "severity or options)",
                                          e.key));
      }
    }
    return {};
  }

  Status parseCustomChecks(const Node* n) {
    if (!n->isSeq()) return err(n->pos, "customChecks: expected a list");
    for (const Node* item : n->seqItems()) {
      if (!item->isMap()) return err(item->pos, "customChecks: each entry is a map");
      CustomCheck c;
      c.pos = item->pos;
      for (const MapEntry& e : item->mapEntries()) {
        auto text = [&](std::string& out) -> Status {
          if (!e.value->isString())
            return err(e.value->pos, fmt::format("customChecks.{}: expected a string", e.key));
          out = std::string(e.value->text);
          return {};
        };
        Status st;
        if (e.key == "id") {
          st = text(c.id);
        } else if (e.key == "title") {
          st = text(c.title);
        } else if (e.key == "expression") {
          st = text(c.expression);
          c.expression_pos = e.value->pos;
        } else if (e.key == "message") {
          st = text(c.message);
        } else if (e.key == "messageExpression") {
          st = text(c.message_expression);
          c.message_expression_pos = e.value->pos;
        } else if (e.key == "remediation") {
          st = text(c.remediation);
        } else if (e.key == "kinds") {
          st = strings(e.value, c.kinds);
        } else if (e.key == "severity") {
          auto sev = parseSeverity(e.value->text);
          if (!sev)
            return err(e.value->pos, fmt::format("customChecks.severity: unknown severity '{}' "
                                                 "(expected critical, high, medium, low or "
                                                 "info)",
                                                 e.value->text));
          c.severity = *sev;
        } else {
          return err(e.key_pos, fmt::format("customChecks: unknown key '{}' (expected id, "
                                            "title, severity, kinds, expression, message, "
                                            "messageExpression or remediation)",
                                            e.key));
        }
        if (!st) return st;
      }
      bool kebab = !c.id.empty() && c.id.front() != '-' && c.id.back() != '-' &&
                   c.id.find("--") == std::string::npos;
      for (char ch : c.id)
        kebab = kebab && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-');
      if (!kebab)
        return err(c.pos,
                   fmt::format("customChecks: id '{}' must be kebab-case (a-z, 0-9, -)", c.id));
      if (ids_.count(c.id) || isCheckSelector(c.id))
        return err(c.pos, fmt::format("customChecks: id '{}' is a built-in check's", c.id));
      for (const CustomCheck& other : cfg_.custom_checks)
        if (other.id == c.id)
          return err(c.pos, fmt::format("customChecks: id '{}' is declared twice", c.id));
      if (c.expression.empty())
        return err(c.pos, fmt::format("customChecks {}: expression is required", c.id));
      if (c.title.empty()) c.title = c.id;
      cfg_.custom_checks.push_back(std::move(c));
    }
    return {};
  }

  Status parseAdmission(const Node* n) {
    if (!n->isMap()) return err(n->pos, "admission: expected a map");
    AdmissionConfig& a = cfg_.admission;
    for (const MapEntry& e : n->mapEntries()) {
      if (e.key == "defaults") {
        if (!e.value->isMap()) return err(e.value->pos, "admission.defaults: expected a map");
        for (const MapEntry& d : e.value->mapEntries()) {
          std::string_view v = d.value->text;
          std::string* level = d.key == "enforce" ? &a.enforce
                               : d.key == "warn"  ? &a.warn
                               : d.key == "audit" ? &a.audit
                                                  : nullptr;
          std::string* version = d.key == "enforce-version" ? &a.enforce_version
                                 : d.key == "warn-version"  ? &a.warn_version
                                 : d.key == "audit-version" ? &a.audit_version
                                                            : nullptr;
          if (level) {
            if (!pss::parseLevel(v))
              return err(d.value->pos, fmt::format("admission.defaults.{}: '{}' is not a level "
                                                   "(privileged, baseline, restricted)",
                                                   d.key, v));
            *level = v;
          } else if (version) {
            if (!pss::parseVersion(v, pss::Level::kRestricted))
              return err(d.value->pos, fmt::format("admission.defaults.{}: '{}' is not a version "
                                                   "(latest or v1.N)",
                                                   d.key, v));
            *version = v;
          } else {
            return err(d.key_pos, fmt::format("admission.defaults: unknown key '{}' (expected "
                                              "enforce, warn, audit and their -version)",
                                              d.key));
          }
        }
      } else if (e.key == "enforceOnControllers" || e.key == "mutateByDefault") {
        if (!e.value->isTrue() && !e.value->isFalse())
          return err(e.value->pos, fmt::format("admission.{}: expected true or false", e.key));
        (e.key == "enforceOnControllers" ? a.enforce_on_controllers : a.mutate_by_default) =
            e.value->isTrue();
      } else if (e.key == "deny") {
        if (!e.value->isMap()) return err(e.value->pos, "admission.deny: expected a map");
        for (const MapEntry& d : e.value->mapEntries()) {
          if (d.key == "severity") {
            auto sev = parseSeverity(d.value->text);
            if (!sev)
              return err(d.value->pos, fmt::format("admission.deny.severity: unknown severity "
                                                   "'{}'",
                                                   d.value->text));
            a.deny_severity = sev;
          } else if (d.key == "checks") {
            a.deny_checks.clear();
            if (Status st = strings(d.value, a.deny_checks); !st) return st;
            for (const Node* id : d.value->seqItems()) {
              std::string_view check = id->text.substr(0, id->text.find('/'));
              if (!ids_.count(std::string(check)))
                return err(id->pos,
                           fmt::format("unknown check '{}' (see `kubeharden checks`)", check));
            }
          } else {
            return err(d.key_pos, fmt::format("admission.deny: unknown key '{}' (expected "
                                              "severity or checks)",
                                              d.key));
          }
        }
      } else if (e.key == "exemptions") {
        if (!e.value->isMap()) return err(e.value->pos, "admission.exemptions: expected a map");
        for (const MapEntry& x : e.value->mapEntries()) {
          std::vector<std::string>* list = x.key == "namespaces"       ? &a.exempt_namespaces
                                           : x.key == "usernames"      ? &a.exempt_usernames
                                           : x.key == "groups"         ? &a.exempt_groups
                                           : x.key == "runtimeClasses" ? &a.exempt_runtime_classes
                                                                       : nullptr;
          if (!list)
            return err(x.key_pos, fmt::format("admission.exemptions: unknown key '{}' (expected "
                                              "namespaces, usernames, groups or runtimeClasses)",
                                              x.key));
          if (Status st = strings(x.value, *list); !st) return st;
        }
      } else if (e.key == "verifyImages") {
        if (Status st = parseVerifyImages(e.value); !st) return st;
      } else if (e.key == "policies") {
        if (Status st = strings(e.value, a.policies); !st) return st;
        for (std::string& path : a.policies)
          if (!path.empty() && path[0] != '/' && file_.find('/') != std::string::npos)
            path = file_.substr(0, file_.rfind('/') + 1) + path;
      } else if (e.key == "kubernetesVersion") {
        auto minor = cel::parseKubernetesMinor(e.value->text);
        if (!minor)
          return err(e.value->pos,
                     fmt::format("admission.kubernetesVersion: '{}' is not a "
                                 "version from 1.{} to 1.{}",
                                 e.value->text, cel::kMinK8sMinor, cel::kMaxK8sMinor));
        a.kubernetes_minor = *minor;
      } else {
        return err(e.key_pos, fmt::format("admission: unknown key '{}' (expected defaults, "
                                          "enforceOnControllers, mutateByDefault, deny, "
                                          "exemptions, verifyImages, policies or "
                                          "kubernetesVersion)",
                                          e.key));
      }
    }
    return {};
  }

  // admission.verifyImages (docs/signatures.md). Keys and regular expressions are compiled by
  // the webhook (admission/image_policy.h), which reports their errors at these positions.
  Status parseVerifyImages(const Node* n) {
    VerifyImagesConfig& v = cfg_.admission.verify_images;
    v.file = file_;
    if (!n->isMap()) return err(n->pos, "admission.verifyImages: expected a map");
    auto rel = [&](std::string_view p) {
      size_t slash = file_.rfind('/');
      return p.starts_with('/') || slash == std::string::npos
                 ? std::string(p)
                 : file_.substr(0, slash + 1) + std::string(p);
    };
    auto text = [&](const Node* x, std::string_view what, std::string& out) -> Status {
      if (!x->isScalar() || x->isNull() || x->text.empty())
        return err(x->pos, fmt::format("admission.verifyImages.{}: expected a string", what));
      out = std::string(x->text);
      return {};
    };
    auto flag = [&](const Node* x, std::string_view what, bool& out) -> Status {
      if (!x->isTrue() && !x->isFalse())
        return err(x->pos, fmt::format("admission.verifyImages.{}: expected true or false", what));
      out = x->isTrue();
      return {};
    };
    for (const MapEntry& e : n->mapEntries()) {
      const Node* x = e.value;
      Status st;
      if (e.key == "trustedRoot") {
        st = text(x, e.key, v.trusted_root);
        v.trusted_root = rel(v.trusted_root);
        v.trusted_root_pos = x->pos;
      } else if (e.key == "caFile") {
        st = text(x, e.key, v.ca_file);
        v.ca_file = rel(v.ca_file);
      } else if (e.key == "insecureRegistries") {
        st = strings(x, v.insecure_registries);
      } else if (e.key == "cache") {
        if (!x->isMap()) return err(x->pos, "admission.verifyImages.cache: expected a map");
        for (const MapEntry& c : x->mapEntries()) {
          double* ttl = c.key == "successTTL"   ? &v.success_ttl
                        : c.key == "failureTTL" ? &v.failure_ttl
                        : c.key == "tagTTL"     ? &v.tag_ttl
                                                : nullptr;
          if (!ttl)
            return err(c.key_pos, fmt::format("admission.verifyImages.cache: unknown key '{}' "
                                              "(expected successTTL, failureTTL or tagTTL)",
                                              c.key));
          auto d = c.value->isScalar() ? parseDuration(c.value->text) : std::nullopt;
          if (!d || *d > 86400)
            return err(c.value->pos, fmt::format("admission.verifyImages.cache.{}: expected a "
                                                 "duration up to 24h (30s, 10m, 0s)",
                                                 c.key));
          *ttl = *d;
        }
      } else if (e.key == "rules") {
        if (!x->isSeq()) return err(x->pos, "admission.verifyImages.rules: expected a list");
        for (const Node* item : x->seqItems())
          if (Status r = parseVerifyRule(item, rel, text, flag); !r) return r;
      } else {
        return err(e.key_pos, fmt::format("admission.verifyImages: unknown key '{}' (expected "
                                          "rules, trustedRoot, cache, caFile or "
                                          "insecureRegistries)",
                                          e.key));
      }
      if (!st) return st;
    }
    return {};
  }

  template <typename Rel, typename Text, typename Flag>
  Status parseVerifyRule(const Node* item, Rel& rel, Text& text, Flag& flag) {
    if (!item->isMap()) return err(item->pos, "admission.verifyImages.rules: expected a map");
    VerifyImagesRule r;
    r.pos = item->pos;
    bool has_count = false;
    for (const MapEntry& e : item->mapEntries()) {
      const Node* x = e.value;
      Status st;
      if (e.key == "name") {
        st = text(x, "rules.name", r.name);
      } else if (e.key == "images") {
        st = strings(x, r.images);
        for (const std::string& g : r.images)
          if (g.empty()) return err(x->pos, "admission.verifyImages.rules.images: empty pattern");
      } else if (e.key == "namespaces") {
        st = strings(x, r.namespaces);
      } else if (e.key == "excludeNamespaces") {
        st = strings(x, r.exclude_namespaces);
      } else if (e.key == "namespaceLabels") {
        if (!x->isMap())
          return err(x->pos, "admission.verifyImages.rules.namespaceLabels: expected a map");
        for (const MapEntry& l : x->mapEntries()) {
          if (!l.value->isScalar())
            return err(l.value->pos,
                       "admission.verifyImages.rules.namespaceLabels: expected a "
                       "string value");
          r.namespace_labels.emplace_back(std::string(l.key), std::string(l.value->text));
        }
      } else if (e.key == "action") {
        std::string a;
        st = text(x, "rules.action", a);
        if (st && a != "verify" && a != "allow" && a != "deny")
          return err(x->pos, fmt::format("admission.verifyImages.rules.action: '{}' is not "
                                         "verify, allow or deny",
                                         a));
        r.action = a == "allow"  ? VerifyImagesRule::Action::kAllow
                   : a == "deny" ? VerifyImagesRule::Action::kDeny
                                 : VerifyImagesRule::Action::kVerify;
      } else if (e.key == "failureAction") {
        std::string a;
        st = text(x, "rules.failureAction", a);
        if (st && a != "deny" && a != "audit")
          return err(x->pos, fmt::format("admission.verifyImages.rules.failureAction: '{}' is "
                                         "not deny or audit",
                                         a));
        r.audit = a == "audit";
      } else if (e.key == "attestors") {
        if (!x->isSeq())
          return err(x->pos, "admission.verifyImages.rules.attestors: expected a list");
        for (const Node* a : x->seqItems()) {
          if (!a->isMap())
            return err(a->pos, "admission.verifyImages.rules.attestors: expected a map");
          VerifyAttestor at;
          at.pos = a->pos;
          for (const MapEntry& f : a->mapEntries()) {
            std::string* field = f.key == "key"              ? &at.key
                                 : f.key == "identity"       ? &at.identity
                                 : f.key == "identityRegexp" ? &at.identity_regexp
                                 : f.key == "issuer"         ? &at.issuer
                                 : f.key == "issuerRegexp"   ? &at.issuer_regexp
                                                             : nullptr;
            if (!field)
              return err(f.key_pos, fmt::format("admission.verifyImages.rules.attestors: unknown "
                                                "key '{}' (expected key, identity, "
                                                "identityRegexp, issuer or issuerRegexp)",
                                                f.key));
            if (Status s = text(f.value, "rules.attestors." + std::string(f.key), *field); !s)
              return s;
          }
          if (!at.key.empty()) {
            if (!at.identity.empty() || !at.identity_regexp.empty() || !at.issuer.empty() ||
                !at.issuer_regexp.empty())
              return err(a->pos,
                         "admission.verifyImages.rules.attestors: a key, or an "
                         "identity and issuer, not both");
            if (!at.key.starts_with("-----BEGIN")) at.key = rel(at.key);
          } else if ((at.identity.empty() && at.identity_regexp.empty()) ||
                     (at.issuer.empty() && at.issuer_regexp.empty())) {
            return err(a->pos,
                       "admission.verifyImages.rules.attestors: give a key, or an "
                       "identity (identity or identityRegexp) and an issuer (issuer "
                       "or issuerRegexp)");
          }
          r.attestors.push_back(std::move(at));
        }
      } else if (e.key == "count") {
        if (!x->isScalar() || x->text.empty() ||
            x->text.find_first_not_of("0123456789") != std::string_view::npos ||
            x->text.size() > 3 || std::stoi(std::string(x->text)) < 1)
          return err(x->pos, "admission.verifyImages.rules.count: expected a number from 1");
        r.count = std::stoi(std::string(x->text));
        has_count = true;
      } else if (e.key == "attestations") {
        if (!x->isSeq())
          return err(x->pos, "admission.verifyImages.rules.attestations: expected a list");
        for (const Node* a : x->seqItems()) {
          AttestationRequirement req;
          // A predicate type, or a map with `type:` and `predicate:` conditions.
          const Node* t = a->isMap() ? get(a, "type") : a;
          if (a->isMap())
            for (const MapEntry& f : a->mapEntries()) {
              if (f.key == "type") continue;
              if (f.key != "predicate")
                return err(f.key_pos, fmt::format("admission.verifyImages.rules.attestations: "
                                                  "unknown key '{}' (expected type or predicate)",
                                                  f.key));
              if (!f.value->isMap())
                return err(f.value->pos,
                           "admission.verifyImages.rules.attestations.predicate: "
                           "expected a map of JSON Pointers to values");
              for (const MapEntry& c : f.value->mapEntries()) {
                if (!c.key.starts_with('/'))
                  return err(c.key_pos,
                             fmt::format("admission.verifyImages.rules.attestations.predicate: "
                                         "'{}' is not a JSON Pointer (/field/0/name)",
                                         c.key));
                if (!c.value->isScalar() || c.value->isNull())
                  return err(c.value->pos,
                             "admission.verifyImages.rules.attestations.predicate: "
                             "expected a value (a glob)");
                req.predicate.emplace_back(std::string(c.key), std::string(c.value->text));
              }
            }
          if (!t) return err(a->pos, "admission.verifyImages.rules.attestations: no type");
          if (Status s = text(t, "rules.attestations.type", req.type); !s) return s;
          r.attestations.push_back(std::move(req));
        }
      } else if (e.key == "requireSignature") {
        st = flag(x, "rules.requireSignature", r.require_signature);
      } else if (e.key == "requireTimestamp") {
        st = flag(x, "rules.requireTimestamp", r.require_timestamp);
      } else if (e.key == "mutateDigest") {
        st = flag(x, "rules.mutateDigest", r.mutate_digest);
      } else if (e.key == "verifyDigest") {
        st = flag(x, "rules.verifyDigest", r.verify_digest);
      } else if (e.key == "signatureRepository") {
        st = text(x, "rules.signatureRepository", r.signature_repository);
      } else {
        return err(e.key_pos,
                   fmt::format("admission.verifyImages.rules: unknown key '{}' (expected name, "
                               "images, namespaces, excludeNamespaces, namespaceLabels, action, "
                               "attestors, count, attestations, requireSignature, "
                               "requireTimestamp, signatureRepository, mutateDigest, "
                               "verifyDigest or failureAction)",
                               e.key));
      }
      if (!st) return st;
    }
    if (r.images.empty())
      return err(item->pos, "admission.verifyImages.rules: a rule needs images (globs)");
    if (r.action == VerifyImagesRule::Action::kVerify) {
      if (r.attestors.empty())
        return err(item->pos,
                   "admission.verifyImages.rules: a verify rule needs attestors (or "
                   "action: allow or deny)");
      if (!r.require_signature && r.attestations.empty())
        return err(item->pos,
                   "admission.verifyImages.rules: requireSignature is false and no "
                   "attestations are required: nothing to verify");
      if (r.count > static_cast<int>(r.attestors.size()))
        return err(item->pos, fmt::format("admission.verifyImages.rules: count {} is more than "
                                          "the {} attestors",
                                          r.count, r.attestors.size()));
    } else if (!r.attestors.empty() || !r.attestations.empty() || has_count) {
      return err(item->pos,
                 "admission.verifyImages.rules: an allow or deny rule takes no "
                 "attestors, attestations or count");
    }
    if (r.name.empty())
      r.name = fmt::format("rule {}", cfg_.admission.verify_images.rules.size() + 1);
    cfg_.admission.verify_images.rules.push_back(std::move(r));
    return {};
  }

  Status parseImage(const Node* n) {
    if (!n->isMap()) return err(n->pos, "image: expected a map");
    for (const MapEntry& e : n->mapEntries()) {
      if (e.key != "licenses")
        return err(e.key_pos, fmt::format("image: unknown key '{}' (expected licenses)", e.key));
      if (!e.value->isMap()) return err(e.value->pos, "image.licenses: expected a map");
      for (const MapEntry& l : e.value->mapEntries()) {
        if (l.key == "deny") {
          if (!l.value->isSeq()) return err(l.value->pos, "image.licenses.deny: expected a list");
          for (const Node* item : l.value->seqItems()) {
            if (!item->isString()) return err(item->pos, "image.licenses.deny: expected a string");
            cfg_.image.license_deny.emplace_back(std::string(item->text), item->pos);
          }
        } else if (l.key == "severity") {
          auto sev = parseSeverity(l.value->text);
          if (!sev)
            return err(l.value->pos, fmt::format("image.licenses.severity: unknown severity '{}'",
                                                 l.value->text));
          cfg_.image.license_severity = *sev;
        } else {
          return err(l.key_pos, fmt::format("image.licenses: unknown key '{}' (expected deny or "
                                            "severity)",
                                            l.key));
        }
      }
    }
    return {};
  }

  // render.charts: how each chart of the repository is deployed (docs/rendering.md). Paths are
  // relative to the config file's directory.
  Status parseRender(const Node* n) {
    if (!n->isMap()) return err(n->pos, "render: expected a map");
    for (const MapEntry& e : n->mapEntries()) {
      if (e.key != "charts")
        return err(e.key_pos, fmt::format("render: unknown key '{}' (expected charts)", e.key));
      if (!e.value->isSeq()) return err(e.value->pos, "render.charts: expected a list");
      for (const Node* item : e.value->seqItems()) {
        if (!item->isMap()) return err(item->pos, "render.charts: each item must be a map");
        render::ChartConfig c;
        c.line = item->pos.line;
        std::string_view dir = file_.find('/') == std::string::npos
                                   ? std::string_view()
                                   : std::string_view(file_).substr(0, file_.rfind('/') + 1);
        auto rel = [&](std::string_view p) {
          return p.starts_with('/') ? std::string(p) : std::string(dir) + std::string(p);
        };
        for (const MapEntry& f : item->mapEntries()) {
          const Node* v = f.value;
          auto scalar = [&](std::string& out) -> Status {
            if (!v->isScalar() || v->isNull())
              return err(v->pos, fmt::format("render.charts.{}: expected a string", f.key));
            out = std::string(v->text);
            return {};
          };
          auto list = [&](std::vector<std::string>& out, bool paths) -> Status {
            std::vector<std::string> got;
            if (Status s = strings(v, got); !s) return s;
            for (std::string& g : got) out.push_back(paths ? rel(g) : std::move(g));
            return {};
          };
          Status s;
          if (f.key == "path") {
            s = scalar(c.path);
            c.path = rel(c.path);
          } else if (f.key == "name")
            s = scalar(c.name);
          else if (f.key == "releaseName")
            s = scalar(c.helm.release_name);
          else if (f.key == "namespace")
            s = scalar(c.helm.namespace_);
          else if (f.key == "kubeVersion")
            s = scalar(c.helm.kube_version);
          else if (f.key == "apiVersions")
            s = list(c.helm.api_versions, false);
          else if (f.key == "values")
            s = list(c.helm.values_files, true);
          else if (f.key == "set")
            s = list(c.helm.set, false);
          else if (f.key == "setString")
            s = list(c.helm.set_string, false);
          else if (f.key == "setJson")
            s = list(c.helm.set_json, false);
          else if (f.key == "setFile") {
            // key=path: the path is relative to the config file too.
            std::vector<std::string> got;
            s = strings(v, got);
            for (std::string& g : got) {
              size_t eq = g.find('=');
              c.helm.set_file.push_back(
                  eq == std::string::npos ? g : g.substr(0, eq + 1) + rel(g.substr(eq + 1)));
            }
          } else
            s = err(f.key_pos,
                    fmt::format("render.charts: unknown key '{}' (expected path, name, "
                                "releaseName, namespace, values, set, setString, setFile, "
                                "setJson, kubeVersion or apiVersions)",
                                f.key));
          if (!s) return s;
        }
        if (c.path.empty()) return err(item->pos, "render.charts: 'path' is required");
        cfg_.render_charts.push_back(std::move(c));
      }
    }
    return {};
  }

  Status parseExceptions(const Node* n) {
    if (!n->isSeq()) return err(n->pos, "exceptions: expected a list");
    for (const Node* item : n->seqItems()) {
      if (!item->isMap()) return err(item->pos, "exceptions: each item must be a map");
      ConfigException ex;
      ex.pos = item->pos;
      for (const MapEntry& e : item->mapEntries()) {
        std::string_view text = e.value->isScalar() ? e.value->text : std::string_view();
        if (e.key == "checks") {
          if (!e.value->isSeq()) return err(e.value->pos, "exceptions.checks: expected a list");
          for (const Node* id : e.value->seqItems()) {
            if (Status s = checkId(id, true); !s) return s;
            ex.checks.emplace_back(id->text);
          }
        } else if (e.key == "kind")
          ex.kind = text;
        else if (e.key == "namespace")
          ex.namespace_ = text;
        else if (e.key == "name")
          ex.name = text;
        else if (e.key == "container")
          ex.container = text;
        else if (e.key == "file")
          ex.file = text;
        else if (e.key == "reason")
          ex.reason = text;
        else if (e.key == "expires") {
          if (!isValidDate(text))
            return err(e.value->pos, fmt::format("exceptions.expires: '{}' is not a date "
                                                 "(YYYY-MM-DD)",
                                                 text));
          ex.expires = text;
        } else {
          return err(e.key_pos, fmt::format("exceptions: unknown key '{}' (expected checks, kind, "
                                            "namespace, name, container, file, reason or "
                                            "expires)",
                                            e.key));
        }
      }
      if (ex.checks.empty()) return err(item->pos, "exceptions: 'checks' is required");
      if (trim(ex.reason).empty())
        return err(item->pos, "exceptions: 'reason' is required (say why the exception is safe)");
      cfg_.exceptions.push_back(std::move(ex));
    }
    return {};
  }

  std::string file_;
  Config& cfg_;
  std::set<std::string> ids_;
};

}  // namespace

bool isCheckSelector(std::string_view s) {
  return s == "all" || s == "security" || s == "reliability";
}

bool checkEnabled(const Config& cfg, const CheckMeta& meta) {
  auto level = [&](const std::set<std::string, std::less<>>& set) {
    return set.count(meta.id) ? 3 : set.count(meta.group) ? 2 : set.count("all") ? 1 : 0;
  };
  int on = level(cfg.enabled), off = level(cfg.disabled);
  if (on == 0 && off == 0) return meta.enabled_by_default;
  return on >= off;
}

Result<Config> loadConfig(const std::string& path) {
  Config cfg;
  cfg.file = path;
  cfg.source = std::make_shared<SourceFile>();
  LoadOptions lo;
  // A config file is a plain YAML document, not a Kubernetes object: read it, parse it here.
  if (!readSource(path, lo, *cfg.source)) return *cfg.source->error;
  std::vector<Diagnostic> diags;
  ParseOutput out = parseYamlStream(cfg.source->buffer, path, cfg.source->arena, lo.limits, diags);
  if (out.error) return *out.error;
  if (out.documents.size() > 1)
    return Error{"the config file must hold one YAML document", path, out.documents[1].start};
  for (const Diagnostic& d : diags) return Error{d.message, path, d.pos};
  Parser p(path, cfg);
  if (Status s = p.parse(out.documents.empty() ? nullptr : out.documents[0].root); !s)
    return s.error();
  return cfg;
}

}  // namespace kh
