// What MemoryDCS promises beyond the conformance suite: exact lease arithmetic on a ManualClock,
// the store's revisions, watch() that never blocks on a manual clock and wakes across members
// on a real one, and set_available.
#include <future>
#include <memory>

#include <gtest/gtest.h>

#include "dcs/clock.hpp"
#include "dcs/errors.hpp"
#include "dcs/memory_dcs.hpp"

namespace dcs {
namespace {

using namespace std::chrono_literals;

DCSSettings settings_for(const std::string& name, std::chrono::seconds ttl = 10s, std::chrono::seconds loop_wait = 3s) {
  DCSSettings settings;
  settings.scope = "demo";
  settings.name = name;
  settings.ttl = ttl;
  settings.loop_wait = loop_wait;
  return settings;
}

const nlohmann::json kData = {{"state", "running"}, {"role", "replica"}};

class MemoryDCSTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>(clock_);

  std::unique_ptr<MemoryDCS> member(const std::string& name, std::chrono::seconds ttl = 10s,
                                    std::chrono::seconds loop_wait = 3s) {
    return std::make_unique<MemoryDCS>(settings_for(name, ttl, loop_wait), store_);
  }

  bool has_key(const std::string& key) const {
    for (const auto& stored : store_->range("/")) {
      if (stored.key == key) return true;
    }
    return false;
  }
};

TEST_F(MemoryDCSTest, ALeaseLivesExactlyItsTtlAfterTheLastKeepalive) {
  auto a = member("a");
  ASSERT_TRUE(a->touch_member(kData));
  clock_->advance(10s);
  EXPECT_TRUE(has_key("/service/demo/members/a")) << "alive at last keepalive + ttl";
  clock_->advance(1ns);
  EXPECT_FALSE(has_key("/service/demo/members/a"));
}

TEST_F(MemoryDCSTest, LeaderAndMemberKeysShareTheMembersLease) {
  auto a = member("a");
  EXPECT_EQ(a->lease(), 0) << "no lease before the first grant";
  ASSERT_TRUE(a->touch_member(kData));
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  ASSERT_NE(a->lease(), 0);
  const auto keys = store_->range("/service/demo/");
  ASSERT_EQ(keys.size(), 2U);
  for (const auto& key : keys) EXPECT_EQ(key.session, a->lease()) << key.key;
  EXPECT_EQ(keys[0].key, "/service/demo/leader");
  EXPECT_EQ(keys[0].value, "a");
  EXPECT_EQ(keys[1].value, R"({"role":"replica","state":"running"})");
}

TEST_F(MemoryDCSTest, EveryWriteIsOneRevisionAndAKeysVersionIsItsLastWrite) {
  auto a = member("a");
  const auto start = store_->revision();
  ASSERT_TRUE(a->set_config_value("{}"));
  EXPECT_EQ(store_->revision(), start + 1);
  ASSERT_TRUE(a->set_history_value("[]"));
  EXPECT_EQ(store_->revision(), start + 2);
  const auto cluster = a->get_cluster();
  EXPECT_EQ(cluster->config->version, start + 1);
  EXPECT_EQ(cluster->history->version, start + 2);
  ASSERT_TRUE(a->cancel_initialization());
  EXPECT_EQ(store_->revision(), start + 2) << "deleting a missing key writes nothing";
  ASSERT_TRUE(a->delete_cluster());
  EXPECT_EQ(store_->revision(), start + 3) << "one revision for the whole prefix";
}

TEST_F(MemoryDCSTest, TouchMemberRefreshesTheLeaseAtMostOncePerLoopWait) {
  auto throttled = member("throttled");
  auto refreshed = member("refreshed");
  ASSERT_TRUE(throttled->touch_member(kData));
  ASSERT_TRUE(refreshed->touch_member(kData));
  clock_->advance(2s);
  ASSERT_TRUE(throttled->touch_member(kData));  // within loop_wait: no keepalive
  clock_->advance(1s);
  ASSERT_TRUE(refreshed->touch_member(kData));  // loop_wait passed: keepalive
  clock_->advance(7s + 1ms);                    // 10 s after the grant
  EXPECT_FALSE(has_key("/service/demo/members/throttled"));
  EXPECT_TRUE(has_key("/service/demo/members/refreshed"));
  const auto lost = throttled->lease();
  EXPECT_TRUE(throttled->touch_member(kData)) << "a lost lease is replaced by a new grant";
  EXPECT_NE(throttled->lease(), lost);
  EXPECT_TRUE(has_key("/service/demo/members/throttled"));
}

TEST_F(MemoryDCSTest, SetTtlGrantsANewLeaseWithTheNewTtl) {
  auto a = member("a");
  ASSERT_TRUE(a->touch_member(kData));
  const auto old_lease = a->lease();
  a->set_ttl(20s);
  EXPECT_EQ(a->lease(), 0);
  EXPECT_TRUE(a->watch(std::nullopt, 1h)) << "the one-shot wake-up after a ttl change";
  EXPECT_FALSE(a->watch(std::nullopt, 1h));
  ASSERT_TRUE(a->touch_member(kData));
  EXPECT_NE(a->lease(), old_lease);
  clock_->advance(15s);
  EXPECT_TRUE(has_key("/service/demo/members/a")) << "bound to the 20 s lease";
}

TEST_F(MemoryDCSTest, UpdateLeaderRecreatesTheKeyAfterItsLeaseExpired) {
  auto a = member("a");
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  const auto view = a->get_cluster();
  clock_->advance(11s);
  ASSERT_FALSE(has_key("/service/demo/leader"));
  EXPECT_TRUE(a->update_leader(*view, {})) << "nobody holds it: recreated under a new lease";
  const auto now = a->get_cluster();
  EXPECT_EQ(now->leader_name(), "a");
  EXPECT_EQ(now->leader->session, a->lease());
}

TEST_F(MemoryDCSTest, WatchOnAManualClockReportsWithoutBlocking) {
  auto a = member("a");
  auto b = member("b");
  EXPECT_FALSE(b->watch(std::nullopt, 1h));
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  EXPECT_TRUE(b->watch(1, 1h));
  EXPECT_FALSE(b->watch(1, 1h)) << "consumed";
  clock_->advance(11s);  // a's lease expires: the leader key vanishes, lazily
  EXPECT_TRUE(b->watch(1, 1h));
}

TEST_F(MemoryDCSTest, WatchWakesOnALeaderChangeByAnotherMemberInRealTime) {
  auto store = std::make_shared<MemoryStore>();  // the steady clock
  auto a = std::make_unique<MemoryDCS>(settings_for("a"), store);
  auto b = std::make_unique<MemoryDCS>(settings_for("b"), store);
  auto woke = std::async(std::launch::async, [&] { return b->watch(std::nullopt, 60s); });
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  EXPECT_TRUE(woke.get());
}

TEST_F(MemoryDCSTest, WatchWakesWhenTheLeaderLeaseRunsOutInRealTime) {
  auto store = std::make_shared<MemoryStore>();
  auto a = std::make_unique<MemoryDCS>(settings_for("a", 1s, 1s), store);
  auto b = std::make_unique<MemoryDCS>(settings_for("b", 1s, 1s), store);
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  ASSERT_TRUE(b->watch(std::nullopt, 0ms));  // the acquisition
  // Nobody writes: the expiry alone must wake the waiter.
  EXPECT_TRUE(b->watch(std::nullopt, 60s));
  EXPECT_TRUE(b->get_cluster()->is_unlocked());
}

TEST_F(MemoryDCSTest, AnUnavailableStoreFailsEveryOperation) {
  auto a = member("a");
  ASSERT_TRUE(a->touch_member(kData));
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  const auto view = a->get_cluster();
  store_->set_available(false);
  EXPECT_FALSE(store_->available());
  EXPECT_THROW(a->get_cluster(), DCSError);
  EXPECT_THROW(a->attempt_to_acquire_leader(), DCSError);
  EXPECT_THROW(a->update_leader(*view, 1), DCSError);
  EXPECT_FALSE(a->touch_member(kData));
  EXPECT_FALSE(a->set_config_value("{}"));
  EXPECT_FALSE(a->watch(std::nullopt, 1h));
  EXPECT_EQ(store_->range("/service/demo/").size(), 2U) << "the store itself can still be inspected";
  store_->set_available(true);
  EXPECT_EQ(a->get_cluster()->leader_name(), "a");
}

TEST_F(MemoryDCSTest, PutPlantsAValueLikeAnotherWriter) {
  auto a = member("a");
  store_->put("/service/demo/leader", "someone");
  const auto cluster = a->get_cluster();
  EXPECT_EQ(cluster->leader_name(), "someone");
  EXPECT_EQ(cluster->leader->session, 0);
  EXPECT_FALSE(a->attempt_to_acquire_leader());
  EXPECT_FALSE(a->delete_leader(cluster->leader)) << "not ours";
}

TEST_F(MemoryDCSTest, TheStoresClockRulesTheCachedView) {
  auto other_clock = std::make_shared<ManualClock>();
  auto settings = settings_for("a");
  settings.clock = other_clock;
  MemoryDCS a(settings, store_);
  ASSERT_TRUE(a.get_cluster());
  clock_->advance(11s);  // past ttl on the store's clock
  EXPECT_EQ(a.cluster(), nullptr);
}

TEST(MemoryDCSConstruction, NeedsAStore) {
  EXPECT_THROW(MemoryDCS dcs(settings_for("a"), nullptr), ConfigError);
}

}  // namespace
}  // namespace dcs
