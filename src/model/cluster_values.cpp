// The two values the model keeps almost as stored: `config` (the dynamic configuration object)
// and `history` (the raw text plus its lines).
#include "dcs/cluster.hpp"
#include "model/patroni_json.hpp"

namespace dcs {

ClusterConfig ClusterConfig::from_node(std::int64_t version, std::string_view value) {
  // modify_version 0 tells the HA loop that the stored configuration is unusable: a value that
  // later becomes valid then always counts as a change.
  if (auto parsed = model::parse_json(value); parsed && parsed->is_object())
    return ClusterConfig{version, std::move(*parsed), version};
  return ClusterConfig{version, nlohmann::json::object(), 0};
}

TimelineHistory TimelineHistory::from_node(std::int64_t version, std::string value) {
  TimelineHistory history{version, std::move(value), nlohmann::json::array()};
  // The raw text is kept: Cluster::timeline() tells a stored "[]" (timeline 1) from garbage.
  if (auto parsed = model::parse_json(history.value); parsed && parsed->is_array()) history.lines = std::move(*parsed);
  return history;
}

}  // namespace dcs
