// delete_cluster (patronictl remove) wipes every key of the cluster, leased or not, and nothing
// of the clusters next to it.
#include "conformance/suite.hpp"

namespace dcs::conformance {
namespace {

using DeleteCluster = ConformanceTest;

void populate(AbstractDCS& m) {
  ASSERT_TRUE(m.initialize(true, "7301234567890123456"));
  ASSERT_TRUE(m.set_config_value(R"({"ttl":30})"));
  ASSERT_TRUE(m.touch_member(member_data(m.name(), "primary")));
  ASSERT_TRUE(m.attempt_to_acquire_leader());
  ASSERT_TRUE(m.set_history_value("[]"));
  ASSERT_TRUE(m.write_sync_state(m.name(), {}).has_value());
  ASSERT_TRUE(m.manual_failover(m.name(), ""));
  m.write_status({{"optime", 100}});
}

TEST_F(DeleteCluster, RemovesEveryKeyOfTheCluster) {
  auto a = member("a");
  auto neighbour = member_of(scope_ + "2", "n");
  populate(*a);
  populate(*neighbour);
  ASSERT_TRUE(read_until(*a, [](const Cluster& c) { return c.leader_name() == "a" && c.last_lsn() == 100; }));

  EXPECT_TRUE(a->delete_cluster());
  auto gone = read_until(*a, [](const Cluster& c) { return c.is_empty(); });
  ASSERT_TRUE(gone) << "something survived delete_cluster";
  EXPECT_FALSE(gone->initialize);
  EXPECT_TRUE(gone->members.empty());

  const auto other = neighbour->get_cluster();
  EXPECT_EQ(other->leader_name(), "n");
  EXPECT_EQ(other->initialize, "7301234567890123456");
  EXPECT_TRUE(other->has_member("n"));
}

TEST_F(DeleteCluster, ACoordinatorDeletesOnlyItsOwnGroup) {
  auto coordinator = member("c0", 0);
  auto worker = member("w1", 1);
  populate(*coordinator);
  populate(*worker);
  ASSERT_TRUE(read_until(*coordinator, [](const Cluster& c) { return c.workers.count(1) != 0; }));

  EXPECT_TRUE(coordinator->delete_cluster());
  auto view = read_until(*coordinator, [](const Cluster& c) { return c.is_unlocked() && !c.initialize; });
  ASSERT_TRUE(view);
  ASSERT_EQ(view->workers.count(1), 1U);
  EXPECT_EQ(view->workers.at(1)->leader_name(), "w1");
  EXPECT_EQ(worker->get_cluster()->leader_name(), "w1");
}

}  // namespace
}  // namespace dcs::conformance
