// Compare-and-set on the modification revision: a writer holding a stale version loses, and the
// stored value stays what the winner wrote.
#include "conformance/suite.hpp"

namespace dcs::conformance {
namespace {

using CompareAndSet = ConformanceTest;

TEST_F(CompareAndSet, ConfigWithAStaleVersionIsRefused) {
  auto a = member("a");
  ASSERT_TRUE(a->set_config_value(R"({"ttl":30})"));
  auto first = read_until(*a, [](const Cluster& c) { return c.config && c.config->data.value("ttl", 0) == 30; });
  ASSERT_TRUE(first);
  const auto stale = first->config->version;

  ASSERT_TRUE(a->set_config_value(R"({"ttl":40})", stale));
  auto second = read_until(*a, [](const Cluster& c) { return c.config && c.config->data.value("ttl", 0) == 40; });
  ASSERT_TRUE(second);
  EXPECT_GT(second->config->version, stale);

  EXPECT_FALSE(a->set_config_value(R"({"ttl":50})", stale));
  auto after = a->get_cluster();
  EXPECT_EQ(after->config->data.value("ttl", 0), 40);
  EXPECT_EQ(after->config->version, second->config->version);
}

TEST_F(CompareAndSet, FailoverWithAStaleVersionIsRefused) {
  auto a = member("a");
  ASSERT_TRUE(a->manual_failover("a", "b"));
  auto first = read_until(*a, [](const Cluster& c) { return c.failover && c.failover->candidate == "b"; });
  ASSERT_TRUE(first);
  const auto stale = first->failover->version;

  ASSERT_TRUE(a->manual_failover("a", "c", {}, stale));
  auto second = read_until(*a, [](const Cluster& c) { return c.failover && c.failover->candidate == "c"; });
  ASSERT_TRUE(second);

  EXPECT_FALSE(a->manual_failover("a", "d", {}, stale));
  EXPECT_FALSE(a->set_failover_value("{}", stale)) << "clearing is compare-and-set too";
  auto after = a->get_cluster();
  EXPECT_EQ(after->failover->candidate, "c");
  EXPECT_EQ(after->failover->version, second->failover->version);
}

TEST_F(CompareAndSet, SyncStateWithAStaleVersionIsRefused) {
  auto a = member("a");
  const auto first = a->write_sync_state("a", {"b"});
  ASSERT_TRUE(first);
  const auto second = a->write_sync_state("a", {"c"}, 0, first->version);
  ASSERT_TRUE(second);
  EXPECT_GT(second->version, first->version);

  EXPECT_FALSE(a->write_sync_state("a", {"d"}, 0, first->version).has_value());
  EXPECT_FALSE(a->set_sync_state_value(SyncState::value("a", {"e"}, 0), first->version).has_value());
  EXPECT_FALSE(a->delete_sync_state(first->version));
  auto view = read_until(*a, [&](const Cluster& c) { return c.sync.version == second->version; });
  ASSERT_TRUE(view);
  EXPECT_EQ(view->sync.sync_standby, "c");

  EXPECT_TRUE(a->delete_sync_state(second->version));
  auto deleted = read_until(*a, [](const Cluster& c) { return c.sync.version == 0; });
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(deleted->sync.is_empty());
}

TEST_F(CompareAndSet, TheWinnerOfTwoWritersWithTheSameVersionIsUnique) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->set_config_value(R"({"ttl":30})"));
  auto seen = read_until(*b, [](const Cluster& c) { return c.config.has_value(); });
  ASSERT_TRUE(seen);
  const auto version = seen->config->version;
  const bool a_won = a->set_config_value(R"({"ttl":31})", version);
  const bool b_won = b->set_config_value(R"({"ttl":32})", version);
  EXPECT_TRUE(a_won);
  EXPECT_FALSE(b_won);
  EXPECT_TRUE(read_until(*b, [](const Cluster& c) { return c.config && c.config->data.value("ttl", 0) == 31; }));
}

}  // namespace
}  // namespace dcs::conformance
