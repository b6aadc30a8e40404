// The `sync` key: HEAD's {"leader","quorum","sync_standby"}, 3.0.2's value without quorum, and
// everything else as an empty state that keeps the key's revision (for the next compare-and-set).
#include <gtest/gtest.h>

#include "dcs/cluster.hpp"

namespace dcs {
namespace {

using nlohmann::json;

TEST(SyncState, WritesHeadFormatWithSortedNames) {
  // json.dumps({"leader":"node1","quorum":1,"sync_standby":",".join(sorted(["b","a"]))}, separators=(",", ":"))
  EXPECT_EQ(SyncState::value("node1", {"b", "a"}, 1), R"({"leader":"node1","quorum":1,"sync_standby":"a,b"})");
  // json.dumps({"leader":None,"quorum":0,"sync_standby":None}, separators=(",", ":"))
  EXPECT_EQ(SyncState::value(std::nullopt, {}, 0), R"({"leader":null,"quorum":0,"sync_standby":null})");
}

TEST(SyncState, ReadsHeadAndLegacyValues) {
  const auto head = SyncState::from_node(5, R"({"leader":"node1","quorum":1,"sync_standby":"a,b"})");
  EXPECT_EQ(head.version, 5);
  EXPECT_EQ(head.leader, "node1");
  EXPECT_EQ(head.sync_standby, "a,b");
  EXPECT_EQ(head.quorum, 1);
  EXPECT_EQ(head.members(), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(head.is_empty());

  // Patroni 3.0.2 writes no quorum.
  const auto legacy = SyncState::from_node(6, R"({"leader":"node1","sync_standby":"b"})");
  EXPECT_EQ(legacy.quorum, 0);
  EXPECT_EQ(legacy.members(), (std::vector<std::string>{"b"}));
}

TEST(SyncState, QuorumCountsOnlyWithLeaderAndTruthyQuorum) {
  EXPECT_EQ(SyncState::from_node(1, R"({"leader":"","quorum":2})").quorum, 0);
  EXPECT_EQ(SyncState::from_node(1, R"({"leader":null,"quorum":2})").quorum, 0);
  EXPECT_EQ(SyncState::from_node(1, R"({"leader":"a","quorum":0})").quorum, 0);
  EXPECT_EQ(SyncState::from_node(1, R"({"leader":"a","quorum":null})").quorum, 0);
  EXPECT_EQ(SyncState::from_node(1, R"({"leader":"a","quorum":"3"})").quorum, 3);  // int("3")
  // int("abc") fails: Patroni drops the whole state.
  const auto bad = SyncState::from_node(1, R"({"leader":"a","quorum":"abc","sync_standby":"b"})");
  EXPECT_TRUE(bad.is_empty());
  EXPECT_FALSE(bad.sync_standby);
  EXPECT_EQ(bad.version, 1);
}

TEST(SyncState, InvalidValuesAreEmptyButKeepTheVersion) {
  for (const char* value : {"", "{", "[]", "5", "null", "\"leader\"", "{\"leader\":5}"}) {
    const auto s = SyncState::from_node(8, value);
    EXPECT_EQ(s.version, 8) << value;
    EXPECT_TRUE(s.is_empty()) << value;
    EXPECT_FALSE(s.leader) << value;
    EXPECT_TRUE(s.members().empty()) << value;
  }
  EXPECT_TRUE(SyncState::from_json(3, json::array()).is_empty());
}

TEST(SyncState, MembersSplitTrimAndNeedALeader) {
  EXPECT_EQ(SyncState::from_node(1, R"({"leader":"l","sync_standby":" a, b,,c "})").members(),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(SyncState::from_node(1, R"({"leader":null,"sync_standby":"a"})").members().empty());
  EXPECT_TRUE(SyncState::from_node(1, R"({"leader":"l","sync_standby":["a"]})").members().empty());
}

TEST(SyncState, MatchesNamesCaseInsensitively) {
  const auto s = SyncState::from_node(1, R"({"leader":"Leader1","sync_standby":"Node-A,node-b"})");
  EXPECT_TRUE(s.matches("node-a"));
  EXPECT_TRUE(s.matches("NODE-B"));
  EXPECT_FALSE(s.matches("leader1"));
  EXPECT_TRUE(s.matches("leader1", /*check_leader=*/true));
  EXPECT_FALSE(s.matches(""));
  EXPECT_FALSE(s.matches("node-c", true));
  EXPECT_FALSE(SyncState::from_node(1, R"({"sync_standby":"a"})").matches("a"));
}

}  // namespace
}  // namespace dcs
