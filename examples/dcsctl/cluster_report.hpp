// How dcsctl shows a cluster: the JSON document of `list --format json`, the patronictl-style
// table of `list`, and the change lines of `watch`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/cluster.hpp"

namespace dcs_examples {

/// {"scope","leader","members":[{name, role, state, api_url, conn_url, timeline, lag, tags}],
///  "config","failover","sync","history","status","failsafe","initialize"}: stored values as they
/// are (null when the key is absent). A member's role is patronictl's ("leader",
/// "standby_leader", "sync_standby", "replica"); lag is in bytes behind the leader's last
/// published position (null for the leader and when unknown). A Citus coordinator view adds
/// "group": 0 and "workers": {"<group>": {...the same without scope...}}.
nlohmann::json cluster_to_json(const std::string& scope, const dcs::Cluster& cluster, bool citus);

/// The table of `dcsctl list`: Cluster, [Group,] Member, Host, Role, State, TL, Lag in MB, and
/// Pending restart / Tags when any member has them; then a line per scheduled switchover.
std::string render_table(const std::string& scope, const dcs::Cluster& cluster, bool citus);

/// What changed from `before` to `after` (both cluster_to_json documents), one line per change,
/// e.g. "leader: a -> b", "member c: state starting -> running". The WAL positions (lag) are
/// left out: they move every cycle. `before` null: the initial state.
std::vector<std::string> describe_changes(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace dcs_examples
