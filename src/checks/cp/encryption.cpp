// encryption-*: an EncryptionConfiguration (apiserver.config.k8s.io/v1) read as the API server
// reads it. A resource's providers come from the entry that names it exactly ("secrets" or
// "secrets."), else from its group's wildcard ("*." for the core group, "*.apps"), else from
// "*.*"; none means plaintext. The first provider of that entry writes; the others only read. A
// specific resource listed after a wildcard that covers it is refused ("masked by earlier
// rule"), as are malformed keys.
#include <fmt/format.h>

#include <map>
#include <set>

#include "base/strings.h"
#include "checks/cp/cp_checks.h"

namespace kh {
namespace {

constexpr std::string_view kEncryption[] = {"EncryptionConfiguration"};

bool isEncryptionConfig(const Object& o) {
  return o.ref.kind == "EncryptionConfiguration" &&
         o.ref.api_version.starts_with("apiserver.config.k8s.io/");
}

constexpr std::string_view kProviderTypes[] = {"aescbc", "aesgcm", "secretbox", "kms", "identity"};

struct Provider {
  std::string_view type;         // aescbc, ..., or empty when the entry names none or several
  const Node* node = nullptr;    // the provider's list item
  const Node* config = nullptr;  // its map under the type key
  std::string path;              // resources[0].providers[1]
};

struct Entry {
  size_t index = 0;
  const Node* node = nullptr;
  std::vector<std::pair<std::string, std::string>> resources;  // (group, resource), as parsed
  std::vector<Provider> providers;
};

// "secrets" -> ("", "secrets"); "secrets." -> ("", "secrets"); "*.apps" -> ("apps", "*");
// "deployments.apps" -> ("apps", "deployments"); "*.*" -> ("*", "*").
std::pair<std::string, std::string> groupResource(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return {"", std::string(s)};
  return {std::string(s.substr(dot + 1)), std::string(s.substr(0, dot))};
}

std::vector<Entry> readEntries(const Object& o) {
  std::vector<Entry> out;
  size_t i = 0;
  for (const Node* e : seqOf(get(o.root, "resources"))) {
    Entry entry;
    entry.index = i;
    entry.node = e;
    for (const Node* r : seqOf(get(e, "resources")))
      if (r->isString()) entry.resources.push_back(groupResource(r->text));
    size_t j = 0;
    for (const Node* p : seqOf(get(e, "providers"))) {
      Provider prov;
      prov.node = p;
      prov.path = fmt::format("resources[{}].providers[{}]", i, j++);
      int types = 0;
      for (std::string_view t : kProviderTypes)
        if (const Node* c = get(p, t)) {
          ++types;
          prov.type = t;
          prov.config = c;
        }
      if (types != 1) prov.type = {};
      entry.providers.push_back(std::move(prov));
    }
    out.push_back(std::move(entry));
    ++i;
  }
  return out;
}

// The entry the API server uses for group/resource: exact, then the group's wildcard, then *.*.
const Entry* entryFor(const std::vector<Entry>& entries, const std::string& group,
                      const std::string& resource) {
  for (const auto& [g, r] : std::initializer_list<std::pair<std::string, std::string>>{
           {group, resource}, {group, "*"}, {"*", "*"}})
    for (const Entry& e : entries)
      for (const auto& gr : e.resources)
        if (gr.first == g && gr.second == r) return &e;
  return nullptr;
}

std::string kmsVersion(const Provider& p) {
  std::string_view v = getStr(p.config, "apiVersion");
  return v.empty() ? "v1" : std::string(v);
}

constexpr CheckRefs kEncRefs{.cis = "1.2.27,1.2.28",
                             .nsa = "Secrets,Control plane hardening",
                             .trivy = "KCV-0029,KCV-0030",
                             .kubescape = "C-0066"};

// --- encryption-secrets-plaintext ---------------------------------------------------------------

constexpr CheckMeta kPlaintext{
    .id = "encryption-secrets-plaintext",
    .title = "EncryptionConfiguration leaves Secrets in plaintext in etcd",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEncryption,
    .remediation =
        "Add an entry for `secrets` whose first provider encrypts (kms v2, or aescbc "
        "or secretbox), keep `identity` last for reading old data, and rewrite the "
        "Secrets (kubectl get secrets -A -o json | kubectl replace -f -).",
    .refs = kEncRefs,
};

void plaintext(const FileCheck& self, const Object& o, FindingSink& sink) {
  std::vector<Entry> entries = readEntries(o);
  const Entry* e = entryFor(entries, "", "secrets");
  if (!e) {
    const Node* at = get(o.root, "resources");
    Finding f = self.finding(o, (at ? at : o.root)->pos, "resources",
                             "no entry covers secrets (neither secrets, *. nor *.*): the API "
                             "server stores Secrets in etcd in plaintext");
    f.rule = "no-entry";
    sink.add(std::move(f));
    return;
  }
  if (e->providers.empty() || e->providers[0].type != "identity") return;
  std::vector<std::string> readers;
  for (size_t i = 1; i < e->providers.size(); ++i)
    if (!e->providers[i].type.empty()) readers.emplace_back(e->providers[i].type);
  Finding f = self.finding(
      o, e->providers[0].node->pos, e->providers[0].path,
      fmt::format("the first provider for secrets (resources[{}]) is identity: new and updated "
                  "Secrets are written in plaintext{}",
                  e->index,
                  readers.empty() ? std::string()
                                  : fmt::format(" ({} after it only read what is already "
                                                "encrypted)",
                                                join(readers, ", "))));
  f.rule = "identity-first";
  sink.add(std::move(f));
}

// --- encryption-provider-weak -------------------------------------------------------------------

constexpr CheckMeta kWeak{
    .id = "encryption-provider-weak",
    .title = "EncryptionConfiguration writes with a deprecated or fragile provider",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEncryption,
    .remediation =
        "Write with kms apiVersion v2 (the key stays in the KMS); if a local key must "
        "do, prefer secretbox or aescbc to aesgcm.",
    .refs = kEncRefs,
};

void weak(const FileCheck& self, const Object& o, FindingSink& sink) {
  std::vector<Entry> entries = readEntries(o);
  for (const Entry& e : entries) {
    for (size_t i = 0; i < e.providers.size(); ++i) {
      const Provider& p = e.providers[i];
      if (p.type == "kms" && kmsVersion(p) == "v1") {
        Finding f =
            self.finding(o, p.node->pos, p.path,
                         fmt::format("kms provider {} uses the KMS v1 API, deprecated since "
                                     "Kubernetes 1.28 and off by default since 1.29 (the "
                                     "API server does not start with it unless the KMSv1 "
                                     "feature gate is on)",
                                     getStr(p.config, "name")));
        f.rule = "kms-v1";
        sink.add(std::move(f));
      }
      if (i != 0) continue;  // the others only read
      if (p.type == "aesgcm") {
        Finding f = self.finding(o, p.node->pos, p.path,
                                 fmt::format("resources[{}] writes with aesgcm: its keys must be "
                                             "rotated before 2^32 writes each (a repeated nonce "
                                             "breaks the encryption), which is easy to miss",
                                             e.index));
        f.rule = "aesgcm";
        sink.add(std::move(f));
      } else if (p.type == "aescbc" || p.type == "secretbox") {
        Finding f = self.finding(
            o, p.node->pos, p.path,
            fmt::format("resources[{}] writes with {}: the key is in this file, on the "
                        "control-plane node's disk next to what it protects (a KMS keeps it "
                        "elsewhere)",
                        e.index, p.type));
        f.rule = "local-key";
        f.severity = Severity::kLow;
        sink.add(std::move(f));
      }
    }
  }
}

// --- encryption-config-invalid ------------------------------------------------------------------

constexpr CheckMeta kEncryptionInvalid{
    .id = "encryption-config-invalid",
    .title = "EncryptionConfiguration the API server refuses",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEncryption,
    .remediation =
        "Fix what the finding names: the API server reads the file at start and does "
        "not start with an invalid one (keys are base64 of 32 random bytes: head -c 32 "
        "/dev/urandom | base64).",
    .refs = kEncRefs,
};

void encryptionInvalid(const FileCheck& self, const Object& o, FindingSink& sink) {
  std::vector<Entry> entries = readEntries(o);
  auto add = [&](const Node* at, std::string path, std::string message) {
    sink.add(self.finding(o, (at ? at : o.root)->pos, std::move(path), std::move(message)));
  };
  std::set<std::pair<std::string, std::string>> seen;  // (group, resource) configured so far
  for (const Entry& e : entries) {
    std::string at = fmt::format("resources[{}]", e.index);
    if (e.resources.empty()) add(e.node, at + ".resources", "the entry names no resources");
    if (e.providers.empty()) add(e.node, at + ".providers", "the entry has no providers");
    // Masking: a later resource covered by an earlier wildcard.
    size_t k = 0;
    for (const auto& [group, resource] : e.resources) {
      const Node* item = seqOf(get(e.node, "resources"))[k];
      std::string item_path = fmt::format("{}.resources[{}]", at, k++);
      for (const auto& [g, r] :
           std::initializer_list<std::pair<std::string, std::string>>{{group, "*"}, {"*", "*"}})
        if (seen.count({g, r})) {
          add(item, item_path,
              fmt::format("resource \"{}\" is masked by earlier rule \"{}\"", item->text,
                          g == "*" ? "*.*" : "*." + g));
          break;
        }
      seen.insert({group, resource});  // as the API server does: at once, even in one entry
    }
    for (const Provider& p : e.providers) {
      if (p.type.empty()) {
        add(p.node, p.path,
            "a provider names exactly one of aescbc, aesgcm, secretbox, kms and identity");
        continue;
      }
      if (p.type == "kms") {
        if (getStr(p.config, "name").empty())
          add(p.config, p.path + ".kms.name", "a kms provider needs a name");
        std::string_view ep = getStr(p.config, "endpoint");
        if (!ep.starts_with("unix://"))
          add(get(p.config, "endpoint") ? get(p.config, "endpoint") : p.config,
              p.path + ".kms.endpoint",
              ep.empty() ? std::string("a kms provider needs an endpoint (unix:///path)")
                         : fmt::format("kms endpoint \"{}\" is not a unix socket (unix://)", ep));
        std::string v = kmsVersion(p);
        if (v != "v1" && v != "v2")
          add(get(p.config, "apiVersion"), p.path + ".kms.apiVersion",
              fmt::format("kms apiVersion \"{}\" is neither v1 nor v2", v));
        continue;
      }
      if (p.type == "identity") continue;
      const Node* keys = get(p.config, "keys");
      if (seqOf(keys).empty()) {
        add(p.config, p.path + "." + std::string(p.type) + ".keys",
            fmt::format("{} needs at least one key", p.type));
        continue;
      }
      std::set<std::string_view> names;
      size_t n = 0;
      for (const Node* key : seqOf(keys)) {
        std::string kp = fmt::format("{}.{}.keys[{}]", p.path, p.type, n++);
        std::string_view name = getStr(key, "name");
        if (name.empty())
          add(key, kp + ".name", "a key needs a name");
        else if (!names.insert(name).second)
          add(get(key, "name"), kp + ".name",
              fmt::format("key name \"{}\" is used twice in this provider", name));
        const Node* secret = get(key, "secret");
        auto bytes = secret ? base64Decode(secret->str()) : std::nullopt;
        if (!secret || secret->str().empty()) {
          add(key, kp + ".secret", "a key needs a secret");
        } else if (!bytes) {
          add(secret, kp + ".secret", "the key's secret is not base64");  // never the value
        } else {
          size_t len = bytes->size();
          bool ok = p.type == "secretbox" ? len == 32 : (len == 16 || len == 24 || len == 32);
          if (!ok)
            add(secret, kp + ".secret",
                fmt::format("the key's secret decodes to {} bytes; {} needs {}", len, p.type,
                            p.type == "secretbox" ? "32" : "16, 24 or 32"));
        }
      }
    }
  }
}

// --- encryption-sensitive-resources -------------------------------------------------------------

constexpr CheckMeta kEncryptionSensitive{
    .id = "encryption-sensitive-resources",
    .title = "EncryptionConfiguration encrypts Secrets but not ConfigMaps",
    .severity = Severity::kInfo,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEncryption,
    .remediation =
        "Move credentials out of ConfigMaps into Secrets; where ConfigMaps must hold "
        "sensitive data, add configmaps to the encrypting entry (reads get slower).",
    .refs = kEncRefs,
};

void sensitiveResources(const FileCheck& self, const Object& o, FindingSink& sink) {
  std::vector<Entry> entries = readEntries(o);
  auto encrypts = [](const Entry* e) {
    return e && !e->providers.empty() && !e->providers[0].type.empty() &&
           e->providers[0].type != "identity";
  };
  if (!encrypts(entryFor(entries, "", "secrets"))) return;  // plaintext's finding says more
  if (encrypts(entryFor(entries, "", "configmaps"))) return;
  const Node* at = get(o.root, "resources");
  sink.add(self.finding(o, (at ? at : o.root)->pos, "resources",
                        "Secrets are encrypted at rest but ConfigMaps are not: credentials kept "
                        "in ConfigMaps (the secrets-* checks find them) stay readable from etcd "
                        "and its backups"));
}

}  // namespace

void addEncryptionChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FileCheck>(kPlaintext, isEncryptionConfig, plaintext));
  out.push_back(std::make_unique<FileCheck>(kWeak, isEncryptionConfig, weak));
  out.push_back(
      std::make_unique<FileCheck>(kEncryptionInvalid, isEncryptionConfig, encryptionInvalid));
  out.push_back(
      std::make_unique<FileCheck>(kEncryptionSensitive, isEncryptionConfig, sensitiveResources));
}

}  // namespace kh
