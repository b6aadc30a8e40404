// A MetricsObserver that aggregates libdcs's request and state events into counters, gauges and
// latency histograms, and renders them in Prometheus' text exposition format (version 0.0.4) for
// a daemon's /metrics page. It is an example adapter: libdcs itself depends on no metrics library.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "dcs/etcd3/metrics.hpp"

namespace dcs_examples {

class PrometheusObserver final : public dcs::etcd3::MetricsObserver {
 public:
  /// Upper bounds (seconds) of the request-duration histogram buckets; +Inf is implied.
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

  void on_request(const dcs::etcd3::RequestEvent& event) override;
  void on_state_change(const dcs::etcd3::StateEvent& event) override;

  /// Every metric seen so far, in the text format (metric families sorted, one HELP and TYPE
  /// line each). Thread-safe; may run while events arrive.
  std::string render() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // non-cumulative; summed on render
    std::uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mutex_;
  // (operation, outcome, grpc code name) -> calls
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> requests_;
  std::map<std::string, std::uint64_t> attempts_;  // operation -> HTTP attempts
  std::map<std::string, std::uint64_t> switched_;  // operation -> calls that failed over
  std::map<std::string, Histogram> durations_;     // operation -> latency
  std::map<std::string, std::uint64_t> state_changes_;
  int cache_ready_ = 0;
  std::int64_t lease_id_ = 0;
};

/// Escapes a label value for the text format (backslash, double quote, newline).
std::string escape_label_value(const std::string& value);

}  // namespace dcs_examples
