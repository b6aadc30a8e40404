#include "etcd3/retry_policy.hpp"

#include <algorithm>

namespace dcs::etcd3::detail {

namespace {
constexpr std::chrono::milliseconds kMaxDelay{1000};
constexpr int kMaxJitterSteps = 80;  // 0..0.8 s in 10 ms steps
}  // namespace

RetryPolicy::RetryPolicy(std::chrono::milliseconds budget)
    : deadline_(Clock::now() + budget), random_(std::random_device{}()) {}

std::chrono::milliseconds RetryPolicy::remaining() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
}

std::chrono::milliseconds RetryPolicy::next_pause() {
  std::uniform_int_distribution<int> jitter(0, kMaxJitterSteps);
  const auto pause = delay_ + std::chrono::milliseconds(10 * jitter(random_));
  delay_ = std::min(delay_ * 2, kMaxDelay);
  return pause;
}

}  // namespace dcs::etcd3::detail
