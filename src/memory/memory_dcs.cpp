// MemoryDCS: AbstractDCS over a MemoryStore, doing what Etcd3 does against etcd (spec 3.1, 3.3)
// so that a daemon's tests exercise the same decisions: one lease per member shared by its
// leader and member keys, create-if-absent acquisition, the value-compared re-bind of the leader
// key after a lease change, MOD-revision compare-and-set and the watch wake-ups of spec 5.4.
//
// Every operation runs under the store's mutex, which makes it atomic the way an etcd
// transaction is. Error semantics follow spec 3.0: with the store unavailable, reads and the
// leader operations that Patroni wraps in W2 (attempt_to_acquire_leader, update_leader) throw
// DCSError; every other write returns false (W1). watch() never throws: Etcd3's watch only waits
// on an event too.
#include <algorithm>
#include <string_view>
#include <utility>

#include "dcs/errors.hpp"
#include "dcs/memory_dcs.hpp"
#include "log.hpp"
#include "memory/memory_store_state.hpp"

namespace dcs {

namespace {

using namespace std::chrono_literals;

DCSSettings on_store_clock(DCSSettings settings, const std::shared_ptr<MemoryStore>& store) {
  if (!store) throw ConfigError("store", "a MemoryDCS needs a MemoryStore");
  settings.clock = store->clock();
  return settings;
}

}  // namespace

struct MemoryDCS::Impl {
  Impl(std::shared_ptr<MemoryStore> s, MemoryStore::State& st, memory::WatchInterest wanted, LogSink sink)
      : store(std::move(s)), state(st), interest(std::move(wanted)), logger(std::move(sink), "memory") {
    std::lock_guard lock(state.mutex);
    state.interests.push_back(&interest);
  }

  ~Impl() {
    std::lock_guard lock(state.mutex);
    std::erase(state.interests, &interest);
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  /// Locks the store and lets dead leases go first, so every operation sees the keyspace as etcd
  /// would at this moment.
  std::unique_lock<std::mutex> lock() {
    std::unique_lock guard(state.mutex);
    state.expire_leases();
    return guard;
  }

  /// Locks like lock(), then throws DCSError when the store is unavailable (W2 / reads).
  std::unique_lock<std::mutex> lock_or_throw(std::string_view what) {
    auto guard = lock();
    if (!state.available) throw DCSError("memory store unavailable: " + std::string(what));
    return guard;
  }

  /// Patroni's _do_refresh_lease (caller holds the mutex): keepalive, or a grant when no lease is
  /// held or the held one died. Without `force` at most once per loop_wait. Returns true when a
  /// new lease was granted.
  bool refresh_lease(bool force, std::chrono::seconds ttl, std::chrono::seconds loop_wait) {
    const auto now = state.clock->now();
    if (!force && lease != 0 && last_lease_refresh && *last_lease_refresh + loop_wait > now) return false;
    if (lease != 0 && !state.keepalive(lease)) lease = 0;
    const bool granted = lease == 0;
    if (granted) lease = state.grant(ttl);
    last_lease_refresh = now;
    return granted;
  }

  /// W1 (spec 3.0): runs `op` under the lock; an unavailable store is reported as `refused`.
  template <typename Result, typename Op>
  Result write(std::string_view what, Result refused, Op&& op) {
    {
      auto guard = lock();
      if (state.available) return op();
    }
    logger(LogLevel::error, "memory store unavailable, " + std::string(what) + " failed");
    return refused;
  }

  std::shared_ptr<MemoryStore> store;  // keeps `state` alive
  MemoryStore::State& state;

  // Guarded by state.mutex.
  memory::WatchInterest interest;
  std::int64_t lease = 0;
  std::optional<Clock::time_point> last_lease_refresh;  // nullopt: the next refresh must send a keepalive
  bool skip_next_watch = false;

  detail::Logger logger;
};

MemoryDCS::MemoryDCS(DCSSettings settings, std::shared_ptr<MemoryStore> store)
    : AbstractDCS(on_store_clock(std::move(settings), store)) {
  auto& state = *store->state_;
  memory::WatchInterest wanted{name(), leader_path(), config_path(), status_path(), leader_optime_path()};
  impl_ = std::make_unique<Impl>(std::move(store), state, std::move(wanted), this->settings().log_sink);
}

MemoryDCS::~MemoryDCS() = default;

std::int64_t MemoryDCS::lease() const {
  std::lock_guard lock(impl_->state.mutex);
  return impl_->lease;
}

std::vector<StoredKey> MemoryDCS::load_keys(const std::string& prefix) {
  auto guard = impl_->lock_or_throw("get_cluster");
  return impl_->state.range(prefix);
}

bool MemoryDCS::do_attempt_to_acquire_leader() {
  // Read before locking the store: AbstractDCS guards them with its own mutex.
  const auto ttl_now = ttl();
  const auto loop_wait_now = loop_wait();
  const auto key = leader_path();
  bool acquired = false;
  {
    auto guard = impl_->lock_or_throw("attempt_to_acquire_leader");
    auto& state = impl_->state;
    impl_->refresh_lease(false, ttl_now, loop_wait_now);
    // A throttled refresh may have skipped the keepalive of a lease that has died since: etcd
    // answers "lease not found" to the put, and Patroni then gets a new lease and retries once.
    if (!state.lease_alive(impl_->lease)) {
      impl_->lease = 0;
      impl_->refresh_lease(true, ttl_now, loop_wait_now);
    }
    if (state.find(key) == nullptr) acquired = state.put(key, name(), impl_->lease).has_value();
  }
  if (!acquired) impl_->logger(LogLevel::info, "Could not take out TTL lock");
  return acquired;
}

bool MemoryDCS::do_take_leader() {
  return impl_->write("take_leader", false, [&] {
    // Unconditional, with whatever lease is held (none: the key becomes persistent, as in etcd).
    return impl_->state.put(leader_path(), name(), impl_->lease).has_value();
  });
}

bool MemoryDCS::do_update_leader(const Leader* leader) {
  const auto ttl_now = ttl();
  const auto loop_wait_now = loop_wait();
  auto guard = impl_->lock_or_throw("update_leader");
  auto& state = impl_->state;
  // One keepalive every HA cycle; a grant when the lease was lost.
  impl_->refresh_lease(true, ttl_now, loop_wait_now);
  const std::int64_t session = leader ? leader->session : 0;
  if (impl_->lease != 0 && session != impl_->lease) {
    // The key is (or was) bound to another lease: re-bind it to ours, but only while it still
    // holds our name or nobody holds it (HEAD's nested compare on value, then on creation).
    const auto key = leader_path();
    const auto* current = state.find(key);
    if (current != nullptr && current->value != name()) return false;
    return state.put(key, name(), impl_->lease).has_value();
  }
  return impl_->lease != 0;
}

bool MemoryDCS::do_delete_leader(const Leader& /*leader*/) {
  return impl_->write("delete_leader", false, [&] {
    const auto key = leader_path();
    const auto* current = impl_->state.find(key);
    return current != nullptr && current->value == name() && impl_->state.erase(key);
  });
}

bool MemoryDCS::do_initialize(bool create_new, const std::string& sysid) {
  return impl_->write("initialize", false, [&] {
    const auto key = initialize_path();
    if (create_new && impl_->state.find(key) != nullptr) return false;
    return impl_->state.put(key, sysid).has_value();
  });
}

bool MemoryDCS::do_cancel_initialization() {
  return impl_->write("cancel_initialization", false, [&] {
    impl_->state.erase(initialize_path());
    return true;
  });
}

bool MemoryDCS::do_delete_cluster() {
  return impl_->write("delete_cluster", false, [&] {
    impl_->state.erase_prefix(client_path(""));
    return true;
  });
}

bool MemoryDCS::do_touch_member(const nlohmann::json& data, const Cluster* cached) {
  const auto ttl_now = ttl();
  const auto loop_wait_now = loop_wait();
  bool lease_lost = false;
  const bool ok = impl_->write("touch_member", false, [&] {
    impl_->refresh_lease(false, ttl_now, loop_wait_now);
    if (cached != nullptr) {
      // Nothing to write when the view we last read already holds this data under our lease.
      for (const auto& member : cached->members) {
        if (member->name == name() && member->session == impl_->lease && deep_compare(member->data, data)) return true;
      }
    }
    if (impl_->state.put(member_path(), to_patroni_json(data), impl_->lease)) return true;
    impl_->lease = 0;  // etcd: "requested lease not found"; the next refresh grants a new one
    lease_lost = true;
    return false;
  });
  if (lease_lost) impl_->logger(LogLevel::error, "Our lease disappeared from the store, can not \"touch_member\"");
  return ok;
}

namespace {

/// etcd's compare on MOD: a missing key has mod revision 0.
bool version_matches(const MemoryStore::State& state, const std::string& key, std::optional<std::int64_t> version) {
  return !version || state.mod_revision(key) == *version;
}

}  // namespace

bool MemoryDCS::do_set_config_value(const std::string& value, std::optional<std::int64_t> version) {
  return impl_->write("set_config_value", false, [&] {
    const auto key = config_path();
    return version_matches(impl_->state, key, version) && impl_->state.put(key, value).has_value();
  });
}

bool MemoryDCS::do_set_failover_value(const std::string& value, std::optional<std::int64_t> version) {
  return impl_->write("set_failover_value", false, [&] {
    const auto key = failover_path();
    return version_matches(impl_->state, key, version) && impl_->state.put(key, value).has_value();
  });
}

bool MemoryDCS::do_set_history_value(const std::string& value) {
  return impl_->write("set_history_value", false, [&] { return impl_->state.put(history_path(), value).has_value(); });
}

std::optional<std::int64_t> MemoryDCS::do_set_sync_state_value(const std::string& value,
                                                               std::optional<std::int64_t> version) {
  return impl_->write("set_sync_state_value", std::optional<std::int64_t>{}, [&]() -> std::optional<std::int64_t> {
    const auto key = sync_path();
    if (!version_matches(impl_->state, key, version)) return std::nullopt;
    return impl_->state.put(key, value);
  });
}

bool MemoryDCS::do_delete_sync_state(std::optional<std::int64_t> version) {
  return impl_->write("delete_sync_state", false, [&] {
    const auto key = sync_path();
    if (!version_matches(impl_->state, key, version)) return false;
    impl_->state.erase(key);
    return true;
  });
}

bool MemoryDCS::do_write_status(const std::string& value) {
  return impl_->write("write_status", false, [&] { return impl_->state.put(status_path(), value).has_value(); });
}

bool MemoryDCS::do_write_failsafe(const std::string& value) {
  return impl_->write("write_failsafe", false, [&] { return impl_->state.put(failsafe_path(), value).has_value(); });
}

bool MemoryDCS::do_write_leader_optime(const std::string& value) {
  return impl_->write("write_leader_optime", false,
                      [&] { return impl_->state.put(leader_optime_path(), value).has_value(); });
}

bool MemoryDCS::do_watch(std::optional<std::int64_t> leader_version, std::chrono::milliseconds timeout) {
  auto guard = impl_->lock();
  auto& state = impl_->state;
  impl_->last_lease_refresh.reset();  // the next refresh sends a keepalive (at least one per cycle)
  if (std::exchange(impl_->skip_next_watch, false)) return true;
  // A manual clock only moves when the test says so: report what is pending instead of blocking.
  if (!state.clock->is_manual()) {
    if (leader_version) timeout += 500ms;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!impl_->interest.pending) {
      const auto real_now = std::chrono::steady_clock::now();
      if (real_now >= deadline) break;
      auto wake_at = deadline;
      if (const auto expiry = state.next_expiry()) {
        // Expiry is lazy: wake up when the next lease may die, so that its keys vanish (and a
        // vanished leader key wakes us) even if nobody else touches the store meanwhile.
        const auto until = std::max<Clock::duration>(*expiry - state.clock->now() + 1ms, 1ms);
        wake_at = std::min(deadline, real_now + until);
      }
      state.changed.wait_until(guard, wake_at);
      state.expire_leases();
    }
  }
  return std::exchange(impl_->interest.pending, false);
}

void MemoryDCS::on_ttl_changed(std::chrono::seconds /*ttl*/) {
  std::lock_guard guard(impl_->state.mutex);
  // Forget, do not revoke (Patroni never revokes): the old lease runs out on its own and the
  // next refresh grants one with the new ttl.
  impl_->lease = 0;
  impl_->skip_next_watch = true;
}

}  // namespace dcs
