// What the interop tests write and how they look at it: Patroni-style configurations, the
// cluster states both sides write (as the JSON patroni_peer.py's write-state takes), the same
// writing steps done through libdcs, and raw snapshots of the keys in etcd.
//
// The states' objects reach both writers with their keys in the same (sorted) order: Patroni
// serialises a dict in insertion order and libdcs in nlohmann::json's sorted order, so equal
// bytes are only expected for equally ordered input.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/abstract_dcs.hpp"
#include "dcs/cluster.hpp"
#include "dcs/etcd3/client.hpp"
#include "dcs/etcd3/etcd3.hpp"
#include "dcs/etcd3/kv.hpp"

namespace dcs::interop {

inline constexpr char kNamespace[] = "/interop/";

/// Keys of one snapshot, relative to the prefix it was taken under ("leader", "0/members/a").
using RawKeys = std::map<std::string, etcd3::KeyValue>;

/// A Patroni 3.0.2 configuration: top-level scope, namespace, name and timings, the etcd3
/// section pointing at `endpoint` ("http://127.0.0.1:<port>", given as `hosts`) and, for Citus,
/// citus {group, database}. Both Patroni and Etcd3::from_patroni_config take it as is.
nlohmann::json patroni_config(const std::string& endpoint, const std::string& scope, const std::string& name,
                              std::optional<int> citus_group = std::nullopt);

/// A two-member cluster with every key Patroni keeps: initialize, config, leader, both members
/// (unicode, control characters, nested tags, a float; the replica runs Patroni 2.0.2, so the
/// legacy optime/leader key is written too), status with slots, failsafe, sync, history and a
/// scheduled switchover. The leader's role is `leader_role` ("master" as 3.0.2 writes it).
nlohmann::json full_state(const std::string& leader_role = "master");
/// Citus: the coordinator (group 0: empty history, cleared failover) and one worker group (1:
/// bootstrap still running, so an empty initialize; no slots; a sync state without standby; a
/// failover with only a candidate),
/// two members each.
nlohmann::json citus_coordinator_state();
nlohmann::json citus_worker_state();

/// The names of the state's members, in the order given.
std::vector<std::string> member_names(const nlohmann::json& state);

/// "/interop/<scope>/".
std::string scope_prefix(const std::string& scope);
/// Every key under `prefix`, read with a plain range (linearizable).
RawKeys read_raw(etcd3::Etcd3Client& client, const std::string& prefix);
/// The keys under `group` ("0/") with that part removed.
RawKeys group_keys(const RawKeys& keys, const std::string& group);

/// One libdcs process per member, as write_with_libdcs left them (leases still held).
struct LibdcsWriter {
  std::string leader_name;
  std::map<std::string, std::unique_ptr<etcd3::Etcd3>> members;
  /// Every step: "<operation> <member>" and whether libdcs reported success.
  std::vector<std::pair<std::string, bool>> ops;

  etcd3::Etcd3& leader() { return *members.at(leader_name); }
  std::map<std::string, std::int64_t> leases() const;
};

/// Writes `state` through libdcs with the steps patroni_peer.py's write-state takes through
/// Patroni: initialize (empty, then the system id), set_config_value, attempt_to_acquire_leader,
/// touch_member for every member, get_cluster, update_leader (last_lsn, slots, failsafe; no
/// retain_slots, the 3.0.2 subset), write_sync_state, set_history_value, manual_failover.
LibdcsWriter write_with_libdcs(const nlohmann::json& config, const nlohmann::json& state);

/// get_cluster until `ready` holds for the view (a cache learns other processes' keys from watch
/// events) or 20 s passed; returns the last view.
std::shared_ptr<const Cluster> wait_for_cluster(AbstractDCS& dcs, const std::function<bool(const Cluster&)>& ready);
/// The view has every one of `names` as a member.
bool has_members(const Cluster& cluster, const std::vector<std::string>& names);

}  // namespace dcs::interop
