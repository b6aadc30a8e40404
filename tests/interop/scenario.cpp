#include "interop/scenario.hpp"

#include <chrono>
#include <thread>

namespace dcs::interop {

using nlohmann::json;

json patroni_config(const std::string& endpoint, const std::string& scope, const std::string& name,
                    std::optional<int> citus_group) {
  const std::string scheme = "http://";
  const std::string host_port = endpoint.rfind(scheme, 0) == 0 ? endpoint.substr(scheme.size()) : endpoint;
  json config = {
      {"scope", scope},      {"namespace", kNamespace},        {"name", name}, {"ttl", 30}, {"loop_wait", 10},
      {"retry_timeout", 10}, {"etcd3", {{"hosts", host_port}}}};
  if (citus_group) config["citus"] = {{"group", *citus_group}, {"database", "citus"}};
  return config;
}

namespace {

json member_entry(const std::string& name, json data) {
  return {{"name", name}, {"data", std::move(data)}};
}

json api_url(int port) {
  return "http://127.0.0.1:" + std::to_string(port) + "/patroni";
}
json conn_url(int port) {
  return "postgres://127.0.0.1:" + std::to_string(port) + "/postgres";
}

}  // namespace

json full_state(const std::string& leader_role) {
  // What a running 3.0.2 primary publishes, plus text that tests the \uXXXX escaping of both
  // writers: non-ASCII (BMP and a surrogate pair), DEL, a tab, a newline, a quote, a backslash.
  json leader_data = {
      {"api_url", api_url(8008)},
      {"conn_url", conn_url(5432)},
      {"pending_restart", true},
      {"role", leader_role},
      {"state", "running"},
      {"tags",
       {{"clonefrom", true},
        {"nofailover", false},
        {"note", "tab\there\nquote\" backslash\\ del\x7f end"},
        {"ratio", 0.5},
        {"zone", "Z\u00fcrich \u2603 \U0001F600"}}},
      {"timeline", 2},
      {"version", "3.0.2"},
      {"xlog_location", 67108960},
  };
  // A replica still on Patroni 2.0.2: writers then also keep the legacy optime/leader key.
  json replica_data = {
      {"api_url", api_url(8009)},    {"conn_url", conn_url(5433)}, {"role", "replica"},         {"state", "running"},
      {"tags", {{"nosync", false}}}, {"version", "2.0.2"},         {"xlog_location", 67108000},
  };
  return {
      {"initialize", "7234567890123456789"},
      {"config",
       {{"failsafe_mode", true},
        {"loop_wait", 10},
        {"maximum_lag_on_failover", 1048576},
        {"postgresql", {{"parameters", {{"max_connections", 100}, {"wal_level", "logical"}}}, {"use_slots", true}}},
        {"retry_timeout", 10},
        {"slots", {{"logical_a", {{"database", "postgres"}, {"plugin", "pgoutput"}, {"type", "logical"}}}}},
        {"synchronous_mode", true},
        {"ttl", 30}}},
      {"leader", "pg1"},
      {"members", json::array({member_entry("pg1", leader_data), member_entry("pg2", replica_data)})},
      {"last_lsn", 67108960},
      {"slots", {{"logical_a", 67100000}, {"logical_b", 5}}},
      {"failsafe", {{"pg1", api_url(8008)}, {"pg2", api_url(8009)}}},
      {"sync", {{"leader", "pg1"}, {"sync_standby", json::array({"pg2"})}}},
      {"history", json::array({json::array(
                      {1, 25165984, "no recovery target specified", "2024-05-01T09:59:00.123456+00:00", "pg1"})})},
      {"failover", {{"leader", "pg1"}, {"member", "pg2"}, {"scheduled_at", "2024-05-01T10:00:00+00:00"}}},
  };
}

json citus_coordinator_state() {
  return {
      {"initialize", "7300000000000000000"},
      {"config", {{"loop_wait", 10}, {"synchronous_mode", true}, {"ttl", 30}}},
      {"leader", "c0a"},
      {"members", json::array({member_entry("c0a", {{"api_url", api_url(8010)},
                                                    {"conn_url", conn_url(5440)},
                                                    {"role", "master"},
                                                    {"state", "running"},
                                                    {"version", "3.0.2"},
                                                    {"xlog_location", 100663296}}),
                               member_entry("c0b", {{"api_url", api_url(8011)},
                                                    {"conn_url", conn_url(5441)},
                                                    {"role", "replica"},
                                                    {"state", "running"},
                                                    {"version", "3.0.2"}})})},
      {"last_lsn", 100663296},
      {"sync", {{"leader", "c0a"}, {"sync_standby", json::array({"c0b"})}}},
      // A primary still on timeline 1 stores an empty history.
      {"history", json::array()},
      // A cleared switchover request: the empty object, present but empty.
      {"failover", json::object()},
  };
}

json citus_worker_state() {
  // No system id: the initialize key keeps the empty value of a bootstrap in progress (etcd's
  // gateway then sends no value field at all).
  return {
      {"config", {{"loop_wait", 10}, {"ttl", 30}}},
      {"leader", "w1a"},
      {"members", json::array({member_entry("w1a", {{"api_url", api_url(8020)},
                                                    {"conn_url", conn_url(5450)},
                                                    {"role", "master"},
                                                    {"state", "running"},
                                                    {"version", "3.0.2"},
                                                    {"xlog_location", 33554432}}),
                               member_entry("w1b", {{"api_url", api_url(8021)},
                                                    {"conn_url", conn_url(5451)},
                                                    {"role", "replica"},
                                                    {"state", "streaming"},
                                                    {"version", "3.0.2"}})})},
      {"last_lsn", 33554432},
      // No logical slots: neither writer stores an empty "slots".
      {"slots", json::object()},
      {"failsafe", {{"w1a", api_url(8020)}, {"w1b", api_url(8021)}}},
      // Synchronous mode without a standby yet: sync_standby is null.
      {"sync", {{"leader", "w1a"}, {"sync_standby", json::array()}}},
      // A failover to a candidate without a leader or a schedule: only "member" is stored.
      {"failover", {{"member", "w1b"}}},
  };
}

std::vector<std::string> member_names(const json& state) {
  std::vector<std::string> names;
  for (const auto& member : state.value("members", json::array())) names.push_back(member.at("name"));
  return names;
}

std::string scope_prefix(const std::string& scope) {
  return std::string(kNamespace) + scope + "/";
}

RawKeys read_raw(etcd3::Etcd3Client& client, const std::string& prefix) {
  RawKeys keys;
  for (auto& kv : client.range(etcd3::RangeRequest::with_prefix(prefix)).kvs) {
    std::string relative = kv.key.substr(prefix.size());
    keys.emplace(std::move(relative), std::move(kv));
  }
  return keys;
}

RawKeys group_keys(const RawKeys& keys, const std::string& group) {
  RawKeys selected;
  for (const auto& [key, kv] : keys)
    if (key.rfind(group, 0) == 0) selected.emplace(key.substr(group.size()), kv);
  return selected;
}

std::map<std::string, std::int64_t> LibdcsWriter::leases() const {
  std::map<std::string, std::int64_t> leases;
  for (const auto& [name, dcs] : members) leases[name] = dcs->lease();
  return leases;
}

LibdcsWriter write_with_libdcs(const json& config, const json& state) {
  LibdcsWriter writer;
  const auto names = member_names(state);
  writer.leader_name = state.value("leader", names.empty() ? config.at("name").get<std::string>() : names.front());
  for (const auto& name : names.empty() ? std::vector<std::string>{writer.leader_name} : names) {
    auto member_config = config;
    member_config["name"] = name;
    writer.members[name] = etcd3::Etcd3::from_patroni_config(member_config);
  }
  auto& leader = writer.leader();
  auto record = [&](const std::string& op, const std::string& member, bool ok) {
    writer.ops.emplace_back(op + " " + member, ok);
  };
  const auto& me = writer.leader_name;

  leader.get_cluster();
  record("initialize", me, leader.initialize(true, ""));
  if (state.contains("initialize"))
    record("initialize_sysid", me, leader.initialize(false, state["initialize"].get<std::string>()));
  if (state.contains("config"))
    record("set_config_value", me, leader.set_config_value(to_patroni_json(state["config"])));
  record("attempt_to_acquire_leader", me, leader.attempt_to_acquire_leader());
  for (const auto& member : state.value("members", json::array())) {
    const auto name = member.at("name").get<std::string>();
    record("touch_member", name, writer.members.at(name)->touch_member(member.at("data")));
  }

  const auto cluster = wait_for_cluster(leader, [&](const Cluster& view) { return has_members(view, names); });
  if (state.contains("last_lsn") || state.contains("failsafe")) {
    std::optional<std::int64_t> last_lsn;
    std::optional<AbstractDCS::Slots> slots;
    std::optional<json> failsafe;
    if (state.contains("last_lsn")) last_lsn = state["last_lsn"].get<std::int64_t>();
    if (state.contains("slots")) slots = state["slots"].get<AbstractDCS::Slots>();
    if (state.contains("failsafe")) failsafe = state["failsafe"];
    record("update_leader", me, leader.update_leader(*cluster, last_lsn, slots, failsafe));
  }
  if (state.contains("sync")) {
    const auto& sync = state["sync"];
    const auto written = leader.write_sync_state(sync.at("leader").get<std::string>(),
                                                 sync.at("sync_standby").get<std::vector<std::string>>(), 0);
    record("write_sync_state", me, written.has_value());
  }
  if (state.contains("history"))
    record("set_history_value", me, leader.set_history_value(to_patroni_json(state["history"])));
  if (state.contains("failover")) {
    const auto& failover = state["failover"];
    record("manual_failover", me,
           leader.manual_failover(failover.value("leader", ""), failover.value("member", ""),
                                  failover.value("scheduled_at", "")));
  }
  return writer;
}

std::shared_ptr<const Cluster> wait_for_cluster(AbstractDCS& dcs, const std::function<bool(const Cluster&)>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (true) {
    auto cluster = dcs.get_cluster();
    if (ready(*cluster) || std::chrono::steady_clock::now() >= deadline) return cluster;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
}

bool has_members(const Cluster& cluster, const std::vector<std::string>& names) {
  for (const auto& name : names)
    if (!cluster.has_member(name)) return false;
  return true;
}

}  // namespace dcs::interop
