// libdcs and real Patroni 3.0.2 share one etcd: what one writes the other reads, field for field,
// and the values whose format is fixed are the same bytes whoever wrote them (spec 2.3, 7.1).
//
// Patroni runs as a child process (tests/interop/patroni_peer.py on the system Python, with
// Debian's patroni package), driven through its own patroni.dcs.etcd3.Etcd3 class. Each scenario
// is written once per side into its own scope, then read back by both: libdcs's Etcd3 (through
// its watcher cache) and Patroni (straight from etcd as patronictl does, and through its watcher
// cache as a running Patroni does). Raw values are read with Etcd3Client right after writing.
//
// Where 3.0.2 and Patroni HEAD (which libdcs follows) store different bytes, the tests assert the
// documented difference (spec 7.1): sync gains "quorum", status gains "retain_slots", a primary's
// role is "master" in 3.0.2 and "primary" in HEAD.
//
// The suite fails, never skips, when etcd, python3 or Patroni 3.0.2 is missing.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/cluster.hpp"
#include "dcs/etcd3/client.hpp"
#include "dcs/etcd3/etcd3.hpp"
#include "interop/cluster_view.hpp"
#include "interop/patroni_peer.hpp"
#include "interop/scenario.hpp"
#include "support/etcd_process.hpp"

namespace dcs::interop {
namespace {

using dcs::etcd3::Etcd3;
using dcs::testing::EtcdProcess;
using nlohmann::json;

/// What one side left in etcd: the raw keys right after writing, and the writers' leases.
struct Written {
  RawKeys raw;
  std::map<std::string, std::int64_t> leases;
  json patroni_answer;                // Patroni writes: write-state's answer
  std::vector<LibdcsWriter> writers;  // libdcs writes: the writers, leases still held
};

/// A scenario runs once per suite (its keys are written once); a failure is kept and reported by
/// every test that needs it.
struct Once {
  std::optional<Written> value;
  std::string error;
  bool tried = false;
};

class InteropPatroni : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      etcd_ = std::make_unique<EtcdProcess>();
    } catch (const std::exception& e) {
      setup_error_ += std::string("etcd could not be started: ") + e.what() + "\n";
    }
    try {
      require_patroni_302();
    } catch (const std::exception& e) {
      setup_error_ += std::string("Patroni 3.0.2 is not usable: ") + e.what() + "\n";
    }
  }
  static void TearDownTestSuite() {
    // Writers first: they talk to etcd until they are gone.
    for (auto* once : {&patroni_plain_, &libdcs_plain_, &patroni_citus_, &libdcs_citus_}) *once = Once{};
    etcd_.reset();
  }

  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    client_ = std::make_unique<etcd3::Etcd3Client>(client_options());
  }

  static etcd3::Etcd3Options client_options() {
    etcd3::Etcd3Options options;
    options.endpoints = {etcd_->endpoint()};
    return options;
  }
  static json config(const std::string& scope, const std::string& name, std::optional<int> group = std::nullopt) {
    return patroni_config(etcd_->endpoint(), scope, name, group);
  }
  /// patroni_peer.py dump-cluster: straight from etcd (patronictl) or through the watcher cache.
  static json patroni_dump(const json& config, bool patronictl = true) {
    return run_peer("dump-cluster", {{"config", config}, {"patronictl", patronictl}});
  }

  RawKeys raw(const std::string& scope) { return read_raw(*client_, scope_prefix(scope)); }

  template <typename Make>
  static Written& once(Once& slot, Make make) {
    if (!slot.tried) {
      slot.tried = true;
      try {
        slot.value.emplace(make());
      } catch (const std::exception& e) {
        slot.error = e.what();
      }
    }
    if (!slot.value) throw std::runtime_error("writing the scenario failed: " + slot.error);
    return *slot.value;
  }

  /// Patroni writes `jobs` ([{config, state}]) under `scope`.
  Written patroni_writes(const std::string& scope, const json& jobs) {
    Written written;
    written.patroni_answer = run_peer("write-state", jobs);
    written.raw = raw(scope);
    for (const auto& job : written.patroni_answer.at("jobs")) {
      for (const auto& op : job.at("ops"))
        EXPECT_TRUE(op.at("result").get<bool>()) << "Patroni's " << op.at("op") << " for " << op.at("member");
      for (const auto& [name, lease] : job.at("leases").items())
        written.leases[name] = std::stoll(lease.get<std::string>());
    }
    return written;
  }

  /// libdcs writes `jobs` ([{config, state}]) under `scope`.
  Written libdcs_writes(const std::string& scope, const std::vector<std::pair<json, json>>& jobs) {
    Written written;
    for (const auto& [job_config, state] : jobs) {
      written.writers.push_back(write_with_libdcs(job_config, state));
      for (const auto& [op, ok] : written.writers.back().ops) EXPECT_TRUE(ok) << "libdcs's " << op;
      written.leases.merge(written.writers.back().leases());
    }
    written.raw = raw(scope);
    return written;
  }

  Written& patroni_plain() {
    return once(patroni_plain_, [&] {
      return patroni_writes("plain-patroni", {{"config", config("plain-patroni", "pg1")}, {"state", full_state()}});
    });
  }
  Written& libdcs_plain() {
    return once(libdcs_plain_, [&] {
      return libdcs_writes("plain-libdcs", {{config("plain-libdcs", "pg1"), full_state("primary")}});
    });
  }
  Written& patroni_citus() {
    return once(patroni_citus_, [&] {
      return patroni_writes(
          "citus-patroni",
          json::array({{{"config", config("citus-patroni", "c0a", 0)}, {"state", citus_coordinator_state()}},
                       {{"config", config("citus-patroni", "w1a", 1)}, {"state", citus_worker_state()}}}));
    });
  }
  Written& libdcs_citus() {
    return once(libdcs_citus_, [&] {
      return libdcs_writes("citus-libdcs", {{config("citus-libdcs", "c0a", 0), citus_coordinator_state()},
                                            {config("citus-libdcs", "w1a", 1), citus_worker_state()}});
    });
  }

  /// The coordinator's expected view: group 0 with group 1 as its worker.
  static json expected_citus(const Written& written, json* worker = nullptr) {
    auto coordinator = expected_view(citus_coordinator_state(), group_keys(written.raw, "0/"), written.leases);
    auto group1 = expected_view(citus_worker_state(), group_keys(written.raw, "1/"), written.leases);
    if (worker) *worker = group1;
    coordinator["workers"]["1"] = std::move(group1);
    return coordinator;
  }

  inline static std::unique_ptr<EtcdProcess> etcd_;
  inline static std::string setup_error_;
  inline static Once patroni_plain_, libdcs_plain_, patroni_citus_, libdcs_citus_;
  std::unique_ptr<etcd3::Etcd3Client> client_;
};

std::string value_of(const RawKeys& keys, const std::string& key) {
  const auto it = keys.find(key);
  if (it == keys.end()) {
    ADD_FAILURE() << "no key " << key;
    return {};
  }
  return it->second.value;
}

std::vector<std::string> key_names(const RawKeys& keys) {
  std::vector<std::string> names;
  for (const auto& [key, kv] : keys) names.push_back(key);
  return names;
}

bool citus_ready(const Cluster& view) {
  const auto worker = view.workers.find(1);
  return has_members(view, member_names(citus_coordinator_state())) && worker != view.workers.end() &&
         has_members(*worker->second, member_names(citus_worker_state()));
}

// --- a) Patroni writes, libdcs reads ----------------------------------------------------------

TEST_F(InteropPatroni, PatroniWritesLibdcsReadsEveryField) {
  auto& written = patroni_plain();
  const auto expected = expected_view(full_state(), written.raw, written.leases);
  // Patroni's own view right after writing shows what the test meant to write.
  expect_same_view(view_of_dump(written.patroni_answer["jobs"][0]["cluster"]), expected, "Patroni writer's own view");

  auto reader = Etcd3::from_patroni_config(config("plain-patroni", "observer"));
  const auto cluster = wait_for_cluster(*reader, [](const Cluster& view) { return has_members(view, {"pg1", "pg2"}); });
  expect_same_view(view_of(*cluster), expected, "libdcs reading what Patroni 3.0.2 wrote");
  expect_same_view(view_of(*cluster), view_of_dump(patroni_dump(config("plain-patroni", "observer"))),
                   "libdcs and Patroni 3.0.2 reading the same keys");

  // What only libdcs's model has, read from 3.0.2's values (spec 7.1): no quorum in 3.0.2's sync
  // (read as 0) and no retain_slots in its status.
  EXPECT_EQ(cluster->sync.quorum, 0);
  EXPECT_TRUE(cluster->sync.matches("pg2"));
  EXPECT_TRUE(cluster->status.retain_slots.empty());
  EXPECT_EQ(cluster->last_lsn(), 67108960);
  // The accessors an HA loop uses, on 3.0.2's member data. 3.0.2 calls a primary "master"
  // (spec 7.1): libdcs takes it as a primary.
  ASSERT_TRUE(cluster->leader);
  EXPECT_EQ(cluster->leader_name(), "pg1");
  EXPECT_FALSE(cluster->is_unlocked());
  const auto& leader = *cluster->leader->member;
  EXPECT_EQ(leader.role(), "master");
  EXPECT_TRUE(leader.is_primary());
  EXPECT_TRUE(leader.is_running());
  EXPECT_EQ(leader.api_url(), "http://127.0.0.1:8008/patroni");
  EXPECT_EQ(leader.conn_url(), "postgres://127.0.0.1:5432/postgres");
  EXPECT_EQ(leader.lsn(), 67108960);
  EXPECT_FALSE(leader.nofailover());
  EXPECT_EQ(leader.tags().value("zone", ""), "Z\u00fcrich \u2603 \U0001F600");
  EXPECT_EQ(leader.patroni_version(), (std::array<int, 3>{3, 0, 2}));
  const auto replica = cluster->get_member("pg2");
  ASSERT_TRUE(replica);
  EXPECT_FALSE(replica->is_primary());
  EXPECT_EQ(replica->lsn(), 67108000);
  EXPECT_EQ(cluster->min_version(), (std::array<int, 3>{2, 0, 2}));
  EXPECT_EQ(cluster->timeline(), 2);
  ASSERT_TRUE(cluster->failover);
  EXPECT_FALSE(cluster->failover->is_empty());
}

// --- b) libdcs writes, Patroni reads ----------------------------------------------------------

TEST_F(InteropPatroni, LibdcsWritesPatroniReadsEveryField) {
  auto& written = libdcs_plain();
  const auto expected = expected_view(full_state("primary"), written.raw, written.leases);
  const auto own = wait_for_cluster(written.writers[0].leader(), [](const Cluster& view) {
    return has_members(view, {"pg1", "pg2"});
  });
  expect_same_view(view_of(*own), expected, "libdcs writer's own view");

  const auto direct = patroni_dump(config("plain-libdcs", "observer"));
  expect_same_view(view_of_dump(direct), expected, "Patroni 3.0.2 (patronictl read) reading what libdcs wrote");
  expect_same_view(view_of_dump(patroni_dump(config("plain-libdcs", "observer"), false)), expected,
                   "Patroni 3.0.2 (watcher cache) reading what libdcs wrote");
  // HEAD's role for a primary reaches 3.0.2 unchanged (spec 7.1: readers accept both names).
  EXPECT_EQ(direct["leader"]["member"]["data"]["role"], "primary");
  // 3.0.2 ignores the "quorum" libdcs adds to sync (spec 7.1) and still sees the standby.
  EXPECT_EQ(direct["sync"]["members"], json::array({"pg2"}));
}

// --- d) fixed-format values are the same bytes ------------------------------------------------

TEST_F(InteropPatroni, FixedFormatValuesAreByteIdentical) {
  const auto& patroni = patroni_plain().raw;
  const auto& libdcs = libdcs_plain().raw;
  ASSERT_EQ(key_names(libdcs), key_names(patroni)) << "both writers keep the same keys";
  ASSERT_EQ(key_names(patroni),
            (std::vector<std::string>{"config", "failover", "failsafe", "history", "initialize", "leader",
                                      "members/pg1", "members/pg2", "optime/leader", "status", "sync"}));

  // Patroni 3.0.2's exact bytes, written down once so a change on either side shows here.
  EXPECT_EQ(value_of(patroni, "initialize"), "7234567890123456789");
  EXPECT_EQ(value_of(patroni, "leader"), "pg1");
  EXPECT_EQ(value_of(patroni, "optime/leader"), "67108960");
  EXPECT_EQ(value_of(patroni, "status"), R"({"optime":67108960,"slots":{"logical_a":67100000,"logical_b":5}})");
  EXPECT_EQ(value_of(patroni, "failover"),
            R"({"leader":"pg1","member":"pg2","scheduled_at":"2024-05-01T10:00:00+00:00"})");
  EXPECT_EQ(value_of(patroni, "failsafe"),
            R"({"pg1":"http://127.0.0.1:8008/patroni","pg2":"http://127.0.0.1:8009/patroni"})");
  EXPECT_EQ(value_of(patroni, "history"),
            R"([[1,25165984,"no recovery target specified","2024-05-01T09:59:00.123456+00:00","pg1"]])");
  EXPECT_EQ(value_of(patroni, "members/pg1"),
            R"({"api_url":"http://127.0.0.1:8008/patroni","conn_url":"postgres://127.0.0.1:5432/postgres",)"
            R"("pending_restart":true,"role":"master","state":"running","tags":{"clonefrom":true,"nofailover":false,)"
            R"("note":"tab\there\nquote\" backslash\\ del\u007f end","ratio":0.5,)"
            R"("zone":"Z\u00fcrich \u2603 \ud83d\ude00"},"timeline":2,"version":"3.0.2","xlog_location":67108960})");
  EXPECT_EQ(value_of(patroni, "sync"), R"({"leader":"pg1","sync_standby":"pg2"})");

  for (const auto& key : key_names(patroni)) {
    const auto ours = value_of(libdcs, key);
    auto theirs = value_of(patroni, key);
    if (key == "sync") {
      // Spec 7.1: HEAD (and libdcs) always writes "quorum" (0 when unused) between leader and
      // sync_standby; 3.0.2 has no such field and ignores it on read.
      EXPECT_EQ(ours, R"({"leader":"pg1","quorum":0,"sync_standby":"pg2"})");
      continue;
    }
    if (key == "members/pg1") {
      // Spec 7.1: the member data is the caller's; libdcs's writer published the primary role
      // under HEAD's name "primary" where 3.0.2 writes "master". Everything else is the same.
      const std::string master = R"("role":"master")";
      const auto at = theirs.find(master);
      ASSERT_NE(at, std::string::npos);
      theirs.replace(at, master.size(), R"("role":"primary")");
    }
    EXPECT_EQ(ours, theirs) << "key " << key;
  }

  // Lease binding: leader and the leader's member key share one lease; the other member has its
  // own; nothing else is leased.
  for (const auto* keys : {&patroni, &libdcs}) {
    for (const auto& [key, kv] : *keys) {
      if (key == "leader" || key == "members/pg1" || key == "members/pg2") {
        EXPECT_NE(kv.lease, 0) << key;
      } else {
        EXPECT_EQ(kv.lease, 0) << key;
      }
    }
    EXPECT_EQ(keys->at("leader").lease, keys->at("members/pg1").lease);
    EXPECT_NE(keys->at("members/pg2").lease, keys->at("members/pg1").lease);
  }
}

// What libdcs writes beyond 3.0.2's formats (spec 7.1) is read by 3.0.2 without harm.
TEST_F(InteropPatroni, HeadOnlyFieldsAreIgnoredByPatroni302) {
  const std::string scope = "head-libdcs";
  json state = full_state("primary");
  for (const auto* key : {"failover", "failsafe", "history", "sync"}) state.erase(key);
  state["members"].erase(1);
  auto writer = write_with_libdcs(config(scope, "pg1"), state);
  for (const auto& [op, ok] : writer.ops) EXPECT_TRUE(ok) << "libdcs's " << op;
  auto& leader = writer.leader();
  EXPECT_EQ(value_of(raw(scope), "status"), R"({"optime":67108960,"slots":{"logical_a":67100000,"logical_b":5}})");

  // A quorum sync state and a status with retain_slots, as Patroni HEAD writes them.
  const auto cluster = leader.get_cluster();
  ASSERT_TRUE(leader.update_leader(*cluster, 67109000, AbstractDCS::Slots{{"logical_a", 67100100}}, std::nullopt,
                                   std::vector<std::string>{"pg2", "pg3"}));
  ASSERT_TRUE(leader.write_sync_state("pg1", {"pg3", "pg2"}, 1));
  const auto keys = raw(scope);
  // Spec 7.1: 3.0.2 would write {"optime":67109000,"slots":{"logical_a":67100100}}; HEAD appends
  // retain_slots.
  EXPECT_EQ(value_of(keys, "status"),
            R"({"optime":67109000,"slots":{"logical_a":67100100},"retain_slots":["pg2","pg3"]})");
  EXPECT_EQ(value_of(keys, "sync"), R"({"leader":"pg1","quorum":1,"sync_standby":"pg2,pg3"})");

  const auto dump = patroni_dump(config(scope, "observer"));
  EXPECT_EQ(dump["last_lsn"], 67109000);
  EXPECT_EQ(dump["slots"], json({{"logical_a", 67100100}}));
  EXPECT_EQ(dump["sync"]["leader"], "pg1");
  EXPECT_EQ(dump["sync"]["sync_standby"], "pg2,pg3");
  EXPECT_EQ(dump["sync"]["members"], json::array({"pg2", "pg3"}));
  EXPECT_EQ(patroni_number(dump["sync"]["version"]), keys.at("sync").mod_revision);

  const auto view = leader.get_cluster();
  EXPECT_EQ(view->status.retain_slots, (std::vector<std::string>{"pg2", "pg3"}));
  EXPECT_EQ(view->sync.quorum, 1);
  expect_same_view(view_of(*view), view_of_dump(dump), "libdcs and Patroni 3.0.2 reading HEAD-only fields");
}

// --- c) Citus: coordinator group 0 and worker group 1 -----------------------------------------

TEST_F(InteropPatroni, CitusPatroniWritesLibdcsReads) {
  auto& written = patroni_citus();
  json expected_worker;
  const auto expected = expected_citus(written, &expected_worker);
  auto expected_group0 = expected;
  expected_group0["workers"] = json::object();
  expect_same_view(view_of_dump(written.patroni_answer["jobs"][0]["cluster"]), expected_group0,
                   "Patroni coordinator's own view");
  expect_same_view(view_of_dump(written.patroni_answer["jobs"][1]["cluster"]), expected_worker,
                   "Patroni worker's own view");

  // A coordinator reads every group; a worker reads its own, and the coordinator's on request.
  auto coordinator = Etcd3::from_patroni_config(config("citus-patroni", "observer", 0));
  const auto cluster = wait_for_cluster(*coordinator, citus_ready);
  expect_same_view(view_of(*cluster), expected, "libdcs coordinator reading Patroni 3.0.2's Citus cluster");
  expect_same_view(view_of(*cluster), view_of_dump(patroni_dump(config("citus-patroni", "observer", 0))),
                   "libdcs and Patroni 3.0.2 coordinators reading the same keys");

  auto worker = Etcd3::from_patroni_config(config("citus-patroni", "observer", 1));
  const auto group1 = wait_for_cluster(
      *worker, [](const Cluster& view) { return has_members(view, member_names(citus_worker_state())); });
  expect_same_view(view_of(*group1), expected_worker, "libdcs worker reading its group");
  expect_same_view(view_of(*group1), view_of_dump(patroni_dump(config("citus-patroni", "observer", 1))),
                   "libdcs and Patroni 3.0.2 workers reading the same keys");
  // The cleared request reads as present but empty; the running bootstrap as an empty sysid.
  ASSERT_TRUE(cluster->failover);
  EXPECT_TRUE(cluster->failover->is_empty());
  EXPECT_EQ(group1->initialize, "");
  const auto coordinator_from_worker = worker->get_citus_coordinator();
  ASSERT_NE(coordinator_from_worker, nullptr);
  expect_same_view(view_of(*coordinator_from_worker), expected_group0, "libdcs worker reading the coordinator");
}

TEST_F(InteropPatroni, CitusLibdcsWritesPatroniReads) {
  auto& written = libdcs_citus();
  json expected_worker;
  const auto expected = expected_citus(written, &expected_worker);
  expect_same_view(view_of(*wait_for_cluster(written.writers[0].leader(), citus_ready)), expected,
                   "libdcs coordinator writer's own view");

  expect_same_view(view_of_dump(patroni_dump(config("citus-libdcs", "observer", 0))), expected,
                   "Patroni 3.0.2 coordinator (patronictl read) reading what libdcs wrote");
  expect_same_view(view_of_dump(patroni_dump(config("citus-libdcs", "observer", 0), false)), expected,
                   "Patroni 3.0.2 coordinator (watcher cache) reading what libdcs wrote");
  expect_same_view(view_of_dump(patroni_dump(config("citus-libdcs", "observer", 1))), expected_worker,
                   "Patroni 3.0.2 worker reading what libdcs wrote");
}

TEST_F(InteropPatroni, CitusFixedFormatValuesAreByteIdentical) {
  const auto& patroni = patroni_citus().raw;
  const auto& libdcs = libdcs_citus().raw;
  ASSERT_EQ(key_names(libdcs), key_names(patroni));
  ASSERT_EQ(
      key_names(patroni),
      (std::vector<std::string>{"0/config", "0/failover", "0/history", "0/initialize", "0/leader", "0/members/c0a",
                                "0/members/c0b", "0/status", "0/sync", "1/config", "1/failover", "1/failsafe",
                                "1/initialize", "1/leader", "1/members/w1a", "1/members/w1b", "1/status", "1/sync"}));
  EXPECT_EQ(value_of(patroni, "0/history"), "[]");
  EXPECT_EQ(value_of(patroni, "0/failover"), "{}");
  EXPECT_EQ(value_of(patroni, "1/failover"), R"({"member":"w1b"})");
  EXPECT_EQ(value_of(patroni, "1/initialize"), "");
  EXPECT_EQ(value_of(patroni, "1/status"), R"({"optime":33554432})");
  EXPECT_EQ(value_of(patroni, "0/sync"), R"({"leader":"c0a","sync_standby":"c0b"})");
  EXPECT_EQ(value_of(patroni, "1/sync"), R"({"leader":"w1a","sync_standby":null})");
  // Spec 7.1: HEAD (and libdcs) adds "quorum" to sync; every other value is the same bytes.
  EXPECT_EQ(value_of(libdcs, "0/sync"), R"({"leader":"c0a","quorum":0,"sync_standby":"c0b"})");
  EXPECT_EQ(value_of(libdcs, "1/sync"), R"({"leader":"w1a","quorum":0,"sync_standby":null})");
  for (const auto& key : key_names(patroni)) {
    if (key != "0/sync" && key != "1/sync") {
      EXPECT_EQ(value_of(libdcs, key), value_of(patroni, key)) << "key " << key;
    }
  }
}

}  // namespace
}  // namespace dcs::interop
