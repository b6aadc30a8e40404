// Patroni's Etcd3 DCS over Etcd3Client: the requests of spec 3.3, wrapped as spec 3.0 says (see
// dcs_error_wrappers.hpp), with the process lease of spec 3.1.
#include "dcs/etcd3/etcd3.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "codec/fast_decode.hpp"
#include "etcd3/dcs_error_wrappers.hpp"
#include "etcd3/dcs_requests.hpp"
#include "etcd3/dcs_retry.hpp"
#include "etcd3/kv_cache_impl.hpp"
#include "etcd3/metrics_emitter.hpp"
#include "etcd3/patroni_client.hpp"
#include "etcd3/process_lease.hpp"
#include "log.hpp"

namespace dcs::etcd3 {

using namespace std::chrono_literals;
using detail::StepBudget;
using std::chrono::milliseconds;

namespace {

// The least budget a step must leave for the next one (Patroni's ensure_deadline(1)).
constexpr milliseconds kNextStepMinimum = 1s;
// Pause between two start-up tries while etcd is unreachable (Patroni: "waiting on etcd", 5 s).
constexpr milliseconds kStartupPause = 5s;
// A follower that knows its leader waits a little longer than asked (Patroni HEAD), so the
// leader's own cycle can refresh the key first.
constexpr milliseconds kFollowerWatchExtra = 500ms;

// Checks what AbstractDCS needs besides what the client validates, and builds its settings.
DCSSettings settings_for(const Etcd3Options& options) {
  validate(options);
  if (options.scope.empty()) throw ConfigError("scope", "is required (the cluster name)");
  if (options.name.empty() && !options.patronictl) throw ConfigError("name", "is required (this member's name)");
  DCSSettings settings;
  settings.namespace_ = options.namespace_;
  settings.scope = options.scope;
  settings.name = options.name;
  settings.ttl = options.ttl;
  settings.loop_wait = options.loop_wait;
  settings.retry_timeout = options.retry_timeout;
  settings.citus_group = options.citus_group;
  settings.patronictl = options.patronictl;
  settings.log_sink = options.log_sink;
  return settings;
}

std::vector<StoredKey> to_stored_keys(RangeResponse&& response) {
  std::vector<StoredKey> keys;
  keys.reserve(response.kvs.size());
  for (auto& kv : response.kvs)
    keys.push_back(StoredKey{std::move(kv.key), std::move(kv.value), kv.mod_revision, kv.lease});
  return keys;
}

/// The members of `previous` as the range decoder's known values (codec::KnownValues): the
/// ones Cluster::from_keys will reuse when their key comes back at the same revision and lease.
std::vector<codec::KnownValue> known_members(const Cluster& previous) {
  std::vector<codec::KnownValue> known;
  // from_keys walks the previous members in key order; a list out of order is not used.
  const auto by_name = [](const MemberPtr& a, const MemberPtr& b) { return a->name < b->name; };
  if (!std::is_sorted(previous.members.begin(), previous.members.end(), by_name)) return known;
  known.reserve(previous.members.size());
  for (const auto& member : previous.members)
    if (member->version != 0) known.push_back({member->name, member->version, member->session});
  return known;
}

// The keys besides members whose parsed form from_keys takes from the previous view by revision
// alone (the leader, initialize, history and the legacy optime/leader still read their text).
// Sorted by name. Patroni writes them without a lease: one with a lease is decoded as before.
std::vector<codec::KnownValue> known_cluster_keys(const Cluster& previous) {
  std::vector<codec::KnownValue> known;
  const auto add = [&known](std::string_view name, std::int64_t version) {
    if (version != 0) known.push_back({name, version, 0});
  };
  if (previous.config) add("config", previous.config->version);
  if (previous.failover) add("failover", previous.failover->version);
  add("failsafe", previous.failsafe_version);
  add("status", previous.status_version);
  add("sync", previous.sync.version);
  return known;
}

}  // namespace

struct Etcd3::Impl {
  explicit Impl(Etcd3Options options)
      : patronictl(options.patronictl),
        watcher_cache(options.watcher_cache && !options.patronictl),
        startup_timeout(options.startup_timeout),
        log(options.log_sink, "etcd3"),
        failures(log),
        log_sink(options.log_sink),
        metrics(options.metrics),
        client(std::make_shared<Etcd3Client>(std::move(options))),
        kv(client) {}

  ~Impl() {
    // The cache's thread and hooks refer to this object and the client: stop it first.
    kv.attach(nullptr);
    cache.reset();
  }

  /// Starts the watcher cache over the cluster prefix (not in patronictl mode).
  void start_cache(const AbstractDCS& dcs) {
    KVCache::Impl::Settings settings;
    settings.prefix = dcs.cluster_prefix();
    settings.citus = dcs.is_citus_coordinator();
    const auto relative = [&](const std::string& path) { return path.substr(settings.prefix.size()); };
    settings.wake = {relative(dcs.leader_path()), relative(dcs.config_path()), relative(dcs.status_path()),
                     relative(dcs.leader_optime_path()), dcs.name()};
    settings.probe_interval = probe_interval_for(dcs.ttl());
    settings.log_sink = log_sink;
    settings.metrics = metrics;
    settings.on_wake = [this] { signal_wake(); };
    auto impl = std::make_unique<KVCache::Impl>(client, std::move(settings));
    auto* raw = impl.get();
    cache = std::make_unique<KVCache>(std::move(impl));
    kv.attach(raw);
  }

  /// A sixth of the ttl, between 1 and 5 s: a frozen member is given up on within 2 x that,
  /// well inside the ttl, and a quiet stream is re-opened at most every few seconds.
  static milliseconds probe_interval_for(std::chrono::seconds ttl) {
    return std::clamp<milliseconds>(std::chrono::duration_cast<milliseconds>(ttl) / 6, 1s, 5s);
  }

  void signal_wake() {
    {
      std::lock_guard lock(wake_mutex);
      woken = true;
    }
    wake_cv.notify_all();
  }

  /// Every key under `prefix` (absolute keys). The one read path of the DCS: a watcher cache
  /// slots in here, answering from memory when it is ready and the prefix is the one it watches.
  std::vector<StoredKey> read_prefix(const std::string& prefix, milliseconds budget) {
    StepBudget step(budget);
    return step.retried([&] { return to_stored_keys(kv.range(requests::read_prefix(prefix, !patronictl))); }, log);
  }

  bool refresh_step(StepBudget& step, const AbstractDCS& dcs, bool force) {
    const auto refresh = [&] {
      return step.retried([&] { return lease.refresh_once(*client, force, dcs.ttl(), dcs.loop_wait()); }, log);
    };
    if (!metrics) return refresh();
    // A refresh that ends with another id (or none) lost the old lease: etcd did not know it.
    const std::int64_t before = lease.id();
    const auto report = [&](bool granted) {
      const std::int64_t after = lease.id();
      if (before != 0 && after != before) detail::emit_state(metrics, StateChange::lease_lost, {}, before);
      if (granted) detail::emit_state(metrics, StateChange::lease_granted, {}, after);
    };
    try {
      const bool granted = refresh();
      report(granted);
      return granted;
    } catch (...) {
      report(false);
      throw;
    }
  }

  /// etcd answered LeaseNotFound: the lease is gone, the next refresh grants a new one.
  void lose_lease() {
    const std::int64_t lost = lease.id();
    lease.forget();
    if (lost != 0) detail::emit_state(metrics, StateChange::lease_lost, "LeaseNotFound", lost);
  }

  /// The create-revision-0 transaction of attempt_to_acquire_leader, retried once with a fresh
  /// lease when etcd no longer knows ours.
  bool acquire_leader_key(StepBudget& step, const AbstractDCS& dcs) {
    const auto create = [&] {
      return kv.txn(requests::put_if_absent(dcs.leader_path(), dcs.name(), lease.id())).succeeded;
    };
    try {
      return step.retried(create, log);
    } catch (const LeaseNotFound&) {
      lose_lease();
      if (step.expired()) {
        log(LogLevel::error,
            "Our lease disappeared from Etcd and we cannot get a new one: deadline exceeded, giving up");
        return false;
      }
      log(LogLevel::error, "Our lease disappeared from Etcd. Will try to get a new one and retry attempt");
      refresh_step(step, dcs, false);
      if (step.remaining() < kNextStepMinimum) throw Etcd3Error("_do_attempt_to_acquire_leader timeout");
      return step.retried(create, log);  // a second LeaseNotFound is an etcd answer: false
    }
  }

  /// Obtains the lease (patronictl: reaches etcd) at start-up, waiting while etcd is unreachable.
  void start(const AbstractDCS& dcs) {
    const auto give_up = std::chrono::steady_clock::now() + startup_timeout;
    for (;;) {
      std::string failure;
      try {
        StepBudget step(dcs.retry_timeout());
        if (patronictl) {
          client->api_prefix();
        } else {
          refresh_step(step, dcs, false);
        }
        return;
      } catch (const AuthFailed& e) {
        // Wrong credentials never heal by waiting (Patroni exits at this point).
        log(LogLevel::error, std::string("Etcd3 authentication failed: ") + e.what());
        throw;
      } catch (const RetryFailedError& e) {
        failure = e.what();
      } catch (const EtcdException& e) {
        failure = e.what();
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= give_up) {
        throw Etcd3Error("etcd could not be reached within startup_timeout (" +
                         std::to_string(startup_timeout.count()) + " s): " + failure);
      }
      log(LogLevel::info, "waiting on etcd: " + failure);
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(kStartupPause, give_up - now));
    }
  }

  const bool patronictl;
  const bool watcher_cache;
  const std::chrono::seconds startup_timeout;
  dcs::detail::Logger log;
  detail::FailureLog failures;
  LogSink log_sink;
  std::shared_ptr<MetricsObserver> metrics;
  std::shared_ptr<Etcd3Client> client;
  detail::PatroniEtcd3Client kv;  // every KV request goes through it (write-through, spec 4.10)
  std::unique_ptr<KVCache> cache;
  detail::ProcessLease lease;

  std::mutex wake_mutex;  // guards the members below
  std::condition_variable wake_cv;
  bool woken = false;            // something the HA loop must react to happened
  bool skip_next_watch = false;  // one-shot, armed by a ttl change
};

Etcd3::Etcd3(Etcd3Options options)
    : AbstractDCS(settings_for(options)), impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->start(*this);
  if (impl_->watcher_cache) impl_->start_cache(*this);
}

std::unique_ptr<Etcd3> Etcd3::from_patroni_config(const nlohmann::json& config) {
  return std::make_unique<Etcd3>(parse_patroni_config(config));
}

Etcd3::~Etcd3() = default;

Etcd3Client& Etcd3::client() noexcept {
  return *impl_->client;
}

std::int64_t Etcd3::lease() const {
  return impl_->lease.id();
}

bool Etcd3::refresh_lease(bool force) {
  try {
    StepBudget step(retry_timeout());
    return impl_->refresh_step(step, *this, force);
  } catch (const RetryFailedError& e) {
    impl_->failures.failed("refresh_lease", e);
    throw Etcd3Error(std::string("Failed to keepalive/grant lease: ") + e.what());
  } catch (const EtcdException& e) {
    impl_->failures.failed("refresh_lease", e);
    throw Etcd3Error(std::string("Failed to keepalive/grant lease: ") + e.what());
  }
}

void Etcd3::wake() {
  impl_->signal_wake();
}

const KVCache* Etcd3::kv_cache() const noexcept {
  return impl_->cache.get();
}

Etcd3Health Etcd3::health() const {
  const auto& im = *impl_;
  Etcd3Health health;
  health.endpoint = im.client->current_endpoint();
  health.endpoints = im.client->endpoints();
  const auto now = std::chrono::steady_clock::now();
  if (im.cache) {
    health.cache = im.cache->health();
    if (health.cache->last_contact != std::chrono::steady_clock::time_point{}) {
      health.cache_age = std::chrono::duration_cast<milliseconds>(now - health.cache->last_contact);
    }
  }
  health.lease_id = im.lease.id();
  if (const auto expires = im.lease.expires_at(); expires && health.lease_id != 0) {
    health.lease_expires_in = std::chrono::duration_cast<milliseconds>(*expires - now);
  }
  health.last_error = im.client->last_error();
  return health;
}

std::shared_ptr<const Cluster> Etcd3::load_cluster(const std::shared_ptr<const Cluster>& previous) {
  // Without a cache (patronictl), or on a cluster older than 3.1 (no watches): read etcd.
  if (!impl_->cache || impl_->cache->impl().unsupported()) {
    // The members the previous view holds are reused by from_keys when their key, revision and
    // lease did not move, so their values need not even be decoded from base64; so are config,
    // failover, failsafe, status and sync. (A Citus
    // coordinator reads every group; it is not worth the bookkeeping there.)
    if (!previous || previous->members.empty() || is_citus_coordinator()) return AbstractDCS::load_cluster(previous);
    const auto known_keys = known_cluster_keys(*previous);
    const std::string cluster_prefix = client_path("");
    codec::KnownValues keys_hint(cluster_prefix, known_keys);
    const auto known = known_members(*previous);
    const std::string members_prefix = client_path("members/");
    codec::KnownValues hint(members_prefix, known);
    return AbstractDCS::load_cluster(previous);
  }
  auto snapshot = detail::load_wrapper(impl_->failures, [&] {
    auto ready = impl_->cache->impl().wait_ready(retry_timeout());
    if (!ready && !impl_->cache->impl().unsupported()) {
      throw RetryFailedError("Exceeded retry deadline (the watcher cache is not ready)");
    }
    return ready;
  });
  if (!snapshot) return AbstractDCS::load_cluster(previous);  // the cache found the cluster too old
  if (snapshot->leader && snapshot->leader->name() == name() && snapshot->leader->session != impl_->lease.id()) {
    impl_->log(LogLevel::warning, "I am the leader but not owner of the lease");
  }
  return snapshot;
}

std::vector<StoredKey> Etcd3::load_keys(const std::string& prefix) {
  auto keys = detail::load_wrapper(impl_->failures, [&] { return impl_->read_prefix(prefix, retry_timeout()); });
  if (!impl_->patronictl) {
    const auto lease_id = impl_->lease.id();
    const std::string leader = leader_path();  // built once, not once per key
    for (const auto& key : keys) {
      if (key.key == leader && key.value == name() && key.session != lease_id) {
        impl_->log(LogLevel::warning, "I am the leader but not owner of the lease");
      }
    }
  }
  return keys;
}

bool Etcd3::do_attempt_to_acquire_leader() {
  auto& im = *impl_;
  return detail::run_and_handle(im.failures, "attempt_to_acquire_leader", [&] {
    StepBudget step(retry_timeout());
    im.refresh_step(step, *this, false);
    if (step.remaining() < kNextStepMinimum) throw Etcd3Error("attempt_to_acquire_leader timeout");
    const bool won = im.acquire_leader_key(step, *this);
    if (!won) im.log(LogLevel::info, "Could not take out TTL lock");
    return won;
  });
}

bool Etcd3::do_take_leader() {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "take_leader", false, [&] {
    StepBudget step(retry_timeout());
    // No lease refresh first: right after bootstrap the constructor's lease is fresh. Without a
    // lease the key is written without one, as Patroni does.
    step.retried([&] { return im.kv.put(requests::put(leader_path(), name(), im.lease.id())); }, im.log);
    return true;
  });
}

bool Etcd3::do_update_leader(const Leader* leader) {
  auto& im = *impl_;
  return detail::run_and_handle(im.failures, "update_leader", [&] {
    StepBudget step(retry_timeout());
    // One keepalive every HA cycle; a grant when the lease was lost.
    im.refresh_step(step, *this, true);
    const std::int64_t lease_id = im.lease.id();
    if (lease_id != 0 && (leader == nullptr || leader->session != lease_id)) {
      // The lease changed (ttl change, expiry): re-bind the key without overwriting another
      // member's.
      if (step.remaining() < kNextStepMinimum) throw Etcd3Error("update_leader timeout");
      return step.retried(
          [&] {
            return requests::rebind_succeeded(im.kv.txn(requests::rebind_leader(leader_path(), name(), lease_id)));
          },
          im.log);
    }
    // Steady state: the keepalive alone keeps the key; its mod_revision does not move.
    return lease_id != 0;
  });
}

bool Etcd3::do_delete_leader(const Leader& /*leader*/) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "delete_leader", false, [&] {
    // Compared on the value, not on a revision read earlier: a stale view cannot stop it, and
    // another member's key is never deleted.
    return im.kv.txn(requests::delete_if_value(leader_path(), name())).succeeded;
  });
}

bool Etcd3::do_initialize(bool create_new, const std::string& sysid) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "initialize", false, [&] {
    StepBudget step(retry_timeout());
    return step.retried(
        [&] {
          if (create_new) return im.kv.txn(requests::put_if_absent(initialize_path(), sysid)).succeeded;
          im.kv.put(requests::put(initialize_path(), sysid));
          return true;
        },
        im.log);
  });
}

bool Etcd3::do_cancel_initialization() {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "cancel_initialization", false, [&] {
    StepBudget step(retry_timeout());
    DeleteRangeRequest request;
    request.key = initialize_path();
    step.retried([&] { return im.kv.delete_range(request); }, im.log);
    return true;
  });
}

bool Etcd3::do_delete_cluster() {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "delete_cluster", false, [&] {
    StepBudget step(retry_timeout());
    // client_path("") holds the group: a Citus coordinator removes only group 0.
    step.retried([&] { return im.kv.delete_range(requests::delete_prefix(client_path(""))); }, im.log);
    return true;
  });
}

bool Etcd3::do_touch_member(const nlohmann::json& data, const Cluster* cached) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "touch_member", false, [&] {
    try {
      refresh_lease(false);
    } catch (const Etcd3Error&) {
      return false;
    }
    const std::int64_t lease_id = im.lease.id();
    if (cached != nullptr) {
      const auto member = cached->get_member(name(), /*fallback_to_leader=*/false);
      if (member && member->session == lease_id && deep_compare(data, member->data)) return true;
    }
    try {
      im.kv.put(requests::put(member_path(), to_patroni_json(data), lease_id));
      return true;
    } catch (const LeaseNotFound&) {
      im.lose_lease();
      im.log(LogLevel::error, "Our lease disappeared from Etcd, can not \"touch_member\"");
      return false;
    }
  });
}

bool Etcd3::do_set_config_value(const std::string& value, std::optional<std::int64_t> version) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "set_config_value", false, [&] {
    if (version) return im.kv.txn(requests::put_if_mod_revision(config_path(), value, *version)).succeeded;
    im.kv.put(requests::put(config_path(), value));
    return true;
  });
}

bool Etcd3::do_set_failover_value(const std::string& value, std::optional<std::int64_t> version) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "set_failover_value", false, [&] {
    if (version) return im.kv.txn(requests::put_if_mod_revision(failover_path(), value, *version)).succeeded;
    im.kv.put(requests::put(failover_path(), value));
    return true;
  });
}

bool Etcd3::do_set_history_value(const std::string& value) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "set_history_value", false, [&] {
    im.kv.put(requests::put(history_path(), value));
    return true;
  });
}

std::optional<std::int64_t> Etcd3::do_set_sync_state_value(const std::string& value,
                                                           std::optional<std::int64_t> version) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(
      im.failures, "set_sync_state_value", std::optional<std::int64_t>{}, [&]() -> std::optional<std::int64_t> {
        StepBudget step(retry_timeout());
        return step.retried(
            [&]() -> std::optional<std::int64_t> {
              if (!version) return im.kv.put(requests::put(sync_path(), value)).header.revision;
              const auto response = im.kv.txn(requests::put_if_mod_revision(sync_path(), value, *version));
              if (!response.succeeded) return std::nullopt;
              return response.header.revision;
            },
            im.log);
      });
}

bool Etcd3::do_delete_sync_state(std::optional<std::int64_t> version) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "delete_sync_state", false, [&] {
    StepBudget step(retry_timeout());
    return step.retried(
        [&] {
          if (version) return im.kv.txn(requests::delete_if_mod_revision(sync_path(), *version)).succeeded;
          DeleteRangeRequest request;
          request.key = sync_path();
          im.kv.delete_range(request);
          return true;
        },
        im.log);
  });
}

bool Etcd3::do_write_status(const std::string& value) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "write_status", false, [&] {
    im.kv.put(requests::put(status_path(), value));
    return true;
  });
}

bool Etcd3::do_write_failsafe(const std::string& value) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "write_failsafe", false, [&] {
    im.kv.put(requests::put(failsafe_path(), value));
    return true;
  });
}

bool Etcd3::do_write_leader_optime(const std::string& value) {
  auto& im = *impl_;
  return detail::catch_etcd_errors(im.failures, "write_leader_optime", false, [&] {
    im.kv.put(requests::put(leader_optime_path(), value));
    return true;
  });
}

bool Etcd3::do_watch(std::optional<std::int64_t> leader_version, milliseconds timeout) {
  auto& im = *impl_;
  // The next lease refresh sends a keepalive whatever the throttle says: at least one per cycle.
  im.lease.reset_throttle();
  std::unique_lock lock(im.wake_mutex);
  if (im.skip_next_watch) {
    // After a ttl change the HA loop runs again at once, so the new lease is bound quickly.
    im.skip_next_watch = false;
    return true;
  }
  if (leader_version) timeout += kFollowerWatchExtra;
  im.wake_cv.wait_for(lock, timeout, [&] { return im.woken; });
  return std::exchange(im.woken, false);
}

void Etcd3::on_ttl_changed(std::chrono::seconds ttl) {
  // The cache's liveness probe is scaled to the ttl: a frozen member is still given up on well
  // inside the new ttl.
  if (impl_->cache) impl_->cache->impl().set_probe_interval(Impl::probe_interval_for(ttl));
  // The next refresh grants a lease with the new ttl; update_leader then re-binds the leader key.
  impl_->lease.forget();
  std::lock_guard lock(impl_->wake_mutex);
  impl_->skip_next_watch = true;
}

void Etcd3::on_retry_timeout_changed(std::chrono::seconds retry_timeout) {
  impl_->client->set_retry_timeout(retry_timeout);
}

}  // namespace dcs::etcd3
