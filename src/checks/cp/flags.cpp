#include "checks/cp/flags.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "base/strings.h"

namespace kh {

namespace {

// Splits a shell command line on blanks, honouring simple quotes (enough for manifests that
// wrap a component in `sh -c`; nothing here is executed).
std::vector<std::string> shellWords(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  bool in_word = false;
  for (char ch : s) {
    if (quote) {
      if (ch == quote)
        quote = 0;
      else
        cur += ch;
      continue;
    }
    if (ch == '\'' || ch == '"') {
      quote = ch;
      in_word = true;
    } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\\') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += ch;
      in_word = true;
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

struct Token {
  std::string text;
  SourcePos pos;
  std::string path;
};

}  // namespace

FlagSet FlagSet::parse(const ContainerRef& c, std::span<const std::string_view> bool_flags) {
  FlagSet fs;
  std::vector<Token> tokens;
  for (std::string_view field : {"command", "args"}) {
    const MapEntry* e = c.node->entry(field);
    if (!e) continue;
    if (fs.missing_path_.empty()) {
      fs.missing_pos_ = e->key_pos;
      fs.missing_path_ = c.path + "." + std::string(field);
    }
    uint32_t i = 0;
    for (const Node* n : e->value->seqItems())
      tokens.push_back(
          {std::string(n->text), n->pos, fmt::format("{}.{}[{}]", c.path, field, i++)});
  }
  if (fs.missing_path_.empty()) {
    fs.missing_pos_ = c.node->pos;
    fs.missing_path_ = c.path;
  }
  // sh -c "kube-apiserver --a=b ...": the script's words replace the wrapper.
  if (tokens.size() >= 3 && tokens[0].text.ends_with("sh") && tokens[1].text == "-c") {
    Token script = tokens[2];
    std::vector<Token> words;
    for (std::string& w : shellWords(script.text)) {
      // `exec kube-apiserver ...` and `VAR=x kube-apiserver ...` run the same binary.
      bool prefix = words.empty() &&
                    (w == "exec" || (w.find('=') != std::string::npos && !w.starts_with("-")));
      if (!prefix) words.push_back({w, script.pos, script.path});
    }
    tokens = std::move(words);
  }
  if (!tokens.empty() && !tokens[0].text.starts_with("-")) {
    std::string_view bin = tokens[0].text;
    fs.binary_ = std::string(bin.substr(bin.rfind('/') + 1));
  }
  auto is_bool = [&](std::string_view n) {
    for (std::string_view b : bool_flags)
      if (b == n) return true;
    return false;
  };
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string_view t = tokens[i].text;
    if (!t.starts_with("-") || t == "-" || t == "--") continue;
    t.remove_prefix(t.starts_with("--") ? 2 : 1);
    std::string name, value;
    if (size_t eq = t.find('='); eq != std::string_view::npos) {
      name = std::string(t.substr(0, eq));
      value = std::string(t.substr(eq + 1));
    } else if (is_bool(t)) {
      name = std::string(t);
      value = "true";
    } else {
      name = std::string(t);
      if (i + 1 < tokens.size() && !tokens[i + 1].text.starts_with("-")) value = tokens[++i].text;
    }
    fs.flags_[name].push_back({value, tokens[i].pos, tokens[i].path});
  }
  return fs;
}

void FlagSet::addEnvironment(const ContainerRef& c, std::string_view prefix) {
  const Node* env = get(c.node, "env");
  uint32_t i = 0;
  for (const Node* e : seqOf(env)) {
    uint32_t idx = i++;
    std::string_view name = getStr(e, "name");
    const MapEntry* v = e->entry("value");
    if (!name.starts_with(prefix) || !v) continue;
    std::string flag = toLower(name.substr(prefix.size()));
    std::replace(flag.begin(), flag.end(), '_', '-');
    if (flags_.count(flag)) continue;
    flags_[flag].push_back(
        {std::string(v->value->text), v->key_pos, fmt::format("{}.env[{}].value", c.path, idx)});
  }
}

const FlagValue* FlagSet::last(std::string_view name) const {
  auto it = flags_.find(name);
  return it == flags_.end() || it->second.empty() ? nullptr : &it->second.back();
}

std::vector<std::string> FlagSet::list(std::string_view name) const {
  std::vector<std::string> out;
  auto it = flags_.find(name);
  if (it == flags_.end()) return out;
  for (const FlagValue& v : it->second)
    for (std::string_view item : splitTrimmed(v.value, ',')) out.emplace_back(item);
  return out;
}

bool strongCipherSuite(std::string_view name) {
  static constexpr std::string_view kStrong[] = {
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
  };
  return std::find(std::begin(kStrong), std::end(kStrong), name) != std::end(kStrong);
}

std::optional<int> kubernetesMinorFromImage(std::string_view image) {
  if (size_t at = image.find('@'); at != std::string_view::npos) image = image.substr(0, at);
  size_t colon = image.rfind(':');
  if (colon == std::string_view::npos || image.find('/', colon) != std::string_view::npos)
    return std::nullopt;
  std::string_view tag = image.substr(colon + 1);
  if (tag.starts_with('v')) tag.remove_prefix(1);
  if (!tag.starts_with("1.")) return std::nullopt;
  tag.remove_prefix(2);
  int minor = 0;
  auto [p, ec] = std::from_chars(tag.data(), tag.data() + tag.size(), minor);
  if (ec != std::errc() || p == tag.data()) return std::nullopt;
  return minor;
}

}  // namespace kh
