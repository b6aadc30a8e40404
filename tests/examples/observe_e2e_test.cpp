// dcsctl watch, dcsctl health, the prometheus_metrics example and the README's HA loop
// (ha_loop_minimal) run as child processes against a real etcd.
//
// dcsctl watch: three writes under the cluster's prefix give three event lines, a delete one
// more, and SIGINT / SIGTERM end it with exit code 0. dcsctl health: a ready cache and a lease
// (exit 2 when etcd is unreachable). prometheus_metrics: the counters of its own session.
// ha_loop_minimal: takes the leader key, keeps it, releases it on the way out.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/etcd3/client.hpp"
#include "examples/daemon_process.hpp"
#include "interop/peer_process.hpp"
#include "support/etcd_process.hpp"

namespace dcs_examples {
namespace {

using namespace std::chrono_literals;
using dcs::testing::EtcdProcess;
using nlohmann::json;
using testing::DaemonProcess;
using SteadyClock = std::chrono::steady_clock;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds bound = 20s) {
  const auto deadline = SteadyClock::now() + bound;
  while (true) {
    if (condition()) return true;
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

std::string host_port(const std::string& endpoint) {
  return endpoint.substr(endpoint.find("://") + 3);
}

std::size_t count_lines(const std::vector<std::string>& lines, const std::string& needle) {
  return static_cast<std::size_t>(std::count_if(
      lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; }));
}

class ObserveEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      etcd_ = std::make_unique<EtcdProcess>();
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { etcd_.reset(); }

  void SetUp() override {
    ASSERT_NE(etcd_, nullptr) << "etcd could not be started: " << start_error_;
    scope_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  std::vector<std::string> flags() const {
    return {"--hosts", host_port(etcd_->endpoint()), "--scope", scope_, "--retry-timeout", "2"};
  }

  std::string prefix() const { return "/service/" + scope_ + "/"; }

  void put(const std::string& key, const std::string& value) {
    dcs::etcd3::Etcd3Options options;
    options.endpoints = {etcd_->endpoint()};
    dcs::etcd3::Etcd3Client client(options);
    client.put({.key = prefix() + key, .value = value});
  }

  dcs::interop::ProcessResult run(std::vector<std::string> argv) const {
    return dcs::interop::run_process(argv, "", 60s);
  }

  inline static std::unique_ptr<EtcdProcess> etcd_;
  inline static std::string start_error_;
  std::string scope_;
};

TEST_F(ObserveEndToEnd, DcsctlWatchStreamsOneLinePerWriteAndStopsOnSigint) {
  put("config", R"({"ttl":30})");
  std::vector<std::string> argv = {DCS_DCSCTL_BIN};
  for (const auto& flag : flags()) argv.push_back(flag);
  argv.push_back("watch");
  DaemonProcess watcher(argv, etcd_->dir() + "/" + scope_ + "-watch.log");
  ASSERT_TRUE(eventually([&] { return count_lines(watcher.lines(), " watching " + prefix()) == 1; }))
      << watcher.log_tail();

  put("members/m1", R"({"conn_url":"postgres://127.0.0.1:5432/postgres","state":"running","role":"replica"})");
  put("leader", "m1");
  put("custom", std::string(300, 'x'));
  ASSERT_TRUE(eventually([&] { return count_lines(watcher.lines(), " PUT ") == 3; }))
      << json(watcher.lines()).dump(1) << watcher.log_tail();
  const auto lines = watcher.lines();
  EXPECT_EQ(count_lines(lines, " PUT members/m1 rev="), 1u);
  EXPECT_EQ(count_lines(lines, " PUT leader rev="), 1u);
  EXPECT_EQ(count_lines(lines, " PUT custom rev="), 1u);
  EXPECT_EQ(count_lines(lines, "... (300 bytes)"), 1u) << "a long value is cut";
  EXPECT_EQ(count_lines(lines, "(missed)"), 0u);
  // The summary of what the events mean for the cluster.
  ASSERT_TRUE(eventually([&] { return count_lines(watcher.lines(), "leader: ") >= 1; }));

  watcher.signal(SIGINT);
  const auto status = watcher.wait_exit(10s);
  ASSERT_TRUE(status.has_value()) << "dcsctl watch did not stop on SIGINT";
  EXPECT_EQ(*status, 0) << watcher.log_tail();
}

TEST_F(ObserveEndToEnd, DcsctlWatchSeesADeleteAndEndsOnSigterm) {
  put("leader", "m1");
  std::vector<std::string> argv = {DCS_DCSCTL_BIN};
  for (const auto& flag : flags()) argv.push_back(flag);
  argv.push_back("watch");
  DaemonProcess watcher(argv, etcd_->dir() + "/" + scope_ + "-watch.log");
  ASSERT_TRUE(eventually([&] { return count_lines(watcher.lines(), " watching ") == 1; })) << watcher.log_tail();
  dcs::etcd3::Etcd3Options options;
  options.endpoints = {etcd_->endpoint()};
  dcs::etcd3::Etcd3Client client(options);
  client.delete_range({.key = prefix() + "leader"});
  ASSERT_TRUE(eventually([&] { return count_lines(watcher.lines(), " DELETE leader rev=") == 1; }))
      << json(watcher.lines()).dump(1);
  watcher.signal(SIGTERM);
  const auto status = watcher.wait_exit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << watcher.log_tail();
}

TEST_F(ObserveEndToEnd, DcsctlHealthReportsAReadyCacheAndALease) {
  std::vector<std::string> argv = {DCS_DCSCTL_BIN};
  for (const auto& flag : flags()) argv.push_back(flag);
  for (const char* arg : {"health", "--format", "json"}) argv.push_back(arg);
  const auto result = run(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json doc = json::parse(result.out);
  EXPECT_EQ(doc["endpoint"], etcd_->endpoint());
  ASSERT_TRUE(doc["cache"].is_object()) << doc.dump(2);
  EXPECT_EQ(doc["cache"]["ready"], true);
  EXPECT_TRUE(doc["lease_id"].get<long long>() != 0);
  EXPECT_GT(doc["lease_expires_in"].get<double>(), 0);
  EXPECT_TRUE(doc["last_error"].is_null()) << doc.dump(2);

  argv.resize(argv.size() - 2);  // the readable form
  const auto text = run(argv);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("cache:      ready"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("expires in"), std::string::npos) << text.out;
}

TEST_F(ObserveEndToEnd, DcsctlHealthOnAnUnreachableEtcdExitsWithTwo) {
  const auto result =
      run({DCS_DCSCTL_BIN, "--hosts", "127.0.0.1:9", "--scope", scope_, "--retry-timeout", "1", "health"});
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
}

TEST_F(ObserveEndToEnd, PrometheusExamplePrintsTheMetricsOfItsSession) {
  std::vector<std::string> argv = {DCS_PROMETHEUS_BIN};
  for (const auto& flag : flags()) argv.push_back(flag);
  for (const char* arg : {"--name", "p1", "--cycles", "2"}) argv.push_back(arg);
  const auto result = run(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* line : {
           R"(dcs_etcd_requests_total{operation="lease_grant",outcome="ok",code="OK"} 1)",
           R"(dcs_etcd_state_changes_total{change="lease_granted"} 1)",
           R"(dcs_etcd_state_changes_total{change="cache_ready"})",
           R"(dcs_etcd_requests_total{operation="txn",outcome="ok",code="OK"})",
           R"(dcs_etcd_requests_total{operation="watch_open",outcome="ok",code="OK"})",
           "# TYPE dcs_etcd_request_duration_seconds histogram",
       }) {
    EXPECT_NE(result.out.find(line), std::string::npos) << line << "\n" << result.out;
  }
}

TEST_F(ObserveEndToEnd, ReadmeHaLoopTakesTheLeaderKeyAndReleasesIt) {
  const auto result = run({DCS_HA_LOOP_MINIMAL_BIN, etcd_->endpoint(), "solo", "2", "1"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("cycle 0: leader"), std::string::npos) << result.out << result.err;
  EXPECT_NE(result.out.find("cycle 1: leader"), std::string::npos) << result.out << result.err;
  dcs::etcd3::Etcd3Options options;
  options.endpoints = {etcd_->endpoint()};
  dcs::etcd3::Etcd3Client client(options);
  EXPECT_TRUE(client.range({.key = "/service/demo/leader"}).kvs.empty()) << "released on the way out";
  EXPECT_EQ(client.range({.key = "/service/demo/members/solo"}).kvs.size(), 1u);
}

}  // namespace
}  // namespace dcs_examples
