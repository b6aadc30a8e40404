// Leader elections: the race for the leader key, keeping it, losing it when the lease runs out,
// deleting it and taking it over.
#include <future>

#include "conformance/suite.hpp"

namespace dcs::conformance {
namespace {

using Elections = ConformanceTest;

const Member* find_member(const Cluster& cluster, const std::string& name) {
  for (const auto& m : cluster.members) {
    if (m->name == name) return m.get();
  }
  return nullptr;
}

TEST_F(Elections, ExactlyOneOfTwoRacingMembersWins) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->touch_member(member_data("a")));
  ASSERT_TRUE(b->touch_member(member_data("b")));

  auto race_a = std::async(std::launch::async, [&] { return a->attempt_to_acquire_leader(); });
  auto race_b = std::async(std::launch::async, [&] { return b->attempt_to_acquire_leader(); });
  const bool a_won = race_a.get();
  const bool b_won = race_b.get();
  ASSERT_NE(a_won, b_won) << "exactly one member must win";

  auto& winner = a_won ? *a : *b;
  auto& loser = a_won ? *b : *a;
  auto view = read_until(loser, [&](const Cluster& c) { return c.leader_name() == winner.name(); });
  ASSERT_TRUE(view) << "the loser never saw the winner as leader";
  // The leader comes with the winner's member data, bound to the same lease as its member key.
  EXPECT_EQ(view->leader->member->data, member_data(winner.name()));
  const auto* winner_member = find_member(*view, winner.name());
  ASSERT_NE(winner_member, nullptr);
  EXPECT_NE(view->leader->session, 0);
  EXPECT_EQ(view->leader->session, winner_member->session);
  EXPECT_GT(view->leader->version, 0);

  EXPECT_FALSE(loser.attempt_to_acquire_leader()) << "the key is taken";
  EXPECT_FALSE(winner.attempt_to_acquire_leader()) << "create-if-absent fails for the holder too";
}

TEST_F(Elections, RefreshingTheLeaderKeepsTheKeyAtTheSameVersion) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->touch_member(member_data("a", "primary")));
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  const auto first = a->get_cluster();
  ASSERT_EQ(first->leader_name(), "a");
  const auto version = first->leader->version;

  // Well past the ttl: only the lease keepalive of update_leader keeps the key alive.
  pass_in_loop_steps(ttl() * 2 + loop_wait(), [&] {
    auto view = a->get_cluster();
    ASSERT_TRUE(view->leader);
    EXPECT_TRUE(a->update_leader(*view, 50331808));
    EXPECT_TRUE(b->touch_member(member_data("b")));
  });

  auto view = read_until(*b, [](const Cluster& c) { return c.leader_name() == "a"; });
  ASSERT_TRUE(view);
  EXPECT_EQ(view->leader->version, version) << "a steady leader does not rewrite its key";
  EXPECT_FALSE(b->attempt_to_acquire_leader());
}

TEST_F(Elections, AnotherMemberTakesOverWhenTheLeaderStopsRefreshing) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->touch_member(member_data("a", "primary")));
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  ASSERT_TRUE(read_until(*b, [](const Cluster& c) { return c.leader_name() == "a"; }));

  // `a` hangs; `b` runs its HA loop and tries every cycle.
  bool acquired = false;
  auto passed = 0s;
  while (!acquired && passed <= ttl() + loop_wait()) {
    backend().let_time_pass(loop_wait());
    passed += loop_wait();
    EXPECT_TRUE(b->touch_member(member_data("b")));
    acquired = b->attempt_to_acquire_leader();
  }
  ASSERT_TRUE(acquired) << "b did not get the leader key within ttl + loop_wait";

  // a's member key shares its expired lease, so it goes with it. (A backend with a watcher cache
  // may show b's own write first and the expiry a moment later: the view catches up.)
  auto view = read_until(*b, [](const Cluster& c) { return c.leader_name() == "b" && !find_member(c, "a"); });
  ASSERT_TRUE(view) << "a's member key outlived its expired lease";
  EXPECT_NE(find_member(*view, "b"), nullptr);
  // The old leader finds out on its next cycle (a backend with a watcher cache sees b's key a
  // moment after b does).
  auto stale = read_until(*a, [](const Cluster& c) { return c.leader_name() == "b"; });
  ASSERT_TRUE(stale);
  EXPECT_FALSE(a->update_leader(*stale, 50331808));
}

TEST_F(Elections, DeleteLeaderOnlyDeletesOurOwnKey) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  auto seen_by_b = read_until(*b, [](const Cluster& c) { return c.leader_name() == "a"; });
  ASSERT_TRUE(seen_by_b);

  EXPECT_FALSE(b->delete_leader(seen_by_b->leader)) << "b does not hold the key";
  EXPECT_EQ(a->get_cluster()->leader_name(), "a");

  EXPECT_TRUE(a->delete_leader(a->get_cluster()->leader, 50331900));
  auto unlocked = read_until(*b, [](const Cluster& c) { return c.is_unlocked(); });
  ASSERT_TRUE(unlocked);
  EXPECT_EQ(unlocked->last_lsn(), 50331900) << "the final optime is written before the key goes";
  EXPECT_TRUE(b->attempt_to_acquire_leader());
}

TEST_F(Elections, TakeLeaderOverwritesTheKey) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  ASSERT_TRUE(b->touch_member(member_data("b", "primary")));
  ASSERT_TRUE(read_until(*b, [](const Cluster& c) { return c.leader_name() == "a"; }));

  EXPECT_TRUE(b->take_leader());
  auto view = read_until(*a, [](const Cluster& c) { return c.leader_name() == "b"; });
  ASSERT_TRUE(view);
  const auto* b_member = find_member(*view, "b");
  ASSERT_NE(b_member, nullptr);
  EXPECT_EQ(view->leader->session, b_member->session) << "bound to b's lease";
  // `a` learns it lost the key: its refresh with the new view must not steal it back.
  EXPECT_FALSE(a->update_leader(*view, 50331808));
  EXPECT_EQ(b->get_cluster()->leader_name(), "b");
}

TEST_F(Elections, UpdateLeaderRebindsTheKeyToTheNewLeaseAfterATtlChange) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->touch_member(member_data("a", "primary")));
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  const auto old_session = a->get_cluster()->leader->session;

  a->set_ttl(ttl() + 1s);
  auto view = a->get_cluster();
  EXPECT_TRUE(a->update_leader(*view, 50331808));
  auto rebound = read_until(*b, [&](const Cluster& c) {
    return c.leader_name() == "a" && c.leader->session != old_session && c.leader->session != 0;
  });
  ASSERT_TRUE(rebound) << "the leader key was not re-bound to a new lease";

  // The old lease runs out; the key lives on under the new one.
  pass_in_loop_steps(ttl() + 2 * loop_wait(), [&] {
    auto current = a->get_cluster();
    EXPECT_TRUE(a->update_leader(*current, 50331808));
    EXPECT_TRUE(a->touch_member(member_data("a", "primary")));
  });
  EXPECT_EQ(b->get_cluster()->leader_name(), "a");
}

}  // namespace
}  // namespace dcs::conformance
