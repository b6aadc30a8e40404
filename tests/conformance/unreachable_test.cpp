// An unreachable store (spec 3.0): reads and the leader operations throw DCSError, so the HA
// loop can tell "no store" from "the store said no"; every other write just returns false.
#include "conformance/suite.hpp"

namespace dcs::conformance {
namespace {

using Unreachable = ConformanceTest;

TEST_F(Unreachable, ReadsAndLeaderOperationsThrow) {
  auto a = member("a");
  ASSERT_TRUE(a->touch_member(member_data("a", "primary")));
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  const auto view = a->get_cluster();
  ASSERT_TRUE(a->cluster());

  backend().set_reachable(false);
  EXPECT_THROW(a->get_cluster(), DCSError);
  EXPECT_EQ(a->cluster(), nullptr) << "a failed read drops the cached view";
  EXPECT_THROW(a->update_leader(*view, 50331808), DCSError);
  EXPECT_THROW(a->attempt_to_acquire_leader(), DCSError);

  backend().set_reachable(true);
  auto back = read_until(*a, [](const Cluster& c) { return c.leader_name() == "a"; });
  ASSERT_TRUE(back);
  EXPECT_TRUE(a->update_leader(*back, 50331808));
}

TEST_F(Unreachable, SettersReturnFalse) {
  auto a = member("a");
  ASSERT_TRUE(a->touch_member(member_data("a")));
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  const auto view = a->get_cluster();
  ASSERT_TRUE(view->leader);

  backend().set_reachable(false);
  EXPECT_FALSE(a->touch_member(member_data("a", "primary")));
  EXPECT_FALSE(a->take_leader());
  EXPECT_FALSE(a->delete_leader(view->leader));
  EXPECT_FALSE(a->initialize(true, ""));
  EXPECT_FALSE(a->initialize(false, "1"));
  EXPECT_FALSE(a->cancel_initialization());
  EXPECT_FALSE(a->set_config_value("{}"));
  EXPECT_FALSE(a->manual_failover("a", "b"));
  EXPECT_FALSE(a->set_failover_value("{}"));
  EXPECT_FALSE(a->set_history_value("[]"));
  EXPECT_FALSE(a->write_sync_state("a", {"b"}).has_value());
  EXPECT_FALSE(a->set_sync_state_value("{}").has_value());
  EXPECT_FALSE(a->delete_sync_state());
  EXPECT_FALSE(a->delete_cluster());
  EXPECT_NO_THROW(a->write_status({{"optime", 1}}));
  EXPECT_NO_THROW(a->write_failsafe({{"a", "http://a.example:8008/patroni"}}));
  EXPECT_NO_THROW(a->write_leader_optime(1));
  EXPECT_NO_THROW(a->watch(std::nullopt, 0ms));

  backend().set_reachable(true);
  auto back = read_until(*a, [](const Cluster& c) { return c.leader_name() == "a"; });
  ASSERT_TRUE(back) << "nothing was deleted while the store was away";
  EXPECT_TRUE(a->set_config_value("{}"));
}

}  // namespace
}  // namespace dcs::conformance
