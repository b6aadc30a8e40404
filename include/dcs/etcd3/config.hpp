// Options of the etcd v3 client: a plain struct with documented defaults.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "dcs/observer.hpp"

namespace dcs::etcd3 {

struct Etcd3Options {
  /// Base URLs of etcd members, e.g. "http://127.0.0.1:2379". The first one is used first.
  std::vector<std::string> endpoints;

  /// etcd v3 user authentication; both must be set for the client to authenticate.
  std::string username;
  std::string password;

  /// Lease TTL of the leader and member keys (Patroni `ttl`).
  std::chrono::seconds ttl{30};
  /// HA loop period (Patroni `loop_wait`).
  std::chrono::seconds loop_wait{10};
  /// Time budget of one client call, shared by every endpoint it tries (Patroni
  /// `retry_timeout`). Each HTTP attempt gets a slice of it (see request_timeouts()), with a
  /// connect timeout of max(1 s, slice / 2); no call blocks longer than this.
  std::chrono::seconds retry_timeout{10};

  /// Where the client's log lines go. Empty: nowhere.
  LogSink log_sink;
};

}  // namespace dcs::etcd3
