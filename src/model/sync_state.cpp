// The `sync` key: which standbys the leader treats as synchronous. Patroni HEAD writes a quorum
// as well; 3.0.2 peers neither write nor read it, so a missing quorum reads as 0.
#include <algorithm>
#include <cctype>
#include <limits>

#include "dcs/cluster.hpp"
#include "model/patroni_json.hpp"

namespace dcs {

namespace {

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// "a, b,,c" -> {"a", "b", "c"}: split at commas, trim, drop empty names.
std::vector<std::string> split_names(std::string_view text) {
  std::vector<std::string> names;
  while (true) {
    const auto comma = text.find(',');
    const auto name = model::strip_ascii(text.substr(0, comma));
    if (!name.empty()) names.emplace_back(name);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return names;
}

}  // namespace

SyncState SyncState::from_node(std::int64_t version, std::string_view value) {
  auto parsed = model::parse_json(value);
  if (!parsed) return SyncState{version, std::nullopt, std::nullopt, 0};
  return from_json(version, *parsed);
}

SyncState SyncState::from_json(std::int64_t version, const nlohmann::json& value) {
  const SyncState empty{version, std::nullopt, std::nullopt, 0};
  if (!value.is_object()) return empty;
  SyncState state = empty;
  if (const auto it = value.find("leader"); it != value.end() && !it->is_null()) {
    // A leader that is not a name is garbage: the whole state reads as empty, as Patroni's
    // readers would fail on it.
    if (!it->is_string()) return empty;
    state.leader = it->get<std::string>();
  }
  if (const auto it = value.find("sync_standby"); it != value.end() && it->is_string())
    state.sync_standby = it->get<std::string>();
  // quorum counts only with a leader; an unreadable one makes Patroni drop the whole state.
  if (const auto it = value.find("quorum");
      it != value.end() && state.leader && !state.leader->empty() && model::python_truthy(*it)) {
    const auto quorum = model::python_int(*it);
    if (!quorum || *quorum < std::numeric_limits<int>::min() || *quorum > std::numeric_limits<int>::max()) return empty;
    state.quorum = static_cast<int>(*quorum);
  }
  return state;
}

std::string SyncState::value(const std::optional<std::string>& leader, const std::vector<std::string>& sync_standby,
                             int quorum) {
  std::vector<std::string> names = sync_standby;
  std::sort(names.begin(), names.end());  // bytewise = code point order, as Python's sorted()
  std::string joined;
  for (const auto& name : names) {
    if (&name != &names.front()) joined += ',';
    joined += name;
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["leader"] = leader ? nlohmann::ordered_json(*leader) : nlohmann::ordered_json(nullptr);
  out["quorum"] = quorum;
  out["sync_standby"] = names.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(joined);
  return model::to_patroni_json_ordered(out);
}

std::vector<std::string> SyncState::members() const {
  if (is_empty() || !sync_standby) return {};
  return split_names(*sync_standby);
}

bool SyncState::matches(std::string_view name, bool check_leader) const {
  if (name.empty() || is_empty()) return false;
  // PostgreSQL compares synchronous_standby_names case-insensitively, so Patroni HEAD does too.
  std::string search = sync_standby.value_or("");
  if (check_leader) search += "," + *leader;
  const auto wanted = ascii_lower(name);
  const auto names = split_names(ascii_lower(search));
  return std::find(names.begin(), names.end(), wanted) != names.end();
}

}  // namespace dcs
