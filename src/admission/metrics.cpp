#include "admission/metrics.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace kh::admission {

namespace {
// The exposition format's label-value escaping: backslash, double quote and newline.
std::string labelValue(std::string_view v) {
  std::string o;
  for (char c : v) {
    if (c == '\\' || c == '"') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o;
}
}  // namespace

void Metrics::request(const std::string& endpoint, const std::string& operation,
                      const std::string& kind, const std::string& mode, const std::string& decision,
                      double seconds) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_[{endpoint, operation, kind, mode, decision}];
  }
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  ++buckets_[i];
  ++count_;
  double s = sum_.load();
  while (!sum_.compare_exchange_weak(s, s + seconds)) {
  }
}

std::string Metrics::render() const {
  std::string out;
  auto add = [&](std::string_view f, auto&&... args) {
    fmt::vformat_to(std::back_inserter(out), f, fmt::make_format_args(args...));
  };
  add("# HELP kubeharden_admission_requests_total Admission reviews answered.\n");
  add("# TYPE kubeharden_admission_requests_total counter\n");
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, n] : requests_)
      add("kubeharden_admission_requests_total{{endpoint=\"{}\",operation=\"{}\",kind=\"{}\","
          "mode=\"{}\",decision=\"{}\"}} {}\n",
          labelValue(std::get<0>(k)), labelValue(std::get<1>(k)), labelValue(std::get<2>(k)),
          labelValue(std::get<3>(k)), labelValue(std::get<4>(k)), n);
  }
  add("# HELP kubeharden_admission_duration_seconds Time from request read to answer written.\n");
  add("# TYPE kubeharden_admission_duration_seconds histogram\n");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += buckets_[i].load();
    add("kubeharden_admission_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i], cumulative);
  }
  cumulative += buckets_[kBuckets.size()].load();
  add("kubeharden_admission_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  add("kubeharden_admission_duration_seconds_sum {}\n", sum_.load());
  add("kubeharden_admission_duration_seconds_count {}\n", count_.load());
  add("# HELP kubeharden_admission_deadline_hits_total Answers given at 80% of the timeout.\n");
  add("# TYPE kubeharden_admission_deadline_hits_total counter\n");
  add("kubeharden_admission_deadline_hits_total {}\n", deadline_hits_.load());
  add("# HELP kubeharden_admission_decode_errors_total Bodies that were not AdmissionReviews.\n");
  add("# TYPE kubeharden_admission_decode_errors_total counter\n");
  add("kubeharden_admission_decode_errors_total {}\n", decode_errors_.load());
  add("# HELP kubeharden_admission_policy_reloads_total Configuration reloads.\n");
  add("# TYPE kubeharden_admission_policy_reloads_total counter\n");
  add("kubeharden_admission_policy_reloads_total {}\n", policy_reloads_.load());
  add("# HELP kubeharden_admission_certificate_expiry_seconds Expiry of the serving certificate "
      "(Unix time).\n");
  add("# TYPE kubeharden_admission_certificate_expiry_seconds gauge\n");
  add("kubeharden_admission_certificate_expiry_seconds {}\n", cert_expiry_.load());
  add("# HELP kubeharden_admission_namespaces Namespaces whose labels the webhook knows.\n");
  add("# TYPE kubeharden_admission_namespaces gauge\n");
  add("kubeharden_admission_namespaces {}\n", namespaces_.load());
  add("# HELP kubeharden_admission_image_verifications_total Image verdicts of verifyImages "
      "rules, by where they came from (cache, verified, or cut short by the deadline).\n");
  add("# TYPE kubeharden_admission_image_verifications_total counter\n");
  add("kubeharden_admission_image_verifications_total{{result=\"cache\"}} {}\n",
      image_hits_.load());
  add("kubeharden_admission_image_verifications_total{{result=\"verified\"}} {}\n",
      image_misses_.load());
  add("kubeharden_admission_image_verifications_total{{result=\"deadline\"}} {}\n",
      image_timeouts_.load());
  std::lock_guard<std::mutex> lock(mu_);
  out += cluster_;
  return out;
}

Status Metrics::clusterSummary(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject())
    return Error{fmt::format("not JSON ({} at offset {})",
                             rapidjson::GetParseError_En(d.GetParseError()), d.GetErrorOffset()),
                 {},
                 {}};
  if (!d.HasMember("schema") || !d["schema"].IsString() ||
      std::string_view(d["schema"].GetString()) != "kubeharden/cluster-summary/v1")
    return Error{"not a kubeharden/cluster-summary/v1 document", {}, {}};
  // Label values as Prometheus' text format quotes them.
  auto label = [](std::string_view v) {
    std::string out;
    for (char c : v) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    return out;
  };
  std::string out;
  auto add = [&](std::string_view f, auto&&... args) {
    fmt::vformat_to(std::back_inserter(out), f, fmt::make_format_args(args...));
  };
  auto num = [](const rapidjson::Value& v) { return v.IsNumber() ? v.GetDouble() : 0.0; };
  std::string context, version;
  bool complete = true;
  double objects = 0, not_evaluated = 0;
  if (d.HasMember("cluster") && d["cluster"].IsObject()) {
    const auto& c = d["cluster"];
    if (c.HasMember("context") && c["context"].IsString()) context = c["context"].GetString();
    if (c.HasMember("kubernetesVersion") && c["kubernetesVersion"].IsString())
      version = c["kubernetesVersion"].GetString();
    if (c.HasMember("complete") && c["complete"].IsBool()) complete = c["complete"].GetBool();
    if (c.HasMember("objects")) objects = num(c["objects"]);
    if (c.HasMember("checksNotEvaluated")) not_evaluated = num(c["checksNotEvaluated"]);
  }
  add("# HELP kubeharden_cluster_scan_timestamp_seconds When the last scheduled cluster scan "
      "finished.\n# TYPE kubeharden_cluster_scan_timestamp_seconds gauge\n");
  add("kubeharden_cluster_scan_timestamp_seconds{{context=\"{}\",kubernetes_version=\"{}\"}} "
      "{}\n",
      label(context), label(version), d.HasMember("unixTime") ? num(d["unixTime"]) : 0.0);
  add("# HELP kubeharden_cluster_scan_complete 1 when the last cluster scan read every resource "
      "type.\n# TYPE kubeharden_cluster_scan_complete gauge\nkubeharden_cluster_scan_complete "
      "{}\n",
      complete ? 1 : 0);
  add("# HELP kubeharden_cluster_scan_objects Objects the last cluster scan read.\n# TYPE "
      "kubeharden_cluster_scan_objects gauge\nkubeharden_cluster_scan_objects {}\n",
      objects);
  add("# HELP kubeharden_cluster_checks_not_evaluated Checks that resource types the last cluster "
      "scan could not read kept from judging.\n# TYPE kubeharden_cluster_checks_not_evaluated "
      "gauge\nkubeharden_cluster_checks_not_evaluated {}\n",
      not_evaluated);
  add("# HELP kubeharden_cluster_findings Findings of the last cluster scan, by severity "
      "(suppressed ones aside).\n# TYPE kubeharden_cluster_findings gauge\n");
  if (d.HasMember("bySeverity") && d["bySeverity"].IsObject())
    for (const auto& m : d["bySeverity"].GetObject())
      add("kubeharden_cluster_findings{{severity=\"{}\"}} {}\n", label(m.name.GetString()),
          num(m.value));
  add("# HELP kubeharden_cluster_check_findings Findings of the last cluster scan, by check "
      "and severity.\n# TYPE kubeharden_cluster_check_findings gauge\n");
  if (d.HasMember("byCheck") && d["byCheck"].IsObject())
    for (const auto& c : d["byCheck"].GetObject())
      if (c.value.IsObject())
        for (const auto& m : c.value.GetObject())
          add("kubeharden_cluster_check_findings{{check=\"{}\",severity=\"{}\"}} {}\n",
              label(c.name.GetString()), label(m.name.GetString()), num(m.value));
  std::lock_guard<std::mutex> lock(mu_);
  cluster_ = std::move(out);
  return {};
}

}  // namespace kh::admission
