// Etcd3 (the DCS) on a real etcd: the leader race between two members, failover when the leader
// stops refreshing its lease, the keepalive-only steady state, re-binding the leader key after a
// ttl change, and what the HA loop sees while etcd is down (a DCSError within the retry budget)
// and after it comes back.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "dcs/etcd3/etcd3.hpp"
#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Short timings keep the failover tests fast; etcd raises a lease ttl below its minimum (about
// 2 s with the default election timeout), so 3 s is granted as asked.
constexpr std::chrono::seconds kTtl{3};
constexpr std::chrono::seconds kLoopWait{1};
constexpr std::chrono::seconds kRetryTimeout{2};

Etcd3Options member_options(const std::string& endpoint, const std::string& scope, const std::string& name) {
  Etcd3Options options;
  options.endpoints = {endpoint};
  options.namespace_ = "/itest-dcs/";
  options.scope = scope;
  options.name = name;
  options.ttl = kTtl;
  options.loop_wait = kLoopWait;
  options.retry_timeout = kRetryTimeout;
  options.startup_timeout = 10s;
  return options;
}

class Etcd3DcsTest : public EtcdTest {
 protected:
  std::unique_ptr<Etcd3> member(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::make_unique<Etcd3>(member_options(etcd().endpoint(), info->name(), name));
  }

  // The leader key as etcd holds it (absent: nullopt).
  std::optional<KeyValue> leader_key(const Etcd3& dcs) { return read(dcs.leader_path()); }
  std::optional<KeyValue> read(const std::string& key_name) {
    const auto response = get(key_name);
    if (response.kvs.empty()) return std::nullopt;
    return response.kvs.front();
  }
};

TEST_F(Etcd3DcsTest, TwoMembersRaceForTheLeaderKeyAndExactlyOneWins) {
  auto a = member("a");
  auto b = member("b");
  std::atomic<bool> go{false};
  bool a_won = false;
  bool b_won = false;
  std::thread racer([&] {
    while (!go) std::this_thread::yield();
    a_won = a->attempt_to_acquire_leader();
  });
  go = true;
  b_won = b->attempt_to_acquire_leader();
  racer.join();
  ASSERT_NE(a_won, b_won) << "exactly one member must win";

  Etcd3& winner = a_won ? *a : *b;
  Etcd3& loser = a_won ? *b : *a;
  const auto view = loser.get_cluster();
  ASSERT_TRUE(view->leader);
  EXPECT_EQ(view->leader->name(), winner.name());
  EXPECT_EQ(view->leader->session, winner.lease());
  const auto key = leader_key(winner);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->lease, winner.lease());
  // The loser's later attempts keep failing while the winner holds the key.
  EXPECT_FALSE(loser.attempt_to_acquire_leader());
}

TEST_F(Etcd3DcsTest, AnotherMemberTakesOverOnceTheLeaderStopsRefreshing) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  ASSERT_TRUE(a->update_leader(*a->get_cluster(), std::nullopt));
  const auto last_refresh = Clock::now();  // a refreshes no more from here on

  // b runs its HA loop: wait loop_wait, read the cluster, race for the key when it is free.
  bool acquired = false;
  while (!acquired && Clock::now() - last_refresh < kTtl + kLoopWait + 2s) {
    b->watch(std::nullopt, kLoopWait);
    if (b->get_cluster()->is_unlocked()) acquired = b->attempt_to_acquire_leader();
  }
  ASSERT_TRUE(acquired);
  // The lease expires after ttl; b notices within one loop_wait (etcd checks expiry twice a second).
  EXPECT_LE(Clock::now() - last_refresh, kTtl + kLoopWait + 1s);
  EXPECT_EQ(b->get_cluster()->leader_name(), "b");
  // The old leader learns it lost the key: its keepalive grants a new lease, and the re-bind
  // transaction never overwrites b's key.
  EXPECT_FALSE(a->update_leader(*a->get_cluster(), std::nullopt));
  EXPECT_EQ(a->get_cluster()->leader_name(), "b");
}

TEST_F(Etcd3DcsTest, DeleteLeaderRemovesOnlyOurOwnKey) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  // b's watcher cache sees a's key a moment after a wrote it.
  ASSERT_TRUE(eventually([&] { return b->get_cluster()->leader_name() == "a"; }));
  const auto view = b->get_cluster();
  EXPECT_FALSE(b->delete_leader(view->leader));  // b is not the holder
  EXPECT_TRUE(leader_key(*a));
  EXPECT_TRUE(a->delete_leader(a->get_cluster()->leader, 1234));
  EXPECT_FALSE(leader_key(*a));
  ASSERT_TRUE(eventually([&] { return b->get_cluster()->is_unlocked(); }));
  // The final optime was written first, so whoever sees the key gone sees it too.
  EXPECT_EQ(b->get_cluster()->last_lsn(), 1234);
  EXPECT_TRUE(b->attempt_to_acquire_leader());
}

TEST_F(Etcd3DcsTest, SteadyStateUpdateLeaderOnlySendsKeepalives) {
  auto a = member("a");
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  const auto before = leader_key(*a);
  ASSERT_TRUE(before);
  // Longer than the ttl: only the keepalives keep the key.
  const auto until = Clock::now() + kTtl + 1s;
  while (Clock::now() < until) {
    ASSERT_TRUE(a->update_leader(*a->get_cluster(), std::nullopt));
    a->watch(std::nullopt, kLoopWait);
  }
  const auto after = leader_key(*a);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->mod_revision, before->mod_revision);
  EXPECT_EQ(after->lease, before->lease);
}

TEST_F(Etcd3DcsTest, AfterSetTtlTheLeaderKeyIsReboundToTheNewLease) {
  auto a = member("a");
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  ASSERT_TRUE(a->touch_member(nlohmann::json{{"state", "running"}}));
  const std::int64_t old_lease = a->lease();
  const auto view = a->get_cluster();

  a->set_ttl(kTtl + 2s);
  EXPECT_TRUE(a->watch(std::nullopt, 10s));  // the one-shot skip: the HA loop runs again at once
  ASSERT_TRUE(a->update_leader(*view, std::nullopt));
  const std::int64_t new_lease = a->lease();
  EXPECT_NE(new_lease, old_lease);
  const auto key = leader_key(*a);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->value, "a");
  EXPECT_EQ(key->lease, new_lease);
  EXPECT_EQ(client().lease_time_to_live(new_lease).granted_ttl, (kTtl + 2s).count());
  // The member key moves to the new lease with the next touch.
  ASSERT_TRUE(a->touch_member(nlohmann::json{{"state", "running"}}));
  const auto member_key = read(a->member_path());
  ASSERT_TRUE(member_key);
  EXPECT_EQ(member_key->lease, new_lease);
}

TEST_F(Etcd3DcsTest, ValuesRoundTripThroughEtcd) {
  auto a = member("a");
  ASSERT_TRUE(a->initialize(true, "7000000000000000001"));
  EXPECT_FALSE(a->initialize(true, "other"));
  ASSERT_TRUE(a->set_config_value(R"({"ttl":3})"));
  auto view = a->get_cluster();
  ASSERT_TRUE(view->config);
  EXPECT_FALSE(a->set_config_value(R"({"ttl":4})", view->config->version + 100));
  EXPECT_TRUE(a->set_config_value(R"({"ttl":4})", view->config->version));
  const auto sync = a->write_sync_state(std::string("a"), {"b"});
  ASSERT_TRUE(sync);
  EXPECT_FALSE(a->delete_sync_state(sync->version + 100));
  EXPECT_TRUE(a->delete_sync_state(sync->version));
  view = a->get_cluster();
  EXPECT_EQ(view->initialize, "7000000000000000001");
  EXPECT_EQ(view->config->data.value("ttl", 0), 4);
  EXPECT_TRUE(view->sync.is_empty());
  EXPECT_TRUE(a->delete_cluster());
  EXPECT_TRUE(a->get_cluster()->is_empty());
}

// A suite of its own: it stops and restarts etcd.
class Etcd3DcsOutageTest : public ::testing::Test {};

TEST_F(Etcd3DcsOutageTest, UnreachableEtcdIsADCSErrorWithinTheRetryBudgetAndEverythingRecovers) {
  EtcdProcess etcd;
  Etcd3 dcs(member_options(etcd.endpoint(), "outage", "a"));
  ASSERT_NO_THROW(dcs.get_cluster());

  etcd.signal(0, SIGKILL);
  // The watcher cache learns of the loss from its stream a moment after the kill.
  ASSERT_TRUE(eventually([&] { return !dcs.kv_cache()->ready(); }));
  const auto budget = std::chrono::duration_cast<Clock::duration>(kRetryTimeout) * 11 / 10;
  auto started = Clock::now();
  EXPECT_THROW(dcs.get_cluster(), DCSError);
  EXPECT_LE(Clock::now() - started, budget);
  started = Clock::now();
  EXPECT_THROW(dcs.attempt_to_acquire_leader(), DCSError);
  EXPECT_LE(Clock::now() - started, budget);
  // The setters report "not written" rather than throwing.
  EXPECT_FALSE(dcs.set_history_value("[]"));

  etcd.restart(0);
  EXPECT_TRUE(eventually([&] {
    try {
      return dcs.get_cluster() != nullptr;
    } catch (const DCSError&) {
      return false;
    }
  }));
  EXPECT_TRUE(dcs.attempt_to_acquire_leader());
  EXPECT_TRUE(dcs.update_leader(*dcs.get_cluster(), std::nullopt));
  EXPECT_EQ(dcs.get_cluster()->leader_name(), "a");
}

}  // namespace
}  // namespace dcs::itest
