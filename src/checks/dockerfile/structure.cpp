// Dockerfile checks of the file's structure and instructions (hadolint's non-shell DL rules):
// base image tags, stages and COPY --from, CMD/ENTRYPOINT form and count, WORKDIR, EXPOSE,
// MAINTAINER, HEALTHCHECK, the first instruction, ONBUILD's limits.
#include <fmt/format.h>

#include <charconv>

#include "base/strings.h"
#include "checks/dockerfile/dockerfile_checks.h"
#include "checks/dockerfile/util.h"
#include "checks/util/image_ref.h"

namespace kh::dockerfile_checks {
namespace {

// Does a FROM name an earlier stage (or scratch), rather than an image from a registry?
bool namesStage(const Dockerfile&, const dockerfile::Stage& st) {
  return st.base_stage >= 0 || st.image_ref == "scratch";
}

constexpr CheckMeta kUntagged =
    dockerfileMeta("dockerfile-untagged-image", "Base image without a tag", Severity::kLow, true,
                   "Name the version of the base image (FROM debian:12.8), or better its digest "
                   "(FROM debian:12.8@sha256:...), so the build does not change under you.",
                   {.checkov = "CKV_DOCKER_7", .hadolint = "DL3006"});

constexpr CheckMeta kLatest = dockerfileMeta(
    "dockerfile-latest-tag", "Base image uses the latest tag", Severity::kMedium, true,
    "Pin the base image to a version tag, or better to a digest; :latest moves, so two builds of "
    "one commit can ship different software.",
    {.trivy = "DS-0001", .checkov = "CKV_DOCKER_7", .hadolint = "DL3007"});

void baseImageTag(const FnCheck& self, const Object& o, FindingSink& sink, bool latest) {
  const Dockerfile& df = *o.dockerfile;
  for (const dockerfile::Stage& st : df.stages) {
    if (namesStage(df, st)) continue;
    std::string_view ref = st.image_ref;
    if (ref.find('$') != std::string_view::npos) continue;  // an ARG without a default
    auto parsed = parseImageRef(ref);
    if (!parsed) continue;
    const Instruction& from = df.instructions[st.from];
    if (!latest && parsed->implicit_tag()) {
      sink.add(self.finding(o, st.image.pos, pathOf(df, from),
                            fmt::format("FROM {} names no tag, so it means :latest", ref)));
    } else if (latest && parsed->digest.empty() && parsed->tag == "latest") {
      sink.add(self.finding(o, st.image.pos, pathOf(df, from),
                            fmt::format("FROM {} uses the :latest tag", ref)));
    }
  }
}

void untagged(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  baseImageTag(self, o, sink, false);
}
void latestTag(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  baseImageTag(self, o, sink, true);
}

constexpr CheckMeta kDigest = dockerfileMeta(
    "dockerfile-base-not-pinned", "Base image not pinned by digest", Severity::kLow, false,
    "Add the digest of the image you tested (FROM debian:12.8@sha256:...) and let a bot such as "
    "Renovate or Dependabot propose updates.",
    {});

void notPinned(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  for (const dockerfile::Stage& st : df.stages) {
    if (namesStage(df, st) || st.image_ref.find('$') != std::string_view::npos) continue;
    auto parsed = parseImageRef(st.image_ref);
    if (!parsed || !parsed->digest.empty()) continue;
    sink.add(self.finding(o, st.image.pos, pathOf(df, df.instructions[st.from]),
                          fmt::format("FROM {} is not pinned by digest", st.image_ref)));
  }
}

constexpr CheckMeta kCopyFromUnknown = dockerfileMeta(
    "dockerfile-copy-from-unknown", "COPY --from names no earlier stage", Severity::kLow, true,
    "Name a stage defined above with FROM ... AS <name>, or the full image reference when you "
    "mean an image.",
    {.hadolint = "DL3022"});

constexpr CheckMeta kCopyFromSelf = dockerfileMeta(
    "dockerfile-copy-from-self", "COPY --from names its own stage", Severity::kMedium, true,
    "Copy from an earlier stage; a stage cannot read its own result.", {.hadolint = "DL3023"});

// COPY --from=<x>: a stage alias, a stage index, or an image reference.
void copyFrom(const FnCheck& self, const Object& o, FindingSink& sink, bool self_ref) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kCopy) return;
    const dockerfile::Flag* f = in.flag("from");
    if (!f || f->value.empty()) return;
    std::string_view from = f->value;
    int32_t stage = in.stage;
    if (self_ref) {
      if (stage >= 0 && !df.stages[static_cast<size_t>(stage)].name.text.empty() &&
          iequals(df.stages[static_cast<size_t>(stage)].name.text, from))
        sink.add(self.finding(o, f->pos, pathOf(df, in, outer),
                              fmt::format("COPY --from={} names the stage it is in", from)));
      return;
    }
    // Image references (with a registry, tag or digest) and stage numbers are fine.
    if (from.find_first_of(":/@$") != std::string_view::npos) return;
    if (!from.empty() &&
        std::all_of(from.begin(), from.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return;
    for (int32_t s = 0; s < stage; ++s)
      if (iequals(df.stages[static_cast<size_t>(s)].name.text, from)) return;
    sink.add(self.finding(o, f->pos, pathOf(df, in, outer),
                          fmt::format("COPY --from={} names no stage defined before it", from)));
  });
}

void copyFromUnknown(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  copyFrom(self, o, sink, false);
}
void copyFromSelf(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  copyFrom(self, o, sink, true);
}

constexpr CheckMeta kDuplicateStage = dockerfileMeta(
    "dockerfile-duplicate-stage", "Two stages share a name", Severity::kMedium, true,
    "Give every stage its own name: COPY --from and --target pick one of them silently.",
    {.hadolint = "DL3024"});

void duplicateStage(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  for (size_t i = 0; i < df.stages.size(); ++i) {
    const dockerfile::Word& name = df.stages[i].name;
    if (name.text.empty()) continue;
    for (size_t j = 0; j < i; ++j) {
      if (!iequals(df.stages[j].name.text, name.text)) continue;
      sink.add(self.finding(o, name.pos, pathOf(df, df.instructions[df.stages[i].from]),
                            fmt::format("stage name {} is already used on line {}", name.text,
                                        df.stages[j].name.pos.line)));
      break;
    }
  }
}

constexpr CheckMeta kJsonCmd = dockerfileMeta(
    "dockerfile-cmd-shell-form", "CMD or ENTRYPOINT in shell form", Severity::kLow, true,
    "Write CMD and ENTRYPOINT as JSON arrays (CMD [\"nginx\", \"-g\", \"daemon off;\"]): in "
    "shell form the program runs under /bin/sh -c, is not PID 1 and does not receive SIGTERM.",
    {.hadolint = "DL3025"});

void jsonCmd(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kCmd && in.keyword != Keyword::kEntrypoint) return;
    if (in.exec_form || in.args.empty()) return;
    sink.add(self.finding(
        o, in.pos, pathOf(df, in, outer),
        fmt::format("{} is in shell form: {}", keywordName(in.keyword), in.args.substr(0, 80))));
  });
}

constexpr CheckMeta kMultipleCmd = dockerfileMeta(
    "dockerfile-multiple-cmd", "More than one CMD in a stage", Severity::kLow, true,
    "Keep one CMD per stage: only the last one takes effect.", {.hadolint = "DL4003"});
constexpr CheckMeta kMultipleEntrypoint = dockerfileMeta(
    "dockerfile-multiple-entrypoint", "More than one ENTRYPOINT in a stage", Severity::kLow, true,
    "Keep one ENTRYPOINT per stage: only the last one takes effect.", {.hadolint = "DL4004"});
constexpr CheckMeta kMultipleHealthcheck = dockerfileMeta(
    "dockerfile-multiple-healthcheck", "More than one HEALTHCHECK in a stage", Severity::kLow, true,
    "Keep one HEALTHCHECK per stage: only the last one takes effect.", {.hadolint = "DL3012"});

void multiple(const FnCheck& self, const Object& o, FindingSink& sink, Keyword k) {
  const Dockerfile& df = *o.dockerfile;
  int32_t stage = -2;
  uint32_t first_line = 0;
  for (const Instruction& in : df.instructions) {
    if (in.keyword != k) continue;
    if (in.stage != stage) {
      stage = in.stage;
      first_line = in.pos.line;
      continue;
    }
    sink.add(self.finding(o, in.pos, pathOf(df, in),
                          fmt::format("another {} in this stage (the first is on line {}); only "
                                      "the last one takes effect",
                                      keywordName(k), first_line)));
  }
}

void multipleCmd(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  multiple(self, o, sink, Keyword::kCmd);
}
void multipleEntrypoint(const FnCheck& self, const Object& o, const CheckContext&,
                        FindingSink& sink) {
  multiple(self, o, sink, Keyword::kEntrypoint);
}
void multipleHealthcheck(const FnCheck& self, const Object& o, const CheckContext&,
                         FindingSink& sink) {
  multiple(self, o, sink, Keyword::kHealthcheck);
}

constexpr CheckMeta kWorkdir = dockerfileMeta(
    "dockerfile-workdir-relative", "WORKDIR is a relative path", Severity::kLow, true,
    "Use an absolute WORKDIR (/app): a relative one depends on every WORKDIR before it.",
    {.hadolint = "DL3000"});

void workdir(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kWorkdir || in.words.empty()) return;
    std::string_view dir = in.words[0].text;
    // Absolute POSIX or Windows paths, and variables (their value is not known here).
    bool absolute =
        dir.starts_with('/') || dir.starts_with('$') ||
        (dir.size() >= 2 && dir[1] == ':' && std::isalpha(static_cast<unsigned char>(dir[0])));
    if (absolute) return;
    sink.add(self.finding(o, in.words[0].pos, pathOf(df, in, outer),
                          fmt::format("WORKDIR {} is relative", dir)));
  });
}

constexpr CheckMeta kExposeRange = dockerfileMeta(
    "dockerfile-expose-invalid", "EXPOSE names a port outside 0-65535", Severity::kMedium, true,
    "EXPOSE port numbers between 0 and 65535, optionally with /tcp or /udp.",
    {.hadolint = "DL3011"});

void exposeRange(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  forEachInstruction(df, [&](const Instruction& in, const Instruction* outer) {
    if (in.keyword != Keyword::kExpose) return;
    for (const dockerfile::Word& w : in.words) {
      std::string_view spec = w.text.substr(0, w.text.find('/'));
      if (spec.find('$') != std::string_view::npos) continue;
      size_t dash = spec.find('-');
      auto valid = [](std::string_view part) {
        unsigned long n = 0;
        auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
        return !part.empty() && ec == std::errc() && ptr == part.data() + part.size() && n <= 65535;
      };
      if (valid(spec.substr(0, dash)) &&
          (dash == std::string_view::npos || valid(spec.substr(dash + 1))))
        continue;
      sink.add(self.finding(o, w.pos, pathOf(df, in, outer),
                            fmt::format("EXPOSE {}: not a port between 0 and 65535", w.text)));
    }
  });
}

constexpr CheckMeta kMaintainer =
    dockerfileMeta("dockerfile-maintainer", "MAINTAINER is deprecated", Severity::kInfo, true,
                   "Replace MAINTAINER with LABEL org.opencontainers.image.authors=\"...\".",
                   {.hadolint = "DL4000"});

void maintainer(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  for (const Instruction& in : df.instructions)
    if (in.keyword == Keyword::kMaintainer)
      sink.add(self.finding(o, in.pos, pathOf(df, in), "MAINTAINER is deprecated"));
}

constexpr CheckMeta kFirst = dockerfileMeta(
    "dockerfile-first-instruction", "The Dockerfile does not start with FROM or ARG",
    Severity::kMedium, true,
    "Start with FROM (after any ARG the FROM uses): nothing can run before a base image.",
    {.hadolint = "DL3061"});

void firstInstruction(const FnCheck& self, const Object& o, const CheckContext&,
                      FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  for (const Instruction& in : df.instructions) {
    if (in.keyword == Keyword::kFrom) return;
    if (in.keyword == Keyword::kArg) continue;
    sink.add(self.finding(o, in.pos, pathOf(df, in),
                          fmt::format("{} before the first FROM", keywordName(in.keyword))));
    return;
  }
}

constexpr CheckMeta kOnbuild = dockerfileMeta(
    "dockerfile-onbuild-invalid", "ONBUILD wraps FROM, MAINTAINER or ONBUILD", Severity::kMedium,
    true, "ONBUILD cannot trigger FROM, MAINTAINER or another ONBUILD; remove it.",
    {.hadolint = "DL3043"});

void onbuild(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  for (const Instruction& in : df.instructions) {
    if (!in.inner) continue;
    Keyword k = in.inner->keyword;
    if (k != Keyword::kFrom && k != Keyword::kMaintainer && k != Keyword::kOnbuild) continue;
    sink.add(self.finding(o, in.inner->pos, pathOf(df, *in.inner, &in),
                          fmt::format("ONBUILD {} is not allowed", keywordName(k))));
  }
}

constexpr CheckMeta kHealthcheck = dockerfileMeta(
    "dockerfile-no-healthcheck", "The image defines no HEALTHCHECK", Severity::kLow, false,
    "Add a HEALTHCHECK to the final stage so a runtime that honours it (Docker, Compose) can "
    "restart a hung container; Kubernetes uses probes instead, so this check is opt-in.",
    {.trivy = "DS-0026", .checkov = "CKV_DOCKER_2", .hadolint = "DL3057"});

void noHealthcheck(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Dockerfile& df = *o.dockerfile;
  if (df.stages.empty()) return;
  const dockerfile::Stage& last = df.stages.back();
  for (uint32_t i = last.from; i < last.end; ++i)
    if (df.instructions[i].keyword == Keyword::kHealthcheck) return;
  // A HEALTHCHECK of the stage it builds on counts too.
  for (int32_t s = last.base_stage; s >= 0; s = df.stages[static_cast<size_t>(s)].base_stage) {
    const dockerfile::Stage& st = df.stages[static_cast<size_t>(s)];
    for (uint32_t i = st.from; i < st.end; ++i)
      if (df.instructions[i].keyword == Keyword::kHealthcheck) return;
  }
  const Instruction& from = df.instructions[last.from];
  sink.add(self.finding(o, from.pos, pathOf(df, from), "the final stage defines no HEALTHCHECK"));
}

}  // namespace
}  // namespace kh::dockerfile_checks

namespace kh {

void addDockerfileStructureChecks(std::vector<std::unique_ptr<Check>>& out) {
  using namespace dockerfile_checks;
  out.push_back(std::make_unique<FnCheck>(kDigest, notPinned));
  out.push_back(std::make_unique<FnCheck>(kJsonCmd, jsonCmd));
  out.push_back(std::make_unique<FnCheck>(kCopyFromSelf, copyFromSelf));
  out.push_back(std::make_unique<FnCheck>(kCopyFromUnknown, copyFromUnknown));
  out.push_back(std::make_unique<FnCheck>(kDuplicateStage, duplicateStage));
  out.push_back(std::make_unique<FnCheck>(kExposeRange, exposeRange));
  out.push_back(std::make_unique<FnCheck>(kFirst, firstInstruction));
  out.push_back(std::make_unique<FnCheck>(kLatest, latestTag));
  out.push_back(std::make_unique<FnCheck>(kMaintainer, maintainer));
  out.push_back(std::make_unique<FnCheck>(kMultipleCmd, multipleCmd));
  out.push_back(std::make_unique<FnCheck>(kMultipleEntrypoint, multipleEntrypoint));
  out.push_back(std::make_unique<FnCheck>(kMultipleHealthcheck, multipleHealthcheck));
  out.push_back(std::make_unique<FnCheck>(kHealthcheck, noHealthcheck));
  out.push_back(std::make_unique<FnCheck>(kOnbuild, onbuild));
  out.push_back(std::make_unique<FnCheck>(kUntagged, untagged));
  out.push_back(std::make_unique<FnCheck>(kWorkdir, workdir));
}

}  // namespace kh
