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

std::optional<ProcessLease::Clock::time_point> ProcessLease::expires_at() const {
  std::lock_guard lock(mutex_);
  if (id_ == 0) return std::nullopt;
  return expires_at_;
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
  // Expiry is counted from when a request was sent: etcd restarted the TTL at some point after.
  auto sent = Clock::now();
  std::int64_t granted_ttl = 0;
  if (current != 0) {
    granted_ttl = client.lease_keepalive(current).ttl;
    if (granted_ttl <= 0) {
      current = 0;
      std::lock_guard lock(mutex_);
      if (generation_ == generation) id_ = 0;  // gone, whatever the grant below does
    }
  }
  const bool granted = current == 0;
  if (granted) {
    sent = Clock::now();
    const auto response = client.lease_grant(ttl.count());
    current = response.id;
    granted_ttl = response.ttl;
  }
  std::lock_guard lock(mutex_);
  // A forget() while etcd was being asked (a ttl change) wins: the next refresh grants afresh.
  if (generation_ != generation) return false;
  id_ = current;
  last_refresh_ = Clock::now();
  expires_at_ = sent + std::chrono::seconds(granted_ttl);
  return granted;
}

}  // namespace dcs::etcd3::detail
