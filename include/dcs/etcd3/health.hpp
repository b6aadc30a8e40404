// A point-in-time picture of an Etcd3 backend for a daemon's health endpoint or a CLI: where it
// talks to, whether its cache serves, how long its lease has left, and what last went wrong.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dcs/etcd3/kv_cache.hpp"

namespace dcs::etcd3 {

/// A failed request (or a failed attempt of one, before the client moved to another endpoint).
struct ClientFailure {
  std::string message;   ///< the error's text
  std::string endpoint;  ///< the member that failed; empty when none was reached
  std::chrono::steady_clock::time_point at{};
};

/// What Etcd3::health() returns.
struct Etcd3Health {
  /// The endpoint requests currently go to.
  std::string endpoint;
  /// Every endpoint the client knows (the cluster's members, or the configured proxies).
  std::vector<std::string> endpoints;
  /// The watcher cache's state and counters; empty without a cache (patronictl mode or
  /// watcher_cache false).
  std::optional<KVCacheHealth> cache;
  /// How long ago the cache last heard from etcd (its age); empty without a cache or before its
  /// first contact.
  std::optional<std::chrono::milliseconds> cache_age;
  /// The process lease; 0 while none is held (always 0 in patronictl mode).
  std::int64_t lease_id = 0;
  /// Time until the lease expires unless refreshed, counted from the moment its last successful
  /// keepalive (or grant) was sent with the TTL etcd answered: a lower bound. Negative once that
  /// moment has passed; empty while no lease is held.
  std::optional<std::chrono::milliseconds> lease_expires_in;
  /// The client's most recent failure (also one it recovered from by failing over); empty when
  /// none happened yet.
  std::optional<ClientFailure> last_error;
};

}  // namespace dcs::etcd3
