#include "config/config.h"

#include <fmt/format.h>

#include "base/strings.h"
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
      else
        s = err(e.key_pos, fmt::format("unknown key '{}' (expected checks, exceptions, "
                                       "podSpecPaths, admission, image or render)",
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
          if (!ids_.count(std::string(s.key)))
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
      } else {
        return err(e.key_pos, fmt::format("admission: unknown key '{}' (expected defaults, "
                                          "enforceOnControllers, mutateByDefault, deny or "
                                          "exemptions)",
                                          e.key));
      }
    }
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
