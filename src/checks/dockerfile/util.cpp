#include "checks/dockerfile/util.h"

#include <fmt/format.h>

namespace kh::dockerfile_checks {

std::string pathOf(const Dockerfile& df, const Instruction& in, const Instruction* outer) {
  const Instruction& at = outer ? *outer : in;
  std::string stage;
  size_t first = 0;
  if (at.stage >= 0) {
    const dockerfile::Stage& st = df.stages[static_cast<size_t>(at.stage)];
    stage = st.name.text.empty() ? fmt::format("stage[{}].", at.stage)
                                 : fmt::format("stage[{}].", st.name.text);
    first = st.from;
  }
  size_t n = 0;
  for (size_t i = first; i < df.instructions.size(); ++i) {
    const Instruction& x = df.instructions[i];
    if (&x == &at) break;
    if (x.stage != at.stage) break;
    n += x.keyword == at.keyword;
  }
  std::string out = fmt::format("{}{}[{}]", stage, dockerfile::keywordName(at.keyword), n);
  if (outer) out += fmt::format(".{}", dockerfile::keywordName(in.keyword));
  return out;
}

void forEachInstruction(
    const Dockerfile& df,
    const std::function<void(const Instruction& in, const Instruction* outer)>& fn) {
  for (const Instruction& in : df.instructions) {
    fn(in, nullptr);
    if (in.inner) fn(*in.inner, &in);
  }
}

bool isFlagWord(std::string_view w) {
  return w.size() > 1 && w[0] == '-' && w != "--";
}

bool hasCacheMount(const Instruction& in, std::string_view dir) {
  for (const dockerfile::Flag& f : in.flags) {
    if (f.name != "mount" || f.value.find("type=cache") == std::string_view::npos) continue;
    if (dir.empty()) return true;
    for (std::string_view key : {"target=", "dst=", "destination="}) {
      size_t at = f.value.find(key);
      if (at == std::string_view::npos) continue;
      std::string_view t = f.value.substr(at + key.size());
      if (t.substr(0, t.find(',')).starts_with(dir)) return true;
    }
  }
  return false;
}

bool isArchiveName(std::string_view name, bool zip) {
  static constexpr std::string_view kExt[] = {
      ".tar",    ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz",  ".tar.zst",
      ".tar.lz", ".gz",     ".bz2", ".xz",      ".zst",  ".lz",     ".lzma", ".Z",
      ".tb2",    ".tbz",    ".tlz", ".tz2",     ".taz",  ".tz"};
  for (std::string_view e : kExt)
    if (name.ends_with(e)) return true;
  return zip && name.ends_with(".zip");
}

bool Cmd::hasArg(std::string_view a) const {
  for (const shell::Word& w : args)
    if (w.text == a) return true;
  return false;
}

bool Cmd::hasAnyArg(std::initializer_list<std::string_view> as) const {
  for (std::string_view a : as)
    if (hasArg(a)) return true;
  return false;
}

bool Cmd::hasFlag(std::string_view f) const {
  for (const shell::Word& w : args) {
    std::string_view t = w.text;
    if (!isFlagWord(t)) continue;
    if (t.starts_with("--")) {
      std::string_view name = t.substr(
          2, t.find('=') == std::string_view::npos ? std::string_view::npos : t.find('=') - 2);
      if (name == f) return true;
    } else if (f.size() == 1 && t.substr(1).find(f[0]) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

bool Cmd::hasAnyFlag(std::initializer_list<std::string_view> fs) const {
  for (std::string_view f : fs)
    if (hasFlag(f)) return true;
  return false;
}

std::vector<const shell::Word*> Cmd::argsNoFlags(
    std::span<const std::string_view> value_flags) const {
  std::vector<const shell::Word*> out;
  bool skip_next = false;
  for (const shell::Word& w : args) {
    if (skip_next) {
      skip_next = false;
      if (!isFlagWord(w.text)) continue;
    }
    if (isFlagWord(w.text)) {
      std::string_view t = w.text;
      for (std::string_view f : value_flags) {
        bool long_form = f.size() > 1;
        if ((long_form && t == fmt::format("--{}", f)) ||
            (!long_form && t.size() == 2 && t[1] == f[0]))
          skip_next = true;
      }
      continue;
    }
    out.push_back(&w);
  }
  return out;
}

SourcePos Cmd::pos() const {
  return in->posOf(*cmd, cmd->args[0]);
}

SourcePos Cmd::posOf(const shell::Word& w) const {
  return in->posOf(*cmd, w);
}

std::vector<Cmd> commandsOf(const Instruction& in) {
  std::vector<Cmd> out;
  for (const shell::Command& c : in.commands) {
    if (c.args.empty()) continue;
    out.push_back({&in, &c, shell::programName(c.args[0].text), c.args.subspan(1)});
  }
  return out;
}

}  // namespace kh::dockerfile_checks
