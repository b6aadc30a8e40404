// One JSON shape for "a cluster as some reader sees it", so that libdcs's Cluster, Patroni 3.0.2's
// Cluster (as patroni_peer.py dumps it) and what a test wrote can be compared field for field,
// with a JSON diff in the failure message:
//
//   {"initialize": null|"<sysid>",
//    "config":   null|{"version", "data", "modify_version"},
//    "leader":   null|{"name", "version", "session", "member": MEMBER},
//    "members":  [MEMBER...] with MEMBER = {"name", "version", "session", "data"},
//    "failover": null|{"version", "leader", "member", "scheduled_at"},     ("" when absent)
//    "sync":     {"version", "leader": null|"<name>", "sync_standby", "members"},
//    "history":  null|{"version", "value", "lines"},
//    "last_lsn", "slots": null|{...}, "failsafe": null|..., "timeline", "min_version": null|[a,b,c],
//    "workers":  {"<group>": VIEW}}
//
// Versions and sessions are integers here: Patroni keeps them as the decimal strings etcd's
// gateway sends (spec 2.5) and libdcs as int64. Fields only one side has (libdcs's sync quorum and
// status retain_slots, spec 7.1) are left out and checked by the tests on their own.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "dcs/cluster.hpp"
#include "interop/scenario.hpp"

namespace dcs::interop {

/// libdcs's view.
nlohmann::json view_of(const Cluster& cluster);
/// Patroni's view, from a patroni_peer.py dump. Records a test failure for a version or session
/// that is not a decimal string (or Patroni's own -1 / null placeholders).
nlohmann::json view_of_dump(const nlohmann::json& dump);
/// What any reader must see after `state` was written: the values from the state, versions from
/// the raw keys, sessions from the writers' `leases` (which must also be the raw keys' leases).
nlohmann::json expected_view(const nlohmann::json& state, const RawKeys& raw,
                             const std::map<std::string, std::int64_t>& leases);

/// A revision or lease id as Patroni keeps it (a decimal string; its placeholders -1, 0 and null)
/// as a number. Records a test failure, naming `where`, for anything else.
std::int64_t patroni_number(const nlohmann::json& value, const std::string& where = "value");

/// EXPECT that two views are equal, printing both and their JSON patch when not.
void expect_same_view(const nlohmann::json& actual, const nlohmann::json& expected, const std::string& what);

}  // namespace dcs::interop
