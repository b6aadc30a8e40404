// watch(): the HA loop's sleep, cut short by what it must react to at once (spec 5.4) — a
// change of the leader key, a changed config, a new leader position for a follower — and once
// right after a ttl change.
#include "conformance/suite.hpp"

namespace dcs::conformance {
namespace {

using Watch = ConformanceTest;

constexpr auto kPoll = 100ms;

/// Consumes wake-ups left over from earlier changes, so the next `true` is caused by the test.
void drain(AbstractDCS& m) {
  ASSERT_TRUE(eventually([&] { return !m.watch(std::nullopt, kPoll); })) << "watch never settled";
}

class WatchWithLeader : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    a_ = member("a");
    b_ = member("b");
    ASSERT_TRUE(a_->touch_member(member_data("a", "primary")));
    ASSERT_TRUE(a_->attempt_to_acquire_leader());
    seen_by_b_ = read_until(*b_, [](const Cluster& c) { return c.leader_name() == "a"; });
    ASSERT_TRUE(seen_by_b_);
    drain(*a_);
    drain(*b_);
  }

  std::unique_ptr<AbstractDCS> a_;
  std::unique_ptr<AbstractDCS> b_;
  std::shared_ptr<const Cluster> seen_by_b_;
};

TEST_F(WatchWithLeader, NothingChangedMeansNoWakeUp) {
  EXPECT_FALSE(b_->watch(seen_by_b_->leader->version, kPoll));
  EXPECT_FALSE(a_->watch(std::nullopt, kPoll));
}

TEST_F(WatchWithLeader, ALeaderChangeWakesTheFollower) {
  const auto version = seen_by_b_->leader->version;
  ASSERT_TRUE(a_->delete_leader(a_->get_cluster()->leader));
  EXPECT_TRUE(eventually([&] { return b_->watch(version, kPoll); }));

  ASSERT_TRUE(b_->attempt_to_acquire_leader());
  EXPECT_TRUE(eventually([&] { return a_->watch(std::nullopt, kPoll); })) << "the old leader wakes too";
}

TEST_F(WatchWithLeader, AConfigChangeWakesEveryone) {
  ASSERT_TRUE(a_->set_config_value(R"({"ttl":30})"));
  ASSERT_TRUE(read_until(*b_, [](const Cluster& c) { return c.config.has_value(); }));
  drain(*a_);
  drain(*b_);

  ASSERT_TRUE(a_->set_config_value(R"({"ttl":40})"));
  EXPECT_TRUE(eventually([&] { return b_->watch(std::nullopt, kPoll); }));
  EXPECT_TRUE(eventually([&] { return a_->watch(std::nullopt, kPoll); }));
}

TEST_F(WatchWithLeader, ANewLeaderPositionWakesTheFollowerOnly) {
  a_->write_status({{"optime", 83886240}});
  EXPECT_TRUE(eventually([&] { return b_->watch(seen_by_b_->leader->version, kPoll); }));
  EXPECT_FALSE(a_->watch(std::nullopt, kPoll)) << "the leader wrote it itself";
}

TEST_F(Watch, ATtlChangeMakesTheNextWatchReturnAtOnce) {
  auto a = member("a");
  ASSERT_TRUE(a->touch_member(member_data("a")));
  drain(*a);
  a->set_ttl(ttl() + 1s);
  EXPECT_TRUE(a->watch(std::nullopt, 10s));
  EXPECT_FALSE(a->watch(std::nullopt, kPoll)) << "only once";
}

}  // namespace
}  // namespace dcs::conformance
