// Prometheus metrics of the admission server: requests by endpoint, operation, kind,
// namespace enforce mode and decision;
// a latency histogram with sub-millisecond buckets; deadline hits; decode errors; policy
// reloads; the serving certificate's expiry. Thread-safe; rendered in the text exposition format.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "base/result.h"

namespace kh::admission {

class Metrics {
 public:
  static constexpr std::array<double, 13> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};
  // `mode` is the namespace's enforce level (privileged, baseline, restricted).
  void request(const std::string& endpoint, const std::string& operation, const std::string& kind,
               const std::string& mode, const std::string& decision, double seconds);
  void deadlineHit() { ++deadline_hits_; }
  void decodeError() { ++decode_errors_; }
  void policyReload() { ++policy_reloads_; }
  void certificateExpiry(double unix_seconds) { cert_expiry_ = unix_seconds; }
  void namespaces(size_t n) { namespaces_ = n; }
  // Image verification (admission.verifyImages): verdicts from the cache, computed, and those
  // the deadline cut short.
  void imageVerifications(uint64_t hits, uint64_t misses, uint64_t timeouts) {
    image_hits_ = hits;
    image_misses_ = misses;
    image_timeouts_ = timeouts;
  }
  // The latest scheduled cluster scan's counts (a kubeharden/cluster-summary/v1 document, the
  // ConfigMap `cluster scan --report-configmap` writes, mounted as a file): exported as the
  // kubeharden_cluster_* gauges. An error (and the previous counts kept) when it is not one.
  Status clusterSummary(std::string_view json);
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, uint64_t>
      requests_;
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets_{};  // last: +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> deadline_hits_{0}, decode_errors_{0}, policy_reloads_{0};
  std::atomic<double> cert_expiry_{0};
  std::atomic<uint64_t> namespaces_{0};
  std::atomic<uint64_t> image_hits_{0}, image_misses_{0}, image_timeouts_{0};
  std::string cluster_;  // rendered kubeharden_cluster_* lines, under mu_
};

}  // namespace kh::admission
