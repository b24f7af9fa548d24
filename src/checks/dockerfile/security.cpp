// Dockerfile security checks that judge what the image will be: the user it runs as, secrets
// written into it, content fetched by ADD, the SSH port. They share their judgement with the
// image-config-* checks (checks/util/image_rules.h, checks/secrets/rules.h).
#include <fmt/format.h>

#include "checks/dockerfile/dockerfile_checks.h"
#include "checks/dockerfile/util.h"
#include "checks/secrets/rules.h"
#include "checks/util/image_rules.h"

namespace kh::dockerfile_checks {
namespace {

constexpr CheckMeta kRootUser = dockerfileMeta(
    "dockerfile-root-user", "The image runs as root", Severity::kHigh, true,
    "End the final stage with USER and a non-root numeric UID (USER 10001), after the steps that "
    "need root, so a container started without runAsUser does not run as root.",
    {.nsa = "Non-root containers",
     .mitre = "T1611",
     .trivy = "DS-0002",
     .checkov = "CKV_DOCKER_3,CKV_DOCKER_8",
     .hadolint = "DL3002"});

// The final stage's user: its last USER, else that of the stage it builds on (FROM <stage>).
void rootUser(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  if (df.stages.empty()) return;
  for (int32_t s = static_cast<int32_t>(df.stages.size()) - 1; s >= 0;
       s = df.stages[static_cast<size_t>(s)].base_stage) {
    const dockerfile::Stage& st = df.stages[static_cast<size_t>(s)];
    for (uint32_t i = st.end; i-- > st.from;) {
      const Instruction& in = df.instructions[i];
      if (in.keyword != Keyword::kUser || in.words.empty()) continue;
      std::string_view user = in.words[0].text;
      if (user.find('$') != std::string_view::npos || !isRootUser(user)) return;
      sink.add(self.finding(o, in.words[0].pos, pathOf(df, in),
                            fmt::format("the final stage runs as USER {}", user)));
      return;
    }
    if (st.base_stage < 0) break;
  }
  const dockerfile::Stage& last = df.stages.back();
  const dockerfile::Stage* base = &last;  // the image at the bottom of the stage chain
  while (base->base_stage >= 0) base = &df.stages[static_cast<size_t>(base->base_stage)];
  // (FROM scratch without USER runs as UID 0: an empty image has no user of its own.)
  const Instruction& from = df.instructions[last.from];
  sink.add(self.finding(o, from.pos, pathOf(df, from),
                        fmt::format("the final stage sets no USER, so it runs as the user of its "
                                    "base image {}, root unless that image says otherwise",
                                    base->image_ref)));
}

constexpr CheckMeta kSecret = dockerfileMeta(
    "dockerfile-secret-in-env", "ENV or ARG holds a credential", Severity::kCritical, true,
    "Pass secrets at build time with RUN --mount=type=secret (docker build --secret) and at run "
    "time from a Kubernetes Secret; ENV values stay in the image config and ARG values in its "
    "history, readable by anyone who can pull it.",
    {});

// A credential-named ARG without a value is filled by `--build-arg` at build time; docker
// records every build argument in scope in the history of each RUN layer after it, so the value
// ships in the image when that happens in the final stage (or one it builds on).
void buildArgSecrets(const FnCheck& self, const Object& o, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  if (df.stages.empty()) return;
  for (int32_t s = static_cast<int32_t>(df.stages.size()) - 1; s >= 0;
       s = df.stages[static_cast<size_t>(s)].base_stage) {
    const dockerfile::Stage& st = df.stages[static_cast<size_t>(s)];
    for (uint32_t i = st.from; i < st.end; ++i) {
      const Instruction& in = df.instructions[i];
      if (in.keyword != Keyword::kArg) continue;
      bool run_after = false;
      for (uint32_t j = i + 1; j < st.end && !run_after; ++j)
        run_after = df.instructions[j].keyword == Keyword::kRun;
      if (!run_after) continue;
      for (const dockerfile::Pair& p : in.pairs) {
        if (p.has_value || !isCredentialName(p.key.text) || namesDigest(p.key.text)) continue;
        sink.add(self.finding(o, p.key.pos, pathOf(df, in),
                              fmt::format("ARG {} takes a credential from --build-arg: docker "
                                          "records it in the history of the RUN layers after it",
                                          p.key.text)));
      }
    }
    if (st.base_stage < 0) break;
  }
}

void secretEnv(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  buildArgSecrets(self, o, sink);
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kEnv && in.keyword != Keyword::kArg) return;
    for (const dockerfile::Pair& p : in.pairs) {
      if (!p.has_value || p.value.text.empty() || namesDigest(p.key.text)) continue;
      std::string_view v = p.value.text;
      if (v.starts_with('$')) continue;  // set from another variable
      std::string what;
      bool known = false;
      if (auto rule = matchSecretValue(v)) {
        what = std::string(rule->title);
        known = true;
      } else if (isCredentialName(p.key.text) && looksLikeSecretLiteral(v)) {
        what = "literal credential";
      } else {
        continue;
      }
      sink.add(
          self.finding(o, p.value.pos, pathOf(df, in, outer),
                       fmt::format("{} {} holds a {} ({}): {}", keywordName(in.keyword), p.key.text,
                                   what, redact(v, known),
                                   in.keyword == Keyword::kEnv ? "it stays in the image config"
                                                               : "it stays in the image history")));
    }
  });
}

constexpr CheckMeta kCopySecret = dockerfileMeta(
    "dockerfile-copy-credentials", "COPY or ADD puts a credential file into the image",
    Severity::kHigh, true,
    "Mount the file for the one RUN that needs it (RUN --mount=type=secret,id=npmrc,"
    "target=/root/.npmrc npm ci, with docker build --secret id=npmrc,src=.npmrc); a file "
    "copied into a layer stays in the image even when a later RUN deletes it.",
    {});

// File names that hold credentials by convention.
bool credentialFile(std::string_view path) {
  std::string_view name = path.substr(
      path.find_last_of('/') == std::string_view::npos ? 0 : path.find_last_of('/') + 1);
  static constexpr std::string_view kNames[] = {
      ".npmrc",     ".pypirc",      ".netrc",           ".git-credentials",
      ".dockercfg", "id_rsa",       "id_dsa",           "id_ecdsa",
      "id_ed25519", "credentials",  "credentials.json", "service-account.json",
      "kubeconfig", ".vault-token", ".pgpass",          "htpasswd",
      ".htpasswd"};
  for (std::string_view n : kNames)
    if (name == n) return true;
  if (path.ends_with(".docker/config.json") || path.ends_with(".kube/config") ||
      path.ends_with(".aws/credentials") || path.ends_with(".ssh/id_rsa"))
    return true;
  for (std::string_view ext : {".pem", ".key", ".p12", ".pfx", ".jks", ".keystore"})
    if (name.ends_with(ext) && name.size() > ext.size()) return true;
  return false;
}

void copySecret(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if ((in.keyword != Keyword::kCopy && in.keyword != Keyword::kAdd) || in.words.size() < 2 ||
        !in.heredocs.empty())
      return;
    for (size_t i = 0; i + 1 < in.words.size(); ++i) {
      std::string_view src = in.words[i].text;
      if (!credentialFile(src) || isRemoteSource(src)) continue;
      sink.add(self.finding(o, in.words[i].pos, pathOf(df, in, outer),
                            fmt::format("{} {} copies a credential file into a layer",
                                        keywordName(in.keyword), src)));
    }
  });
}

constexpr CheckMeta kAddRemote = dockerfileMeta(
    "dockerfile-add-remote", "ADD fetches a URL without a checksum", Severity::kMedium, true,
    "Download with RUN curl and verify a checksum, or give ADD --checksum=sha256:... so the "
    "build fails when the content changes.",
    {});

void addRemote(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kAdd || in.flag("checksum") || in.words.size() < 2) return;
    for (size_t i = 0; i + 1 < in.words.size(); ++i) {
      if (!isRemoteSource(in.words[i].text)) continue;
      sink.add(self.finding(o, in.words[i].pos, pathOf(df, in, outer),
                            fmt::format("ADD {} without --checksum: the content is whatever the "
                                        "server sends at build time",
                                        in.words[i].text)));
    }
  });
}

constexpr CheckMeta kAddCopy = dockerfileMeta(
    "dockerfile-add-instead-of-copy", "ADD used for local files", Severity::kLow, true,
    "Use COPY for files and directories of the build context; ADD also extracts archives and "
    "fetches URLs, which a reader of the Dockerfile may not expect.",
    {.trivy = "DS-0005", .checkov = "CKV_DOCKER_4", .hadolint = "DL3020"});

void addCopy(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kAdd || in.words.size() < 2 || !in.heredocs.empty()) return;
    for (size_t i = 0; i + 1 < in.words.size(); ++i) {
      std::string_view src = in.words[i].text;
      if (isRemoteSource(src) || isArchiveName(src, false) ||
          src.find('$') != std::string_view::npos)
        continue;
      sink.add(self.finding(o, in.pos, pathOf(df, in, outer),
                            fmt::format("ADD {} copies a local file: use COPY", src)));
      return;
    }
  });
}

constexpr CheckMeta kSsh = dockerfileMeta(
    "dockerfile-ssh-port", "The image exposes port 22", Severity::kLow, true,
    "Do not run an SSH server in a container; use kubectl exec (audited, RBAC-controlled) to get "
    "a shell.",
    {.trivy = "DS-0004", .checkov = "CKV_DOCKER_1"});

void ssh(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kExpose) return;
    for (const dockerfile::Word& w : in.words)
      if (isSshPort(w.text))
        sink.add(self.finding(o, w.pos, pathOf(df, in, outer), "EXPOSE 22: the image offers SSH"));
  });
}

}  // namespace
}  // namespace kh::dockerfile_checks

namespace kh {

void addDockerfileSecurityChecks(std::vector<std::unique_ptr<Check>>& out) {
  using namespace dockerfile_checks;
  out.push_back(std::make_unique<FnCheck>(kAddCopy, addCopy));
  out.push_back(std::make_unique<FnCheck>(kAddRemote, addRemote));
  out.push_back(std::make_unique<FnCheck>(kCopySecret, copySecret));
  out.push_back(std::make_unique<FnCheck>(kRootUser, rootUser));
  out.push_back(std::make_unique<FnCheck>(kSecret, secretEnv));
  out.push_back(std::make_unique<FnCheck>(kSsh, ssh));
}

}  // namespace kh
