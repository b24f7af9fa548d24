#include "cluster/exec_credential.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>
#include <ctime>

#include "base/json_util.h"
#include "base/process.h"
#include "base/strings.h"

extern char** environ;

namespace kh::cluster {
namespace {

// RFC 3339 (as Go writes metav1.Time: 2026-12-06T10:00:00Z, or with an offset) to Unix seconds.
std::optional<int64_t> parseTime(std::string_view s) {
  struct tm tm {};
  if (s.size() < 20) return std::nullopt;
  std::string t(s.substr(0, 19));
  if (!strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  int64_t secs = static_cast<int64_t>(timegm(&tm));
  std::string_view zone = s.substr(19);
  if (!zone.empty() && zone[0] == '.') {  // fractional seconds
    size_t i = 1;
    while (i < zone.size() && std::isdigit(static_cast<unsigned char>(zone[i]))) ++i;
    zone.remove_prefix(i);
  }
  if (zone == "Z") return secs;
  if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-')) {
    int64_t off = (std::atoi(std::string(zone.substr(1, 2)).c_str()) * 60 +
                   std::atoi(std::string(zone.substr(4, 2)).c_str())) *
                  60;
    return zone[0] == '+' ? secs - off : secs + off;
  }
  return std::nullopt;
}

std::string execInfo(const ExecConfig& x, const ClusterEntry& c) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("apiVersion");
  w.String(x.api_version.c_str());
  w.Key("kind");
  w.String("ExecCredential");
  w.Key("spec");
  w.StartObject();
  w.Key("interactive");
  w.Bool(false);
  if (x.provide_cluster_info) {
    w.Key("cluster");
    w.StartObject();
    w.Key("server");
    w.String(c.server.c_str());
    if (!c.tls_server_name.empty()) {
      w.Key("tls-server-name");
      w.String(c.tls_server_name.c_str());
    }
    if (c.insecure_skip_tls_verify) {
      w.Key("insecure-skip-tls-verify");
      w.Bool(true);
    }
    std::string ca = c.certificate_authority_data;
    if (ca.empty() && !c.certificate_authority.empty())
      (void)readFileTo(c.certificate_authority, ca);
    if (!ca.empty()) {
      w.Key("certificate-authority-data");
      w.String(base64Encode(ca).c_str());
    }
    if (!c.proxy_url.empty()) {
      w.Key("proxy-url");
      w.String(c.proxy_url.c_str());
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

}  // namespace

Result<ExecCredential> runExecPlugin(const ExecConfig& x, const ClusterEntry& cluster,
                                     std::chrono::milliseconds timeout) {
  auto fail = [&](const std::string& m) {
    return Error{fmt::format("exec credential plugin {}: {}", x.command, m), {}, {}};
  };
  if (x.api_version != "client.authentication.k8s.io/v1" &&
      x.api_version != "client.authentication.k8s.io/v1beta1")
    return fail(fmt::format("apiVersion '{}' is not client.authentication.k8s.io/v1 or v1beta1",
                            x.api_version));
  if (x.interactive_mode == "Always")
    return fail(
        "it needs an interactive terminal (interactiveMode: Always); kubeharden runs "
        "non-interactively: use a plugin mode or credential that needs no prompt");
  std::string path_env = std::getenv("PATH") ? std::getenv("PATH") : "";
  std::string exe = findExecutable(x.command, path_env);
  if (exe.empty())
    return fail(x.install_hint.empty() ? "not found" : "not found. " + x.install_hint);
  std::vector<std::string> argv = {exe};
  argv.insert(argv.end(), x.args.begin(), x.args.end());
  ProcessOptions po;
  po.timeout = timeout;
  po.max_output = 1 << 20;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (!kv.starts_with("KUBERNETES_EXEC_INFO=")) po.env.emplace_back(kv);
  }
  for (const auto& [k, v] : x.env) po.env.push_back(k + "=" + v);
  po.env.push_back("KUBERNETES_EXEC_INFO=" + execInfo(x, cluster));
  ProcessResult r = runProcess(argv, po);
  if (!r.started) return fail("could not be run: " + r.start_error);
  if (r.timed_out) return fail(fmt::format("did not finish within {} s", timeout.count() / 1000));
  if (r.exit_code != 0) {
    std::string first(trim(r.err.substr(0, r.err.find('\n'))));
    return fail(fmt::format("exited with {}{}{}", r.signal ? -r.signal : r.exit_code,
                            first.empty() ? "" : ": ", first.substr(0, 300)));
  }
  rapidjson::Document d;
  d.Parse(r.out.data(), r.out.size());
  if (d.HasParseError() || !d.IsObject() || jsonString(d, "kind") != "ExecCredential")
    return fail("its output is not an ExecCredential (JSON)");
  if (jsonString(d, "apiVersion") != x.api_version)
    return fail(
        fmt::format("it answered {} to a {} request", jsonString(d, "apiVersion"), x.api_version));
  const rapidjson::Value& st = jsonMember(d, "status");
  ExecCredential c;
  c.token = std::string(jsonString(st, "token"));
  c.client_cert_pem = std::string(jsonString(st, "clientCertificateData"));
  c.client_key_pem = std::string(jsonString(st, "clientKeyData"));
  if (c.token.empty() && (c.client_cert_pem.empty() || c.client_key_pem.empty()))
    return fail("its ExecCredential holds neither a token nor a client certificate and key");
  if (c.client_cert_pem.empty() != c.client_key_pem.empty())
    return fail(
        "its ExecCredential holds a client certificate without its key, or a key without "
        "its certificate");
  std::string_view expiry = jsonString(st, "expirationTimestamp");
  if (!expiry.empty()) {
    c.expires = parseTime(expiry);
    if (!c.expires)
      return fail(fmt::format("expirationTimestamp '{}' is not an RFC 3339 time", expiry));
  }
  return c;
}

}  // namespace kh::cluster
