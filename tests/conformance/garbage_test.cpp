// Values nobody valid wrote (another tool, a bug, a half-written key) must never break a read:
// every field that cannot be understood comes back empty and the rest of the cluster loads.
#include "conformance/suite.hpp"

namespace dcs::conformance {
namespace {

using Garbage = ConformanceTest;

TEST_F(Garbage, EveryKeyLoadsWithTheBrokenFieldEmpty) {
  auto a = member("a");
  backend().put_raw(a->config_path(), "not json");
  backend().put_raw(a->failover_path(), "[1,2]");
  backend().put_raw(a->sync_path(), "{\"leader\":");
  backend().put_raw(a->history_path(), "{");
  backend().put_raw(a->status_path(), "[]");
  backend().put_raw(a->failsafe_path(), "{");
  backend().put_raw(a->members_path() + "x", "\x01garbage");
  backend().put_raw(a->members_path() + "x/deeper", "{}");
  backend().put_raw(a->leader_path(), "ghost");
  backend().put_raw(a->initialize_path(), "");

  auto view = read_until(*a, [](const Cluster& c) { return c.initialize.has_value(); });
  ASSERT_TRUE(view);
  ASSERT_TRUE(view->config);
  EXPECT_EQ(view->config->data, nlohmann::json::object());
  EXPECT_EQ(view->config->modify_version, 0);
  ASSERT_TRUE(view->failover);
  EXPECT_TRUE(view->failover->is_empty());
  EXPECT_TRUE(view->sync.is_empty());
  EXPECT_NE(view->sync.version, 0) << "an unreadable sync value keeps its version for compare-and-set";
  ASSERT_TRUE(view->history);
  EXPECT_TRUE(view->history->lines.empty());
  EXPECT_EQ(view->timeline(), 0);
  EXPECT_TRUE(view->status.is_empty());
  EXPECT_FALSE(view->failsafe);
  ASSERT_EQ(view->members.size(), 1U) << "keys below members/<name>/ are not members";
  EXPECT_EQ(view->members[0]->name, "x");
  EXPECT_EQ(view->members[0]->data, nlohmann::json::object());
  ASSERT_TRUE(view->leader);
  EXPECT_EQ(view->leader_name(), "ghost");
  EXPECT_EQ(view->leader->member->version, -1) << "a leader without a member key gets a placeholder";
  EXPECT_EQ(view->leader->session, 0);
  EXPECT_EQ(*view->initialize, "") << "an empty initialize key means a bootstrap is running";
}

TEST_F(Garbage, TheLegacyOptimeKeyIsUsedOnlyWithoutStatus) {
  auto a = member("a");
  backend().put_raw(a->leader_optime_path(), "12345");
  ASSERT_TRUE(read_until(*a, [](const Cluster& c) { return c.last_lsn() == 12345; }));
  backend().put_raw(a->status_path(), R"({"optime":"oops"})");
  auto view = read_until(*a, [](const Cluster& c) { return c.last_lsn() != 12345; });
  ASSERT_TRUE(view) << "a present status key wins even when it cannot be read";
  EXPECT_EQ(view->last_lsn(), 0);
}

TEST_F(Garbage, LegacyValuesOfOlderPatroniAreRead) {
  auto a = member("a");
  backend().put_raw(
      a->members_path() + "old",
      "postgres://replicator:secret@10.0.0.7:5432/postgres?application_name=http://10.0.0.7:8008/patroni");
  backend().put_raw(a->failover_path(), "old:new");
  auto view = read_until(*a, [](const Cluster& c) { return c.has_member("old") && c.failover; });
  ASSERT_TRUE(view);
  const auto old = view->get_member("old");
  EXPECT_EQ(old->conn_url(), "postgres://replicator:secret@10.0.0.7:5432/postgres");
  EXPECT_EQ(old->api_url(), "http://10.0.0.7:8008/patroni");
  EXPECT_EQ(view->failover->leader, "old");
  EXPECT_EQ(view->failover->candidate, "new");
}

TEST_F(Garbage, AScopeThatExtendsOursIsNotRead) {
  auto a = member("a");
  auto neighbour = member_of(scope_ + "2", "n");
  ASSERT_TRUE(neighbour->attempt_to_acquire_leader());
  ASSERT_TRUE(neighbour->touch_member(member_data("n")));
  ASSERT_TRUE(read_until(*neighbour, [](const Cluster& c) { return c.leader_name() == "n"; }));
  const auto view = a->get_cluster();
  EXPECT_TRUE(view->is_unlocked());
  EXPECT_TRUE(view->members.empty());
}

}  // namespace
}  // namespace dcs::conformance
