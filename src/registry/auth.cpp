#include "registry/auth.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <cctype>

#include "base/strings.h"

namespace kh::registry {
namespace {

bool tokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::vector<Challenge> parseChallenges(std::string_view h) {
  std::vector<Challenge> out;
  size_t i = 0;
  auto skipSpace = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) ++i;
  };
  auto readToken = [&] {
    size_t b = i;
    while (i < h.size() && tokenChar(h[i])) ++i;
    return h.substr(b, i - b);
  };
  while (true) {
    skipSpace();
    if (i >= h.size()) break;
    std::string_view tok = readToken();
    if (tok.empty()) {
      ++i;  // a stray character: skip it
      continue;
    }
    size_t save = i;
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
    if (i < h.size() && h[i] == '=' && !out.empty()) {
      // name=value of the current challenge
      ++i;
      while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
      std::string value;
      if (i < h.size() && h[i] == '"') {
        ++i;
        while (i < h.size() && h[i] != '"') {
          if (h[i] == '\\' && i + 1 < h.size()) ++i;
          value += h[i++];
        }
        if (i < h.size()) ++i;  // closing quote
      } else {
        size_t b = i;
        while (i < h.size() && h[i] != ',' && h[i] != ' ' && h[i] != '\t') ++i;
        value = std::string(h.substr(b, i - b));
      }
      out.back().params[lower(tok)] = std::move(value);
      continue;
    }
    i = save;
    Challenge c;
    c.scheme = lower(tok);
    out.push_back(std::move(c));
    // token68 (Basic xyz==) after the scheme: not used by registries; skipped as a stray token.
  }
  return out;
}

Result<Token> parseTokenResponse(std::string_view body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject())
    return Error{"the token endpoint did not answer with a JSON object", {}, {}};
  Token t;
  for (const char* key : {"access_token", "token"}) {
    auto it = d.FindMember(key);
    if (it != d.MemberEnd() && it->value.IsString() && it->value.GetStringLength() > 0) {
      t.value = it->value.GetString();
      break;
    }
  }
  if (t.value.empty()) return Error{"the token endpoint's answer holds no token", {}, {}};
  auto e = d.FindMember("expires_in");
  if (e != d.MemberEnd() && e->value.IsInt64() && e->value.GetInt64() >= 60)
    t.expires_in = std::chrono::seconds(std::min<int64_t>(e->value.GetInt64(), 86400));
  return t;
}

std::string basicAuthorization(std::string_view user, std::string_view password) {
  return "Basic " + base64Encode(std::string(user) + ":" + std::string(password));
}

}  // namespace kh::registry
