// The cluster summary (kubeharden/cluster-summary/v1): what a scheduled `cluster scan` publishes
// in a ConfigMap for the webhook's /metrics. Counts only, so it fits a ConfigMap (1 MiB) whatever
// the cluster's size; the full report goes to the job's output.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>

#include "base/strings.h"
#include "report/json_writer.h"
#include "report/report.h"

namespace kh {

std::string renderClusterSummary(const ReportContext& ctx,
                                 std::chrono::system_clock::time_point when) {
  using json::num;
  using json::str;
  const ScanResult& r = ctx.scan;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  str(w, "schema", "kubeharden/cluster-summary/v1");
  str(w, "version", ctx.version);
  str(w, "time", rfc3339Utc(when));
  json::key(w, "unixTime");
  w.Int64(std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
  if (r.cluster) {
    const ClusterSource& c = *r.cluster;
    json::key(w, "cluster");
    w.StartObject();
    str(w, "context", c.context);
    str(w, "server", c.server);
    str(w, "kubernetesVersion", c.kubernetes_version);
    num(w, "objects", c.objects);
    json::key(w, "complete");
    w.Bool(c.not_read.empty());
    json::key(w, "notRead");
    w.StartArray();
    for (const std::string& n : c.not_read) w.String(n.c_str());
    w.EndArray();
    num(w, "checksNotEvaluated", c.not_evaluated.size());
    w.EndObject();
  }
  auto by = countBySeverity(r);
  json::key(w, "bySeverity");
  w.StartObject();
  for (int s = 4; s >= 0; --s) num(w, severityName(static_cast<Severity>(s)), by[s]);
  w.EndObject();
  std::map<std::string_view, std::array<size_t, 5>> checks;
  for (const Finding& f : r.findings)
    if (!f.suppressed) ++checks[f.check_id][static_cast<size_t>(f.severity)];
  json::key(w, "byCheck");
  w.StartObject();
  for (const auto& [id, counts] : checks) {
    json::key(w, id);
    w.StartObject();
    for (int s = 4; s >= 0; --s)
      if (counts[s]) num(w, severityName(static_cast<Severity>(s)), counts[s]);
    w.EndObject();
  }
  w.EndObject();
  num(w, "suppressed", r.suppressed);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace kh
