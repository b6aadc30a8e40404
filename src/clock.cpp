// The DCS layer's time sources. The cached cluster view and MemoryDCS leases read the injected
// clock so that tests can move time by hand.
#include "dcs/clock.hpp"

namespace dcs {

Clock::~Clock() = default;

Clock::time_point SteadyClock::now() const {
  return std::chrono::steady_clock::now();
}

ManualClock::ManualClock(time_point start) : ticks_(start.time_since_epoch().count()) {}

Clock::time_point ManualClock::now() const {
  return time_point{duration{ticks_.load(std::memory_order_acquire)}};
}

void ManualClock::advance(duration by) {
  ticks_.fetch_add(by.count(), std::memory_order_acq_rel);
}

std::shared_ptr<const Clock> steady_clock() {
  static const std::shared_ptr<const Clock> clock = std::make_shared<const SteadyClock>();
  return clock;
}

}  // namespace dcs
