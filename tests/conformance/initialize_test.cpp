// The initialisation race: `initialize` with create_new is won by exactly one member, the winner
// then records the system identifier, and a failed bootstrap reopens the race.
#include <future>

#include "conformance/suite.hpp"

namespace dcs::conformance {
namespace {

using Initialize = ConformanceTest;

TEST_F(Initialize, ExactlyOneMemberWinsTheRace) {
  auto a = member("a");
  auto b = member("b");
  auto race_a = std::async(std::launch::async, [&] { return a->initialize(true, ""); });
  auto race_b = std::async(std::launch::async, [&] { return b->initialize(true, ""); });
  const bool a_won = race_a.get();
  const bool b_won = race_b.get();
  ASSERT_NE(a_won, b_won) << "exactly one member must win";
  auto& winner = a_won ? *a : *b;
  auto& loser = a_won ? *b : *a;

  // Present but empty: a bootstrap is running.
  auto running = read_until(loser, [](const Cluster& c) { return c.initialize.has_value(); });
  ASSERT_TRUE(running);
  EXPECT_EQ(*running->initialize, "");

  EXPECT_TRUE(winner.initialize(false, "7301234567890123456"));
  auto done = read_until(loser, [](const Cluster& c) { return c.initialize && !c.initialize->empty(); });
  ASSERT_TRUE(done);
  EXPECT_EQ(*done->initialize, "7301234567890123456");
  EXPECT_FALSE(loser.initialize(true, "1")) << "the key exists";
  EXPECT_EQ(*winner.get_cluster()->initialize, "7301234567890123456");
}

TEST_F(Initialize, CancelInitializationReopensTheRace) {
  auto a = member("a");
  auto b = member("b");
  ASSERT_TRUE(a->initialize(true, ""));
  ASSERT_TRUE(read_until(*b, [](const Cluster& c) { return c.initialize.has_value(); }));

  EXPECT_TRUE(a->cancel_initialization());
  auto reopened = read_until(*b, [](const Cluster& c) { return !c.initialize.has_value(); });
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(b->initialize(true, ""));
  EXPECT_TRUE(read_until(*a, [](const Cluster& c) { return c.initialize.has_value(); }));
}

TEST_F(Initialize, APlainInitializeOverwritesTheSystemIdentifier) {
  auto a = member("a");
  ASSERT_TRUE(a->initialize(false, "6000000000000000001"));
  ASSERT_TRUE(a->initialize(false, "6000000000000000002"));
  auto view = read_until(*a, [](const Cluster& c) { return c.initialize == "6000000000000000002"; });
  EXPECT_TRUE(view);
}

}  // namespace
}  // namespace dcs::conformance
