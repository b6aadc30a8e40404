// Every value a member writes reads back, through another member, as what was written.
#include "conformance/suite.hpp"

namespace dcs::conformance {
namespace {

using RoundTrip = ConformanceTest;

TEST_F(RoundTrip, ScheduledSwitchoverAndItsClearing) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->manual_failover("a", "b", "2024-05-01T10:00:00+00:00"));
  auto view = read_until(*b, [](const Cluster& c) { return c.failover && !c.failover->is_empty(); });
  ASSERT_TRUE(view);
  EXPECT_EQ(view->failover->leader, "a");
  EXPECT_EQ(view->failover->candidate, "b");
  EXPECT_EQ(view->failover->scheduled_at, "2024-05-01T10:00:00+00:00");

  // Cleared by writing {} against the version read: present, but empty.
  ASSERT_TRUE(b->set_failover_value("{}", view->failover->version));
  auto cleared = read_until(*a, [](const Cluster& c) { return c.failover && c.failover->is_empty(); });
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->failover->scheduled_at, "");
  EXPECT_GT(cleared->failover->version, view->failover->version);
}

TEST_F(RoundTrip, FailoverToACandidateOnly) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->manual_failover("", "b"));
  auto view = read_until(*b, [](const Cluster& c) { return c.failover && !c.failover->is_empty(); });
  ASSERT_TRUE(view);
  EXPECT_EQ(view->failover->leader, "");
  EXPECT_EQ(view->failover->candidate, "b");
}

TEST_F(RoundTrip, SyncStateWithQuorum) {
  auto a = member("a");
  auto b = member("b");
  const auto written = a->write_sync_state("a", {"c", "b"}, 1);
  ASSERT_TRUE(written);
  EXPECT_EQ(written->leader, "a");
  EXPECT_EQ(written->sync_standby, "b,c");
  EXPECT_EQ(written->quorum, 1);
  auto view = read_until(*b, [&](const Cluster& c) { return c.sync.version == written->version; });
  ASSERT_TRUE(view);
  EXPECT_EQ(view->sync, *written);
  EXPECT_TRUE(view->sync.matches("B"));
  EXPECT_EQ(view->sync.members(), (std::vector<std::string>{"b", "c"}));
}

TEST_F(RoundTrip, HistoryGivesTheTimeline) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->set_history_value("[]"));
  auto first = read_until(*b, [](const Cluster& c) { return c.history.has_value(); });
  ASSERT_TRUE(first);
  EXPECT_EQ(first->timeline(), 1);

  const std::string history = R"([[1,50331808,"no recovery target specified"],)"
                              R"([2,83886240,"no recovery target specified","2024-05-01T10:00:00+00:00","b"]])";
  ASSERT_TRUE(a->set_history_value(history));
  auto second = read_until(*b, [](const Cluster& c) { return c.history && c.history->lines.size() == 2; });
  ASSERT_TRUE(second);
  EXPECT_EQ(second->history->value, history);
  EXPECT_EQ(second->timeline(), 3);
  EXPECT_EQ(second->history->lines[1][4], "b");
}

TEST_F(RoundTrip, StatusWithSlotsAndTheirCarryOver) {
  auto a = member("a");
  auto b = member("b");
  a->write_status({{"optime", 100}, {"slots", {{"b", 90}}}, {"retain_slots", {"b"}}});
  auto first = read_until(*b, [](const Cluster& c) { return c.last_lsn() == 100; });
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status.slots, (std::map<std::string, std::int64_t>{{"b", 90}}));
  EXPECT_EQ(first->status.retain_slots, std::vector<std::string>{"b"});

  // Only the optime given: the slots known from the last write are carried over.
  a->write_status({{"optime", 200}});
  auto second = read_until(*b, [](const Cluster& c) { return c.last_lsn() == 200; });
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status.slots, (std::map<std::string, std::int64_t>{{"b", 90}}));
  EXPECT_EQ(second->status.retain_slots, std::vector<std::string>{"b"});
}

TEST_F(RoundTrip, UpdateLeaderWritesStatusAndFailsafe) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->touch_member(member_data("a", "primary")));
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  const nlohmann::json failsafe = {{"a", "http://a.example:8008/patroni"}, {"b", "http://b.example:8008/patroni"}};
  auto view = a->get_cluster();
  ASSERT_TRUE(a->update_leader(*view, 300, AbstractDCS::Slots{{"b", 290}}, failsafe, std::vector<std::string>{"b"}));

  auto seen = read_until(*b, [](const Cluster& c) { return c.last_lsn() == 300 && c.failsafe.has_value(); });
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->status.slots, (std::map<std::string, std::int64_t>{{"b", 290}}));
  EXPECT_EQ(seen->status.retain_slots, std::vector<std::string>{"b"});
  EXPECT_EQ(*seen->failsafe, failsafe);
}

TEST_F(RoundTrip, Failsafe) {
  auto a = member("a");
  auto b = member("b");
  const nlohmann::json failsafe = {{"a", "http://a.example:8008/patroni"}};
  a->write_failsafe(failsafe);
  auto view = read_until(*b, [](const Cluster& c) { return c.failsafe.has_value(); });
  ASSERT_TRUE(view);
  EXPECT_EQ(*view->failsafe, failsafe);
}

TEST_F(RoundTrip, LegacyLeaderOptime) {
  auto a = member("a");
  auto b = member("b");
  a->write_leader_optime(67108864);
  auto view = read_until(*b, [](const Cluster& c) { return c.last_lsn() != 0; });
  ASSERT_TRUE(view);
  EXPECT_EQ(view->last_lsn(), 67108864);
}

TEST_F(RoundTrip, Config) {
  auto a = member("a");
  auto b = member("b");
  const nlohmann::json config = {
      {"ttl", 30},
      {"loop_wait", 10},
      {"postgresql", {{"parameters", {{"max_connections", 100}, {"wal_level", "replica"}}}, {"use_pg_rewind", true}}}};
  ASSERT_TRUE(a->set_config_value(to_patroni_json(config)));
  auto view = read_until(*b, [](const Cluster& c) { return c.config.has_value(); });
  ASSERT_TRUE(view);
  EXPECT_EQ(view->config->data, config);
  EXPECT_GT(view->config->version, 0);
  EXPECT_EQ(view->config->modify_version, view->config->version);
}

TEST_F(RoundTrip, MemberDataIncludingUnicode) {
  auto a = member("a");
  auto b = member("b");
  auto data = member_data("a");
  data["tags"] = {{"nofailover", true}, {"zone", "Zürich ☃ 東京"}};
  data["pending_restart"] = true;
  data["timeline"] = 3;
  ASSERT_TRUE(a->touch_member(data));
  auto view = read_until(*b, [](const Cluster& c) { return c.has_member("a"); });
  ASSERT_TRUE(view);
  const auto seen = view->get_member("a");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->data, data);
  EXPECT_EQ(seen->tags()["zone"], "Zürich ☃ 東京");
  EXPECT_TRUE(seen->nofailover());
  EXPECT_EQ(seen->conn_url(), "postgres://a.example:5432/postgres");
  EXPECT_EQ(seen->lsn(), 50331808);
  EXPECT_NE(seen->session, 0) << "a member key is bound to the member's lease";
}

}  // namespace
}  // namespace dcs::conformance
