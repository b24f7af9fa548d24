#include "cli/trust.h"

#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace kh {

extern const char* const kTrustedRootJson;
extern const char* const kTrustedRootSource;

namespace {

constexpr int64_t kStaleDays = 180;

}  // namespace

std::string builtInTrustedRootSource() {
  return *kTrustedRootJson ? kTrustedRootSource : "none (pass --trusted-root)";
}

Result<sigstore::TrustedRoot> loadTrustedRoot(const std::string& path, const char* who) {
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{"cannot read the trusted root", path, {}};
    std::ostringstream ss;
    ss << in.rdbuf();
    return sigstore::parseTrustedRoot(ss.str(), path);
  }
  if (!*kTrustedRootJson)
    return Error{"this build has no Sigstore trusted root built in: pass --trusted-root", {}, {}};
  std::string source = kTrustedRootSource;
  if (size_t at = source.find("published "); at != std::string::npos) {
    auto published = sigstore::parseRfc3339(source.substr(at + 10, 10) + "T00:00:00Z");
    int64_t age =
        published ? (static_cast<int64_t>(std::time(nullptr)) - published.value()) / 86400 : 0;
    if (age > kStaleDays)
      std::fprintf(stderr,
                   "%s: warning: the built-in Sigstore trusted root (%s) is %lld days old: keys "
                   "rotated since are unknown to it; update kubeharden or pass --trusted-root\n",
                   who, source.c_str(), static_cast<long long>(age));
  }
  return sigstore::parseTrustedRoot(kTrustedRootJson, "the built-in trusted root (" + source + ")");
}

}  // namespace kh
