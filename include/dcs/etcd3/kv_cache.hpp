// KVCache: Patroni's watcher cache. One background thread per Etcd3 lists the cluster prefix,
// then watches it from the listed revision and keeps an immutable Cluster snapshot up to date,
// one changed key at a time, so get_cluster costs no request and hands out a shared pointer, and
// watch() wakes as soon as the leader key changes (spec section 5).
//
// Etcd3 creates and owns it (not in patronictl mode); this header is what a daemon reads to
// export the cache's health.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "dcs/cluster.hpp"
#include "dcs/export.hpp"

namespace dcs::etcd3 {

/// A consistent copy of the cache's state and counters (monotonic since the cache started).
struct KVCacheHealth {
  bool ready = false;  ///< the snapshot is complete and the stream is live
  /// The etcd cluster is older than 3.1 (no watches): the cache never gets ready, its thread has
  /// ended, and Etcd3 reads etcd directly (spec 5.6).
  bool unsupported = false;
  std::string endpoint;        ///< the member the current (or last) stream is on
  std::int64_t revision = 0;   ///< the newest revision the cache has applied
  std::size_t keys = 0;        ///< keys currently cached
  std::uint64_t rebuilds = 0;  ///< successful lists of the prefix (the first one included)
  std::uint64_t failed_rebuilds = 0;
  std::uint64_t streams = 0;           ///< watch streams opened (a quiet stream is re-opened as a probe)
  std::uint64_t events = 0;            ///< watch events applied
  std::uint64_t write_throughs = 0;    ///< own writes applied at their response revision
  std::uint64_t kills = 0;             ///< streams stopped from outside (endpoint switch, failed compare, ...)
  std::uint64_t silent_endpoints = 0;  ///< members given up on because they stopped answering
  std::uint64_t wakeups = 0;           ///< changes that woke the HA loop
  /// Streams etcd refused for their token (expired, revoked) that were resumed, still ready, once
  /// the client had a fresh one.
  std::uint64_t token_renewals = 0;
  std::string last_error;  ///< why the last stream or list ended badly; "" when none yet
  /// When a member last proved alive on the cache's connection (a list, or any stream message).
  std::chrono::steady_clock::time_point last_contact{};
};

class DCS_EXPORT KVCache {
 public:
  struct Impl;
  /// Internal: Etcd3 builds the cache.
  explicit KVCache(std::unique_ptr<Impl> impl);
  /// Stops the thread: returns within milliseconds even while the stream is blocked (the only
  /// wait is for a list request already in flight, bounded by its HTTP timeout).
  ~KVCache();
  KVCache(const KVCache&) = delete;
  KVCache& operator=(const KVCache&) = delete;

  /// The snapshot is complete, the stream alive and the last contact within the staleness bound.
  bool ready() const;
  KVCacheHealth health() const;
  /// The current snapshot whether ready or not (for diagnostics; get_cluster waits for ready()).
  std::shared_ptr<const Cluster> snapshot() const;
  /// How long a stream may stay silent before the member is probed, and the bound after which a
  /// silent member is given up on (the cache then turns not-ready).
  std::chrono::milliseconds probe_interval() const noexcept;
  std::chrono::milliseconds staleness_bound() const noexcept;

  /// Internal.
  Impl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcs::etcd3
