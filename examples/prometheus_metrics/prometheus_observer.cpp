#include "prometheus_metrics/prometheus_observer.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace dcs_examples {

using dcs::etcd3::RequestEvent;
using dcs::etcd3::StateChange;
using dcs::etcd3::StateEvent;

namespace {

// The shortest text that reads back as `value` ("0.0025", not "0.0025000000000000001").
std::string number(double value) {
  char text[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(text, sizeof text, "%.*g", precision, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

void family(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << '\n' << "# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

std::string escape_label_value(const std::string& value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

void PrometheusObserver::on_request(const RequestEvent& event) {
  const std::string operation(to_string(event.operation));
  const double seconds = static_cast<double>(event.duration.count()) / 1e6;
  std::lock_guard lock(mutex_);
  ++requests_[{operation, std::string(to_string(event.outcome)), std::string(dcs::etcd3::grpc_code_name(event.code))}];
  attempts_[operation] += static_cast<std::uint64_t>(event.attempts);
  if (event.endpoint_switched) ++switched_[operation];
  auto& histogram = durations_[operation];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++histogram.buckets[i];
      break;
    }
  }
  ++histogram.count;
  histogram.sum += seconds;
}

void PrometheusObserver::on_state_change(const StateEvent& event) {
  std::lock_guard lock(mutex_);
  ++state_changes_[std::string(to_string(event.change))];
  switch (event.change) {
    case StateChange::cache_ready:
      cache_ready_ = 1;
      break;
    case StateChange::cache_not_ready:
      cache_ready_ = 0;
      break;
    case StateChange::lease_granted:
      lease_id_ = event.value;
      break;
    case StateChange::lease_lost:
      if (lease_id_ == event.value) lease_id_ = 0;
      break;
    default:
      break;
  }
}

std::string PrometheusObserver::render() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;

  family(out, "dcs_etcd_cache_ready", "gauge", "1 while the watcher cache serves get_cluster.");
  out << "dcs_etcd_cache_ready " << cache_ready_ << '\n';

  family(out, "dcs_etcd_lease_held", "gauge", "1 while the process holds an etcd lease.");
  out << "dcs_etcd_lease_held " << (lease_id_ != 0 ? 1 : 0) << '\n';

  family(out, "dcs_etcd_request_attempts_total", "counter", "HTTP attempts made by etcd calls.");
  for (const auto& [operation, attempts] : attempts_) {
    out << "dcs_etcd_request_attempts_total{operation=\"" << escape_label_value(operation) << "\"} " << attempts
        << '\n';
  }

  family(out, "dcs_etcd_request_duration_seconds", "histogram", "Duration of etcd calls, retries included.");
  for (const auto& [operation, histogram] : durations_) {
    const std::string label = "operation=\"" + escape_label_value(operation) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += histogram.buckets[i];
      out << "dcs_etcd_request_duration_seconds_bucket{" << label << ",le=\"" << number(kBuckets[i]) << "\"} "
          << cumulative << '\n';
    }
    out << "dcs_etcd_request_duration_seconds_bucket{" << label << ",le=\"+Inf\"} " << histogram.count << '\n';
    out << "dcs_etcd_request_duration_seconds_sum{" << label << "} " << number(histogram.sum) << '\n';
    out << "dcs_etcd_request_duration_seconds_count{" << label << "} " << histogram.count << '\n';
  }

  family(out, "dcs_etcd_request_failovers_total", "counter", "etcd calls that moved to another endpoint.");
  for (const auto& [operation, count] : switched_) {
    out << "dcs_etcd_request_failovers_total{operation=\"" << escape_label_value(operation) << "\"} " << count << '\n';
  }

  family(out, "dcs_etcd_requests_total", "counter", "etcd calls by operation, outcome and gRPC code.");
  for (const auto& [key, count] : requests_) {
    const auto& [operation, outcome, code] = key;
    out << "dcs_etcd_requests_total{operation=\"" << escape_label_value(operation) << "\",outcome=\""
        << escape_label_value(outcome) << "\",code=\"" << escape_label_value(code) << "\"} " << count << '\n';
  }

  family(out, "dcs_etcd_state_changes_total", "counter",
         "Endpoint switches, cache readiness changes and rebuilds, lease grants and losses, re-authentications.");
  for (const auto& [change, count] : state_changes_) {
    out << "dcs_etcd_state_changes_total{change=\"" << escape_label_value(change) << "\"} " << count << '\n';
  }
  return out.str();
}

}  // namespace dcs_examples
