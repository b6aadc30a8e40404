// The watcher thread (spec 5.2-5.5, plus a liveness check Patroni lacks): list the prefix, mark
// ready, watch from the listed revision, and list again after anything that may have cost an
// event or left the stream on a bad member.
//
// Liveness: etcd 3.4 sends progress notifications only every 10 minutes, so a silent stream may
// be quiet or frozen. A stream silent for probe_interval is closed and re-opened from the next
// revision (nothing is lost: etcd replays from there); a live member answers the new stream's
// create request within milliseconds, a frozen or cut-off one does not. A re-opened stream that
// stays silent for another probe_interval means the member is given up on: the client is told
// to avoid it and the prefix is listed again on another member. get_cluster meanwhile refuses a
// snapshot whose last contact is older than 2 x probe_interval (KVCache::staleness_bound).
#include <random>

#include "dcs/etcd3/errors.hpp"
#include "etcd3/dcs_requests.hpp"
#include "etcd3/kv_cache_impl.hpp"
#include "etcd3/version_check.hpp"

namespace dcs::etcd3 {

using std::chrono::milliseconds;

namespace {

// A watch message from a member older (raft term) than one seen before: the stream is stale.
class StaleStream : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr milliseconds kFirstPause{250};

// Whether etcd cancelled a watch because of its token: an expired or revoked one is refused when
// the watch is created ("invalid auth token" from etcd 3.5, "permission denied" from 3.4, which
// checks permissions with the token it cannot read), and a missing one ("user name is empty").
// A genuine lack of permission reads the same; one renewal per refusal keeps that from looping.
bool refused_for_its_token(const std::string& reason) {
  for (const char* sign : {"invalid auth token", "Unauthenticated", "permission denied", "PermissionDenied",
                           "user name is empty", "revision of auth store is old"}) {
    if (reason.find(sign) != std::string::npos) return true;
  }
  return false;
}

// Back-off between failed cycles: doubling up to `cap`, plus up to half as much jitter, so that
// the members of a cluster whose etcd is down do not retry in step.
milliseconds next_pause(int failures, milliseconds cap) {
  static thread_local std::mt19937 random(std::random_device{}());
  milliseconds pause = kFirstPause;
  for (int i = 1; i < failures && pause < cap; ++i) pause *= 2;
  pause = std::min(pause, cap);
  std::uniform_int_distribution<long> jitter(0, pause.count() / 2);
  return pause + milliseconds(jitter(random));
}

}  // namespace

bool KVCache::Impl::pause_unless_stopped(milliseconds pause) {
  std::unique_lock lock(mutex);
  changed.wait_for(lock, pause, [&] { return stopping; });
  return !stopping;
}

void KVCache::Impl::note_failure(const std::string& what) {
  std::lock_guard lock(mutex);
  counters.last_error = what;
}

void KVCache::Impl::run() noexcept {
  int failures = 0;
  for (;;) {
    const milliseconds cap = std::max(milliseconds(1000), probe_interval());
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
    }
    bool healthy_cycle = false;
    try {
      if (!check_version()) return;
      if (!rebuild()) {
        // A kill during the list only asks for a fresher one: no back-off for that.
        healthy_cycle = canceller.cancelled();
      } else {
        healthy_cycle = true;
        // Streams follow each other while the member only stays quiet; anything else relists.
        StreamEnd end = StreamEnd::quiet;
        while (end == StreamEnd::quiet) end = watch_once();
        // A silent member is already marked failed: the next list goes elsewhere at once.
        healthy_cycle = end == StreamEnd::killed || end == StreamEnd::silent;
      }
    } catch (const std::exception& e) {
      note_failure(std::string("KVCache.run: ") + e.what());
      log(LogLevel::error, std::string("KVCache.run ") + e.what());
    } catch (...) {
      note_failure("KVCache.run: unknown error");
      log(LogLevel::error, "KVCache.run: unknown error");
    }
    bool was_ready = false;
    {
      std::lock_guard lock(mutex);
      was_ready = std::exchange(is_ready, false);
      stream_endpoint.clear();
      if (stopping) return;
    }
    changed.notify_all();
    if (was_ready) detail::emit_state(settings.metrics, StateChange::cache_not_ready, "the watch stream ended");
    failures = healthy_cycle ? 0 : failures + 1;
    if (failures > 0 && !pause_unless_stopped(next_pause(failures, cap))) return;
  }
}

bool KVCache::Impl::check_version() {
  if (version_checked) return true;
  // The client's own reading of GET /version (it picks the API prefix from the same answer).
  const VersionInfo info = client->detect_version();
  version_checked = detail::supports_watch(info);
  if (version_checked) return true;
  {
    std::lock_guard lock(mutex);
    counters.unsupported = true;
    counters.last_error = "etcd cluster version " + info.cluster + " is lower than 3.1.0: watches are not supported";
  }
  changed.notify_all();  // readers waiting for readiness go to etcd instead
  log(LogLevel::warning, "Detected Etcd version " + info.cluster +
                             " is lower than 3.1.0, watches are not supported; the watcher cache is off");
  return false;
}

bool KVCache::Impl::rebuild() {
  // Kills from now on concern the list below: one that arrives while it runs means the list may
  // predate the change that caused it.
  canceller.reset();
  RangeResponse listed;
  try {
    listed = client->range(requests::read_prefix(settings.prefix, /*serializable=*/true));
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex);
    ++counters.failed_rebuilds;
    counters.last_error = std::string("list failed: ") + e.what();
    log(LogLevel::warning, "KVCache: listing " + settings.prefix + " failed: " + e.what());
    return false;
  }
  term_guard.observe(listed.header);
  bool was_ready = false;
  std::string endpoint;
  {
    std::lock_guard lock(mutex);
    if (stopping || canceller.cancelled()) return false;
    store.reset(listed.kvs, listed.header.revision);
    resume_revision = listed.header.revision + 1;
    was_ready = std::exchange(is_ready, true);
    token_renewals = 0;
    ++counters.rebuilds;
    counters.last_contact = Clock::now();
    counters.endpoint = client->current_endpoint();
    stream_endpoint = counters.endpoint;
    if (settings.metrics) endpoint = counters.endpoint;
  }
  changed.notify_all();
  detail::emit_state(settings.metrics, StateChange::cache_rebuilt, endpoint, listed.header.revision);
  if (!was_ready) detail::emit_state(settings.metrics, StateChange::cache_ready, endpoint, listed.header.revision);
  return true;
}

KVCache::Impl::StreamEnd KVCache::Impl::watch_once() {
  WatchCreateRequest request;
  milliseconds interval{};
  request.key = settings.prefix;
  request.range_end = prefix_range_end(settings.prefix);
  {
    std::lock_guard lock(mutex);
    if (stopping) return StreamEnd::killed;
    request.start_revision = resume_revision;
    stream_endpoint = client->current_endpoint();
    counters.endpoint = stream_endpoint;
    ++counters.streams;
    interval = probe_interval();  // under the lock: a change from now on restarts this stream
    // A restart asked for after the last stream had ended is served by this new stream (a kill
    // turned the cache not-ready and keeps its cancel).
    if (restart_requested && is_ready) canceller.reset();
    restart_requested = false;
    // From here until the stream has ended, a re-authentication or a new probe interval restarts
    // it (its request takes the token and interval of now).
    streaming = true;
  }
  // Ends `streaming` as soon as client->watch is over, before any handler below runs.
  struct StreamOver {
    KVCache::Impl& cache;
    ~StreamOver() {
      std::lock_guard lock(cache.mutex);
      cache.streaming = false;
    }
  };
  const auto opened = Clock::now();
  auto last_message = opened;
  std::size_t messages = 0;

  const auto on_message = [&](const WatchResponse& response) {
    // Spec 4.8.5 / 5.6: checked against what this stream saw and against what the client saw on
    // its own requests; a newer term seen here also makes the client refuse members behind it.
    if (term_guard.observe(response.header) == detail::RaftTermGuard::Verdict::stale ||
        !client->observe_raft_term(response.header)) {
      throw StaleStream("watch stream from a member with the old raft term " +
                        std::to_string(response.header.raft_term));
    }
    last_message = Clock::now();
    ++messages;
    bool wake = false;
    {
      std::lock_guard lock(mutex);
      counters.last_contact = last_message;
      token_renewals = 0;
      for (const auto& event : response.events) {
        const auto outcome = event.type == Event::Type::del ? store.remove(event.kv.key, event.kv.mod_revision)
                                                            : store.put(event.kv, /*overwrite_equal=*/true);
        ++counters.events;
        resume_revision = std::max(resume_revision, event.kv.mod_revision + 1);
        if (outcome.wake) {
          wake = true;
          ++counters.wakeups;
        }
      }
      // A progress message promises every event up to its revision has been sent.
      if (response.is_progress_notify()) resume_revision = std::max(resume_revision, response.header.revision + 1);
    }
    changed.notify_all();  // last_contact moved: readiness may be back
    if (wake && settings.on_wake) settings.on_wake();
  };

  const auto silent_for = [&] { return Clock::now() - last_message >= interval * 9 / 10; };
  try {
    {
      const StreamOver over{*this};
      client->watch(request, on_message, canceller, interval);
    }
    // Cancelled: a kill or stop, or a restart that keeps the cache ready (unless a kill came too).
    std::lock_guard lock(mutex);
    if (!restart_requested || !is_ready || stopping) return StreamEnd::killed;
    restart_requested = false;
    canceller.reset();  // under the lock: a kill from now on cancels the next stream
    return StreamEnd::quiet;
  } catch (const EtcdConnectionFailed& e) {
    if (messages > 0 && silent_for()) return StreamEnd::quiet;
    if (messages == 0 && silent_for()) {
      // Not even the create request was answered: frozen or cut off. Avoid it from now on.
      const auto endpoint = client->current_endpoint();
      client->mark_endpoint_failed(endpoint);
      {
        std::lock_guard lock(mutex);
        ++counters.silent_endpoints;
        counters.last_error = "etcd member " + endpoint + " stopped answering the watch";
      }
      log(LogLevel::warning, "KVCache: etcd member " + endpoint + " did not answer within " +
                                 std::to_string(interval.count()) + " ms; moving to another member");
      return StreamEnd::silent;
    }
    note_failure(std::string("watchprefix failed: ") + e.what());
    log(LogLevel::warning, std::string("watchprefix failed: ") + e.what());
  } catch (const Etcd3WatchCanceled& e) {
    if (e.compact_revision() == 0 && renew_token_after_refusal(e)) return StreamEnd::quiet;
    note_failure(std::string("Watch request canceled: ") + e.what());
    log(LogLevel::info, std::string("Watch request canceled: ") + e.what());
    // A compacted start revision is cured by the relist at once; a refusal (auth) may repeat,
    // so that one backs off like any failure.
    if (e.compact_revision() != 0) return StreamEnd::killed;
  } catch (const StaleStream& e) {
    client->mark_endpoint_failed(client->current_endpoint());
    note_failure(e.what());
    log(LogLevel::warning, std::string("KVCache: ") + e.what());
  } catch (const std::exception& e) {
    note_failure(std::string("watchprefix failed: ") + e.what());
    log(LogLevel::warning, std::string("watchprefix failed: ") + e.what());
  }
  return StreamEnd::failed;
}

bool KVCache::Impl::renew_token_after_refusal(const Etcd3WatchCanceled& refusal) {
  if (!refused_for_its_token(refusal.cancel_reason())) return false;
  {
    std::lock_guard lock(mutex);
    // Refused again although nothing arrived since the last renewal, or renewals in quick
    // succession (a member that accepts the stream and then refuses it): not the token's fault.
    const auto now = Clock::now();
    if (stopping || !is_ready || token_renewals > 0) return false;
    if (last_token_renewal != Clock::time_point{} && now - last_token_renewal < probe_interval() / 2) return false;
    ++token_renewals;
    last_token_renewal = now;
  }
  log(LogLevel::info, "KVCache: the watch was refused (" + refusal.cancel_reason() + "); renewing the token");
  try {
    // Any request with the refused token gets it replaced by the client (spec 4.5); the smallest
    // one is a count of one key, answered by the member itself.
    RangeRequest probe;
    probe.key = settings.prefix + settings.wake.leader;
    probe.serializable = true;
    probe.count_only = true;
    client->range(probe);
  } catch (const std::exception& e) {
    log(LogLevel::warning, std::string("KVCache: renewing the token failed: ") + e.what());
    return false;  // the refusal is handled as before: relist, with back-off
  }
  std::lock_guard lock(mutex);
  if (stopping || !is_ready) return false;  // killed meanwhile (an endpoint switch)
  ++counters.token_renewals;
  counters.last_contact = Clock::now();  // the member answered
  return true;
}

}  // namespace dcs::etcd3
