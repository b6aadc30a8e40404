#include "etcd_admin.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <stdexcept>

namespace bench {

namespace {

// "/service/demo/" -> "/service/demo0": every key under the prefix (they all end in '/').
std::string prefix_end(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

std::string compact(const nlohmann::ordered_json& value) {
  return value.dump();
}

}  // namespace

std::string b64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

nlohmann::ordered_json member_data(int i, const std::string& role, std::int64_t lsn) {
  nlohmann::ordered_json data;
  data["conn_url"] = "postgres://127.0.0.1:" + std::to_string(5432 + i) + "/postgres";
  data["api_url"] = "http://127.0.0.1:" + std::to_string(8008 + i) + "/patroni";
  data["state"] = "running";
  data["role"] = role;
  data["version"] = "3.0.2";
  data["xlog_location"] = lsn;
  data["timeline"] = 1;
  return data;
}

std::string dynamic_config() {
  return R"({"ttl":30,"loop_wait":10,"retry_timeout":10,"maximum_lag_on_failover":1048576,)"
         R"("synchronous_mode":true,"failsafe_mode":true,"postgresql":{"use_pg_rewind":true,"use_slots":true,)"
         R"("parameters":{"max_connections":100,"wal_level":"replica","hot_standby":"on","max_wal_senders":10,)"
         R"("max_replication_slots":10,"wal_log_hints":"on"}}})";
}

nlohmann::json EtcdAdmin::call(const std::string& path, const nlohmann::json& body) {
  const long status = loop_.post(endpoint_ + path, body.dump());
  if (status != 200) {
    throw std::runtime_error("etcd " + path + " -> " + std::to_string(status) + " " + loop_.last_body());
  }
  return nlohmann::json::parse(loop_.last_body());
}

void EtcdAdmin::put(const std::string& key, const std::string& value, std::int64_t lease) {
  nlohmann::json body{{"key", b64(key)}, {"value", b64(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  call("/v3/kv/put", body);
}

void EtcdAdmin::remove(const std::string& key) {
  call("/v3/kv/deleterange", {{"key", b64(key)}});
}

void EtcdAdmin::remove_prefix(const std::string& prefix) {
  call("/v3/kv/deleterange", {{"key", b64(prefix)}, {"range_end", b64(prefix_end(prefix))}});
}

std::int64_t EtcdAdmin::lease_grant(std::int64_t ttl) {
  return std::stoll(call("/v3/lease/grant", {{"TTL", ttl}}).at("ID").get<std::string>());
}

std::int64_t EtcdAdmin::count_prefix(const std::string& prefix) {
  const auto r =
      call("/v3/kv/range", {{"key", b64(prefix)}, {"range_end", b64(prefix_end(prefix))}, {"count_only", true}});
  return r.contains("count") ? std::stoll(r["count"].get<std::string>()) : 0;
}

std::vector<std::string> EtcdAdmin::populate_cluster(const std::string& scope, int members, std::int64_t lease) {
  const std::string p = "/service/" + scope + "/";
  remove_prefix(p);
  std::vector<std::string> names;
  for (int i = 1; i <= members; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, members <= 9 ? "node%d" : "node%04d", i);
    names.emplace_back(name);
  }
  put(p + "initialize", "7234567890123456789");
  put(p + "config", dynamic_config());
  for (int i = 1; i <= members; ++i) {
    put(p + "members/" + names[i - 1], compact(member_data(i, i == 1 ? "master" : "replica", 67108960)), lease);
  }
  put(p + "leader", names[0], lease);
  put(p + "status", R"({"optime":67108960,"slots":{"node2":67108960}})");
  nlohmann::ordered_json sync{{"leader", names[0]}, {"sync_standby", nullptr}};
  if (names.size() > 1) sync["sync_standby"] = names[1];
  put(p + "sync", compact(sync));
  put(p + "history",
      compact(nlohmann::ordered_json::array({nlohmann::ordered_json::array(
          {1, 25165984, "no recovery target specified", "2024-05-01T10:00:00.123456+00:00", names[0]})})));
  nlohmann::ordered_json failsafe = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < names.size() && i < 3; ++i) {
    failsafe[names[i]] = "http://127.0.0.1:" + std::to_string(8009 + i) + "/patroni";
  }
  put(p + "failsafe", compact(failsafe));
  return names;
}

}  // namespace bench
