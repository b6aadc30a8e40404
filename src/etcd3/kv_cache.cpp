// KVCache's public face, its readers and the hooks the write path calls (write-through, stream
// kills). The thread itself is in kv_cache_loop.cpp.
#include "dcs/etcd3/kv_cache.hpp"

#include "etcd3/kv_cache_impl.hpp"

namespace dcs::etcd3 {

KVCache::Impl::Impl(std::shared_ptr<Etcd3Client> c, Settings s)
    : client(std::move(c)),
      settings(std::move(s)),
      log(settings.log_sink, "etcd3.kvcache"),
      probe_ms(settings.probe_interval.count()),
      store(settings.prefix, settings.citus, settings.wake) {}

void KVCache::Impl::start() {
  // Listeners fire on whichever thread made the request; they only flag the stream. Added beside
  // any the embedder set on the client, not in their place.
  endpoint_listener =
      client->add_endpoint_listener([this](const std::string& endpoint) { on_endpoint_switch(endpoint); });
  reauthentication_listener = client->add_reauthentication_listener(
      [this](bool watch_restart_needed) { on_reauthentication(watch_restart_needed); });
  thread = std::thread([this] { run(); });
}

void KVCache::Impl::stop() noexcept {
  if (!thread.joinable()) return;
  // Once removed, no listener of this cache runs any more on another thread.
  client->remove_listener(endpoint_listener);
  client->remove_listener(reauthentication_listener);
  {
    std::lock_guard lock(mutex);
    stopping = true;
    is_ready = false;
  }
  changed.notify_all();
  canceller.cancel();  // wakes a blocked stream at once
  thread.join();
}

bool KVCache::Impl::ready_locked(Clock::time_point now) const {
  // A stream that has said nothing for longer than the bound may be on a frozen member: its
  // snapshot is not served even before the thread has noticed.
  return is_ready && now - counters.last_contact <= staleness_bound();
}

bool KVCache::Impl::behind_the_client() const {
  ResponseHeader seen;
  seen.cluster_id = term_guard.cluster_id();
  seen.raft_term = term_guard.term();
  return !client->observe_raft_term(seen);
}

std::shared_ptr<const Cluster> KVCache::Impl::wait_ready(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto now = Clock::now();
    if (ready_locked(now)) {
      // Spec 5.6: the stream's member must not be behind a raft term the client has seen since
      // (on another member); then its snapshot may be stale: relist. (A term the stream saw
      // first advances the client's guard in the same call.)
      if (!behind_the_client()) return store.snapshot();
      is_ready = false;
      ++counters.kills;
      counters.last_error = "the watch is on a member at raft term " + std::to_string(term_guard.term()) +
                            ", behind a term the client has seen";
      lock.unlock();
      log(LogLevel::warning, "KVCache: the stream's member is behind the client's raft term; listing again");
      canceller.cancel();
      lock.lock();
      continue;
    }
    if (now >= deadline || stopping || counters.unsupported) return nullptr;
    // Re-checked at least every 100 ms: readiness can also end by the passing of time.
    changed.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(100)));
  }
}

bool KVCache::Impl::ready() const {
  std::lock_guard lock(mutex);
  return ready_locked(Clock::now());
}

bool KVCache::Impl::unsupported() const {
  std::lock_guard lock(mutex);
  return counters.unsupported;
}

KVCacheHealth KVCache::Impl::health() const {
  std::lock_guard lock(mutex);
  KVCacheHealth h = counters;
  h.ready = ready_locked(Clock::now());
  h.revision = store.revision();
  h.keys = store.size();
  return h;
}

std::shared_ptr<const Cluster> KVCache::Impl::snapshot() const {
  std::lock_guard lock(mutex);
  return store.snapshot();
}

void KVCache::Impl::apply_put(const KeyValue& kv) {
  bool wake = false;
  {
    std::lock_guard lock(mutex);
    const auto outcome = store.put(kv, /*overwrite_equal=*/false);
    if (outcome.applied) ++counters.write_throughs;
    wake = outcome.wake;
    if (wake) ++counters.wakeups;
  }
  if (wake && settings.on_wake) settings.on_wake();
}

void KVCache::Impl::apply_delete(const std::string& key, const std::string& range_end, std::int64_t revision) {
  bool wake = false;
  {
    std::lock_guard lock(mutex);
    const auto outcome = range_end.empty() ? store.remove(key, revision) : store.remove_range(key, range_end, revision);
    if (outcome.applied) ++counters.write_throughs;
    wake = outcome.wake;
    if (wake) ++counters.wakeups;
  }
  if (wake && settings.on_wake) settings.on_wake();
}

void KVCache::Impl::kill_stream(const std::string& why) {
  bool was_ready = false;
  {
    std::lock_guard lock(mutex);
    if (stopping) return;
    was_ready = std::exchange(is_ready, false);
    ++counters.kills;
  }
  if (was_ready) detail::emit_state(settings.metrics, StateChange::cache_not_ready, why);
  log(LogLevel::debug, "restarting the watch: " + why);
  canceller.cancel();
}

void KVCache::Impl::set_probe_interval(std::chrono::milliseconds interval) {
  if (probe_ms.exchange(interval.count()) == interval.count()) return;
  changed.notify_all();  // readiness is judged by the new bound
  restart_stream("the probe interval is now " + std::to_string(interval.count()) + " ms");
}

void KVCache::Impl::restart_stream(const std::string& why) {
  {
    std::lock_guard lock(mutex);
    if (stopping || !streaming) return;  // a stream that is not open yet starts with what is current
    restart_requested = true;
  }
  log(LogLevel::debug, "re-opening the watch: " + why);
  canceller.cancel();
}

void KVCache::Impl::on_reauthentication(bool watch_restart_needed) {
  // A token from an older auth revision keeps working for an established watch. An invalid one
  // too, in fact (etcd checks the token when the watch is created), but the stream is re-opened
  // with the new token anyway so that it does not depend on that. Readiness is kept: the stream
  // resumes from the next revision. The cache's own renewal (no stream open) changes nothing.
  if (watch_restart_needed) restart_stream("re-authenticated");
}

void KVCache::Impl::on_endpoint_switch(const std::string& endpoint) {
  {
    std::lock_guard lock(mutex);
    // A list in flight picks up the new endpoint by itself: only a stream elsewhere is stopped.
    if (stream_endpoint.empty() || stream_endpoint == endpoint) return;
  }
  kill_stream("the client moved to " + endpoint);
}

void KVCache::Impl::on_connection_failure() {
  {
    std::lock_guard lock(mutex);
    if (stream_endpoint.empty()) return;
  }
  kill_stream("a request failed for want of a connection");
}

KVCache::KVCache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->start();
}

KVCache::~KVCache() {
  impl_->stop();
}

bool KVCache::ready() const {
  return impl_->ready();
}

KVCacheHealth KVCache::health() const {
  return impl_->health();
}

std::shared_ptr<const Cluster> KVCache::snapshot() const {
  return impl_->snapshot();
}

std::chrono::milliseconds KVCache::probe_interval() const noexcept {
  return impl_->probe_interval();
}

std::chrono::milliseconds KVCache::staleness_bound() const noexcept {
  return impl_->staleness_bound();
}

}  // namespace dcs::etcd3
