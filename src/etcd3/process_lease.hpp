// The one lease per process that the leader and member keys are bound to (spec 3.1). Patroni
// never revokes it: on shutdown the leader key is deleted explicitly and the member key expires
// with the lease.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "dcs/etcd3/client.hpp"

namespace dcs::etcd3::detail {

class ProcessLease {
 public:
  using Clock = std::chrono::steady_clock;

  /// The lease id; 0 while none is held.
  std::int64_t id() const;
  /// Drops the lease (lost, or the ttl changed): the next refresh grants a new one.
  void forget();
  /// Makes the next non-forced refresh send a keepalive (watch() does so every HA cycle).
  void reset_throttle();
  /// When the lease expires unless refreshed: the send time of its last successful keepalive or
  /// grant plus the TTL etcd answered (a lower bound). Empty while none is held.
  std::optional<Clock::time_point> expires_at() const;

  /// Patroni's _do_refresh_lease: unless `force`, does nothing while a lease is held and was
  /// refreshed less than `loop_wait` ago. Otherwise sends a keepalive; a lease etcd no longer
  /// knows (no TTL in the answer) is dropped, and a new one is granted with `ttl`. Returns true
  /// when a new lease was granted. Client errors propagate; the lease is kept on a failed
  /// keepalive (it may still be alive).
  bool refresh_once(Etcd3Client& client, bool force, std::chrono::seconds ttl, std::chrono::seconds loop_wait);

 private:
  mutable std::mutex mutex_;  // guards id_ and last_refresh_
  std::int64_t id_ = 0;
  std::uint64_t generation_ = 0;  // incremented by forget()
  Clock::time_point last_refresh_{};
  Clock::time_point expires_at_{};
  std::mutex refresh_mutex_;  // one refresh at a time, so two threads never grant two leases
};

}  // namespace dcs::etcd3::detail
