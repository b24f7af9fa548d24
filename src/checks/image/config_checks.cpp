// Checks of a container image's own configuration (the OCI image config: USER, ENV, EXPOSE,
// HEALTHCHECK, and the build history), run by `kubeharden image scan` on an object of kind
// ImageConfig (apiVersion kubeharden.io/v1) that holds the config as the image carries it:
//   image-config-root-user, image-config-secret-env, image-config-add-remote,
//   image-config-ssh-port, and the opt-in image-config-no-healthcheck.
#include <fmt/format.h>

#include <cctype>

#include "base/strings.h"
#include "checks/image/image_checks.h"
#include "checks/secrets/rules.h"
#include "checks/util/image_rules.h"

namespace kh {
namespace {

constexpr std::string_view kImageConfigKind[] = {"ImageConfig"};

constexpr CheckMeta kRootUser{
    .id = "image-config-root-user",
    .title = "Image runs as root",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kImageConfigKind,
    .remediation =
        "Add a USER instruction with a non-root numeric UID (USER 10001) after the steps that "
        "need root, so a pod without runAsUser does not run as root.",
    .refs = {.nsa = "Non-root containers", .mitre = "T1611", .trivy = "DS-0002"},
};

constexpr CheckMeta kSecretEnv{
    .id = "image-config-secret-env",
    .title = "Secret in the image's environment or build arguments",
    .severity = Severity::kCritical,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kImageConfigKind,
    .remediation =
        "Rotate the credential: anyone who can pull the image can read it. Pass secrets at run "
        "time (a Kubernetes Secret, a mounted file) and at build time with BuildKit secret "
        "mounts (RUN --mount=type=secret), never ENV or ARG.",
    .refs = {.nsa = "Secrets", .mitre = "T1552", .trivy = "DS-0031"},
};

constexpr CheckMeta kAddRemote{
    .id = "image-config-add-remote",
    .title = "Image was built with ADD of a remote URL",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kImageConfigKind,
    .remediation =
        "Download with a pinned checksum instead (ADD --checksum=sha256:... or RUN curl ... && "
        "sha256sum -c), or COPY a file fetched and verified before the build.",
    .refs = {.nsa = "Image scanning and provenance", .mitre = "T1195", .trivy = "DS-0005"},
};

constexpr CheckMeta kSshPort{
    .id = "image-config-ssh-port",
    .title = "Image exposes the SSH port",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kImageConfigKind,
    .remediation =
        "Do not run an SSH server in a container; use kubectl exec or debug containers, and "
        "remove EXPOSE 22.",
    .refs = {.nsa = "Hardening container environments", .mitre = "T1021", .trivy = "DS-0004"},
};

constexpr CheckMeta kNoHealthcheck{
    .id = "image-config-no-healthcheck",
    .title = "Image has no HEALTHCHECK",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,  // the kubelet ignores HEALTHCHECK: probes do this in a cluster
    .scope = Scope::kKinds,
    .kinds = kImageConfigKind,
    .remediation =
        "Add a HEALTHCHECK for runtimes that use it (Docker, Compose); in Kubernetes define "
        "liveness and readiness probes instead.",
    .refs = {.trivy = "DS-0026"},
};

const Node* config(const Object& o) {
  return get(o.root, "config");
}

void rootUser(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const MapEntry* e = getEntry(config(o), "User");
  std::string_view user = e ? e->value->str() : std::string_view();
  if (!isRootUser(user)) return;
  sink.add(self.finding(o, e ? e->key_pos : o.root->pos, "config.User",
                        user.empty() ? std::string("the image sets no USER, so it runs as root")
                                     : fmt::format("the image runs as USER {}", user)));
}

// "NAME=value" entries of ENV, and "|N NAME=value ... cmd" build arguments in the history.
void secretAssignment(const FnCheck& self, const Object& o, const Node* at, const std::string& path,
                      std::string_view name, std::string_view value, std::string_view where,
                      FindingSink& sink) {
  if (namesDigest(name)) return;
  std::string what;
  bool known = false;
  if (auto rule = matchSecretValue(value)) {
    what = std::string(rule->title);
    known = true;
  } else if (isCredentialName(name) && looksLikeSecretLiteral(value)) {
    what = "literal credential";
  } else {
    return;
  }
  sink.add(self.finding(o, at->pos, path,
                        fmt::format("{} {} holds a {} ({}): it is readable by anyone who can "
                                    "pull the image",
                                    where, name, what, redact(value, known))));
}

void secretEnv(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  auto env = seqOf(get(config(o), "Env"));
  for (size_t i = 0; i < env.size(); ++i) {
    std::string_view kv = env[i]->str();
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    secretAssignment(self, o, env[i], fmt::format("config.Env[{}]", i), kv.substr(0, eq),
                     kv.substr(eq + 1), "ENV", sink);
  }
  auto history = seqOf(get(o.root, "history"));
  for (size_t i = 0; i < history.size(); ++i) {
    std::string_view cmd = trim(getStr(history[i], "created_by"));
    // RUN steps record the build arguments they saw: "|2 A=1 B=2 /bin/sh -c ...".
    if (!cmd.starts_with("|")) continue;
    size_t sp = cmd.find(' ');
    if (sp == std::string_view::npos) continue;
    int n = 0;
    for (char c : cmd.substr(1, sp - 1)) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return;
      n = n * 10 + (c - '0');
    }
    std::string_view rest = trim(cmd.substr(sp + 1));
    for (int k = 0; k < n && !rest.empty(); ++k) {
      size_t end = rest.find(' ');
      std::string_view arg = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : trim(rest.substr(end + 1));
      size_t eq = arg.find('=');
      if (eq == std::string_view::npos) continue;
      secretAssignment(self, o, history[i], fmt::format("history[{}].created_by", i),
                       arg.substr(0, eq), arg.substr(eq + 1), "build argument", sink);
    }
  }
}

void addRemote(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  auto history = seqOf(get(o.root, "history"));
  for (size_t i = 0; i < history.size(); ++i) {
    std::string_view cmd = trim(getStr(history[i], "created_by"));
    // Classic builder: "/bin/sh -c #(nop) ADD <src> in <dst>"; BuildKit: "ADD <src> <dst> #
    // buildkit".
    if (size_t nop = cmd.find("#(nop) "); nop != std::string_view::npos)
      cmd = trim(cmd.substr(nop + 7));
    if (!cmd.starts_with("ADD ")) continue;
    bool checksum = cmd.find("--checksum=") != std::string_view::npos;
    for (std::string_view word : splitTrimmed(cmd.substr(4), ' ')) {
      if (word.starts_with("--")) continue;
      if (!isRemoteSource(word) || checksum) continue;
      sink.add(self.finding(o, history[i]->pos, fmt::format("history[{}].created_by", i),
                            fmt::format("layer built with ADD {} without a checksum: the "
                                        "content is whatever the server sent at build time",
                                        word)));
      break;
    }
  }
}

void sshPort(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const MapEntry& e : mapOf(get(config(o), "ExposedPorts"))) {
    if (!isSshPort(e.key)) continue;
    sink.add(self.finding(o, e.key_pos, fmt::format("config.ExposedPorts.{}", e.key),
                          "the image exposes port 22 (SSH)"));
  }
}

void noHealthcheck(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* hc = get(config(o), "Healthcheck");
  auto test = seqOf(get(hc, "Test"));
  bool none = test.empty() || test[0]->str() == "NONE";
  if (!none) return;
  sink.add(self.finding(
      o, hc ? hc->pos : o.root->pos, "config.Healthcheck",
      hc ? "the image disables its HEALTHCHECK (NONE)" : "the image defines no HEALTHCHECK"));
}

}  // namespace

void addImageConfigChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kAddRemote, addRemote));
  out.push_back(std::make_unique<FnCheck>(kNoHealthcheck, noHealthcheck));
  out.push_back(std::make_unique<FnCheck>(kRootUser, rootUser));
  out.push_back(std::make_unique<FnCheck>(kSecretEnv, secretEnv));
  out.push_back(std::make_unique<FnCheck>(kSshPort, sshPort));
}

}  // namespace kh
