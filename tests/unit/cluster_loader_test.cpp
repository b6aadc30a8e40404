// Cluster::from_keys and from_citus_keys: the whole keyspace of one read becomes a Cluster with
// Patroni's rules (spec 2.4), and garbage in any key leaves only that field empty.
#include <gtest/gtest.h>

#include "dcs/cluster.hpp"

namespace dcs {
namespace {

using nlohmann::json;

std::vector<StoredKey> healthy_cluster() {
  return {
      {"config", R"({"ttl":30,"loop_wait":10})", 3, 0},
      {"failover", R"({"leader":"node1","member":"node2"})", 20, 0},
      {"failsafe", R"({"node1":"http://10.0.0.1:8008/patroni"})", 21, 0},
      {"history", R"([[1,25165984,"no recovery target specified"]])", 11, 0},
      {"initialize", "7301234567890123456", 2, 0},
      {"leader", "node1", 5, 1001},
      {"members/node1", R"({"role":"primary","state":"running","version":"4.1.4"})", 18, 1001},
      {"members/node2", R"({"role":"replica","state":"running","version":"3.0.2"})", 19, 1002},
      {"status", R"({"optime":67108864,"slots":{"node2":67108864}})", 22, 0},
      {"sync", R"({"leader":"node1","quorum":0,"sync_standby":"node2"})", 12, 0},
  };
}

TEST(ClusterLoader, ReadsEveryKey) {
  const auto c = Cluster::from_keys(healthy_cluster());
  EXPECT_EQ(c.initialize, "7301234567890123456");
  ASSERT_TRUE(c.config);
  EXPECT_EQ(c.config->version, 3);
  EXPECT_EQ(c.config->data["ttl"], 30);
  ASSERT_TRUE(c.leader);
  EXPECT_EQ(c.leader->version, 5);
  EXPECT_EQ(c.leader->session, 1001);
  EXPECT_EQ(c.leader->name(), "node1");
  EXPECT_EQ(c.leader->member->version, 18);  // the leader's member is its member key
  EXPECT_TRUE(c.leader->member->is_primary());
  ASSERT_EQ(c.members.size(), 2u);
  EXPECT_EQ(c.members[0]->name, "node1");
  EXPECT_EQ(&*c.leader->member, c.members[0].get()) << "the very member object, shared";
  EXPECT_EQ(c.members[1]->name, "node2");
  EXPECT_EQ(c.members[1]->session, 1002);
  EXPECT_EQ(c.status.last_lsn, 67108864);
  EXPECT_EQ(c.status.slots, (std::map<std::string, std::int64_t>{{"node2", 67108864}}));
  ASSERT_TRUE(c.failover);
  EXPECT_EQ(c.failover->candidate, "node2");
  EXPECT_EQ(c.sync.version, 12);
  EXPECT_EQ(c.sync.leader, "node1");
  ASSERT_TRUE(c.history);
  EXPECT_EQ(c.history->version, 11);
  EXPECT_EQ(c.failsafe, json({{"node1", "http://10.0.0.1:8008/patroni"}}));
  EXPECT_TRUE(c.workers.empty());
  EXPECT_FALSE(c.is_empty());
}

TEST(ClusterLoader, NoKeysIsAnEmptyCluster) {
  const auto c = Cluster::from_keys({});
  EXPECT_TRUE(c.is_empty());
  EXPECT_EQ(c, Cluster::empty());
  EXPECT_FALSE(c.initialize);
  EXPECT_FALSE(c.leader);
  EXPECT_EQ(c.sync.version, 0);
}

TEST(ClusterLoader, EmptyInitializeMeansBootstrapRunning) {
  const auto c = Cluster::from_keys({{"initialize", "", 4, 0}});
  ASSERT_TRUE(c.initialize);
  EXPECT_EQ(*c.initialize, "");
  EXPECT_FALSE(c.is_empty());
}

TEST(ClusterLoader, MembersAreOnlyDirectChildren) {
  const auto c = Cluster::from_keys({
      {"members/a", "{}", 1, 0},
      {"members/a/extra", "{}", 2, 0},
      {"membersX", "{}", 3, 0},
      {"other/members/b", "{}", 4, 0},
      {"members/c", "{}", 5, 0},
  });
  ASSERT_EQ(c.members.size(), 2u);
  EXPECT_EQ(c.members[0]->name, "a");
  EXPECT_EQ(c.members[1]->name, "c");
}

TEST(ClusterLoader, MembersComeInKeyOrderAndTheLastDuplicateWins) {
  const auto c = Cluster::from_keys({
      {"members/b", R"({"state":"old"})", 1, 0},
      {"members/a", "{}", 2, 0},
      {"members/b", R"({"state":"new"})", 3, 0},
  });
  ASSERT_EQ(c.members.size(), 2u);
  EXPECT_EQ(c.members[0]->name, "a");
  EXPECT_EQ(c.members[1]->state(), "new");
}

TEST(ClusterLoader, TheLastDuplicateOfAnyKeyWinsInOrderOrNot) {
  const auto sorted = Cluster::from_keys({
      {"leader", "a", 1, 0},
      {"leader", "b", 2, 0},
      {"status", R"({"optime":1})", 3, 0},
      {"status", R"({"optime":2})", 4, 0},
  });
  EXPECT_EQ(sorted.leader_name(), "b");
  EXPECT_EQ(sorted.status.last_lsn, 2);
  const auto unsorted = Cluster::from_keys({
      {"status", R"({"optime":1})", 3, 0},
      {"leader", "a", 1, 0},
      {"status", R"({"optime":2})", 4, 0},
      {"initialize", "x", 5, 0},
      {"leader", "b", 2, 0},
  });
  EXPECT_EQ(unsorted.leader_name(), "b");
  EXPECT_EQ(unsorted.status.last_lsn, 2);
  EXPECT_EQ(unsorted.initialize, "x");
}

TEST(ClusterLoader, LeaderWithoutMemberKeyGetsAPlaceholder) {
  const auto c = Cluster::from_keys({{"leader", "ghost", 9, 77}, {"members/other", "{}", 3, 0}});
  ASSERT_TRUE(c.leader);
  EXPECT_EQ(c.leader->version, 9);
  EXPECT_EQ(c.leader->session, 77);
  EXPECT_EQ(c.leader->member, (Member{-1, "ghost", 0, json::object()}));
  EXPECT_FALSE(c.is_unlocked());
}

TEST(ClusterLoader, StatusKeyWinsOverLegacyOptimeEvenWhenInvalid) {
  EXPECT_EQ(Cluster::from_keys({{"optime/leader", "1234", 1, 0}}).status.last_lsn, 1234);
  EXPECT_EQ(Cluster::from_keys({{"optime/leader", "1234", 1, 0}, {"status", R"({"optime":99})", 2, 0}}).status.last_lsn,
            99);
  EXPECT_EQ(Cluster::from_keys({{"optime/leader", "1234", 1, 0}, {"status", "garbage", 2, 0}}).status.last_lsn, 0);
}

TEST(ClusterLoader, FailsafeIsAnyJsonWithoutTypeCheck) {
  EXPECT_EQ(Cluster::from_keys({{"failsafe", "[1,2]", 1, 0}}).failsafe, json({1, 2}));
  EXPECT_EQ(Cluster::from_keys({{"failsafe", "\"x\"", 1, 0}}).failsafe, json("x"));
  EXPECT_FALSE(Cluster::from_keys({{"failsafe", "null", 1, 0}}).failsafe);
  EXPECT_FALSE(Cluster::from_keys({{"failsafe", "{", 1, 0}}).failsafe);
}

TEST(ClusterLoader, GarbageInEveryKeyNeverThrowsAndLeavesFieldsEmpty) {
  const std::string deep(200000, '[');
  const std::string invalid_utf8 = "{\"a\":\"\xC3\x28\"}";
  const std::string huge = "{\"optime\":" + std::string(5000, '9') + "}";
  for (const std::string& garbage :
       {deep, invalid_utf8, huge, std::string("\x00\x01", 2), std::string("{}}"), std::string(1 << 20, 'x')}) {
    std::vector<StoredKey> keys;
    for (const char* name : {"config", "failover", "failsafe", "history", "leader", "members/a", "optime/leader",
                             "status", "sync", "initialize"})
      keys.push_back({name, garbage, 7, 0});
    Cluster c;
    ASSERT_NO_THROW(c = Cluster::from_keys(keys));
    ASSERT_TRUE(c.config);
    EXPECT_EQ(c.config->data, json::object());
    EXPECT_EQ(c.config->modify_version, 0);
    EXPECT_FALSE(c.failsafe);
    ASSERT_TRUE(c.history);
    EXPECT_EQ(c.history->lines, json::array());
    EXPECT_EQ(c.timeline(), 0);
    ASSERT_EQ(c.members.size(), 1u);
    EXPECT_EQ(c.members[0]->data, json::object());
    EXPECT_TRUE(c.status.is_empty());
    EXPECT_TRUE(c.sync.is_empty());
    EXPECT_EQ(c.sync.version, 7);
    ASSERT_TRUE(c.leader);
    EXPECT_EQ(c.leader->name(), garbage);  // the leader key is plain text
  }
}

TEST(ClusterLoader, AReReadReusesMembersWhoseKeyDidNotMove) {
  const auto before = Cluster::from_keys(healthy_cluster());
  auto keys = healthy_cluster();
  keys[7] = {"members/node2", R"({"role":"replica","state":"stopped"})", 30, 1002};  // node2 rewritten
  keys.push_back({"members/node3", R"({"state":"running"})", 31, 1003});             // node3 new
  const auto after = Cluster::from_keys(keys, &before);

  ASSERT_EQ(after.members.size(), 3u);
  EXPECT_EQ(after.members[0], before.members[0]) << "node1 did not move: the same object is shared";
  EXPECT_NE(after.members[1], before.members[1]);
  EXPECT_EQ(after.members[1]->state(), "stopped") << "a new version is parsed again";
  EXPECT_EQ(after.members[2]->name, "node3");
  EXPECT_EQ(after, Cluster::from_keys(keys)) << "reuse never changes the result";
}

TEST(ClusterLoader, AReReadTakesNewValuesOfTheOtherKeysAndKeepsUnchangedOnes) {
  const auto before = Cluster::from_keys(healthy_cluster());
  auto keys = healthy_cluster();
  keys[0] = {"config", R"({"ttl":20,"loop_wait":5})", 40, 0};
  keys[1] = {"failover", R"({"leader":"node2"})", 41, 0};
  keys[3] = {"history", R"([[1,1,"x"],[2,2,"y"]])", 42, 0};
  keys[9] = {"sync", R"({"leader":"node2","quorum":0,"sync_standby":null})", 43, 0};
  const auto changed = Cluster::from_keys(keys, &before);
  EXPECT_EQ(changed, Cluster::from_keys(keys));
  EXPECT_EQ(changed.config->data["ttl"], 20);
  EXPECT_EQ(changed.failover->leader, "node2");
  EXPECT_EQ(changed.timeline(), 3);
  EXPECT_EQ(*changed.sync.leader, "node2");

  const auto again = Cluster::from_keys(keys, &changed);
  EXPECT_EQ(again, changed) << "unchanged keys read the same through the previous view";
  // Without a revision (0) nothing is taken from the previous view.
  auto unversioned = keys;
  unversioned[0] = {"config", R"({"ttl":20})", 0, 0};
  const auto old_view = Cluster::from_keys(unversioned);
  unversioned[0] = {"config", R"({"ttl":99})", 0, 0};
  const auto fresh = Cluster::from_keys(unversioned, &old_view);
  EXPECT_EQ(fresh.config->data["ttl"], 99);
}

TEST(ClusterLoader, StatusAndFailsafeAreReusedWhileTheirKeysDoNotMove) {
  const auto before = Cluster::from_keys(healthy_cluster());
  EXPECT_EQ(before.status_version, 22);
  EXPECT_EQ(before.failsafe_version, 21);

  // A revision identifies a value: under the same revisions the parsed values of the previous
  // view are taken and the text is not read again (shown by text that changed under them).
  auto keys = healthy_cluster();
  keys[8].value = R"({"optime":1})";
  keys[2].value = R"({"x":"y"})";
  const auto same = Cluster::from_keys(keys, &before);
  EXPECT_EQ(same.status, before.status);
  EXPECT_EQ(same.failsafe, before.failsafe);

  // New revisions are parsed again, a JSON null failsafe included (no value), and stay so.
  keys[8] = {"status", R"({"optime":99})", 50, 0};
  keys[2] = {"failsafe", "null", 51, 0};
  const auto moved = Cluster::from_keys(keys, &same);
  EXPECT_EQ(moved.status.last_lsn, 99);
  EXPECT_FALSE(moved.failsafe);
  EXPECT_EQ(moved.failsafe_version, 51);
  EXPECT_EQ(moved, Cluster::from_keys(keys));
  EXPECT_FALSE(Cluster::from_keys(keys, &moved).failsafe);

  // The legacy optime/leader key is always parsed, even under the revision `status` had (one
  // transaction may write both).
  const std::vector<StoredKey> legacy{{"optime/leader", "77", 50, 0}};
  const auto from_legacy = Cluster::from_keys(legacy, &moved);
  EXPECT_EQ(from_legacy.status.last_lsn, 77);
  EXPECT_EQ(from_legacy.status_version, 0);
  EXPECT_EQ(from_legacy.failsafe_version, 0);
}

// A busy cluster rewrites member keys all the time; the rest of the view then stays the very same
// objects (shared, not copied), and the leader follows its own member key.
TEST(ClusterLoader, AReReadSharesConfigLeaderHistoryAndFailsafeWhileTheirKeysDoNotMove) {
  const auto before = Cluster::from_keys(healthy_cluster());
  auto keys = healthy_cluster();
  keys[7] = {"members/node2", R"({"role":"replica","state":"stopped"})", 30, 1002};  // not the leader
  const auto after = Cluster::from_keys(keys, &before);
  EXPECT_TRUE(after.config.shares_storage_with(before.config));
  EXPECT_TRUE(after.leader.shares_storage_with(before.leader));
  EXPECT_TRUE(after.history.shares_storage_with(before.history));
  EXPECT_TRUE(after.failsafe.shares_storage_with(before.failsafe));
  EXPECT_EQ(after, Cluster::from_keys(keys));

  // The leader's own member key moved: a new Leader carries the new member data.
  keys[6] = {"members/node1", R"({"role":"primary","state":"running","xlog_location":5})", 31, 1001};
  const auto moved = Cluster::from_keys(keys, &after);
  EXPECT_FALSE(moved.leader.shares_storage_with(after.leader));
  EXPECT_EQ(moved.leader->member->lsn(), 5);
  EXPECT_TRUE(moved.config.shares_storage_with(before.config));
  EXPECT_EQ(moved, Cluster::from_keys(keys));

  // The leader key taken again by the same member (a new revision, a new lease): not shared.
  keys[5] = {"leader", "node1", 32, 1005};
  const auto retaken = Cluster::from_keys(keys, &moved);
  EXPECT_FALSE(retaken.leader.shares_storage_with(moved.leader));
  EXPECT_EQ(retaken.leader->session, 1005);

  // A leader without a member key keeps its placeholder until a member key appears.
  keys.erase(keys.begin() + 6);
  const auto orphan = Cluster::from_keys(keys, &retaken);
  EXPECT_EQ(orphan.leader->member->version, -1);
  EXPECT_TRUE(Cluster::from_keys(keys, &orphan).leader.shares_storage_with(orphan.leader));
  keys.insert(keys.begin() + 6, {"members/node1", R"({"role":"primary"})", 33, 1001});
  const auto found = Cluster::from_keys(keys, &orphan);
  EXPECT_EQ(found.leader->member->version, 33);
  EXPECT_EQ(found.leader->member->role(), "primary");
}

TEST(ClusterLoader, AMemberReboundToAnotherLeaseIsNotReused) {
  const auto before = Cluster::from_keys(healthy_cluster());
  auto keys = healthy_cluster();
  keys[6].session = 2001;
  const auto after = Cluster::from_keys(keys, &before);
  EXPECT_NE(after.members[0], before.members[0]);
  EXPECT_EQ(after.members[0]->session, 2001);
}

TEST(ClusterLoader, KeysWithoutARevisionAreNeverReused) {
  const std::vector<StoredKey> first{{"members/a", R"({"state":"running"})", 0, 0}};
  const std::vector<StoredKey> second{{"members/a", R"({"state":"stopped"})", 0, 0}};
  const auto before = Cluster::from_keys(first);
  const auto after = Cluster::from_keys(second, &before);
  EXPECT_EQ(after.members[0]->state(), "stopped") << "version 0 does not identify a value";
}

TEST(ClusterLoader, CitusReReadReusesWorkerMembers) {
  const std::vector<StoredKey> keys{{"0/members/c", R"({"state":"running"})", 4, 0},
                                    {"1/members/w", R"({"state":"running"})", 5, 0}};
  const auto before = Cluster::from_citus_keys(keys);
  const auto after = Cluster::from_citus_keys(keys, &before);
  EXPECT_EQ(after.members[0], before.members[0]);
  EXPECT_EQ(after.workers.at(1)->members[0], before.workers.at(1)->members[0]);
}

TEST(ClusterLoader, CitusCoordinatorGetsWorkerGroups) {
  const auto c = Cluster::from_citus_keys({
      {"0/leader", "coord1", 5, 1},
      {"0/members/coord1", R"({"role":"primary"})", 4, 1},
      {"1/leader", "work1", 7, 2},
      {"1/members/work1", "{}", 6, 2},
      {"2/members/work2", "{}", 8, 3},
      {"01/leader", "leading-zero", 9, 0},  // not a group
      {"x/leader", "letters", 9, 0},
      {"-1/leader", "negative", 9, 0},
      {"99999999999/leader", "too-big", 9, 0},
      {"leader", "no-group", 9, 0},  // directly under the base path
  });
  EXPECT_EQ(c.leader_name(), "coord1");
  ASSERT_EQ(c.members.size(), 1u);
  ASSERT_EQ(c.workers.size(), 2u);
  ASSERT_TRUE(c.workers.at(1));
  EXPECT_EQ(c.workers.at(1)->leader_name(), "work1");
  EXPECT_EQ(c.workers.at(1)->members.size(), 1u);
  EXPECT_TRUE(c.workers.at(2)->is_unlocked());
  EXPECT_EQ(c.workers.at(2)->members[0]->name, "work2");
  EXPECT_TRUE(c.workers.at(1)->workers.empty());
}

TEST(ClusterLoader, CitusWithoutGroupZeroIsEmptyButKeepsWorkers) {
  const auto c = Cluster::from_citus_keys({{"3/leader", "w", 1, 0}});
  EXPECT_TRUE(c.is_unlocked());
  EXPECT_TRUE(c.members.empty());
  ASSERT_EQ(c.workers.count(3), 1u);
  EXPECT_FALSE(c.is_empty());  // workers count
  EXPECT_TRUE(Cluster::from_citus_keys({}).is_empty());
}

}  // namespace
}  // namespace dcs
