// Member keys live as long as their member's lease: they appear on touch_member and vanish once
// the member stops refreshing for longer than the ttl.
#include "conformance/suite.hpp"

namespace dcs::conformance {
namespace {

using Members = ConformanceTest;

TEST_F(Members, AppearOnTouchAndVanishWithTheirLease) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->touch_member(member_data("a")));
  ASSERT_TRUE(b->touch_member(member_data("b")));
  auto both = read_until(*b, [](const Cluster& c) { return c.has_member("a") && c.has_member("b"); });
  ASSERT_TRUE(both);
  ASSERT_EQ(both->members.size(), 2U);
  EXPECT_EQ(both->members[0]->name, "a") << "members come in key order";
  EXPECT_NE(both->members[0]->session, both->members[1]->session) << "one lease per member";

  // `a` stops; `b` keeps running its HA loop.
  pass_in_loop_steps(ttl() + 2 * loop_wait(), [&] {
    b->get_cluster();
    EXPECT_TRUE(b->touch_member(member_data("b")));
  });
  auto after = read_until(*b, [](const Cluster& c) { return !c.has_member("a"); });
  ASSERT_TRUE(after) << "a's member key outlived its lease";
  EXPECT_TRUE(after->has_member("b"));
}

TEST_F(Members, AnUnchangedTouchDoesNotRewriteTheKey) {
  auto a = member("a");
  ASSERT_TRUE(a->touch_member(member_data("a")));
  auto first = read_until(*a, [](const Cluster& c) { return c.has_member("a"); });
  ASSERT_TRUE(first);
  const auto version = first->get_member("a")->version;

  ASSERT_TRUE(a->touch_member(member_data("a")));
  EXPECT_EQ(a->get_cluster()->get_member("a")->version, version);

  auto changed = member_data("a");
  changed["state"] = "stopping";
  ASSERT_TRUE(a->touch_member(changed));
  auto second = read_until(*a, [](const Cluster& c) { return c.get_member("a")->state() == "stopping"; });
  ASSERT_TRUE(second);
  EXPECT_GT(second->get_member("a")->version, version);
}

TEST_F(Members, ARestartedMemberPublishesUnderANewLease) {
  auto a = member("a");
  ASSERT_TRUE(a->touch_member(member_data("a")));
  auto first = read_until(*a, [](const Cluster& c) { return c.has_member("a"); });
  ASSERT_TRUE(first);
  const auto old_session = first->get_member("a")->session;
  a.reset();

  auto again = member("a");
  ASSERT_TRUE(again->touch_member(member_data("a")));
  auto second = read_until(
      *again, [&](const Cluster& c) { return c.has_member("a") && c.get_member("a")->session != old_session; });
  EXPECT_TRUE(second);
}

}  // namespace
}  // namespace dcs::conformance
