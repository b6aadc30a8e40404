#include "etcd3/process_lease.hpp"

namespace dcs::etcd3::detail {

std::int64_t ProcessLease::id() const {
  std::lock_guard lock(mutex_);
  return id_;
}

void ProcessLease::forget() {
  std::lock_guard lock(mutex_);
  id_ = 0;
  ++generation_;
}

void ProcessLease::reset_throttle() {
  std::lock_guard lock(mutex_);
  last_refresh_ = Clock::time_point{};
}

bool ProcessLease::refresh_once(Etcd3Client& client, bool force, std::chrono::seconds ttl,
                                std::chrono::seconds loop_wait) {
  std::lock_guard refreshing(refresh_mutex_);
  std::int64_t current = 0;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    if (!force && id_ != 0 && Clock::now() < last_refresh_ + loop_wait) return false;
    current = id_;
    generation = generation_;
  }
  // Network I/O runs without mutex_ held: id() and forget() never wait for etcd.
  if (current != 0 && !client.lease_keepalive(current).alive()) {
    current = 0;
    std::lock_guard lock(mutex_);
    if (generation_ == generation) id_ = 0;  // gone, whatever the grant below does
  }
  const bool granted = current == 0;
  if (granted) current = client.lease_grant(ttl.count()).id;
  std::lock_guard lock(mutex_);
  // A forget() while etcd was being asked (a ttl change) wins: the next refresh grants afresh.
  if (generation_ != generation) return false;
  id_ = current;
  last_refresh_ = Clock::now();
  return granted;
}

}  // namespace dcs::etcd3::detail
