// The Dockerfile parser and the shell splitter: every piece of syntax with its positions, the
// errors with their lines, and shell scripts as the shell reads them.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dockerfile/parser.h"
#include "dockerfile/shell.h"
#include "load/loader.h"

namespace kh::dockerfile {
namespace {

struct Parsed {
  Arena arena;
  std::vector<Diagnostic> diags;
  const Dockerfile* df = nullptr;
  std::optional<Error> error;
};

std::unique_ptr<Parsed> parseText(std::string_view text) {
  auto p = std::make_unique<Parsed>();
  auto r = parse(text, "Dockerfile", p->arena, p->diags);
  if (r)
    p->df = r.value();
  else
    p->error = r.error();
  return p;
}

std::vector<std::string> texts(std::span<const Word> words) {
  std::vector<std::string> out;
  for (const Word& w : words) out.emplace_back(w.text);
  return out;
}

using Strings = std::vector<std::string>;

TEST(DockerfileParser, InstructionsFlagsFormsAndPositions) {
  auto p = parseText(R"(# syntax=docker/dockerfile:1.7
# a comment
ARG BASE=debian:12
from ${BASE} AS Build
RUN --mount=type=cache,target=/var/cache/apt --network=none \
    apt-get update && \
    # comment lines inside a continuation are dropped
    apt-get install -y curl
COPY --from=build --chown=app:app ["/src dir/a", "/dst/"]
CMD ["nginx", "-g", "daemon off;"]
ENV A=1 B="two words" C=three\ words
ENV LEGACY value with spaces
LABEL "org.opencontainers.image.source"="https://example.com" version=1
EXPOSE 80/tcp 443
HEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1
USER app:app
)");
  ASSERT_FALSE(p->error) << p->error->describe();
  const Dockerfile& d = *p->df;
  ASSERT_EQ(d.directives.size(), 1u);
  EXPECT_EQ(d.directives[0].name, "syntax");
  EXPECT_EQ(d.directives[0].value, "docker/dockerfile:1.7");
  ASSERT_EQ(d.comments.size(), 2u);
  EXPECT_EQ(d.comments[0].text, "a comment");
  EXPECT_EQ(d.comments[1].pos.line, 7u);
  ASSERT_EQ(d.instructions.size(), 11u);

  const Instruction& arg = d.instructions[0];
  EXPECT_EQ(arg.keyword, Keyword::kArg);
  ASSERT_EQ(arg.pairs.size(), 1u);
  EXPECT_EQ(arg.pairs[0].key.text, "BASE");
  EXPECT_EQ(arg.pairs[0].value.text, "debian:12");
  EXPECT_EQ(arg.stage, -1);

  const Instruction& from = d.instructions[1];
  EXPECT_EQ(from.keyword, Keyword::kFrom);
  EXPECT_EQ(from.name, "from");
  EXPECT_EQ(from.pos, (SourcePos{4, 1}));
  ASSERT_EQ(d.stages.size(), 1u);
  EXPECT_EQ(d.stages[0].image.text, "${BASE}");
  EXPECT_EQ(d.stages[0].image_ref, "debian:12");
  EXPECT_EQ(d.stages[0].name.text, "Build");
  EXPECT_EQ(d.stages[0].name.pos, (SourcePos{4, 17}));

  const Instruction& run = d.instructions[2];
  EXPECT_EQ(run.keyword, Keyword::kRun);
  EXPECT_EQ(run.stage, 0);
  EXPECT_EQ(run.end_line, 8u);
  ASSERT_EQ(run.flags.size(), 2u);
  EXPECT_EQ(run.flags[0].name, "mount");
  EXPECT_EQ(run.flags[0].value, "type=cache,target=/var/cache/apt");
  EXPECT_EQ(run.flags[0].pos, (SourcePos{5, 5}));
  EXPECT_EQ(run.flags[1].name, "network");
  EXPECT_EQ(run.args, "apt-get update &&     apt-get install -y curl");
  EXPECT_FALSE(run.exec_form);
  // Positions inside the joined text map back to their lines.
  EXPECT_EQ(run.posAt(0), (SourcePos{6, 5}));
  size_t curl = run.args.find("curl");
  EXPECT_EQ(run.posAt(curl), (SourcePos{8, 24}));

  const Instruction& copy = d.instructions[3];
  EXPECT_TRUE(copy.exec_form);
  EXPECT_EQ(texts(copy.words), (Strings{"/src dir/a", "/dst/"}));
  EXPECT_EQ(copy.words[1].pos, (SourcePos{9, 50}));
  EXPECT_EQ(copy.flag("from")->value, "build");
  EXPECT_EQ(copy.flag("chown")->value, "app:app");

  EXPECT_TRUE(d.instructions[4].exec_form);
  EXPECT_EQ(texts(d.instructions[4].words), (Strings{"nginx", "-g", "daemon off;"}));

  const Instruction& env = d.instructions[5];
  ASSERT_EQ(env.pairs.size(), 3u);
  EXPECT_EQ(env.pairs[1].key.text, "B");
  EXPECT_EQ(env.pairs[1].value.text, "two words");
  EXPECT_EQ(env.pairs[2].value.text, "three words");
  EXPECT_EQ(env.pairs[2].key.pos, (SourcePos{11, 23}));
  const Instruction& legacy = d.instructions[6];
  ASSERT_EQ(legacy.pairs.size(), 1u);
  EXPECT_EQ(legacy.pairs[0].key.text, "LEGACY");
  EXPECT_EQ(legacy.pairs[0].value.text, "value with spaces");

  const Instruction& label = d.instructions[7];
  ASSERT_EQ(label.pairs.size(), 2u);
  EXPECT_EQ(label.pairs[0].key.text, "org.opencontainers.image.source");
  EXPECT_EQ(label.pairs[0].value.text, "https://example.com");

  EXPECT_EQ(texts(d.instructions[8].words), (Strings{"80/tcp", "443"}));
  const Instruction& hc = d.instructions[9];
  EXPECT_EQ(hc.flag("interval")->value, "30s");
  EXPECT_EQ(hc.words[0].text, "CMD");
  EXPECT_FALSE(hc.exec_form);
  EXPECT_EQ(texts(d.instructions[10].words), (Strings{"app:app"}));
}

TEST(DockerfileParser, EscapeDirectiveAndBacktickContinuations) {
  auto p = parseText(
      "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
      "RUN powershell -Command `\n    Write-Host C:\\path\\ `\n    done\n");
  ASSERT_FALSE(p->error) << p->error->describe();
  EXPECT_EQ(p->df->escape, '`');
  const Instruction& run = p->df->instructions[1];
  EXPECT_EQ(run.args, "powershell -Command     Write-Host C:\\path\\     done");
  EXPECT_EQ(run.end_line, 5u);
  // A backslash at the end of a line is no continuation under `escape=``.
  auto q = parseText("# escape=`\nFROM x\nRUN echo a\\\nRUN echo b\n");
  ASSERT_FALSE(q->error);
  EXPECT_EQ(q->df->instructions.size(), 3u);
  // Directives only at the top: after a comment it is a comment.
  auto c = parseText("# hello\n# escape=`\nFROM x\nRUN a \\\n b\n");
  ASSERT_FALSE(c->error);
  EXPECT_EQ(c->df->escape, '\\');
  EXPECT_EQ(c->df->instructions[1].args, "a  b");
  auto bad = parseText("# escape=x\nFROM x\n");
  ASSERT_TRUE(bad->error);
  EXPECT_EQ(bad->error->pos.line, 1u);
  auto twice = parseText("# syntax=a\n# SYNTAX=b\nFROM x\n");
  ASSERT_TRUE(twice->error);
  EXPECT_NE(twice->error->message.find("only one syntax"), std::string::npos);
}

TEST(DockerfileParser, Heredocs) {
  auto p = parseText(R"(FROM alpine
RUN <<EOF
apk add --no-cache curl
echo done
EOF
COPY <<-"CONF" /etc/app.conf <<OTHER /etc/other
	key=$value
	CONF
second
OTHER
RUN cat <<'X' > /a && echo "<<NOT" <<<here
text
X
RUN echo after
)");
  ASSERT_FALSE(p->error) << p->error->describe();
  const auto& in = p->df->instructions;
  ASSERT_EQ(in.size(), 5u);
  ASSERT_EQ(in[1].heredocs.size(), 1u);
  EXPECT_EQ(in[1].heredocs[0].delimiter, "EOF");
  EXPECT_EQ(in[1].heredocs[0].body, "apk add --no-cache curl\necho done\n");
  EXPECT_EQ(in[1].heredocs[0].body_pos, (SourcePos{3, 1}));
  EXPECT_EQ(in[1].end_line, 5u);
  ASSERT_EQ(in[2].heredocs.size(), 2u);
  EXPECT_TRUE(in[2].heredocs[0].strip_tabs);
  EXPECT_TRUE(in[2].heredocs[0].quoted);
  EXPECT_EQ(in[2].heredocs[0].body, "key=$value\n");
  EXPECT_EQ(in[2].heredocs[1].delimiter, "OTHER");
  EXPECT_EQ(in[2].heredocs[1].body, "second\n");
  ASSERT_EQ(in[3].heredocs.size(), 1u) << "quoted << and <<< are no heredocs";
  EXPECT_EQ(in[3].heredocs[0].delimiter, "X");
  EXPECT_EQ(in[4].args, "echo after");
  auto open = parseText("FROM a\nRUN <<EOF\necho\n");
  ASSERT_TRUE(open->error);
  EXPECT_NE(open->error->message.find("unterminated heredoc <<EOF"), std::string::npos);
  EXPECT_EQ(open->error->pos, (SourcePos{2, 5}));
}

TEST(DockerfileParser, OnbuildStagesAndErrors) {
  auto p = parseText(R"(FROM golang:1.22 AS builder
ONBUILD RUN go build ./...
ONBUILD copy --chown=1000 . /src
FROM builder AS test
FROM --platform=$BUILDPLATFORM scratch
COPY --from=builder /out /app
)");
  ASSERT_FALSE(p->error) << p->error->describe();
  const auto& in = p->df->instructions;
  ASSERT_TRUE(in[1].inner);
  EXPECT_EQ(in[1].inner->keyword, Keyword::kRun);
  EXPECT_EQ(in[1].inner->args, "go build ./...");
  EXPECT_EQ(in[1].inner->pos, (SourcePos{2, 9}));
  EXPECT_EQ(in[1].inner->stage, 0);
  ASSERT_TRUE(in[2].inner);
  EXPECT_EQ(in[2].inner->flag("chown")->value, "1000");
  EXPECT_EQ(in[2].inner->posAt(0), (SourcePos{3, 27}));
  ASSERT_EQ(p->df->stages.size(), 3u);
  EXPECT_EQ(p->df->stages[1].base_stage, 0);
  EXPECT_EQ(p->df->stages[2].platform, "$BUILDPLATFORM");
  EXPECT_EQ(in[5].stage, 2);

  struct Bad {
    std::string text, message;
    uint32_t line;
  };
  for (const Bad& b : std::vector<Bad>{
           {"FROM a\nFOO bar\n", "unknown instruction: FOO", 2},
           {"FROM\n", "FROM requires at least one argument", 1},
           {"FROM a b\n", "FROM requires either one or three arguments", 1},
           {"FROM a IS b\n", "expected 'AS'", 1},
           {"FROM a\nSHELL /bin/bash -c\n", "SHELL requires the arguments to be in JSON form", 2},
           {"FROM a\nENV x\n", "needs a value", 2},
           {"FROM a\nLABEL a=b c\n", "without a value", 2},
       }) {
    SCOPED_TRACE(b.text);
    auto r = parseText(b.text);
    ASSERT_TRUE(r->error);
    EXPECT_NE(r->error->message.find(b.message), std::string::npos) << r->error->message;
    EXPECT_EQ(r->error->pos.line, b.line);
    EXPECT_EQ(r->error->file, "Dockerfile");
  }
  auto empty = parseText("# only a comment\n\n");
  ASSERT_FALSE(empty->error);
  ASSERT_EQ(empty->diags.size(), 1u);
  EXPECT_EQ(empty->diags[0].code, "dockerfile-empty");
}

TEST(DockerfileParser, JsonThatIsNotJsonIsShellForm) {
  auto p = parseText(
      "FROM a\nCMD [\"a\", 'b']\nRUN [ -f x ] && echo\nCMD [\"x\"] extra\n"
      "ENTRYPOINT [\"\\u00e9\\n\"]\n");
  ASSERT_FALSE(p->error) << p->error->describe();
  EXPECT_FALSE(p->df->instructions[1].exec_form);
  EXPECT_FALSE(p->df->instructions[2].exec_form);
  EXPECT_FALSE(p->df->instructions[3].exec_form);
  ASSERT_TRUE(p->df->instructions[4].exec_form);
  EXPECT_EQ(p->df->instructions[4].words[0].text, "\xc3\xa9\n");
}

TEST(DockerfileParser, ExpandAndNames) {
  std::vector<Var> vars = {{"A", "1"}, {"EMPTY", ""}, {"UNSET", "", false}};
  EXPECT_EQ(
      expand("x$A-${A}-${B:-def}-${EMPTY:-e}-${EMPTY-e}-${A:+alt}-${UNSET+s}\\$A", '\\', vars),
      "x1-1-def-e--alt-$A");
  EXPECT_EQ(expand("$", '\\', vars), "$");
  for (std::string_view n : {"Dockerfile", "Containerfile", "api.Dockerfile", "x.dockerfile",
                             "Dockerfile.prod", "dir/Dockerfile"})
    EXPECT_TRUE(kh::isDockerfileName(n)) << n;
  for (std::string_view n : {"Dockerfiles", "MyDockerfile", "Dockerfile.", "docker-compose.yaml"})
    EXPECT_FALSE(kh::isDockerfileName(n)) << n;
}

// --- the shell splitter -----------------------------------------------------------------

struct Split {
  Arena arena;
  shell::Script script;
};

std::vector<std::string> commandLines(std::string_view text, std::string* error = nullptr) {
  Arena arena;
  shell::Script s = shell::parse(text, arena);
  if (error) *error = std::string(s.error);
  std::vector<std::string> out;
  for (const shell::Command& c : s.commands) {
    std::string line(c.depth, '>');
    // fmt, not chained std::string + (GCC 12 warns falsely of overlapping memcpy there)
    for (const shell::Word& a : c.assignments) line += fmt::format("[{}] ", a.text);
    for (size_t i = 0; i < c.args.size(); ++i)
      line += fmt::format("{}{}", i ? " " : "", c.args[i].text);
    static const char* ops[] = {"", " &&", " ||", " ;", " |", " &"};
    line += ops[static_cast<int>(c.next)];
    out.push_back(line);
  }
  return out;
}

TEST(DockerfileShell, CommandsWordsAndOperators) {
  EXPECT_EQ(
      commandLines("apt-get update && apt-get install -y --no-install-recommends "
                   "'foo=1.2' \"bar\"=2 && rm -rf /var/lib/apt/lists/*"),
      (Strings{"apt-get update &&", "apt-get install -y --no-install-recommends foo=1.2 bar=2 &&",
               "rm -rf /var/lib/apt/lists/*"}));
  EXPECT_EQ(commandLines("curl -sSL https://x | sh -s -- -y; wget -O- y |& bash || true"),
            (Strings{"curl -sSL https://x |", "sh -s -- -y ;", "wget -O- y |", "bash ||", "true"}));
  EXPECT_EQ(commandLines("DEBIAN_FRONTEND=noninteractive A=b apt-get -qq install x 2>&1 "
                         ">/dev/null </dev/null"),
            (Strings{"[DEBIAN_FRONTEND=noninteractive] [A=b] apt-get -qq install x"}));
  EXPECT_EQ(commandLines("cd /src && (make && make install) && { echo a; echo b; }"),
            (Strings{"cd /src &&", ">make &&", ">make install ;", ">echo a ;", ">echo b ;"}));
  // Substitutions are listed (one level deeper) before the command that uses them.
  EXPECT_EQ(commandLines("export V=$(cat /v | tr -d x) && echo \"`uname -m` $V\""),
            (Strings{">cat /v |", ">tr -d x", "export V=$(cat /v | tr -d x) &&", ">uname -m",
                     "echo `uname -m` $V"}));
  // Compound commands: reserved words are no commands.
  EXPECT_EQ(commandLines("if [ -f /a ]; then\n  apk add x\nelse\n  yum install -y y\nfi\n"
                         "for p in a b; do pip install $p; done\n"
                         "case \"$ARCH\" in\n  amd64|x86_64) A=1 ;;\n  *) echo no ;;\nesac\n"
                         "while read -r l; do echo \"$l\"; done < /f\nf() { ls; }\n"),
            (Strings{"[ -f /a ] ;", "apk add x ;", "yum install -y y ;", "pip install $p ;",
                     "echo no ;", "read -r l ;", "echo $l ;", ">ls ;"}));
  // Comments, escapes, line continuations, heredocs inside the script.
  EXPECT_EQ(commandLines("echo a\\ b # c && d\ncat <<EOF > /x\nnot && a command\nEOF\nls \\\n  -l"),
            (Strings{"echo a b ;", "cat ;", "ls -l"}));
}

TEST(DockerfileShell, OffsetsAndFlags) {
  Arena arena;
  std::string_view text = "apt-get install  -y \"curl\" $PKG";
  shell::Script s = shell::parse(text, arena);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.commands.size(), 1u);
  const auto& a = s.commands[0].args;
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[2].offset, 17u);
  EXPECT_EQ(a[3].text, "curl");
  EXPECT_TRUE(a[3].quoted);
  EXPECT_EQ(a[3].offset, 20u);
  EXPECT_EQ(a[3].length, 6u);
  EXPECT_FALSE(a[2].quoted);
  EXPECT_TRUE(a[4].expansion);
  EXPECT_EQ(shell::programName("/usr/bin/apt-get"), "apt-get");
}

TEST(DockerfileShell, UnparsableScriptsKeepWhatWasRead) {
  for (std::string_view bad :
       {"echo 'open", "echo \"open", "echo $(open", "echo `open", "echo ${open", "a && echo $'x"}) {
    SCOPED_TRACE(bad);
    std::string err;
    auto cmds = commandLines(bad, &err);
    EXPECT_FALSE(err.empty());
  }
  std::string err;
  auto cmds = commandLines("apk add x && echo 'open", &err);
  EXPECT_EQ(err, "unterminated single quote");
  ASSERT_GE(cmds.size(), 1u);
  EXPECT_EQ(cmds[0], "apk add x &&");
}

}  // namespace
}  // namespace kh::dockerfile
