// The decision logic of ha_daemon: one member of a Patroni-style HA cluster, driven through the
// public AbstractDCS API only, so the same class runs against etcd (Etcd3) and, in unit tests,
// against MemoryDCS with a manual clock.
//
// There is no PostgreSQL. The node's "database" is three numbers: its role, its timeline and a
// fake WAL position (LSN) that grows while it is primary; a replica reports the position the
// leader last published in `status`. Promotion and demotion are state changes.
//
// run_cycle() is one turn of Patroni's HA loop (ha.py `_run_cycle`), reduced to what a DCS
// member needs: read the cluster, register the member, bootstrap or clone, then either keep the
// leader key (update_leader, manual switchover / failover requests, sync state, history) or
// follow the leader, or race for the key when nobody holds it. Every role change is reported to
// the event sink. watch() sleeps until the next cycle is due, waking early when the DCS says
// something changed (the follower watches the leader key's version, as Patroni does).
//
// Not thread-safe: one thread runs the loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/abstract_dcs.hpp"
#include "dcs/cluster.hpp"
#include "dcs/observer.hpp"
#include "ha_daemon/role_event.hpp"

namespace dcs_examples {

struct NodeSettings {
  std::string name;
  std::string conn_url;  ///< e.g. postgres://127.0.0.1:5432/postgres
  std::string api_url;   ///< e.g. http://127.0.0.1:8008/patroni
  nlohmann::json tags = nlohmann::json::object();
  /// The dynamic configuration the bootstrapping member stores in the `config` key (Patroni's
  /// bootstrap.dcs); later read back from the cluster (synchronous_mode,
  /// maximum_lag_on_failover).
  nlohmann::json bootstrap_config = nlohmann::json::object();
  /// How far the fake WAL advances per cycle while primary.
  std::int64_t lsn_step = 64 * 1024;
  /// Wall clock (unix seconds) for event timestamps, history lines and scheduled switchovers.
  std::function<double()> unix_time;
  /// Where decisions are logged (component "ha"); may be empty.
  dcs::LogSink log;
  /// Also report, through the event sink, what a safety checker needs beyond role changes
  /// (scripts/torture.sh): "renewed" (update_leader kept the key; `since` is when the call
  /// started, so the lease lives at least until since + ttl), "race_error" (the outcome of a
  /// leader race is unknown), "member_written" / "config_written" (a write etcd acknowledged,
  /// with the value), and `since` / `won_at` / `ttl` / `revision` on "acquired".
  bool trace = false;
};

class HaNode {
 public:
  using EventSink = std::function<void(const RoleEvent&)>;

  HaNode(dcs::AbstractDCS& dcs, NodeSettings settings, EventSink on_event);

  /// One HA cycle; returns what it did, in words (logged by the daemon). Never throws a
  /// dcs::Error: a DCS that cannot be reached demotes a primary and is reported in the result.
  std::string run_cycle();
  /// Waits up to `timeout` for the next cycle; true when the DCS woke it early.
  bool watch(std::chrono::milliseconds timeout);
  /// Graceful stop (SIGTERM): a primary stops, releases the leader key at once and publishes its
  /// final state, so another member can take over without waiting for the ttl.
  void shutdown();

  Role role() const noexcept { return role_; }
  std::int64_t timeline() const noexcept { return timeline_; }
  std::int64_t lsn() const noexcept { return lsn_; }
  /// The member data this node publishes.
  nlohmann::json member_data() const;

 private:
  std::string cycle(const dcs::Cluster& cluster);
  std::string bootstrap_or_clone(const dcs::Cluster& cluster);
  std::string process_unhealthy_cluster(const dcs::Cluster& cluster);
  std::string process_healthy_cluster(const dcs::Cluster& cluster);
  std::optional<std::string> process_manual_failover_from_leader(const dcs::Cluster& cluster);
  std::string enforce_primary_role(const dcs::Cluster& cluster, const std::string& message);
  std::string follow(const std::string& message);
  std::string handle_dcs_error(const std::string& what);

  bool is_healthiest_node(const dcs::Cluster& cluster) const;
  std::optional<bool> manual_failover_process_no_leader(const dcs::Cluster& cluster) const;
  /// Some member of `members` other than this one could take over: running, allowed to fail
  /// over, not lagging more than maximum_lag_on_failover behind `cluster_lsn`.
  bool is_failover_possible(const dcs::Cluster& cluster, const std::vector<dcs::MemberPtr>& members) const;
  bool is_member_healthy(const dcs::Member& member) const;
  bool synchronous_mode(const dcs::Cluster& cluster) const;
  std::int64_t maximum_lag_on_failover(const dcs::Cluster& cluster) const;

  void promote(const dcs::Cluster& cluster);
  void demote(const std::string& event);
  void process_sync_replication(const dcs::Cluster& cluster);
  void touch_member();
  void emit(const std::string& event, nlohmann::json details = nlohmann::json::object());
  /// emit() when tracing is on; nothing otherwise.
  void trace(const std::string& event, nlohmann::json details);
  /// The fields a traced "acquired" carries (empty without tracing).
  nlohmann::json acquired_details(double since, double won_at, const dcs::Cluster* cluster) const;
  void log(dcs::LogLevel level, const std::string& message) const;
  bool nofailover() const;

  dcs::AbstractDCS& dcs_;
  NodeSettings settings_;
  EventSink on_event_;

  Role role_ = Role::uninitialized;
  std::string state_ = "stopped";  // Patroni's member state ("running", "stopped", ...)
  std::int64_t timeline_ = 0;
  std::int64_t lsn_ = 0;
  std::string sysid_;
  bool has_lock_ = false;                        // we believe we hold the leader key
  std::shared_ptr<const dcs::Cluster> cluster_;  // the view of the last cycle
};

}  // namespace dcs_examples
