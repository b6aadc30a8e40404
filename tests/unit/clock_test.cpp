// The clocks the DCS layer reads: a manual one that only moves when told (for ttl-long cached
// views and MemoryDCS leases in tests) and the process-wide steady clock.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "dcs/clock.hpp"

namespace dcs {
namespace {

using namespace std::chrono_literals;

TEST(Clock, ManualClockStandsStillUntilAdvanced) {
  ManualClock clock;
  const auto start = clock.now();
  EXPECT_EQ(clock.now(), start);
  clock.advance(1500ms);
  EXPECT_EQ(clock.now() - start, 1500ms);
  EXPECT_TRUE(clock.is_manual());
  EXPECT_GT(start.time_since_epoch(), 0s);  // later than a default-constructed time_point
}

TEST(Clock, ManualClockStartsWhereAsked) {
  const ManualClock clock(Clock::time_point{} + 42s);
  EXPECT_EQ(clock.now().time_since_epoch(), 42s);
}

TEST(Clock, ManualClockAdvancesSafelyFromManyThreads) {
  ManualClock clock;
  const auto start = clock.now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&clock] {
      for (int i = 0; i < 1000; ++i) clock.advance(1ms);
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(clock.now() - start, 4000ms);
}

TEST(Clock, SteadyClockIsSharedAndMoves) {
  const auto clock = steady_clock();
  EXPECT_EQ(clock, steady_clock());
  EXPECT_FALSE(clock->is_manual());
  const auto a = clock->now();
  EXPECT_LE(a, clock->now());
}

}  // namespace
}  // namespace dcs
