#include "etcd3/kv_cache_wakeup.hpp"

namespace dcs::etcd3::detail {

namespace {

// Patroni reads an empty etcd value as "no value" (the gateway omits the field).
std::optional<std::string_view> present(const std::optional<std::string>& value) {
  if (!value || value->empty()) return std::nullopt;
  return std::string_view(*value);
}

}  // namespace

bool wakes_ha_loop(const WakeKeys& keys, std::string_view key, const std::optional<std::string>& old_value,
                   const std::optional<std::string>& new_value, const std::optional<std::string>& leader_value) {
  const auto before = present(old_value);
  const auto after = present(new_value);
  if (before == after) return false;
  const bool position = key == keys.status || key == keys.optime;
  if (key == keys.leader) return true;
  if (key == keys.config) return before && after;
  if (!position || !after) return false;
  // The leader wrote its own position: nothing for it to react to.
  return !(leader_value && *leader_value == keys.own_name);
}

}  // namespace dcs::etcd3::detail
