// The time source of the DCS layer. Lease expiry in MemoryDCS and the ttl-long validity of the
// cached cluster view read it, so a daemon's tests can drive elections with a manual clock
// instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "dcs/export.hpp"

namespace dcs {

class DCS_EXPORT Clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~Clock();
  virtual time_point now() const = 0;
  /// True when time only moves when a test says so: blocking waits (MemoryDCS::watch) then
  /// return at once instead of sleeping in real time.
  virtual bool is_manual() const noexcept { return false; }
};

/// std::chrono::steady_clock.
class DCS_EXPORT SteadyClock final : public Clock {
 public:
  time_point now() const override;
};

/// A clock that stands still until advance() is called. Thread-safe.
class DCS_EXPORT ManualClock final : public Clock {
 public:
  explicit ManualClock(time_point start = time_point{} + std::chrono::hours{1});
  time_point now() const override;
  bool is_manual() const noexcept override { return true; }
  void advance(duration by);

 private:
  std::atomic<duration::rep> ticks_;
};

/// The process-wide steady clock, shared by every DCS that was not given one.
DCS_EXPORT std::shared_ptr<const Clock> steady_clock();

}  // namespace dcs
