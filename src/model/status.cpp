// The `status` key (and the legacy `optime/leader`): the leader's last WAL position, the positions
// of its permanent slots and the member slots it retains. Older writers stored slots and
// retain_slots as JSON text inside the JSON, and optime/leader as a bare integer; all are read.
#include "dcs/cluster.hpp"
#include "model/patroni_json.hpp"

namespace dcs {

namespace {

/// The field, decoded once more when it is a JSON string (older writers).
std::optional<nlohmann::json> maybe_encoded(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return std::nullopt;
  if (it->is_string()) return model::parse_json(it->get_ref<const std::string&>());
  return *it;
}

}  // namespace

Status Status::from_node(std::string_view value) {
  Status status;
  const auto parsed = model::parse_json(value);
  if (!parsed) return status;
  if (parsed->is_boolean() || parsed->is_number_integer()) {  // legacy optime/leader: a bare LSN
    status.last_lsn = model::python_int(*parsed).value_or(0);
    return status;
  }
  if (!parsed->is_object()) return status;

  if (const auto it = parsed->find("optime"); it != parsed->end()) status.last_lsn = model::python_int(*it).value_or(0);

  if (const auto slots = maybe_encoded(*parsed, "slots"); slots && slots->is_object()) {
    std::map<std::string, std::int64_t> positions;
    // Patroni turns an unreadable position into 0 when it uses the slots.
    for (auto it = slots->begin(); it != slots->end(); ++it)
      positions[it.key()] = model::python_int(it.value()).value_or(0);
    status.slots = std::move(positions);
  }

  if (const auto retain = maybe_encoded(*parsed, "retain_slots"); retain && retain->is_array()) {
    for (const auto& name : *retain)
      if (name.is_string()) status.retain_slots.push_back(name.get<std::string>());
  }
  return status;
}

nlohmann::json Status::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  out["optime"] = last_lsn;
  if (slots) out["slots"] = *slots;
  if (!retain_slots.empty()) out["retain_slots"] = retain_slots;
  return out;
}

std::string Status::value() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["optime"] = last_lsn;
  if (slots) out["slots"] = *slots;
  if (!retain_slots.empty()) out["retain_slots"] = retain_slots;
  return model::to_patroni_json_ordered(out);
}

}  // namespace dcs
