// Dockerfiles in `kubeharden scan` and `kubeharden dockerfile lint`: found in directories next to
// manifests, reported in every format with their lines, parse errors with file:line (exit 3)
// while the other inputs are still scanned, and hadolint's and kubeharden's pragmas honoured as
// suppressions.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/unit/test_util.h"

namespace kh::test {
namespace {

constexpr const char* kDockerfile = R"(FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 \
    && rm -rf /var/lib/apt/lists/* && curl -fsSL https://get.example.com | sh
USER 10001
)";

constexpr const char* kPod = R"(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  containers: [{name: c, image: nginx:1.27, securityContext: {privileged: true}}]
)";

TEST(DockerfileCli, ScanReadsManifestsAndDockerfilesInEveryFormat) {
  TempDir d;
  d.write("app/Dockerfile", kDockerfile);
  d.write("app/worker.Dockerfile", "FROM alpine:3.20\nRUN apk add curl\n");
  d.write("app/Dockerfile.prod", "FROM scratch\nCOPY app /app\nUSER 10001\n");
  d.write("k8s/pod.yaml", kPod);
  d.write("k8s/notes.txt", "FROM x\n");  // neither a manifest nor a Dockerfile: not read
  auto text = runCli("scan --fail-on none .", d.path());
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("./app/Dockerfile:3:39 high dockerfile-curl-pipe-shell"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("./app/worker.Dockerfile:2:5 info dockerfile-apk-cache"),
            std::string::npos);
  EXPECT_NE(text.out.find("./k8s/pod.yaml"), std::string::npos);
  EXPECT_NE(text.out.find("4 files, 4 objects"), std::string::npos) << text.out;
  // The exit code covers both kinds of input.
  EXPECT_EQ(runCli("scan --fail-on high .", d.path()).exit_code, 1);

  auto json = runCli("scan --fail-on none -f json .", d.path());
  rapidjson::Document doc;
  doc.Parse(json.out.c_str());
  ASSERT_FALSE(doc.HasParseError());
  bool found = false;
  for (const auto& f : doc["findings"].GetArray()) {
    if (std::string(f["check"].GetString()) != "dockerfile-curl-pipe-shell") continue;
    found = true;
    EXPECT_STREQ(f["object"]["kind"].GetString(), "Dockerfile");
    EXPECT_STREQ(f["object"]["name"].GetString(), "./app/Dockerfile");
    EXPECT_EQ(f["line"].GetInt(), 3);
    EXPECT_STREQ(f["path"].GetString(), "stage[0].RUN[0]");
  }
  EXPECT_TRUE(found) << json.out;

  auto sarif = runCli("scan --fail-on none -f sarif .", d.path());
  EXPECT_NE(sarif.out.find(R"("uri":"app/Dockerfile")"), std::string::npos) << sarif.out;
  EXPECT_NE(sarif.out.find(R"("startLine":3,"startColumn":39)"), std::string::npos);
  auto junit = runCli("scan --fail-on none -f junit .", d.path());
  EXPECT_NE(junit.out.find("dockerfile-curl-pipe-shell"), std::string::npos);

  // --no-dockerfiles keeps the manifest-only behaviour.
  auto manifests = runCli("scan --fail-on none --no-dockerfiles .", d.path());
  EXPECT_EQ(manifests.out.find("dockerfile-"), std::string::npos);
  EXPECT_NE(manifests.out.find("1 files, 1 objects"), std::string::npos) << manifests.out;
}

TEST(DockerfileCli, LintExplicitFilesStdinAndErrors) {
  TempDir d;
  std::string odd = d.write("build/recipe", "FROM ubuntu\n");
  std::string pod = d.write("pod.yaml", kPod);
  // `dockerfile lint` reads only Dockerfiles and runs only their checks.
  auto lint = runCli("dockerfile lint --fail-on none .", d.path());
  EXPECT_EQ(lint.exit_code, 3) << "no Dockerfile in the tree";
  EXPECT_NE(lint.err.find("no Dockerfiles found"), std::string::npos) << lint.err;
  auto named = runCli("dockerfile lint --fail-on none " + odd, d.path());
  EXPECT_EQ(named.exit_code, 0) << named.err;
  EXPECT_NE(named.out.find("dockerfile-untagged-image"), std::string::npos) << named.out;
  // scan: --dockerfile for a file of another name, next to manifests.
  auto scan = runCli("scan --fail-on none --dockerfile " + odd + " " + pod, d.path());
  EXPECT_NE(scan.out.find("dockerfile-untagged-image"), std::string::npos) << scan.out;
  EXPECT_NE(scan.out.find("pod-privileged"), std::string::npos);
  // stdin.
  auto in =
      runCli("scan --fail-on none --stdin-kind dockerfile -", d.path(), "FROM nginx:latest\n");
  EXPECT_NE(in.out.find("<stdin>:1:6 medium dockerfile-latest-tag"), std::string::npos) << in.out;
  auto lint_in = runCli("dockerfile lint --fail-on none -", d.path(), "FROM nginx:latest\n");
  EXPECT_NE(lint_in.out.find("dockerfile-latest-tag"), std::string::npos) << lint_in.out;
  EXPECT_EQ(runCli("scan --stdin-kind yaml -", d.path(), "").exit_code, 2);

  // A malformed Dockerfile: file:line and exit 3; the other inputs are still scanned.
  d.write("bad/Dockerfile", "FROM debian:12\nRUN <<EOF\necho never closed\n");
  auto bad = runCli("scan --fail-on none .", d.path());
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("./bad/Dockerfile:2:5: unterminated heredoc <<EOF"), std::string::npos)
      << bad.err;
  EXPECT_NE(bad.out.find("pod-privileged"), std::string::npos) << bad.out;
  d.write("bad/Dockerfile", "FROM debian:12\nFETCH x\n");
  bad = runCli("scan --fail-on none .", d.path());
  EXPECT_NE(bad.err.find("./bad/Dockerfile:2:1: unknown instruction: FETCH"), std::string::npos)
      << bad.err;
}

TEST(DockerfileCli, PragmasSuppressWithTheirReason) {
  TempDir d;
  d.write("Dockerfile", R"(# hadolint global ignore=DL3003
FROM debian:12
# hadolint ignore=DL3008,DL3015
RUN apt-get install -y curl \
    && cd /tmp
RUN apt-get install -y wget
# kubeharden ignore=dockerfile-sudo reason="the vendor's installer needs it" until=2999-01-01
RUN sudo make install
# kubeharden ignore=dockerfile-chmod-777
RUN chmod 777 /srv
# hadolint ignore=DL9999
USER 10001
)");
  auto r = runCli("scan --fail-on none -f json .", d.path());
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.out;
  std::map<std::string, std::vector<std::pair<int, bool>>> seen;  // check -> (line, suppressed)
  std::map<std::string, std::string> reasons;
  for (const auto& f : doc["findings"].GetArray()) {
    std::string id = f["check"].GetString();
    seen[id].emplace_back(f["line"].GetInt(), f["suppressed"].GetBool());
    if (f.HasMember("suppression") && f["suppression"].IsObject())
      reasons[id + ":" + std::to_string(f["line"].GetInt())] =
          f["suppression"]["reason"].GetString();
  }
  using Hits = std::vector<std::pair<int, bool>>;
  // DL3008 and DL3015 on the first RUN only (lines 4-5); the second RUN is reported.
  EXPECT_EQ(seen["dockerfile-apt-unpinned"], (Hits{{4, true}, {6, false}}));
  EXPECT_EQ(seen["dockerfile-apt-recommends"], (Hits{{4, true}, {6, false}}));
  EXPECT_EQ(seen["dockerfile-cd"], (Hits{{5, true}})) << "global ignore covers the file";
  EXPECT_EQ(seen["dockerfile-sudo"], (Hits{{8, true}}));
  EXPECT_EQ(reasons["dockerfile-sudo:8"], "the vendor's installer needs it");
  EXPECT_EQ(reasons["dockerfile-apt-unpinned:4"], "hadolint pragma on line 3");
  EXPECT_EQ(seen["dockerfile-chmod-777"], (Hits{{10, true}}));
  // A kubeharden pragma without a reason works and is said; an unknown code is said.
  std::string diags;
  for (const auto& g : doc["diagnostics"].GetArray())
    diags += g["code"].GetString() + std::string(" ");
  EXPECT_NE(diags.find("ignore-without-reason"), std::string::npos) << r.out;
  EXPECT_NE(diags.find("unknown-check"), std::string::npos) << r.out;
  // --no-inline-ignores disregards them all.
  auto all = runCli("scan --fail-on none --no-inline-ignores .", d.path());
  EXPECT_EQ(all.out.find("suppressed)"), std::string::npos);
  EXPECT_NE(all.out.find("0 suppressed"), std::string::npos) << all.out;
  // An expired until lapses.
  d.write("Dockerfile",
          "FROM debian:12\n# kubeharden ignore=dockerfile-sudo reason=\"x\" "
          "until=2000-01-01\nRUN sudo true\nUSER 1\n");
  auto lapsed = runCli("scan --fail-on none .", d.path());
  EXPECT_NE(lapsed.out.find("medium dockerfile-sudo"), std::string::npos) << lapsed.out;
}

}  // namespace
}  // namespace kh::test
