// The backend-neutral half of the DCS layer (Patroni's AbstractDCS): key paths, the ttl-long
// cached cluster view, and the wrappers that shape what is stored (status, failsafe, sync,
// failover) and skip writes that would change nothing. Backends only move bytes (the do_* hooks).
//
// Locking: the state's mutex guards the cached view, the timings and the change-detection state
// (abstract_dcs_state.hpp). It is never held while a hook runs, so a slow store cannot block
// readers of cluster(), and a hook may call back into the public API.
#include "dcs/abstract_dcs.hpp"

#include <algorithm>
#include <exception>

#include "abstract_dcs_state.hpp"
#include "dcs/errors.hpp"
#include "log.hpp"
#include "model/patroni_json.hpp"

namespace dcs {

namespace {

/// Keys under `prefix`, made relative to it; anything else the backend returned is dropped.
std::vector<StoredKey> relative_to(std::vector<StoredKey> keys, const std::string& prefix) {
  // In place: no second vector, no string moved that stays.
  std::erase_if(keys, [&prefix](const StoredKey& key) { return !key.key.starts_with(prefix); });
  for (auto& key : keys) key.key.erase(0, prefix.size());
  return keys;
}

/// The status as written: optime, slots, retain_slots first (Patroni's dict order), then any
/// other key the caller put in.
std::string status_text(const nlohmann::json& status) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const char* name : {kOptime, "slots", "retain_slots"})
    if (const auto it = status.find(name); it != status.end()) out[name] = *it;
  for (auto it = status.begin(); it != status.end(); ++it)
    if (!out.contains(it.key())) out[it.key()] = *it;
  return model::to_patroni_json_ordered(out);
}

}  // namespace

AbstractDCS::AbstractDCS(DCSSettings settings) : state_(std::make_unique<State>(std::move(settings))) {}

AbstractDCS::~AbstractDCS() = default;

const std::string& AbstractDCS::base_path() const noexcept {
  return state_->base_path;
}
const DCSSettings& AbstractDCS::settings() const noexcept {
  return state_->settings;
}
const Clock& AbstractDCS::clock() const noexcept {
  return *state_->clock;
}
const std::string& AbstractDCS::name() const noexcept {
  return state_->settings.name;
}
const std::string& AbstractDCS::scope() const noexcept {
  return state_->settings.scope;
}
std::optional<int> AbstractDCS::citus_group() const noexcept {
  return state_->settings.citus_group;
}
bool AbstractDCS::is_citus_coordinator() const noexcept {
  return state_->settings.citus_group == 0;
}
std::string AbstractDCS::member_path() const {
  return client_path("members/" + state_->settings.name);
}

std::string AbstractDCS::client_path(std::string_view path) const {
  std::string out = state_->base_path;
  if (state_->settings.citus_group) out += "/" + std::to_string(*state_->settings.citus_group);
  out += '/';
  const auto first = path.find_first_not_of('/');
  if (first != std::string_view::npos) out += path.substr(first);
  return out;
}

std::string AbstractDCS::cluster_prefix() const {
  return is_citus_coordinator() ? state_->base_path + "/" : client_path("");
}

std::chrono::seconds AbstractDCS::ttl() const {
  std::lock_guard lock(state_->mutex);
  return state_->ttl;
}

std::chrono::seconds AbstractDCS::loop_wait() const {
  std::lock_guard lock(state_->mutex);
  return state_->loop_wait;
}

std::chrono::seconds AbstractDCS::retry_timeout() const {
  std::lock_guard lock(state_->mutex);
  return state_->retry_timeout;
}

void AbstractDCS::log(LogLevel level, std::string_view message) const {
  detail::Logger(state_->settings.log_sink, "dcs")(level, std::string(message));
}

// --- reads ---------------------------------------------------------------------------------------

std::shared_ptr<const Cluster> AbstractDCS::load_cluster(const std::shared_ptr<const Cluster>& previous) {
  if (is_citus_coordinator()) {
    // The coordinator reads every group at once: its own is group 0, the others are workers.
    const auto prefix = state_->base_path + "/";
    return std::make_shared<const Cluster>(
        Cluster::from_citus_keys(relative_to(load_keys(prefix), prefix), previous.get()));
  }
  const auto prefix = client_path("");
  const auto keys = relative_to(load_keys(prefix), prefix);
  std::unique_lock lock(state_->mutex);
  if (previous && previous == state_->last_read_view && state_->last_read.matches(keys)) return previous;
  lock.unlock();
  auto view = std::make_shared<const Cluster>(Cluster::from_keys(keys, previous.get()));
  lock.lock();
  state_->last_read.assign(keys);
  state_->last_read_view = view;
  return view;
}

std::shared_ptr<const Cluster> AbstractDCS::get_cluster() {
  std::shared_ptr<const Cluster> cluster;
  std::shared_ptr<const Cluster> previous;
  {
    std::lock_guard lock(state_->mutex);
    previous = state_->last_loaded;
  }
  try {
    cluster = load_cluster(previous);
  } catch (const Error&) {
    // A view we could not refresh must not be trusted for another ttl.
    reset_cluster();
    throw;
  } catch (const std::exception& e) {
    reset_cluster();
    log(LogLevel::error, std::string("get_cluster: ") + e.what());
    throw DCSError("unexpected error");
  } catch (...) {
    reset_cluster();
    throw DCSError("unexpected error");
  }

  std::lock_guard lock(state_->mutex);
  state_->cluster = cluster;
  state_->cluster_valid_till = state_->clock->now() + state_->ttl;
  // A cache handed out the view we already hold: the status and failsafe remembered from it
  // (or written since) are still right, and re-deriving them would only cost allocations.
  if (cluster == previous) return cluster;
  state_->last_loaded = cluster;
  // Nothing is copied: the status is derived from the view when a write needs it, and the
  // failsafe is the view's own (shared) object.
  state_->status_from_last_loaded = true;
  state_->last_failsafe = cluster->failsafe;
  return cluster;
}

std::shared_ptr<const Cluster> AbstractDCS::cluster() const {
  std::lock_guard lock(state_->mutex);
  const auto* view = state_->valid_cluster_locked();
  return view ? *view : nullptr;
}

void AbstractDCS::reset_cluster() {
  std::lock_guard lock(state_->mutex);
  state_->cluster.reset();
  state_->cluster_valid_till = {};
}

std::shared_ptr<const Cluster> AbstractDCS::get_citus_coordinator() {
  const auto prefix = state_->base_path + "/0/";
  try {
    return std::make_shared<const Cluster>(Cluster::from_keys(relative_to(load_keys(prefix), prefix)));
  } catch (const std::exception& e) {
    log(LogLevel::error, "Failed to load Citus coordinator cluster from " + prefix + ": " + e.what());
  } catch (...) {
    log(LogLevel::error, "Failed to load Citus coordinator cluster from " + prefix);
  }
  return nullptr;
}

// --- leader --------------------------------------------------------------------------------------

bool AbstractDCS::attempt_to_acquire_leader() {
  return do_attempt_to_acquire_leader();
}

bool AbstractDCS::take_leader() {
  return do_take_leader();
}

bool AbstractDCS::update_leader(const Cluster& cluster, std::optional<std::int64_t> last_lsn,
                                std::optional<Slots> slots, std::optional<nlohmann::json> failsafe,
                                std::optional<std::vector<std::string>> retain_slots) {
  const bool updated = do_update_leader(cluster.leader ? &*cluster.leader : nullptr);
  if (updated && last_lsn && *last_lsn != 0) {
    // Explicit nulls (not absent keys): write_status then drops them instead of carrying the
    // previous slots over, which is how the leader says "no slots any more".
    nlohmann::json status = nlohmann::json::object();
    status[kOptime] = *last_lsn;
    status["slots"] = slots && !slots->empty() ? nlohmann::json(*slots) : nlohmann::json(nullptr);
    status["retain_slots"] =
        retain_slots && !retain_slots->empty() ? nlohmann::json(*retain_slots) : nlohmann::json(nullptr);
    write_status(status);
  }
  if (updated && failsafe && !failsafe->is_null()) write_failsafe(*failsafe);
  return updated;
}

bool AbstractDCS::delete_leader(const std::optional<Leader>& leader, std::optional<std::int64_t> last_lsn) {
  if (last_lsn && *last_lsn != 0) write_status(nlohmann::json{{kOptime, *last_lsn}});
  return leader ? do_delete_leader(*leader) : false;
}

// --- cluster lifecycle ---------------------------------------------------------------------------

bool AbstractDCS::initialize(bool create_new, const std::string& sysid) {
  return do_initialize(create_new, sysid);
}

bool AbstractDCS::cancel_initialization() {
  return do_cancel_initialization();
}

bool AbstractDCS::delete_cluster() {
  return do_delete_cluster();
}

// --- members and values --------------------------------------------------------------------------

bool AbstractDCS::touch_member(const nlohmann::json& data) {
  const auto cached = cluster();  // kept alive while the hook looks at it
  return do_touch_member(data, cached.get());
}

bool AbstractDCS::set_config_value(const std::string& value, std::optional<std::int64_t> version) {
  return do_set_config_value(value, version);
}

bool AbstractDCS::manual_failover(std::string_view leader, std::string_view candidate, std::string_view scheduled_at,
                                  std::optional<std::int64_t> version) {
  return set_failover_value(Failover::value(leader, candidate, scheduled_at), version);
}

bool AbstractDCS::set_failover_value(const std::string& value, std::optional<std::int64_t> version) {
  return do_set_failover_value(value, version);
}

bool AbstractDCS::set_history_value(const std::string& value) {
  return do_set_history_value(value);
}

std::optional<SyncState> AbstractDCS::write_sync_state(const std::optional<std::string>& leader,
                                                       const std::vector<std::string>& sync_standby, int quorum,
                                                       std::optional<std::int64_t> version) {
  const auto value = SyncState::value(leader, sync_standby, quorum);
  const auto revision = set_sync_state_value(value, version);
  if (!revision) return std::nullopt;
  return SyncState::from_node(*revision, value);
}

std::optional<std::int64_t> AbstractDCS::set_sync_state_value(const std::string& value,
                                                              std::optional<std::int64_t> version) {
  return do_set_sync_state_value(value, version);
}

bool AbstractDCS::delete_sync_state(std::optional<std::int64_t> version) {
  return do_delete_sync_state(version);
}

void AbstractDCS::write_status(const nlohmann::json& value) {
  if (!value.is_object()) {
    log(LogLevel::warning, "write_status: the status must be a JSON object, got " + std::string(value.type_name()));
    return;
  }
  nlohmann::json status = value;
  bool changed = false;
  {
    std::lock_guard lock(state_->mutex);
    // A caller that only knows the optime (delete_leader, write_leader_optime) keeps the slots
    // the store already has.
    const auto& remembered = state_->remembered_status_locked();
    for (const char* name : {"slots", "retain_slots"}) {
      if (status.contains(name) || !remembered.is_object()) continue;
      const auto it = remembered.find(name);
      if (it != remembered.end() && model::python_truthy(*it)) status[name] = *it;
    }
    for (auto it = status.begin(); it != status.end();) it = it->is_null() ? status.erase(it) : std::next(it);
    const auto& previous = remembered.is_object() ? remembered : nlohmann::json::object();
    changed = !deep_compare(previous, status);
  }
  if (changed && do_write_status(status_text(status))) {
    std::lock_guard lock(state_->mutex);
    state_->last_status = status;
    state_->status_from_last_loaded = false;
  }

  // Members older than Patroni 2.1.0 only read optime/leader: keep it up to date while one is
  // around.
  bool legacy_reader = false;
  {
    std::lock_guard lock(state_->mutex);
    if (const auto* view = state_->valid_cluster_locked()) legacy_reader = state_->legacy_members.any_in(**view);
  }
  if (!legacy_reader) return;
  const auto optime = status.find(kOptime);
  if (optime == status.end() || !optime->is_number_integer()) return;
  const auto lsn = model::python_int(*optime);
  if (!lsn) return;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->last_leader_optime.value_or(0) == *lsn) return;
    state_->last_leader_optime = *lsn;
  }
  do_write_leader_optime(std::to_string(*lsn));
}

void AbstractDCS::write_failsafe(const nlohmann::json& value) {
  bool unchanged = false;
  {
    std::lock_guard lock(state_->mutex);
    unchanged =
        state_->last_failsafe && state_->last_failsafe->is_object() && deep_compare(*state_->last_failsafe, value);
  }
  if (!unchanged && do_write_failsafe(to_patroni_json(value))) {
    std::lock_guard lock(state_->mutex);
    state_->last_failsafe = value;
  }
}

void AbstractDCS::write_leader_optime(std::int64_t last_lsn) {
  write_status(nlohmann::json{{kOptime, last_lsn}});
}

// --- waiting and timing --------------------------------------------------------------------------

bool AbstractDCS::watch(std::optional<std::int64_t> leader_version, std::chrono::milliseconds timeout) {
  return do_watch(leader_version, timeout);
}

void AbstractDCS::set_ttl(std::chrono::seconds ttl) {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->ttl == ttl) return;
    state_->ttl = ttl;
  }
  on_ttl_changed(ttl);
}

void AbstractDCS::set_loop_wait(std::chrono::seconds loop_wait) {
  std::lock_guard lock(state_->mutex);
  state_->loop_wait = loop_wait;
}

void AbstractDCS::set_retry_timeout(std::chrono::seconds retry_timeout) {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->retry_timeout == retry_timeout) return;
    state_->retry_timeout = retry_timeout;
  }
  on_retry_timeout_changed(retry_timeout);
}

}  // namespace dcs
