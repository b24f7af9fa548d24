// Registry authentication: the WWW-Authenticate challenges a registry answers 401 with (Bearer
// with realm, service and scope; Basic), and the token endpoint's answer.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace kh::registry {

struct Challenge {
  std::string scheme;                         // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lower case: realm, service, scope, error
  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
};

// Parses a WWW-Authenticate value (RFC 7235: schemes with comma-separated auth-params, quoted
// strings with escapes); several challenges in one value are split.
std::vector<Challenge> parseChallenges(std::string_view header);

struct Token {
  std::string value;
  std::chrono::seconds expires_in{60};  // the spec's default when the endpoint gives none
};

// The token endpoint's JSON: `access_token` before `token` (OAuth2 first, as the distribution
// spec says), `expires_in` (at least 60 s).
Result<Token> parseTokenResponse(std::string_view body);

// "Basic base64(user:password)".
std::string basicAuthorization(std::string_view user, std::string_view password);

}  // namespace kh::registry
