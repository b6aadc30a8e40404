// Internal: the keyspace behind MemoryStore, shared by every MemoryDCS on it. It models the parts
// of etcd v3 that Patroni relies on: one global revision bumped by every write, a key's version
// is the revision of its last write, keys bound to a lease vanish when the lease expires, and a
// lease expires once its ttl has passed since the last keepalive on the store's clock.
//
// Expiry is evaluated lazily: every entry point sweeps the dead leases first, under the mutex,
// so a test that only advances a ManualClock sees keys vanish on its next call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dcs/clock.hpp"
#include "dcs/cluster.hpp"
#include "dcs/memory_dcs.hpp"

namespace dcs::memory {

/// What one MemoryDCS wants to be woken for (spec 5.4): a change of its leader key's value, a
/// change of an existing config value, and a new status / optime value while it is not the
/// leader. Registered with the store for the lifetime of its MemoryDCS.
struct WatchInterest {
  std::string name;
  std::string leader_key;
  std::string config_key;
  std::string status_key;
  std::string optime_key;
  bool pending = false;  ///< a wake-up arrived that watch() has not consumed yet
};

}  // namespace dcs::memory

namespace dcs {

/// Every member function expects `mutex` to be held by the caller (they are building blocks of
/// MemoryDCS operations, which must be atomic as etcd transactions are).
struct MemoryStore::State {
  struct Record {
    std::string value;
    std::int64_t mod_revision = 0;
    std::int64_t lease = 0;
  };
  struct Lease {
    Clock::duration ttl{};
    Clock::time_point last_keepalive{};
  };

  explicit State(std::shared_ptr<const Clock> c) : clock(std::move(c)) {}

  mutable std::mutex mutex;
  /// Signalled whenever a WatchInterest becomes pending (MemoryDCS::watch waits on it).
  std::condition_variable changed;

  const std::shared_ptr<const Clock> clock;
  bool available = true;
  std::int64_t revision = 1;  // etcd starts a fresh cluster at revision 1
  std::int64_t next_lease_id = 7587000000000000001;
  std::map<std::string, Record> keys;  // byte order, like etcd
  std::map<std::int64_t, Lease> leases;
  std::vector<memory::WatchInterest*> interests;

  /// Removes the leases whose ttl has passed and their keys (one revision per lease, like etcd's
  /// lease revoke).
  void expire_leases();
  /// The earliest moment (store clock) at which a lease may expire; nullopt when none is held.
  std::optional<Clock::time_point> next_expiry() const;

  std::int64_t grant(std::chrono::seconds ttl);
  /// false when the lease is unknown or expired.
  bool keepalive(std::int64_t lease);
  bool lease_alive(std::int64_t lease) const;

  const Record* find(const std::string& key) const;
  /// 0 when the key does not exist (what etcd compares MOD / CREATE against).
  std::int64_t mod_revision(const std::string& key) const;
  /// The new revision, or nullopt when `lease` (non-zero) does not exist.
  std::optional<std::int64_t> put(const std::string& key, const std::string& value, std::int64_t lease = 0);
  /// true when the key existed.
  bool erase(const std::string& key);
  /// Deletes every key starting with `prefix` in one revision; returns how many were deleted.
  std::size_t erase_prefix(const std::string& prefix);
  std::vector<StoredKey> range(const std::string& prefix) const;

 private:
  /// Bumps `pending` on every interest the change concerns and wakes the waiters.
  void notify(const std::string& key, const std::optional<std::string>& before,
              const std::optional<std::string>& after);
};

}  // namespace dcs
