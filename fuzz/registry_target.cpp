#include "fuzz/registry_target.h"

#include <string_view>

#include "base/strings.h"
#include "registry/auth.h"
#include "registry/pull_secrets.h"
#include "registry/reference.h"

namespace kh {

void fuzzRegistryOnce(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = registry::parseReference(text);
  if (r.ok()) {
    for (const std::string& form : {r->canonical(), r->familiar()}) {
      auto again = registry::parseReference(form);
      if (!again.ok() || again->domain != r->domain || again->repository != r->repository ||
          again->tag != r->tag || again->digest != r->digest)
        __builtin_trap();
    }
  } else if (r.error().message.empty()) {
    __builtin_trap();
  }
  auto p = registry::parsePlatform(text);
  if (p.ok() && registry::parsePlatform(p->str())->str() != p->str()) __builtin_trap();
  // The same bytes as a WWW-Authenticate header, a token answer, and base64.
  for (const registry::Challenge& c : registry::parseChallenges(text))
    if (c.scheme.empty()) __builtin_trap();
  auto t = registry::parseTokenResponse(text);
  if (t.ok() && (t->value.empty() || t->expires_in.count() < 60)) __builtin_trap();
  if (auto d = base64Decode(text); d && base64Decode(base64Encode(*d)) != d) __builtin_trap();
  // As a pull secret, and as a keyring key against a fixed image and against itself.
  auto ps = registry::parsePullSecret(text);
  if (!ps.ok() && ps.error().message.empty()) __builtin_trap();
  auto nginx = registry::parseReference("registry.example.com:5000/team/app:1");
  (void)registry::pullSecretKeyMatches(text, nginx.value());
  if (r.ok()) {
    std::vector<registry::PullSecretEntry> one = {{"ns/s", std::string(text), "u", "p"}};
    (void)registry::pullSecretsFor(one, r.value());
  }
}

}  // namespace kh
