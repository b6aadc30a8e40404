// ha_daemon and dcsctl end to end: the built programs run as child processes against a real
// etcd (tests/support/etcd_process), with a short ttl (5 s) and loop_wait (1 s), the smallest
// timing the library's rules allow (loop_wait + 2 * retry_timeout <= ttl, and each leader step
// needs a second of its retry_timeout budget left).
//
// Scenarios: three members elect exactly one leader; SIGKILL of the leader elects another within
// ttl + loop_wait; SIGTERM releases the key at once; a dcsctl switchover moves the leader to the
// candidate (and dcsctl watch sees it); dcsctl list --format json matches the state; dcsctl's
// exit codes; dcsctl on a cluster written by Patroni 3.0.2.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/cluster.hpp"
#include "dcs/etcd3/etcd3.hpp"
#include "examples/daemon_process.hpp"
#include "interop/patroni_peer.hpp"
#include "interop/peer_process.hpp"
#include "support/etcd_process.hpp"

namespace dcs_examples {
namespace {

using namespace std::chrono_literals;
using dcs::testing::EtcdProcess;
using nlohmann::json;
using testing::DaemonProcess;
using SteadyClock = std::chrono::steady_clock;

constexpr int kTtl = 5;
constexpr int kLoopWait = 1;
constexpr int kRetryTimeout = 2;
constexpr auto kWaitBound = 30s;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds bound = kWaitBound) {
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

class ExamplesEndToEnd : public ::testing::Test {
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
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    scope_ = std::string(info->name());
    dir_ = etcd_->dir();
  }

  void TearDown() override {
    // A member the test did not stop must still run: a crash or a sanitizer report ends it.
    for (const auto& [name, daemon] : daemons_) {
      if (daemon->signalled()) continue;
      if (const auto status = daemon->wait_exit(0ms)) {
        ADD_FAILURE() << "ha_daemon " << name << " exited on its own with status " << *status;
      }
    }
    if (HasFailure()) {
      for (const auto& [name, daemon] : daemons_) {
        ADD_FAILURE() << "ha_daemon " << name << " stderr (tail):\n" << daemon->log_tail();
      }
    }
    daemons_.clear();
  }

  std::vector<std::string> dcs_flags(const std::string& scope) const {
    return {"--hosts",         host_port(etcd_->endpoint()), "--scope", scope,
            "--retry-timeout", std::to_string(kRetryTimeout)};
  }

  DaemonProcess& start_member(const std::string& name) {
    std::vector<std::string> argv = {DCS_HA_DAEMON_BIN};
    for (const auto& flag : dcs_flags(scope_)) argv.push_back(flag);
    for (const auto& flag : std::vector<std::string>{
             "--name", name, "--ttl", std::to_string(kTtl), "--loop-wait", std::to_string(kLoopWait), "--conn-url",
             "postgres://127.0.0.1:" + std::to_string(5432 + daemons_.size()) + "/postgres"}) {
      argv.push_back(flag);
    }
    auto daemon = std::make_unique<DaemonProcess>(argv, dir_ + "/" + scope_ + "-" + name + ".log");
    auto& ref = *daemon;
    daemons_[name] = std::move(daemon);
    return ref;
  }

  DaemonProcess& member(const std::string& name) { return *daemons_.at(name); }

  /// Every JSON event line printed so far by every member (of `event`, when given), oldest first.
  std::vector<json> events(const std::string& event = "") const {
    std::vector<json> out;
    for (const auto& [name, daemon] : daemons_) {
      for (const auto& line : daemon->lines()) {
        json parsed = json::parse(line, nullptr, false);
        EXPECT_FALSE(parsed.is_discarded()) << name << " printed a non-JSON line on stdout: " << line;
        if (!parsed.is_discarded() && (event.empty() || parsed.value("event", "") == event)) out.push_back(parsed);
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const json& x, const json& y) { return x["ts"] < y["ts"]; });
    return out;
  }

  dcs::interop::ProcessResult dcsctl(std::vector<std::string> args, const std::string& scope = "") const {
    std::vector<std::string> argv = {DCS_DCSCTL_BIN};
    for (const auto& flag : dcs_flags(scope.empty() ? scope_ : scope)) argv.push_back(flag);
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  static dcs::interop::ProcessResult run(const std::vector<std::string>& argv) {
    return dcs::interop::run_process(argv, "", 60s);
  }

  /// `dcsctl list --format json`, parsed; null when it failed.
  json list_json(const std::string& scope = "") const {
    const auto result = dcsctl({"list", "--format", "json"}, scope);
    if (result.exit_code != 0) return nullptr;
    return json::parse(result.out, nullptr, false);
  }

  std::string leader_now() const {
    const json doc = list_json();
    return doc.is_object() && doc["leader"].is_string() ? doc["leader"].get<std::string>() : "";
  }

  /// Starts a, b and c and waits until one of them leads and the others replicate.
  std::string elect_three() {
    for (const char* name : {"a", "b", "c"}) start_member(name);
    std::string leader;
    EXPECT_TRUE(eventually([&] {
      const json doc = list_json();
      if (!doc.is_object() || !doc["leader"].is_string() || doc["members"].size() != 3) return false;
      for (const auto& m : doc["members"]) {
        if (m["state"] != "running") return false;
      }
      leader = doc["leader"];
      return true;
    })) << "no leader with three running members";
    return leader;
  }

  inline static std::unique_ptr<EtcdProcess> etcd_;
  inline static std::string start_error_;
  std::string scope_;
  std::string dir_;
  std::map<std::string, std::unique_ptr<DaemonProcess>> daemons_;
};

TEST_F(ExamplesEndToEnd, ThreeMembersElectOneLeaderAndSurviveKillAndStop) {
  const std::string first = elect_three();
  ASSERT_FALSE(first.empty());
  // A few more cycles: still exactly one member ever believed it led.
  std::this_thread::sleep_for(std::chrono::seconds(2 * kLoopWait));
  auto acquired = events("acquired");
  ASSERT_EQ(acquired.size(), 1u) << json(acquired).dump();
  EXPECT_EQ(acquired[0]["member"], first);
  EXPECT_EQ(acquired[0]["role"], "primary");
  EXPECT_EQ(acquired[0]["timeline"], 1);
  for (const auto& e : events()) {
    for (const char* key : {"ts", "member", "event", "role", "timeline"}) EXPECT_TRUE(e.contains(key)) << e.dump();
  }

  // SIGKILL: the key expires with the lease; another member takes it within ttl + loop_wait.
  const auto killed_at = SteadyClock::now();
  member(first).signal(SIGKILL);
  ASSERT_TRUE(member(first).wait_exit(10s));
  ASSERT_TRUE(eventually([&] { return events("acquired").size() >= 2; })) << "nobody took over";
  const double took = std::chrono::duration<double>(SteadyClock::now() - killed_at).count();
  // The bound of the issue plus 2 s for etcd's lease expiry granularity and sanitizer-slowed
  // processes; a member that waited for anything else would take far longer.
  EXPECT_LT(took, kTtl + kLoopWait + 2.0);
  acquired = events("acquired");
  ASSERT_EQ(acquired.size(), 2u) << json(acquired).dump();
  const std::string second = acquired[1]["member"];
  EXPECT_NE(second, first);
  EXPECT_EQ(acquired[1]["timeline"], 2);
  EXPECT_TRUE(eventually([&] { return leader_now() == second; }));

  // SIGTERM: the leader deletes the key before it exits, so it is gone at once.
  member(second).signal(SIGTERM);
  const auto status = member(second).wait_exit(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
  const auto released = events("released");
  ASSERT_FALSE(released.empty());
  EXPECT_EQ(released.back()["member"], second);
  EXPECT_NE(leader_now(), second) << "the leader key outlived a graceful stop";
  ASSERT_TRUE(eventually([&] { return events("acquired").size() >= 3; }));
  const std::string third = events("acquired")[2]["member"];
  EXPECT_NE(third, first);
  EXPECT_NE(third, second);
  EXPECT_TRUE(eventually([&] { return leader_now() == third; }));
}

TEST_F(ExamplesEndToEnd, SwitchoverMovesTheLeaderAndListShowsIt) {
  const std::string old_leader = elect_three();
  ASSERT_FALSE(old_leader.empty());
  const std::string candidate = old_leader == "b" ? "c" : "b";

  std::vector<std::string> watch = {DCS_DCSCTL_BIN};
  for (const auto& flag : dcs_flags(scope_)) watch.push_back(flag);
  for (const char* arg : {"watch", "--interval", "0.2", "--duration", "60"}) watch.push_back(arg);
  DaemonProcess watcher(watch, dir_ + "/" + scope_ + "-watch.log");
  ASSERT_TRUE(eventually([&] { return !watcher.lines().empty(); }, 10s)) << watcher.log_tail();

  const auto result = dcsctl({"switchover", "--leader", old_leader, "--candidate", candidate, "--wait", "30"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("done: " + candidate + " is the leader"), std::string::npos) << result.out;

  // Every member on the new timeline, the request cleared.
  json doc;
  ASSERT_TRUE(eventually([&] {
    doc = list_json();
    if (!doc.is_object() || doc["leader"] != candidate) return false;
    for (const auto& m : doc["members"]) {
      if (m["timeline"] != 2) return false;
    }
    return true;
  })) << doc.dump(2);
  EXPECT_EQ(doc["scope"], scope_);
  ASSERT_EQ(doc["members"].size(), 3u);
  std::set<std::string> names;
  for (const auto& m : doc["members"]) {
    names.insert(m["name"]);
    EXPECT_EQ(m["role"], m["name"] == candidate ? "leader" : "replica") << m.dump();
    EXPECT_EQ(m["state"], "running");
    EXPECT_TRUE(m["conn_url"].is_string());
    EXPECT_TRUE(m["api_url"].is_string());
    EXPECT_TRUE(m["tags"].is_object());
    if (m["name"] != candidate) {
      EXPECT_TRUE(m["lag"].is_number_integer()) << m.dump();
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"a", "b", "c"}));
  EXPECT_EQ(doc["failover"], json::object());
  EXPECT_EQ(doc["config"]["ttl"], kTtl);
  EXPECT_EQ(doc["config"]["loop_wait"], kLoopWait);
  ASSERT_TRUE(doc["history"].is_array());
  ASSERT_EQ(doc["history"].size(), 1u);
  EXPECT_EQ(doc["history"][0][0], 1);
  EXPECT_EQ(doc["history"][0][4], candidate);
  EXPECT_TRUE(doc["status"]["optime"].is_number_integer());
  EXPECT_TRUE(doc["initialize"].is_string());
  EXPECT_FALSE(doc["initialize"].get<std::string>().empty());

  const auto released = events("released");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0]["member"], old_leader);
  const auto acquired = events("acquired");
  ASSERT_EQ(acquired.size(), 2u);
  EXPECT_EQ(acquired[1]["member"], candidate);
  EXPECT_EQ(acquired[1]["timeline"], 2);

  // The table lists every member; the watcher saw the new leader arrive.
  const auto table = dcsctl({"list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (const char* name : {"a", "b", "c"}) EXPECT_NE(table.out.find("| " + std::string(name) + " "), std::string::npos);
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& line : watcher.lines()) {
          if (line.find("leader: ") != std::string::npos && line.find("-> " + candidate) != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      10s))
      << "watch output:\n"
      << json(watcher.lines()).dump(1);
  EXPECT_FALSE(watcher.wait_exit(0ms)) << "dcsctl watch ended early:\n" << watcher.log_tail();
}

TEST_F(ExamplesEndToEnd, DcsctlExitCodes) {
  // 2: nothing listens on the port.
  const int dead_port = dcs::testing::pick_free_port();
  auto result = run({DCS_DCSCTL_BIN, "--hosts", "127.0.0.1:" + std::to_string(dead_port), "--scope", scope_,
                     "--retry-timeout", "2", "list"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << "one line:\n" << result.err;
  EXPECT_EQ(result.err.rfind("dcsctl: ", 0), 0u) << result.err;

  // 1: a missing or broken configuration, a bad flag, an unknown command.
  result = run({DCS_DCSCTL_BIN, "-c", dir_ + "/no-such-file.yaml", "list"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const std::string broken = dir_ + "/broken.yaml";
  std::ofstream(broken) << "scope: [unclosed\n";
  result = run({DCS_DCSCTL_BIN, "-c", broken, "list"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  result = dcsctl({"--retry-timeout", "0", "list"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  result = dcsctl({"frobnicate"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  result = dcsctl({"switchover", "--candidate", "b"});
  EXPECT_EQ(result.exit_code, 1) << "no leader to switch over from: " << result.err;
  result = run({DCS_HA_DAEMON_BIN, "--hosts", host_port(etcd_->endpoint()), "--scope", scope_});
  EXPECT_EQ(result.exit_code, 1) << "ha_daemon without a member name: " << result.err;

  // 3: an edit against a config version that is no longer current.
  dcs::etcd3::Etcd3Options options;
  options.endpoints = {etcd_->endpoint()};
  options.scope = scope_;
  options.name = "writer";
  options.patronictl = true;
  dcs::etcd3::Etcd3 writer(options);
  ASSERT_TRUE(writer.set_config_value(R"({"ttl":30})"));
  ASSERT_TRUE(writer.set_config_value(R"({"ttl":30,"loop_wait":10})"));
  const auto current = writer.get_cluster()->config->version;
  result = dcsctl({"edit-config", "--set", "ttl=20", "--expect-version", std::to_string(current - 1)});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("changed concurrently"), std::string::npos) << result.err;
  EXPECT_EQ(writer.get_cluster()->config->data["ttl"], 30) << "a lost compare writes nothing";

  // 0: the same edit against the current version; show-config reads it back.
  result = dcsctl({"edit-config", "--set", "ttl=20", "--set", "postgresql.parameters.max_connections=200"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  result = dcsctl({"show-config", "--format", "json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json config = json::parse(result.out);
  EXPECT_EQ(config["ttl"], 20);
  EXPECT_EQ(config["loop_wait"], 10);
  EXPECT_EQ(config["postgresql"]["parameters"]["max_connections"], 200);

  // remove: refuses without confirmation, then deletes the scope.
  result = dcsctl({"remove", scope_});
  EXPECT_EQ(result.exit_code, 1);
  result = dcsctl({"remove", scope_, "--yes-i-am-sure"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(writer.get_cluster()->config.has_value());
}

TEST_F(ExamplesEndToEnd, DcsctlReadsAClusterWrittenByPatroni302) {
  dcs::interop::require_patroni_302();
  const json config = {{"scope", scope_},
                       {"namespace", "/service/"},
                       {"name", "p1"},
                       {"ttl", 30},
                       {"loop_wait", 10},
                       {"retry_timeout", 10},
                       {"etcd3", {{"hosts", host_port(etcd_->endpoint())}}}};
  const json state = {
      {"initialize", "7123456789012345678"},
      {"config", {{"ttl", 30}, {"loop_wait", 10}}},
      {"leader", "p1"},
      {"members",
       {{{"name", "p1"},
         {"data",
          {{"conn_url", "postgres://10.0.0.1:5432/postgres"},
           {"api_url", "http://10.0.0.1:8008/patroni"},
           {"state", "running"},
           {"role", "master"},
           {"version", "3.0.2"},
           {"xlog_location", 100663296},
           {"timeline", 3}}}},
        {{"name", "p2"},
         {"data",
          {{"conn_url", "postgres://10.0.0.2:5432/postgres"},
           {"api_url", "http://10.0.0.2:8008/patroni"},
           {"state", "running"},
           {"role", "replica"},
           {"version", "3.0.2"},
           {"xlog_location", 99614720},
           {"timeline", 3},
           {"tags", {{"nofailover", true}}}}}}}},
      {"last_lsn", 100663296},
      {"history", {{1, 25165824, "no recovery target specified"}, {2, 50331648, "no recovery target specified"}}},
  };
  dcs::interop::run_peer("write-state", {{"config", config}, {"state", state}});
  const json patroni = dcs::interop::run_peer("dump-cluster", {{"config", config}});

  const json doc = list_json();
  ASSERT_TRUE(doc.is_object()) << dcsctl({"list", "--format", "json"}).err;
  EXPECT_EQ(doc["leader"], patroni["leader"]["name"]);
  EXPECT_EQ(doc["initialize"], patroni["initialize"]);
  EXPECT_EQ(doc["config"], patroni["config"]["data"]);
  EXPECT_EQ(doc["status"]["optime"], patroni["last_lsn"]);
  ASSERT_EQ(doc["members"].size(), patroni["members"].size());
  std::map<std::string, json> by_name;
  for (const auto& m : patroni["members"]) by_name[m["name"]] = m["data"];
  for (const auto& m : doc["members"]) {
    ASSERT_TRUE(by_name.count(m["name"])) << m.dump();
    const json& data = by_name[m["name"]];
    EXPECT_EQ(m["state"], data["state"]);
    EXPECT_EQ(m["conn_url"], data["conn_url"]);
    EXPECT_EQ(m["api_url"], data["api_url"]);
    EXPECT_EQ(m["timeline"], data["timeline"]);
    EXPECT_EQ(m["role"], m["name"] == "p1" ? "leader" : "replica");
  }
  EXPECT_EQ(doc["members"][1]["lag"], 100663296 - 99614720);
  EXPECT_EQ(doc["history"].size(), 2u);

  const auto table = dcsctl({"list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("| p1     | 10.0.0.1 | Leader  | running |  3 |"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("nofailover: true"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace dcs_examples
