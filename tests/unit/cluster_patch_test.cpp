// model::apply_key_change: a view patched one key change at a time equals the view
// Cluster::from_keys (from_citus_keys) builds over the same final keys, after every step of long
// random sequences of puts and deletes over every kind of key, garbage values included.
#include <gtest/gtest.h>

#include <algorithm>

#include <random>
#include <string>
#include <vector>

#include "dcs/cluster.hpp"
#include "model/cluster_patch.hpp"

namespace dcs {
namespace {

using model::KeyIndex;

// Keys of one group: every field, the legacy status fallback, members (one nested key that is not
// a member, and the degenerate "members/"), and keys the loader ignores.
const std::vector<std::string> kGroupKeys = {
    "initialize", "config",    "history",   "status",    "optime/leader", "failover", "sync",    "failsafe",
    "leader",     "members/a", "members/b", "members/c", "members/a/x",   "members/", "unknown", "optime/other",
};

// Values: names a leader may hold (with and without a member key), valid values of each format,
// legacy forms and garbage.
const std::vector<std::string> kValues = {
    "a",
    "b",
    "z",
    "",
    "not json",
    "null",
    "[]",
    R"({"ttl":30,"loop_wait":10})",
    R"({"role":"primary","state":"running","version":"3.0.2","conn_url":"postgres://x"})",
    R"({"role":"replica","state":"running","version":"4.1.4"})",
    "postgres://u:p@h:5432/postgres?application_name=http://h:8008/patroni",
    R"({"optime":67108864,"slots":{"a":1},"retain_slots":["a"]})",
    "83886240",
    R"({"leader":"a","member":"b","scheduled_at":"2024-01-01T00:00:00+00:00"})",
    "a:b",
    R"({"leader":"a","quorum":0,"sync_standby":"b"})",
    R"([[1,25165984,"no recovery target specified"]])",
    R"({"a":"http://a:8008/patroni"})",
    "7301234567890123456",
    "\xff\xfe",
};

std::vector<StoredKey> as_list(const KeyIndex& keys) {
  std::vector<StoredKey> list;
  for (const auto& [key, stored] : keys) list.push_back(stored);
  return list;
}

// Applies `steps` random changes over `key_pool`, checking the patched view after each one.
void run_random_sequence(const std::vector<std::string>& key_pool, bool citus, unsigned seed, int steps) {
  std::mt19937 random(seed);
  const auto pick = [&random](const auto& pool) { return pool[random() % pool.size()]; };
  KeyIndex keys;
  std::shared_ptr<const Cluster> view = model::build_cluster(keys, citus);
  std::int64_t revision = 1;
  for (int step = 0; step < steps; ++step) {
    const std::string key = pick(key_pool);
    const bool remove = random() % 4 == 0;
    if (remove) {
      keys.erase(key);
    } else {
      // Sessions repeat on purpose: a re-put with the same value and lease but a new revision.
      keys[key] = StoredKey{key, pick(kValues), ++revision, static_cast<std::int64_t>(random() % 3)};
    }
    view = model::apply_key_change(view, keys, key, citus);
    const Cluster expected = citus ? Cluster::from_citus_keys(as_list(keys)) : Cluster::from_keys(as_list(keys));
    ASSERT_TRUE(*view == expected) << "seed " << seed << " step " << step << ": " << (remove ? "delete " : "put ")
                                   << key;
    // The revisions that let a later read reuse parsed values follow the patch too, so a full
    // read over the patched view (what a cache rebuild does) still gives the fresh result.
    EXPECT_EQ(view->status_version, expected.status_version) << "seed " << seed << " step " << step;
    EXPECT_EQ(view->failsafe_version, expected.failsafe_version) << "seed " << seed << " step " << step;
    const Cluster reread =
        citus ? Cluster::from_citus_keys(as_list(keys), view.get()) : Cluster::from_keys(as_list(keys), view.get());
    ASSERT_TRUE(reread == expected) << "seed " << seed << " step " << step << ": re-read over the patched view";
    // The leader's member is always the member object of the same name, or a placeholder.
    if (view->leader) {
      const auto member = view->get_member(view->leader->name(), false);
      if (member) {
        EXPECT_EQ(view->leader->member, *member);
        const auto it = std::find_if(view->members.begin(), view->members.end(),
                                     [&](const MemberPtr& m) { return m->name == view->leader->name(); });
        ASSERT_NE(it, view->members.end());
        EXPECT_EQ(&*view->leader->member, it->get()) << "shared with the member list, not copied";
      } else {
        EXPECT_EQ(view->leader->member->version, -1);
      }
    }
  }
}

TEST(ClusterPatch, RandomChangesMatchAFreshLoadAfterEveryStep) {
  for (unsigned seed = 1; seed <= 20; ++seed) run_random_sequence(kGroupKeys, false, seed, 200);
}

TEST(ClusterPatch, RandomChangesOfACitusCoordinatorMatchAFreshLoad) {
  // Group 0 is the coordinator, 1 and 2 workers; "01", "x" and a key right under the base are no
  // groups at all.
  std::vector<std::string> pool;
  for (const std::string group : {"0/", "1/", "2/"}) {
    for (const auto& key : kGroupKeys) pool.push_back(group + key);
  }
  for (const std::string other : {"01/leader", "x/leader", "1", "2/"}) pool.push_back(other);
  for (unsigned seed = 1; seed <= 10; ++seed) run_random_sequence(pool, true, seed, 200);
}

TEST(ClusterPatch, AnIgnoredKeyHandsBackTheSameView) {
  KeyIndex keys;
  keys["leader"] = StoredKey{"leader", "a", 2, 7};
  const auto view = model::build_cluster(keys, false);
  keys["unknown"] = StoredKey{"unknown", "x", 3, 0};
  EXPECT_EQ(model::apply_key_change(view, keys, "unknown", false), view);
}

TEST(ClusterPatch, UnchangedMembersAreSharedWithThePreviousView) {
  KeyIndex keys;
  for (const std::string name : {"a", "b", "c"}) {
    keys["members/" + name] = StoredKey{"members/" + name, R"({"state":"running"})", 2, 0};
  }
  const auto before = model::build_cluster(keys, false);
  keys["members/b"] = StoredKey{"members/b", R"({"state":"stopped"})", 3, 0};
  const auto after = model::apply_key_change(before, keys, "members/b", false);
  ASSERT_EQ(after->members.size(), 3u);
  EXPECT_EQ(after->members[0], before->members[0]);
  EXPECT_NE(after->members[1], before->members[1]);
  EXPECT_EQ(after->members[2], before->members[2]);
  EXPECT_EQ(after->members[1]->state(), "stopped");
}

TEST(ClusterPatch, ALeaderChangeLeavesTheMemberListShared) {
  // With thousands of members, a leader change on a view a reader still holds must not copy
  // them: the new view shares the previous view's list; a member change copies it once.
  KeyIndex keys;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "members/m" + std::to_string(1000 + i);
    keys[key] = StoredKey{key, R"({"state":"running"})", 10 + i, 0};
  }
  keys["leader"] = StoredKey{"leader", "m1000", 5000, 7};
  std::shared_ptr<const Cluster> view = model::build_cluster(keys, false);
  const auto held = view;  // a reader's snapshot

  keys["leader"] = StoredKey{"leader", "m1001", 5001, 8};
  model::apply_key_change_in_place(view, keys, "leader", false);
  ASSERT_NE(view, held) << "the reader's snapshot is not patched";
  EXPECT_EQ(view->leader_name(), "m1001");
  EXPECT_EQ(held->leader_name(), "m1000");
  EXPECT_TRUE(view->members.shares_storage_with(held->members));

  keys["members/m1500"] = StoredKey{"members/m1500", R"({"state":"stopped"})", 5002, 0};
  model::apply_key_change_in_place(view, keys, "members/m1500", false);
  EXPECT_FALSE(view->members.shares_storage_with(held->members));
  EXPECT_EQ(view->get_member("m1500")->state(), "stopped");
  EXPECT_EQ(held->get_member("m1500")->state(), "running");
  EXPECT_EQ(*view, Cluster::from_keys(as_list(keys)));
}

}  // namespace
}  // namespace dcs
