// The backend-neutral DCS API that an HA loop drives (Patroni's AbstractDCS): a public,
// non-virtual surface that shapes the stored values and keeps the cached cluster view, over
// protected virtual hooks that a backend (Etcd3, MemoryDCS) implements.
//
// Error semantics (spec 3.0): a lost compare-and-set, a vanished lease or any answer of the store
// that refuses the operation returns false; a store that cannot be reached throws dcs::DCSError.
// Callers in failsafe mode tell "the store said no" from "there is no store" that way.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/clock.hpp"
#include "dcs/cluster.hpp"
#include "dcs/export.hpp"
#include "dcs/observer.hpp"

namespace dcs {

/// What every backend needs to know about the member it serves.
struct DCSSettings {
  std::string namespace_ = "/service/";  ///< Patroni's `namespace`
  std::string scope;                     ///< the cluster name
  std::string name;                      ///< this member's name
  std::chrono::seconds ttl{30};
  std::chrono::seconds loop_wait{10};
  std::chrono::seconds retry_timeout{10};
  std::optional<int> citus_group;      ///< Citus (MPP) group; 0 is the coordinator
  bool patronictl = false;             ///< read-only CLI use: no lease, no watcher
  std::shared_ptr<const Clock> clock;  ///< null: the steady clock
  LogSink log_sink;
};

class DCS_EXPORT AbstractDCS {
 public:
  using Slots = std::map<std::string, std::int64_t>;

  virtual ~AbstractDCS();
  AbstractDCS(const AbstractDCS&) = delete;
  AbstractDCS& operator=(const AbstractDCS&) = delete;

  // --- paths -------------------------------------------------------------------------------
  /// "/<namespace>/<scope>" with repeated slashes collapsed.
  const std::string& base_path() const noexcept;
  /// base_path [+ "/<group>" for Citus] + "/" + path without its leading slashes.
  std::string client_path(std::string_view path) const;
  std::string initialize_path() const { return client_path("initialize"); }
  std::string config_path() const { return client_path("config"); }
  std::string members_path() const { return client_path("members/"); }
  std::string member_path() const;
  std::string leader_path() const { return client_path("leader"); }
  std::string failover_path() const { return client_path("failover"); }
  std::string history_path() const { return client_path("history"); }
  std::string status_path() const { return client_path("status"); }
  std::string leader_optime_path() const { return client_path("optime/leader"); }
  std::string sync_path() const { return client_path("sync"); }
  std::string failsafe_path() const { return client_path("failsafe"); }
  /// The prefix a cluster read covers: base_path + "/" for a Citus coordinator (all groups),
  /// client_path("") otherwise. Always ends with "/".
  std::string cluster_prefix() const;

  const std::string& name() const noexcept;
  const std::string& scope() const noexcept;
  std::chrono::seconds ttl() const;
  std::chrono::seconds loop_wait() const;
  std::chrono::seconds retry_timeout() const;
  std::optional<int> citus_group() const noexcept;
  bool is_citus_coordinator() const noexcept;

  // --- reads -------------------------------------------------------------------------------
  /// Reads the whole cluster (a Citus coordinator also reads every worker group). The result
  /// becomes the cached view for ttl. Throws DCSError (the view is dropped) when the store
  /// cannot be read.
  std::shared_ptr<const Cluster> get_cluster();
  /// The view of the last get_cluster while it is younger than ttl, else null.
  std::shared_ptr<const Cluster> cluster() const;
  void reset_cluster();
  /// A Citus worker's read of the coordinator group (0); null on any error (logged).
  std::shared_ptr<const Cluster> get_citus_coordinator();

  // --- leader ------------------------------------------------------------------------------
  /// Creates the leader key bound to this member's lease if nobody holds it.
  bool attempt_to_acquire_leader();
  /// Writes the leader key unconditionally (right after bootstrap).
  bool take_leader();
  /// Keeps the leader key alive (lease keepalive; re-binds it to a new lease by compare on its
  /// value), then writes status (optime, slots, retain_slots) and failsafe when they changed.
  bool update_leader(const Cluster& cluster, std::optional<std::int64_t> last_lsn, std::optional<Slots> slots = {},
                     std::optional<nlohmann::json> failsafe = {},
                     std::optional<std::vector<std::string>> retain_slots = {});
  /// Writes the final optime (when given), then deletes the leader key if it still holds our name.
  bool delete_leader(const std::optional<Leader>& leader, std::optional<std::int64_t> last_lsn = {});

  // --- cluster lifecycle ---------------------------------------------------------------------
  /// create_new: wins the initialisation race only if the key does not exist yet.
  bool initialize(bool create_new = true, const std::string& sysid = "");
  bool cancel_initialization();
  bool delete_cluster();

  // --- members and values -------------------------------------------------------------------
  /// Publishes this member's data under its lease; skips the write when the cached view already
  /// holds equal data under the current lease.
  bool touch_member(const nlohmann::json& data);
  /// `version` given: compare-and-set on the key's modification revision.
  bool set_config_value(const std::string& value, std::optional<std::int64_t> version = {});
  bool manual_failover(std::string_view leader, std::string_view candidate, std::string_view scheduled_at = {},
                       std::optional<std::int64_t> version = {});
  bool set_failover_value(const std::string& value, std::optional<std::int64_t> version = {});
  bool set_history_value(const std::string& value);
  /// Writes the sync state; returns it with its new version, or nullopt when the compare failed
  /// or the write was refused.
  std::optional<SyncState> write_sync_state(const std::optional<std::string>& leader,
                                            const std::vector<std::string>& sync_standby, int quorum = 0,
                                            std::optional<std::int64_t> version = {});
  /// The new modification revision, or nullopt when the compare failed or the write was refused.
  std::optional<std::int64_t> set_sync_state_value(const std::string& value, std::optional<std::int64_t> version = {});
  bool delete_sync_state(std::optional<std::int64_t> version = {});
  /// Writes `status` ({"optime":…, "slots":…, "retain_slots":…}) when it differs from the last
  /// read or written one; missing slots / retain_slots are carried over from that one; also
  /// writes the legacy optime/leader key while a member older than Patroni 2.1.0 is present.
  void write_status(const nlohmann::json& value);
  /// Writes the failsafe topology when it differs from the last read or written one.
  void write_failsafe(const nlohmann::json& value);
  void write_leader_optime(std::int64_t last_lsn);

  // --- waiting and timing --------------------------------------------------------------------
  /// Sleeps up to `timeout`, returning early (true) when the store signals a change the HA loop
  /// must react to. `leader_version`: the follower's known leader version.
  bool watch(std::optional<std::int64_t> leader_version, std::chrono::milliseconds timeout);
  void set_ttl(std::chrono::seconds ttl);
  void set_loop_wait(std::chrono::seconds loop_wait);
  void set_retry_timeout(std::chrono::seconds retry_timeout);

 protected:
  explicit AbstractDCS(DCSSettings settings);

  const DCSSettings& settings() const noexcept;
  const Clock& clock() const noexcept;
  void log(LogLevel level, std::string_view message) const;

  // --- backend hooks (Patroni's underscore methods) ----------------------------------------
  /// Every key under `prefix` (absolute keys). Throws DCSError when the store cannot be read.
  virtual std::vector<StoredKey> load_keys(const std::string& prefix) = 0;
  /// The whole cluster (cluster_prefix()) for get_cluster. The default reads it with load_keys,
  /// reusing the members of `previous` (the last view loaded) that did not change, and hands
  /// `previous` itself back when every key came back at the version and session it was built
  /// from (a version identifies a value); a backend with a watcher cache overrides it to hand
  /// out the cache's snapshot without any I/O.
  virtual std::shared_ptr<const Cluster> load_cluster(const std::shared_ptr<const Cluster>& previous);
  virtual bool do_attempt_to_acquire_leader() = 0;
  virtual bool do_take_leader() = 0;
  /// `leader`: the leader as the caller's cluster view saw it (null: none).
  virtual bool do_update_leader(const Leader* leader) = 0;
  virtual bool do_delete_leader(const Leader& leader) = 0;
  virtual bool do_initialize(bool create_new, const std::string& sysid) = 0;
  virtual bool do_cancel_initialization() = 0;
  virtual bool do_delete_cluster() = 0;
  /// `cached`: the current cached view (may be null) for the skip-if-unchanged check.
  virtual bool do_touch_member(const nlohmann::json& data, const Cluster* cached) = 0;
  virtual bool do_set_config_value(const std::string& value, std::optional<std::int64_t> version) = 0;
  virtual bool do_set_failover_value(const std::string& value, std::optional<std::int64_t> version) = 0;
  virtual bool do_set_history_value(const std::string& value) = 0;
  virtual std::optional<std::int64_t> do_set_sync_state_value(const std::string& value,
                                                              std::optional<std::int64_t> version) = 0;
  virtual bool do_delete_sync_state(std::optional<std::int64_t> version) = 0;
  virtual bool do_write_status(const std::string& value) = 0;
  virtual bool do_write_failsafe(const std::string& value) = 0;
  virtual bool do_write_leader_optime(const std::string& value) = 0;
  virtual bool do_watch(std::optional<std::int64_t> leader_version, std::chrono::milliseconds timeout) = 0;
  /// Called after the ttl changed (a backend re-grants its lease with the new ttl).
  virtual void on_ttl_changed(std::chrono::seconds /*ttl*/) {}
  virtual void on_retry_timeout_changed(std::chrono::seconds /*retry_timeout*/) {}

 private:
  /// Everything the class remembers between calls (src/abstract_dcs_state.hpp): behind a
  /// pointer, so that it can change without changing this class's layout.
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dcs
