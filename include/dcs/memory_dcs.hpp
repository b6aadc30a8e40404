// An in-process DCS with the same semantics as Etcd3 (revisions, TTL leases, compare-and-set,
// leader watch), so that a daemon's own unit tests can run elections, lease expiry and failovers
// deterministically, without etcd and without sleeping (inject a ManualClock).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dcs/abstract_dcs.hpp"
#include "dcs/clock.hpp"
#include "dcs/cluster.hpp"
#include "dcs/export.hpp"

namespace dcs {

/// The shared keyspace of one simulated DCS: every MemoryDCS of a test cluster points at the same
/// store. Keys bound to a lease vanish once the lease's ttl has passed on the store's clock.
/// Thread-safe.
class DCS_EXPORT MemoryStore {
 public:
  explicit MemoryStore(std::shared_ptr<const Clock> clock = nullptr);
  ~MemoryStore();
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  const std::shared_ptr<const Clock>& clock() const noexcept;
  /// The current revision (incremented by every write, as in etcd).
  std::int64_t revision() const;
  /// Every live key under `prefix` (absolute keys, key order).
  std::vector<StoredKey> range(const std::string& prefix) const;
  /// Writes key=value (absolute key, no lease) as one more revision, the way another writer of
  /// the same etcd would: for tests that plant values a member never writes itself (a legacy
  /// Patroni peer, garbage).
  void put(const std::string& key, const std::string& value);
  /// false: the store behaves as an unreachable etcd makes Etcd3 behave (spec 3.0): get_cluster,
  /// attempt_to_acquire_leader and update_leader throw DCSError, every other write returns false
  /// (nullopt), watch only waits. For failsafe-mode tests.
  void set_available(bool available);
  bool available() const;

  struct State;  // implementation detail, shared with MemoryDCS

 private:
  friend class MemoryDCS;
  std::shared_ptr<State> state_;
};

class DCS_EXPORT MemoryDCS final : public AbstractDCS {
 public:
  /// `settings.clock` is ignored: the store's clock rules.
  MemoryDCS(DCSSettings settings, std::shared_ptr<MemoryStore> store);
  ~MemoryDCS() override;

  /// The lease this member binds its leader and member keys to; 0 before the first grant.
  std::int64_t lease() const;

 protected:
  std::vector<StoredKey> load_keys(const std::string& prefix) override;
  bool do_attempt_to_acquire_leader() override;
  bool do_take_leader() override;
  bool do_update_leader(const Leader* leader) override;
  bool do_delete_leader(const Leader& leader) override;
  bool do_initialize(bool create_new, const std::string& sysid) override;
  bool do_cancel_initialization() override;
  bool do_delete_cluster() override;
  bool do_touch_member(const nlohmann::json& data, const Cluster* cached) override;
  bool do_set_config_value(const std::string& value, std::optional<std::int64_t> version) override;
  bool do_set_failover_value(const std::string& value, std::optional<std::int64_t> version) override;
  bool do_set_history_value(const std::string& value) override;
  std::optional<std::int64_t> do_set_sync_state_value(const std::string& value,
                                                      std::optional<std::int64_t> version) override;
  bool do_delete_sync_state(std::optional<std::int64_t> version) override;
  bool do_write_status(const std::string& value) override;
  bool do_write_failsafe(const std::string& value) override;
  bool do_write_leader_optime(const std::string& value) override;
  bool do_watch(std::optional<std::int64_t> leader_version, std::chrono::milliseconds timeout) override;
  void on_ttl_changed(std::chrono::seconds ttl) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcs
