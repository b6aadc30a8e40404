// The questions the HA loop asks a Cluster: who leads, which timeline, which versions, is there
// anything at all, and value equality of whole views (workers included).
#include <gtest/gtest.h>

#include "dcs/cluster.hpp"

namespace dcs {
namespace {

using nlohmann::json;

Cluster with_history(const std::string& value) {
  return Cluster::from_keys({{"history", value, 1, 0}});
}

TEST(ClusterHelpers, LeaderNameAndUnlocked) {
  EXPECT_EQ(Cluster::empty().leader_name(), "");
  EXPECT_TRUE(Cluster::empty().is_unlocked());
  const auto locked = Cluster::from_keys({{"leader", "a", 1, 1}});
  EXPECT_EQ(locked.leader_name(), "a");
  EXPECT_FALSE(locked.is_unlocked());
  // An empty leader value holds no lock.
  EXPECT_TRUE(Cluster::from_keys({{"leader", "", 1, 1}}).is_unlocked());
}

TEST(ClusterHelpers, TimelineFollowsTheLastHistoryLine) {
  EXPECT_EQ(Cluster::empty().timeline(), 0);
  EXPECT_EQ(with_history("[]").timeline(), 1);
  EXPECT_EQ(with_history("[ ]").timeline(), 0);  // only the exact text "[]" means timeline 1
  EXPECT_EQ(with_history(R"([[1,100,"r"],[2,200,"r"]])").timeline(), 3);
  EXPECT_EQ(with_history(R"([["7",100]])").timeline(), 8);  // int("7")
  EXPECT_EQ(with_history(R"([[1.9]])").timeline(), 2);      // int(1.9)
  EXPECT_EQ(with_history(R"(["5"])").timeline(), 6);        // "5"[0]
  EXPECT_EQ(with_history(R"(["57"])").timeline(), 6);       // "57"[0] is "5"
  EXPECT_EQ(with_history(R"([["a"]])").timeline(), 0);
  EXPECT_EQ(with_history(R"([[]])").timeline(), 0);
  EXPECT_EQ(with_history(R"([{"0":1}])").timeline(), 0);
  EXPECT_EQ(with_history(R"([3])").timeline(), 0);
  EXPECT_EQ(with_history("garbage").timeline(), 0);
}

TEST(ClusterHelpers, GetMemberFallsBackToTheLeader) {
  const auto c = Cluster::from_keys({{"leader", "ghost", 1, 1}, {"members/a", R"({"state":"running"})", 2, 1}});
  ASSERT_TRUE(c.get_member("a"));
  EXPECT_EQ(c.get_member("a")->state(), "running");
  ASSERT_TRUE(c.get_member("ghost"));
  EXPECT_EQ(c.get_member("ghost")->version, -1);
  EXPECT_FALSE(c.get_member("ghost", /*fallback_to_leader=*/false));
  EXPECT_FALSE(c.get_member("nobody"));
  EXPECT_TRUE(c.has_member("a"));
  EXPECT_FALSE(c.has_member("ghost"));
}

TEST(ClusterHelpers, MinVersionIgnoresMembersWithoutOne) {
  EXPECT_FALSE(Cluster::empty().min_version());
  const auto c = Cluster::from_keys({
      {"members/a", R"({"version":"4.1.4"})", 1, 0},
      {"members/b", R"({"version":"3.0.2"})", 2, 0},
      {"members/c", R"({"version":"bogus"})", 3, 0},
      {"members/d", R"({})", 4, 0},
  });
  EXPECT_EQ(c.min_version(), (std::array<int, 3>{3, 0, 2}));
}

TEST(ClusterHelpers, IsEmptyOnlyWhenNothingIsStored) {
  EXPECT_TRUE(Cluster::empty().is_empty());
  for (const char* key : {"initialize", "config", "leader", "members/a", "failover", "sync", "history", "status"})
    EXPECT_FALSE(Cluster::from_keys({{key, "1", 1, 0}}).is_empty()) << key;
  EXPECT_FALSE(Cluster::from_keys({{"failsafe", "{}", 1, 0}}).is_empty());
  // Unknown keys and a failsafe of JSON null leave it empty.
  EXPECT_TRUE(Cluster::from_keys({{"unknown", "1", 1, 0}, {"failsafe", "null", 1, 0}}).is_empty());
}

TEST(ClusterHelpers, EqualityComparesWorkersByValue) {
  const std::vector<StoredKey> keys = {{"0/leader", "c", 1, 0}, {"1/leader", "w", 2, 0}};
  const auto a = Cluster::from_citus_keys(keys);
  const auto b = Cluster::from_citus_keys(keys);
  EXPECT_NE(a.workers.at(1), b.workers.at(1));  // distinct objects...
  EXPECT_EQ(a, b);                              // ...equal values
  const auto c = Cluster::from_citus_keys({{"0/leader", "c", 1, 0}, {"1/leader", "other", 2, 0}});
  EXPECT_FALSE(a == c);
  const auto d = Cluster::from_citus_keys({{"0/leader", "c", 1, 0}, {"2/leader", "w", 2, 0}});
  EXPECT_FALSE(a == d);
  auto e = a;
  e.workers[1] = nullptr;
  EXPECT_FALSE(a == e);
  EXPECT_FALSE(Cluster::from_keys({{"leader", "a", 1, 0}}) == Cluster::from_keys({{"leader", "a", 2, 0}}));
}

}  // namespace
}  // namespace dcs
