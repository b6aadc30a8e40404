// Untimed set-up and clean-up of the benchmark's keys with plain etcd requests (no libdcs code):
// deleting keys between measured operations, and writing a realistic Patroni cluster the way the
// Patroni baseline's populate_cluster() does, so both libraries read the same data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "raw_curl_loop.hpp"

namespace bench {

/// Base64 as etcd's JSON gateway wants keys and values.
std::string b64(std::string_view in);

/// What Patroni 3.0.2 writes for member i (the baseline's member_data()), key order kept.
nlohmann::ordered_json member_data(int i, const std::string& role, std::int64_t lsn);

/// The dynamic configuration the baseline writes (its DYN_CONFIG), compact.
std::string dynamic_config();

class EtcdAdmin {
 public:
  explicit EtcdAdmin(std::string endpoint) : endpoint_(std::move(endpoint)) {}

  /// Each throws std::runtime_error when etcd does not answer 200.
  void put(const std::string& key, const std::string& value, std::int64_t lease = 0);
  void remove(const std::string& key);
  void remove_prefix(const std::string& prefix);
  std::int64_t lease_grant(std::int64_t ttl);
  /// The number of keys under `prefix`.
  std::int64_t count_prefix(const std::string& prefix);

  /// Writes `members` member keys (bound to `lease`) plus initialize, config, leader, status,
  /// sync, history and failsafe under "/service/<scope>/", after deleting whatever was there.
  /// Returns the member names; the first one is the leader.
  std::vector<std::string> populate_cluster(const std::string& scope, int members, std::int64_t lease);

 private:
  nlohmann::json call(const std::string& path, const nlohmann::json& body);

  std::string endpoint_;
  RawCurlLoop loop_;
};

}  // namespace bench
