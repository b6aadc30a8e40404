#include "ha_daemon/role_event.hpp"

#include <nlohmann/json.hpp>

namespace dcs_examples {

std::string_view to_string(Role role) noexcept {
  switch (role) {
    case Role::primary:
      return "primary";
    case Role::replica:
      return "replica";
    case Role::uninitialized:
      break;
  }
  return "uninitialized";
}

std::string to_json_line(const RoleEvent& event) {
  // nlohmann::ordered_json keeps the documented key order.
  nlohmann::ordered_json line;
  line["ts"] = event.ts;
  line["member"] = event.member;
  line["event"] = event.event;
  line["role"] = std::string(to_string(event.role));
  line["timeline"] = event.timeline;
  if (event.details.is_object()) {
    for (const auto& [key, value] : event.details.items()) line[key] = value;
  }
  return line.dump();
}

}  // namespace dcs_examples
