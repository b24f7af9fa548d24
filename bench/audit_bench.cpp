// `make bench`, audit logs: a generated log of about 1 GB (tests/unit/audit_gen.h: controllers,
// kubelets, leases and people, with planted suspicious requests) read by `kubeharden audit
// detect` on one thread; the time, the throughput, the peak memory, and whether every planted
// request was reported and nothing else. Then `audit rbac` for one person over the same log.
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "bench/child.h"
#include "tests/unit/audit_gen.h"
#include "tests/unit/test_util.h"

namespace {

using kh::bench::ChildRun;

ChildRun run(const std::vector<std::string>& args, const std::string& out_file) {
  return kh::bench::runChild(args, out_file);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kh_audit_bench KUBEHARDEN [MB]\n");
    return 2;
  }
  std::string kh = argv[1];
  uint64_t mb = argc > 2 ? std::stoull(argv[2]) : 1024;
  kh::test::TempDir dir;
  std::string log = dir.path() + "/audit.log";
  FILE* f = std::fopen(log.c_str(), "wb");
  if (!f) return 1;
  kh::test::AuditGenOptions o;
  o.requests = UINT64_MAX;
  o.max_bytes = mb << 20;
  o.planted_every = 5000;
  auto g0 = std::chrono::steady_clock::now();
  kh::test::AuditGenStats st = kh::test::generateAuditLog(
      o, [&](std::string_view s) { std::fwrite(s.data(), 1, s.size(), f); });
  std::fclose(f);
  double gen = std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count();
  uint64_t planted = 0;
  for (const auto& [id, n] : st.planted) planted += n;
  std::printf("generated %.0f MB: %llu requests, %llu events, %llu planted (%.1f s)\n",
              st.bytes / 1e6, static_cast<unsigned long long>(st.requests),
              static_cast<unsigned long long>(st.events), static_cast<unsigned long long>(planted),
              gen);

  std::string out = dir.path() + "/report.json";
  ChildRun r =
      run({kh, "audit", "detect", log, "--threads", "1", "--fail-on", "none", "-f", "json"}, out);
  std::string json = kh::test::readFile(out);
  rapidjson::Document d;
  d.Parse(json.c_str());
  std::map<std::string, uint64_t> found;
  uint64_t judged = 0;
  if (!d.HasParseError() && d.IsObject() && d.HasMember("findings")) {
    for (const auto& fd : d["findings"].GetArray()) ++found[fd["check"].GetString()];
    judged = d["audit"]["judged"].GetUint64();
  }
  bool exact = found == st.planted;
  std::printf(
      "audit detect (one thread): %.2f s, %.0f MB/s, %.0f events/s, peak %.0f MB; exit %d; "
      "%llu requests judged, %zu kinds of finding, %s\n",
      r.seconds, st.bytes / 1e6 / r.seconds, st.events / r.seconds, r.max_rss_kib / 1024.0,
      r.status, static_cast<unsigned long long>(judged), found.size(),
      exact ? "every planted request reported, nothing else" : "FINDINGS DIFFER FROM THE PLANTED");
  if (!exact)
    for (const auto& [id, n] : st.planted)
      std::printf("  %s: planted %llu, found %llu\n", id.c_str(),
                  static_cast<unsigned long long>(n), static_cast<unsigned long long>(found[id]));
  std::printf("goal: >= 200 MB/s on one core, < 100 MB\n");

  // audit rbac for one person over the same log: the lines that name her are parsed, the rest
  // only searched.
  // And for the kubelets' group, on most of the log's lines: every one of them is parsed.
  bool rbac_ok = true;
  for (const auto& subject :
       std::vector<std::vector<std::string>>{{"--user", "alice"}, {"--group", "system:nodes"}}) {
    std::string rbac_out = dir.path() + "/rbac.json";
    ChildRun rb = run({kh, "audit", "rbac", log, subject[0], subject[1], "-f", "json"}, rbac_out);
    rapidjson::Document rd;
    rd.Parse(kh::test::readFile(rbac_out).c_str());
    bool ok = rb.status == 0 && !rd.HasParseError() && rd.IsObject() && rd.HasMember("objects") &&
              rd["objects"].Size() > 0;
    rbac_ok = rbac_ok && ok;
    std::printf(
        "audit rbac %s %s: %.2f s, %.0f MB/s, peak %.0f MB; exit %d; %llu requests, %u "
        "distinct, %u objects\n",
        subject[0].c_str(), subject[1].c_str(), rb.seconds, st.bytes / 1e6 / rb.seconds,
        rb.max_rss_kib / 1024.0, rb.status,
        ok ? static_cast<unsigned long long>(rd["requests"].GetUint64()) : 0ull,
        ok ? rd["distinct"].Size() : 0u, ok ? rd["objects"].Size() : 0u);
  }
  std::printf("goal: one user < 5 s\n");
  return exact && r.status == 0 && rbac_ok ? 0 : 1;
}
