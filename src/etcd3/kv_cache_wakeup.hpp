// Internal: which applied changes wake the HA loop's watch() (spec 5.4). Kept apart from the
// cache so the rule can be tested as a table.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dcs::etcd3::detail {

/// The keys the rule looks at (relative to the cache's prefix) and this member's name.
struct WakeKeys {
  std::string leader;
  std::string config;
  std::string status;
  std::string optime;  ///< the legacy optime/leader key
  std::string own_name;
};

/// Whether a change of `key` from `old_value` to `new_value` (nullopt: absent; an empty value
/// counts as absent, as in Patroni) must wake the HA loop. `leader_value`: the leader key's value
/// after the change (nullopt: no leader).
///
/// Wakes for: any change of the leader's value (creation, deletion, another holder; not a re-put
/// of the same name with a new lease); a changed config value (not its creation or deletion); a
/// new status / optime value while this member is not the leader.
bool wakes_ha_loop(const WakeKeys& keys, std::string_view key, const std::optional<std::string>& old_value,
                   const std::optional<std::string>& new_value, const std::optional<std::string>& leader_value);

}  // namespace dcs::etcd3::detail
