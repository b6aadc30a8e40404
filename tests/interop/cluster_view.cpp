#include "interop/cluster_view.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

namespace dcs::interop {

using nlohmann::json;

namespace {

json member_view(const Member& member) {
  return {{"name", member.name}, {"version", member.version}, {"session", member.session}, {"data", member.data}};
}

}  // namespace

// Patroni's placeholders: the integer -1 (a leader without member key), 0 (an unreadable
// config) and null (no key at all).
std::int64_t patroni_number(const json& value, const std::string& where) {
  if (value.is_null()) return 0;
  if (value.is_number_integer()) {
    const auto number = value.get<std::int64_t>();
    if (number != -1 && number != 0) ADD_FAILURE() << where << ": Patroni holds a number, not a string: " << value;
    return number;
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::stoll(text);
  }
  ADD_FAILURE() << where << ": not a decimal string: " << value;
  return -2;
}

namespace {

json text_or_empty(const json& value) {
  return value.is_null() ? json("") : value;
}

json member_dump_view(const json& member, const std::string& where) {
  return {{"name", member.at("name")},
          {"version", patroni_number(member.at("version"), where + ".version")},
          {"session", patroni_number(member.at("session"), where + ".session")},
          {"data", member.at("data")}};
}

std::optional<json> parse_version(const json& text) {
  if (!text.is_string()) return std::nullopt;
  const auto parsed = parse_patroni_version(text.get<std::string>());
  if (!parsed) return std::nullopt;
  return json(*parsed);
}

}  // namespace

json view_of(const Cluster& cluster) {
  json view = json::object();
  view["initialize"] = cluster.initialize ? json(*cluster.initialize) : json(nullptr);
  view["config"] = cluster.config ? json{{"version", cluster.config->version},
                                         {"data", cluster.config->data},
                                         {"modify_version", cluster.config->modify_version}}
                                  : json(nullptr);
  view["leader"] = cluster.leader ? json{{"name", cluster.leader->name()},
                                         {"version", cluster.leader->version},
                                         {"session", cluster.leader->session},
                                         {"member", member_view(*cluster.leader->member)}}
                                  : json(nullptr);
  view["members"] = json::array();
  for (const auto& member : cluster.members) view["members"].push_back(member_view(*member));
  view["failover"] = cluster.failover ? json{{"version", cluster.failover->version},
                                             {"leader", cluster.failover->leader},
                                             {"member", cluster.failover->candidate},
                                             {"scheduled_at", cluster.failover->scheduled_at}}
                                      : json(nullptr);
  view["sync"] = {{"version", cluster.sync.version},
                  {"leader", cluster.sync.leader ? json(*cluster.sync.leader) : json(nullptr)},
                  {"sync_standby", cluster.sync.sync_standby.value_or("")},
                  {"members", cluster.sync.members()}};
  view["history"] = cluster.history ? json{{"version", cluster.history->version},
                                           {"value", cluster.history->value},
                                           {"lines", cluster.history->lines}}
                                    : json(nullptr);
  view["last_lsn"] = cluster.status.last_lsn;
  view["slots"] = cluster.status.slots ? json(*cluster.status.slots) : json(nullptr);
  view["failsafe"] = cluster.failsafe ? *cluster.failsafe : json(nullptr);
  view["timeline"] = cluster.timeline();
  const auto min_version = cluster.min_version();
  view["min_version"] = min_version ? json(*min_version) : json(nullptr);
  view["workers"] = json::object();
  for (const auto& [group, worker] : cluster.workers) view["workers"][std::to_string(group)] = view_of(*worker);
  return view;
}

json view_of_dump(const json& dump) {
  json view = json::object();
  view["initialize"] = dump.at("initialize");
  const auto& config = dump.at("config");
  view["config"] = config.is_null()
                       ? json(nullptr)
                       : json{{"version", patroni_number(config.at("version"), "config.version")},
                              {"data", config.at("data")},
                              {"modify_version", patroni_number(config.at("modify_version"), "config.modify_version")}};
  const auto& leader = dump.at("leader");
  view["leader"] = leader.is_null() ? json(nullptr)
                                    : json{{"name", leader.at("name")},
                                           {"version", patroni_number(leader.at("version"), "leader.version")},
                                           {"session", patroni_number(leader.at("session"), "leader.session")},
                                           {"member", member_dump_view(leader.at("member"), "leader.member")}};
  view["members"] = json::array();
  for (const auto& member : dump.at("members")) view["members"].push_back(member_dump_view(member, "member"));
  const auto& failover = dump.at("failover");
  view["failover"] = failover.is_null() ? json(nullptr)
                                        : json{{"version", patroni_number(failover.at("version"), "failover.version")},
                                               {"leader", text_or_empty(failover.at("leader"))},
                                               {"member", text_or_empty(failover.at("member"))},
                                               {"scheduled_at", text_or_empty(failover.at("scheduled_at"))}};
  const auto& sync = dump.at("sync");
  view["sync"] = {{"version", patroni_number(sync.at("version"), "sync.version")},
                  {"leader", sync.at("leader")},
                  {"sync_standby", text_or_empty(sync.at("sync_standby"))},
                  {"members", sync.at("members")}};
  const auto& history = dump.at("history");
  view["history"] = history.is_null() ? json(nullptr)
                                      : json{{"version", patroni_number(history.at("version"), "history.version")},
                                             {"value", history.at("value")},
                                             {"lines", history.at("lines")}};
  view["last_lsn"] = dump.at("last_lsn");
  view["slots"] = dump.at("slots");
  view["failsafe"] = dump.at("failsafe");
  view["timeline"] = dump.at("timeline");
  view["min_version"] = dump.at("min_version");
  view["workers"] = json::object();
  for (const auto& [group, worker] : dump.at("workers").items()) view["workers"][group] = view_of_dump(worker);
  return view;
}

json expected_view(const json& state, const RawKeys& raw, const std::map<std::string, std::int64_t>& leases) {
  auto revision = [&](const std::string& key) -> std::int64_t {
    const auto it = raw.find(key);
    if (it == raw.end()) {
      ADD_FAILURE() << "the writer left no key " << key;
      return -3;
    }
    return it->second.mod_revision;
  };
  auto session = [&](const std::string& name, const std::string& key) -> std::int64_t {
    const auto it = leases.find(name);
    if (it == leases.end()) {
      ADD_FAILURE() << "no lease reported for " << name;
      return -4;
    }
    const auto kv = raw.find(key);
    if (kv != raw.end()) {
      EXPECT_EQ(kv->second.lease, it->second) << key << " is bound to another lease";
    }
    return it->second;
  };

  json view = json::object();
  // Both writers win the bootstrap race with an empty value first.
  view["initialize"] = state.value("initialize", "");
  view["config"] =
      state.contains("config")
          ? json{{"version", revision("config")}, {"data", state["config"]}, {"modify_version", revision("config")}}
          : json(nullptr);

  std::map<std::string, json> members;  // by name: key order
  for (const auto& member : state.value("members", json::array())) {
    const auto name = member.at("name").get<std::string>();
    members[name] = {{"name", name},
                     {"version", revision("members/" + name)},
                     {"session", session(name, "members/" + name)},
                     {"data", member.at("data")}};
  }
  view["members"] = json::array();
  std::optional<std::array<int, 3>> min_version;
  for (const auto& [name, member] : members) {
    view["members"].push_back(member);
    const auto version = parse_version(member["data"].value("version", json()));
    if (version)
      min_version =
          std::min(min_version.value_or(version->get<std::array<int, 3>>()), version->get<std::array<int, 3>>());
  }
  view["min_version"] = min_version ? json(*min_version) : json(nullptr);

  const auto leader = state.at("leader").get<std::string>();
  view["leader"] = {
      {"name", leader},
      {"version", revision("leader")},
      {"session", session(leader, "leader")},
      {"member", members.count(leader)
                     ? members[leader]
                     : json{{"name", leader}, {"version", -1}, {"session", 0}, {"data", json::object()}}}};
  if (const auto it = raw.find("leader"); it != raw.end()) {
    EXPECT_EQ(it->second.value, leader);
  }

  if (state.contains("failover")) {
    const auto& failover = state["failover"];
    view["failover"] = {{"version", revision("failover")},
                        {"leader", failover.value("leader", "")},
                        {"member", failover.value("member", "")},
                        {"scheduled_at", failover.value("scheduled_at", "")}};
  } else {
    view["failover"] = nullptr;
  }

  if (state.contains("sync")) {
    auto standbys = state["sync"].at("sync_standby").get<std::vector<std::string>>();
    std::sort(standbys.begin(), standbys.end());
    std::string joined;
    for (const auto& name : standbys) joined += (joined.empty() ? "" : ",") + name;
    view["sync"] = {{"version", revision("sync")},
                    {"leader", state["sync"].at("leader")},
                    {"sync_standby", joined},
                    {"members", standbys}};
  } else {
    view["sync"] = {{"version", 0}, {"leader", nullptr}, {"sync_standby", ""}, {"members", json::array()}};
  }

  std::int64_t timeline = 0;
  if (state.contains("history")) {
    const auto& lines = state["history"];
    view["history"] = {{"version", revision("history")}, {"value", to_patroni_json(lines)}, {"lines", lines}};
    timeline = lines.empty() ? 1 : lines.back().at(0).get<std::int64_t>() + 1;
  } else {
    view["history"] = nullptr;
  }
  view["timeline"] = timeline;

  view["last_lsn"] = state.value("last_lsn", 0);
  view["slots"] = state.contains("slots") && !state["slots"].empty() ? state["slots"] : json(nullptr);
  view["failsafe"] = state.value("failsafe", json());
  view["workers"] = json::object();
  return view;
}

void expect_same_view(const json& actual, const json& expected, const std::string& what) {
  EXPECT_TRUE(actual == expected) << what
                                  << "\n  patch from expected to actual: " << json::diff(expected, actual).dump()
                                  << "\n  actual:   " << actual.dump() << "\n  expected: " << expected.dump();
}

}  // namespace dcs::interop
