// The `failover` key: a switchover or failover request. Besides the JSON object, Patroni still
// reads the ancient "leader:candidate" text.
#include "dcs/cluster.hpp"
#include "model/patroni_json.hpp"

namespace dcs {

namespace {

std::string string_field(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace

Failover Failover::from_node(std::int64_t version, std::string_view value) {
  Failover failover{version, {}, {}, {}};
  if (value.empty()) return failover;  // present but falsy
  const auto parsed = model::parse_json(value);
  if (!parsed) {
    // JSON refused for its depth is garbage, not the legacy form.
    if (model::json_nested_too_deep(value)) return failover;
    // Legacy "leader:candidate": split at every ':', the first two parts trimmed.
    const auto colon = value.find(':');
    failover.leader = std::string(model::strip_ascii(value.substr(0, colon)));
    if (colon != std::string_view::npos) {
      auto rest = value.substr(colon + 1);
      failover.candidate = std::string(model::strip_ascii(rest.substr(0, rest.find(':'))));
    }
    return failover;
  }
  if (!parsed->is_object()) return failover;
  failover.leader = string_field(*parsed, "leader");
  failover.candidate = string_field(*parsed, "member");
  failover.scheduled_at = string_field(*parsed, "scheduled_at");
  return failover;
}

std::string Failover::value(std::string_view leader, std::string_view candidate, std::string_view scheduled_at) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!leader.empty()) out["leader"] = leader;
  if (!candidate.empty()) out["member"] = candidate;
  if (!scheduled_at.empty()) out["scheduled_at"] = scheduled_at;
  return model::to_patroni_json_ordered(out);
}

}  // namespace dcs
