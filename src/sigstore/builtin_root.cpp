#include "sigstore/builtin_root.h"

#include <fmt/format.h>

#include <ctime>

#include "base/strings.h"

namespace kh {
// Defined in the generated trusted_root.cpp (scripts/embed_trusted_root.cmake).
extern const char* const kTrustedRootJson;
extern const char* const kTrustedRootSource;
}  // namespace kh

namespace kh::sigstore {

namespace {
constexpr int64_t kStaleDays = 180;
}  // namespace

std::string builtInRootSource() {
  return *kTrustedRootJson ? kTrustedRootSource : "";
}

Result<TrustedRoot> loadTrustedRoot(const std::string& path, std::string* warning, int64_t now) {
  if (!path.empty()) {
    std::string text;
    if (!readFileTo(path, text)) return Error{"cannot read the trusted root", path, {}};
    return parseTrustedRoot(text, path);
  }
  if (!*kTrustedRootJson)
    return Error{"this build has no Sigstore trusted root built in: pass --trusted-root", {}, {}};
  std::string source = kTrustedRootSource;
  if (size_t at = source.find("published "); at != std::string::npos && warning) {
    auto published = parseRfc3339(source.substr(at + 10, 10) + "T00:00:00Z");
    int64_t age =
        published
            ? ((now ? now : static_cast<int64_t>(std::time(nullptr))) - published.value()) / 86400
            : 0;
    if (age > kStaleDays)
      *warning = fmt::format(
          "the built-in Sigstore trusted root ({}) is {} days old: keys rotated since are "
          "unknown to it; update kubeharden or pass --trusted-root",
          source, age);
  }
  return parseTrustedRoot(kTrustedRootJson, "the built-in trusted root (" + source + ")");
}

}  // namespace kh::sigstore
