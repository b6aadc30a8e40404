// The time budget of one client call and its back-off between rounds (Patroni's retry policy:
// 0.1 s doubling to at most 1 s, plus 0..0.8 s of jitter so that many clients recovering at once
// do not hit etcd in step).
#pragma once

#include <chrono>
#include <random>

namespace dcs::etcd3::detail {

class RetryPolicy {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RetryPolicy(std::chrono::milliseconds budget);

  Clock::time_point deadline() const noexcept { return deadline_; }
  std::chrono::milliseconds remaining() const;
  bool expired() const { return remaining().count() <= 0; }

  /// The pause before the next round (current delay + jitter); grows the delay for the round
  /// after.
  std::chrono::milliseconds next_pause();

 private:
  Clock::time_point deadline_;
  std::chrono::milliseconds delay_{100};
  std::minstd_rand random_;
  bool seeded_ = false;
};

}  // namespace dcs::etcd3::detail
