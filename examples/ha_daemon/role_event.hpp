// The machine-readable trace of ha_daemon: one JSON line per role change, so a script can check
// who believed it led, and when. With tracing on (scripts/torture.sh) the same lines also record
// each leader-key renewal, failed race and acknowledged member / config write, so a checker can
// bound every leadership belief by the lease and find lost writes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dcs_examples {

/// The fake PostgreSQL's role. `uninitialized`: no data yet (waiting to bootstrap or clone).
enum class Role { uninitialized, replica, primary };

std::string_view to_string(Role role) noexcept;

struct RoleEvent {
  double ts = 0;  ///< unix seconds
  std::string member;
  /// "acquired" (took the leader key), "renewed_failed" (could not keep it), "demoted" (stopped
  /// being primary: on its own when the key was lost, or just before a hand-over) or "released"
  /// (gave the key up: switchover, shutdown; always after its "demoted").
  std::string event;
  Role role = Role::uninitialized;  ///< the role once the event happened
  std::int64_t timeline = 0;
  /// Extra fields appended after "timeline" (trace events, see NodeSettings::trace); empty for
  /// the role changes above, whose line keeps its documented shape.
  nlohmann::json details = nlohmann::json::object();
};

/// {"ts":…,"member":"…","event":"…","role":"…","timeline":…} without a trailing newline, followed
/// by the entries of `details` when there are any.
std::string to_json_line(const RoleEvent& event);

}  // namespace dcs_examples
