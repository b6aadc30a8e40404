// The etcd v3 backend of AbstractDCS: Patroni's Etcd3 class. It keeps the same keys and values in
// etcd as Patroni (spec 2-3), binds the leader and member keys to one lease per process, and
// sends exactly the requests Patroni sends (create-revision-0 acquire, nested re-bind txn,
// compare-on-value delete, MOD-revision compare-and-set).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/abstract_dcs.hpp"
#include "dcs/etcd3/client.hpp"
#include "dcs/etcd3/config.hpp"
#include "dcs/etcd3/health.hpp"
#include "dcs/etcd3/kv_cache.hpp"
#include "dcs/export.hpp"

namespace dcs::etcd3 {

class DCS_EXPORT Etcd3 final : public AbstractDCS {
 public:
  /// Validates the options (ConfigError), connects (version, auth, member list) and, unless
  /// patronictl, obtains the process lease, waiting while etcd is unreachable.
  explicit Etcd3(Etcd3Options options);
  /// From a whole Patroni-style configuration: the top-level ttl, loop_wait, retry_timeout,
  /// scope, namespace, name and citus.group are copied into its etcd3 section.
  static std::unique_ptr<Etcd3> from_patroni_config(const nlohmann::json& config);
  ~Etcd3() override;

  /// The generic client underneath (shared with the watcher thread).
  Etcd3Client& client() noexcept;
  /// The process lease the leader and member keys are bound to; 0 while none is held.
  std::int64_t lease() const;
  /// Keepalive (or grant when none / lost). `force` false: at most once per loop_wait. Returns
  /// true when a new lease was granted; throws Etcd3Error when etcd refuses.
  bool refresh_lease(bool force = false);
  /// Wakes a thread blocked in watch() (used on shutdown and by the watcher).
  void wake();
  /// The watcher cache that serves get_cluster and wakes watch(); null in patronictl mode. Its
  /// health() is what a daemon exports.
  const KVCache* kv_cache() const noexcept;
  /// A consistent-enough picture for a health endpoint: current endpoint, the cache's state and
  /// age, the lease and its time to expiry, the last error. Cheap (no request); any thread.
  Etcd3Health health() const;

 protected:
  std::vector<StoredKey> load_keys(const std::string& prefix) override;
  /// The cache's snapshot once it is ready (waiting at most retry_timeout, then Etcd3Error);
  /// without a cache a read of etcd.
  std::shared_ptr<const Cluster> load_cluster(const std::shared_ptr<const Cluster>& previous) override;
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
  void on_retry_timeout_changed(std::chrono::seconds retry_timeout) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcs::etcd3
