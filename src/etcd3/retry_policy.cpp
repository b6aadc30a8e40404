#include "etcd3/retry_policy.hpp"

#include <algorithm>

namespace dcs::etcd3::detail {

namespace {
constexpr std::chrono::milliseconds kMaxDelay{1000};
constexpr int kMaxJitterSteps = 80;  // 0..0.8 s in 10 ms steps
}  // namespace

RetryPolicy::RetryPolicy(std::chrono::milliseconds budget) : deadline_(Clock::now() + budget) {}

std::chrono::milliseconds RetryPolicy::remaining() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
}

std::chrono::milliseconds RetryPolicy::next_pause() {
  // Seeded only when a pause is needed: most calls never pause, and seeding costs a syscall.
  if (!seeded_) {
    random_.seed(std::random_device{}());
    seeded_ = true;
  }
  std::uniform_int_distribution<int> jitter(0, kMaxJitterSteps);
  const auto pause = delay_ + std::chrono::milliseconds(10 * jitter(random_));
  delay_ = std::min(delay_ * 2, kMaxDelay);
  return pause;
}

}  // namespace dcs::etcd3::detail
