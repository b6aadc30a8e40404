// The per-thread spare buffers that requests encode into and answers arrive in.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "http/spare_buffer.hpp"

namespace dcs::http {
namespace {

// Empties this thread's spares (whatever earlier tests on the thread left there).
void drain() {
  while (take_spare_buffer().capacity() > std::string().capacity()) {
  }
}

TEST(SpareBuffer, AGivenBackBufferComesBackEmptyWithItsCapacity) {
  drain();
  std::string text(5000, 'x');
  const auto capacity = text.capacity();
  give_back_spare_buffer(std::move(text));
  const std::string again = take_spare_buffer();
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(again.capacity(), capacity);
  EXPECT_EQ(take_spare_buffer().capacity(), std::string().capacity()) << "taken: no longer spare";
}

TEST(SpareBuffer, KeepsTheTwoLargestAndHandsOutTheLargestFirst) {
  drain();
  for (const std::size_t size : {1000u, 3000u, 2000u}) give_back_spare_buffer(std::string(size, 'y'));
  EXPECT_GE(take_spare_buffer().capacity(), 3000u);
  EXPECT_GE(take_spare_buffer().capacity(), 2000u);
  EXPECT_LT(take_spare_buffer().capacity(), 1000u) << "the smallest was dropped";
}

TEST(SpareBuffer, AHugeBufferIsNotKept) {
  drain();
  give_back_spare_buffer(std::string(kMaxSpareCapacity + 1, 'z'));
  EXPECT_LE(take_spare_buffer().capacity(), kMaxSpareCapacity);
}

TEST(SpareBuffer, EachThreadHasItsOwn) {
  drain();
  give_back_spare_buffer(std::string(4000, 'w'));
  std::size_t seen_elsewhere = 1;
  std::thread([&] { seen_elsewhere = take_spare_buffer().capacity(); }).join();
  EXPECT_LT(seen_elsewhere, 4000u);
  EXPECT_GE(take_spare_buffer().capacity(), 4000u);
}

TEST(SpareBuffer, TheScopedBufferIsGivenBackWhenItEnds) {
  drain();
  std::size_t capacity = 0;
  {
    SpareBuffer buffer;
    buffer.text.assign(6000, 'v');
    capacity = buffer.text.capacity();
  }
  EXPECT_EQ(take_spare_buffer().capacity(), capacity);
}

}  // namespace
}  // namespace dcs::http
