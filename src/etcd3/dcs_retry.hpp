// Patroni's "retried" steps of a DCS operation: a step runs under a fresh time budget of
// retry_timeout, and the etcd answers that may heal by waiting (DeadlineExceeded,
// FailedPrecondition) are retried after Patroni's back-off until that budget is spent.
//
// Every step restarts the budget, as Patroni HEAD does (each invocation of its retry object resets
// the stop time); "at least 1 s left" checks between steps therefore look at the budget of the
// step just finished. The client call inside a step has its own budget of retry_timeout for
// endpoint failover (Patroni shares one deadline between the two).
#pragma once

#include <chrono>
#include <string>
#include <thread>

#include "dcs/etcd3/errors.hpp"
#include "etcd3/retry_policy.hpp"
#include "log.hpp"

namespace dcs::etcd3::detail {

/// etcd answers a retried step waits out: the cluster may be electing a leader or catching up.
bool is_retried_later(const Etcd3ClientError& error) noexcept;

class StepBudget {
 public:
  explicit StepBudget(std::chrono::milliseconds budget) : budget_(budget), policy_(budget) {}

  /// A new deadline of now + budget, back-off from its first delay again.
  void restart() { policy_ = RetryPolicy(budget_); }
  std::chrono::milliseconds remaining() const { return policy_.remaining(); }
  bool expired() const { return policy_.expired(); }

  /// Restarts the budget and runs `op`, retrying it on is_retried_later() errors after a pause
  /// while the budget lasts; then throws RetryFailedError("Exceeded retry deadline").
  template <typename Op>
  auto retried(Op&& op, const dcs::detail::Logger& log) -> decltype(op()) {
    restart();
    for (;;) {
      try {
        return op();
      } catch (const Etcd3ClientError& e) {
        if (!is_retried_later(e)) throw;
        const auto pause = policy_.next_pause();
        if (policy_.remaining() <= pause) {
          log(LogLevel::warning, std::string("Retry got exception: ") + e.what() + "; retry deadline exceeded");
          throw RetryFailedError(std::string("Exceeded retry deadline: ") + e.what());
        }
        std::this_thread::sleep_for(pause);
      }
    }
  }

 private:
  std::chrono::milliseconds budget_;
  RetryPolicy policy_;
};

}  // namespace dcs::etcd3::detail
