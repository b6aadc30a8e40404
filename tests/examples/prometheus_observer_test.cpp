// The Prometheus adapter of examples/prometheus_metrics: what it renders from a known series of
// observer events (counters, histogram buckets, gauges), that the text is well-formed exposition
// format, that label values are escaped, and that concurrent events are all counted.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "prometheus_metrics/prometheus_observer.hpp"

namespace dcs_examples {
namespace {

using namespace dcs::etcd3;
using std::chrono::microseconds;

RequestEvent request(Operation operation, RequestOutcome outcome, GRPCCode code, microseconds duration, int attempts,
                     bool switched = false) {
  RequestEvent event;
  event.operation = operation;
  event.endpoint = "http://127.0.0.1:2379";
  event.duration = duration;
  event.outcome = outcome;
  event.code = code;
  event.attempts = attempts;
  event.endpoint_switched = switched;
  return event;
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}

TEST(PrometheusObserver, RendersCountersHistogramsAndGauges) {
  PrometheusObserver observer;
  observer.on_request(request(Operation::range, RequestOutcome::ok, GRPCCode::OK, microseconds(2000), 1));
  observer.on_request(
      request(Operation::range, RequestOutcome::transport_error, GRPCCode::OK, microseconds(1'500'000), 3, true));
  observer.on_request(request(Operation::put, RequestOutcome::grpc_error, GRPCCode::NotFound, microseconds(800), 1));
  observer.on_state_change({StateChange::cache_ready, "http://127.0.0.1:2379", 42});
  observer.on_state_change({StateChange::lease_granted, {}, 7});
  observer.on_state_change({StateChange::endpoint_switched, "http://127.0.0.1:2380", 0});
  const std::string text = observer.render();

  EXPECT_TRUE(has_line(text, R"(dcs_etcd_requests_total{operation="range",outcome="ok",code="OK"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_requests_total{operation="range",outcome="transport_error",code="OK"} 1)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_requests_total{operation="put",outcome="grpc_error",code="NotFound"} 1)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_request_attempts_total{operation="range"} 4)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_request_failovers_total{operation="range"} 1)"));
  // Cumulative buckets: 2 ms falls in le=0.0025, 1.5 s in le=2.5.
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_request_duration_seconds_bucket{operation="range",le="0.001"} 0)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_request_duration_seconds_bucket{operation="range",le="0.0025"} 1)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_request_duration_seconds_bucket{operation="range",le="1"} 1)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_request_duration_seconds_bucket{operation="range",le="2.5"} 2)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_request_duration_seconds_bucket{operation="range",le="+Inf"} 2)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_request_duration_seconds_count{operation="range"} 2)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_request_duration_seconds_sum{operation="range"} 1.502)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_request_duration_seconds_bucket{operation="put",le="0.001"} 1)"));
  EXPECT_TRUE(has_line(text, "dcs_etcd_cache_ready 1"));
  EXPECT_TRUE(has_line(text, "dcs_etcd_lease_held 1"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_state_changes_total{change="cache_ready"} 1)"));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_state_changes_total{change="endpoint_switched"} 1)"));

  observer.on_state_change({StateChange::lease_lost, {}, 7});
  observer.on_state_change({StateChange::cache_not_ready, "killed", 0});
  const std::string after = observer.render();
  EXPECT_TRUE(has_line(after, "dcs_etcd_cache_ready 0"));
  EXPECT_TRUE(has_line(after, "dcs_etcd_lease_held 0"));
  EXPECT_TRUE(has_line(after, R"(dcs_etcd_state_changes_total{change="lease_lost"} 1)"));
}

TEST(PrometheusObserver, OutputIsWellFormedExpositionText) {
  PrometheusObserver observer;
  observer.on_request(request(Operation::txn, RequestOutcome::ok, GRPCCode::OK, microseconds(1234), 1));
  observer.on_request(request(Operation::watch_open, RequestOutcome::grpc_error, GRPCCode::Unauthenticated,
                              microseconds(20'000'000), 1));
  observer.on_state_change({StateChange::reauthenticated, "http://e", 0});
  const std::string text = observer.render();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  const std::regex sample(R"re(([a-z_]+)(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? [-+0-9.eE]+)re");
  const std::regex comment(R"re(# (HELP|TYPE) ([a-z_]+) .+)re");
  std::set<std::string> typed;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.rfind("# ", 0) == 0) {
      ASSERT_TRUE(std::regex_match(line, m, comment)) << line;
      if (m[1] == "TYPE") {
        EXPECT_TRUE(typed.insert(m[2]).second) << "family typed twice: " << line;
      }
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
    // Every sample belongs to a family declared before it (histogram samples carry a suffix).
    std::string name = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (!typed.count(name) && name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        name = name.substr(0, name.size() - s.size());
      }
    }
    EXPECT_TRUE(typed.count(name)) << "sample before its TYPE line: " << line;
  }
}

TEST(PrometheusObserver, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value(R"(a"b\c)"), R"(a\"b\\c)");
  EXPECT_EQ(escape_label_value("line\nbreak"), "line\\nbreak");
  EXPECT_EQ(escape_label_value("plain"), "plain");
}

TEST(PrometheusObserver, ConcurrentEventsAreAllCounted) {
  PrometheusObserver observer;
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        observer.on_request(
            request(Operation::lease_keepalive, RequestOutcome::ok, GRPCCode::OK, microseconds(900), 1));
        observer.on_state_change({StateChange::cache_rebuilt, "e", i});
        if (i % 100 == 0) (void)observer.render();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const std::string text = observer.render();
  const std::string total = std::to_string(kThreads * kEach);
  EXPECT_TRUE(
      has_line(text, R"(dcs_etcd_requests_total{operation="lease_keepalive",outcome="ok",code="OK"} )" + total));
  EXPECT_TRUE(has_line(text, R"(dcs_etcd_state_changes_total{change="cache_rebuilt"} )" + total));
}

}  // namespace
}  // namespace dcs_examples
