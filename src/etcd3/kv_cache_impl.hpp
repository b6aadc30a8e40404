// Internal state of KVCache, shared by its public face and hooks (kv_cache.cpp) and its thread
// (kv_cache_loop.cpp).
//
// Locking: one mutex guards the store, the readiness state and the counters. It is never held
// while a request runs or while the wake callback runs, so a client listener that fires on the
// cache's own thread (an endpoint switch during a list) can take it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "dcs/etcd3/client.hpp"
#include "dcs/etcd3/kv_cache.hpp"
#include "etcd3/kv_cache_store.hpp"
#include "etcd3/metrics_emitter.hpp"
#include "etcd3/raft_term_guard.hpp"
#include "log.hpp"

namespace dcs::etcd3 {

struct KVCache::Impl {
  using Clock = std::chrono::steady_clock;

  struct Settings {
    std::string prefix;  ///< absolute; every key of the cluster read is under it
    bool citus = false;  ///< a Citus coordinator's read of every group
    detail::WakeKeys wake;
    /// A stream silent this long is re-opened (the new stream's first message proves the member
    /// alive); a re-opened stream silent this long again means the member is given up on. The
    /// initial value: set_probe_interval changes it (Etcd3 follows its ttl).
    std::chrono::milliseconds probe_interval{5000};
    LogSink log_sink;
    /// Told when the cache turns ready / not ready and after each list (null: nobody).
    std::shared_ptr<MetricsObserver> metrics;
    /// Called (without any cache lock) for every change spec 5.4 says wakes the HA loop.
    std::function<void()> on_wake;
  };

  Impl(std::shared_ptr<Etcd3Client> client, Settings settings);

  void start();
  /// Stops and joins the thread; unhooks the client listeners. Idempotent.
  void stop() noexcept;

  // --- readers (any thread) -----------------------------------------------------------------
  /// Waits at most `timeout` for a ready cache; its snapshot, or null on timeout.
  std::shared_ptr<const Cluster> wait_ready(std::chrono::milliseconds timeout);
  bool ready() const;
  /// The cluster is older than 3.1: the cache will never be ready (see KVCacheHealth).
  bool unsupported() const;
  KVCacheHealth health() const;
  std::shared_ptr<const Cluster> snapshot() const;
  std::chrono::milliseconds probe_interval() const noexcept { return std::chrono::milliseconds(probe_ms.load()); }
  std::chrono::milliseconds staleness_bound() const noexcept { return 2 * probe_interval(); }
  /// A new probe interval (the ttl changed): the staleness bound follows at once, and a running
  /// stream is re-opened (still ready) so that its silence is judged by the new interval too.
  void set_probe_interval(std::chrono::milliseconds interval);

  // --- write-through and stream control (any thread; spec 4.10, 5.5) -------------------------
  void apply_put(const KeyValue& kv);
  /// `range_end` empty: the single key `key`.
  void apply_delete(const std::string& key, const std::string& range_end, std::int64_t revision);
  /// Ends the current stream (or the one being set up) and turns the cache not-ready until the
  /// prefix has been listed again.
  void kill_stream(const std::string& why);
  /// Re-opens the current stream from the next revision without turning the cache not-ready
  /// (nothing is lost: etcd replays from there). A kill at the same time wins.
  void restart_stream(const std::string& why);
  /// The client replaced its token: a stream opened with the old one is re-opened with the new.
  void on_reauthentication(bool watch_restart_needed);
  /// The client moved to `endpoint`: a stream elsewhere is restarted there.
  void on_endpoint_switch(const std::string& endpoint);
  /// A unary request failed for want of a connection: the stream's member may be gone too.
  void on_connection_failure();

  // --- the thread (kv_cache_loop.cpp) --------------------------------------------------------
  void run() noexcept;
  /// Checks the cluster version once (as the client reads it); false when it has no watches.
  bool check_version();
  /// Lists the prefix; true when the cache is ready and a stream may start.
  bool rebuild();
  enum class StreamEnd { quiet, killed, failed, silent };
  /// Watches from `resume_revision` until the stream ends.
  StreamEnd watch_once();
  /// After etcd refused a stream for its token (expired, revoked): a cheap request through the
  /// client gets a fresh token; true when the stream may be re-opened at once, still ready.
  bool renew_token_after_refusal(const Etcd3WatchCanceled& refusal);
  /// Sleeps `pause` unless stopped first; false when stopping.
  bool pause_unless_stopped(std::chrono::milliseconds pause);
  void note_failure(const std::string& what);
  bool ready_locked(Clock::time_point now) const;
  /// Spec 5.6's cross-check: the raft term the stream last saw is behind one the client has seen.
  bool behind_the_client() const;

  const std::shared_ptr<Etcd3Client> client;
  const Settings settings;
  dcs::detail::Logger log;
  std::atomic<std::int64_t> probe_ms;  // see probe_interval()

  mutable std::mutex mutex;         // guards everything below
  std::condition_variable changed;  // readiness and stop
  detail::CacheStore store;
  detail::RaftTermGuard term_guard;  // the stream's own stale-member guard
  bool is_ready = false;
  bool stopping = false;
  bool version_checked = false;  // the thread's own
  std::int64_t resume_revision = 0;
  std::string stream_endpoint;  // non-empty while a stream is set up or running
  bool streaming = false;       // client->watch is running (its request carries the token of then)
  bool restart_requested = false;
  int token_renewals = 0;  // streams refused for their token since the last message that arrived
  Clock::time_point last_token_renewal{};
  KVCacheHealth counters;

  WatchCanceller canceller;
  std::thread thread;
  Etcd3Client::ListenerId endpoint_listener = 0;
  Etcd3Client::ListenerId reauthentication_listener = 0;
};

}  // namespace dcs::etcd3
