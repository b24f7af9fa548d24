#include "admission/metrics.h"

#include <fmt/format.h>

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
  return out;
}

}  // namespace kh::admission
