// The backend-neutral half of the DCS layer (Patroni's AbstractDCS): key paths, the ttl-long
// cached cluster view, and the wrappers that shape what is stored (status, failsafe, sync,
// failover) and skip writes that would change nothing. Backends only move bytes (the do_* hooks).
//
// Locking: mutex_ guards the cached view, the timings and the change-detection state. It is
// never held while a hook runs, so a slow store cannot block readers of cluster(), and a hook may
// call back into the public API.
#include "dcs/abstract_dcs.hpp"

#include <algorithm>
#include <exception>

#include "dcs/errors.hpp"
#include "log.hpp"
#include "model/patroni_json.hpp"

namespace dcs {

namespace {

constexpr const char* kOptime = "optime";

std::string collapse_slashes(const std::string& path) {
  std::string out;
  for (char c : path)
    if (c != '/' || out.empty() || out.back() != '/') out += c;
  return out;
}

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

/// What get_cluster remembers of the stored status for change detection: the optime, plus slots
/// and retain_slots when they hold something (so an empty list does not force a rewrite).
nlohmann::json remembered_status(const Status& status) {
  nlohmann::json out = nlohmann::json::object();
  out[kOptime] = status.last_lsn;
  if (status.slots && !status.slots->empty()) out["slots"] = *status.slots;
  if (!status.retain_slots.empty()) out["retain_slots"] = status.retain_slots;
  return out;
}

}  // namespace

AbstractDCS::AbstractDCS(DCSSettings settings)
    : settings_(std::move(settings)),
      clock_(settings_.clock ? settings_.clock : steady_clock()),
      base_path_(collapse_slashes("/" + settings_.namespace_ + "/" + settings_.scope)),
      ttl_(settings_.ttl),
      loop_wait_(settings_.loop_wait),
      retry_timeout_(settings_.retry_timeout),
      // Patroni starts from {}: an empty failsafe is not written before the first read.
      last_failsafe_(nlohmann::json::object()) {}

const nlohmann::json& AbstractDCS::remembered_status_locked() {
  if (status_from_last_loaded_ && last_loaded_) last_status_ = remembered_status(last_loaded_->status);
  status_from_last_loaded_ = false;
  return last_status_;
}

// Position by position: the same member object (members are immutable and shared between
// views) keeps what its version said; any other is parsed, and the count of old ones follows.
// The memo only watches the objects (weak references), so no member outlives its views because
// of it. A member joining or leaving shifts the positions after it: those are parsed once more.
bool AbstractDCS::has_pre_2_1_member_locked(const Cluster& view) {
  const auto same_object = [](const std::weak_ptr<const Member>& seen, const MemberPtr& member) {
    return !seen.owner_before(member) && !member.owner_before(seen);
  };
  const std::size_t count = view.members.size();
  for (std::size_t i = count; i < member_ages_.size(); ++i) pre_2_1_members_ -= member_ages_[i].pre_2_1;
  member_ages_.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& member = view.members[i];
    auto& age = member_ages_[i];
    if (same_object(age.member, member)) continue;
    pre_2_1_members_ -= age.pre_2_1;
    const auto version = member->patroni_version();
    age.member = member;
    age.pre_2_1 = version && *version < std::array<int, 3>{2, 1, 0};
    pre_2_1_members_ += age.pre_2_1;
  }
  return pre_2_1_members_ > 0;
}

AbstractDCS::~AbstractDCS() = default;

std::string AbstractDCS::client_path(std::string_view path) const {
  std::string out = base_path_;
  if (settings_.citus_group) out += "/" + std::to_string(*settings_.citus_group);
  out += '/';
  const auto first = path.find_first_not_of('/');
  if (first != std::string_view::npos) out += path.substr(first);
  return out;
}

std::string AbstractDCS::cluster_prefix() const {
  return is_citus_coordinator() ? base_path_ + "/" : client_path("");
}

std::chrono::seconds AbstractDCS::ttl() const {
  std::lock_guard lock(mutex_);
  return ttl_;
}

std::chrono::seconds AbstractDCS::loop_wait() const {
  std::lock_guard lock(mutex_);
  return loop_wait_;
}

std::chrono::seconds AbstractDCS::retry_timeout() const {
  std::lock_guard lock(mutex_);
  return retry_timeout_;
}

void AbstractDCS::log(LogLevel level, std::string_view message) const {
  detail::Logger(settings_.log_sink, "dcs")(level, std::string(message));
}

// --- reads ---------------------------------------------------------------------------------------

std::shared_ptr<const Cluster> AbstractDCS::load_cluster(const std::shared_ptr<const Cluster>& previous) {
  if (is_citus_coordinator()) {
    // The coordinator reads every group at once: its own is group 0, the others are workers.
    const auto prefix = base_path_ + "/";
    return std::make_shared<const Cluster>(
        Cluster::from_citus_keys(relative_to(load_keys(prefix), prefix), previous.get()));
  }
  const auto prefix = client_path("");
  const auto keys = relative_to(load_keys(prefix), prefix);
  std::unique_lock lock(mutex_);
  if (previous && previous == last_read_view_ && last_read_.matches(keys)) return previous;
  lock.unlock();
  auto view = std::make_shared<const Cluster>(Cluster::from_keys(keys, previous.get()));
  lock.lock();
  last_read_.assign(keys);
  last_read_view_ = view;
  return view;
}

// Only what identifies a value is kept: no per-key allocation survives the read, so a large read
// leaves the heap as it found it, and the two buffers keep their capacity from read to read.
bool AbstractDCS::ReadFingerprint::matches(const std::vector<StoredKey>& keys) const {
  if (stamps.size() != 2 * keys.size()) return false;
  std::string_view rest = names;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& key = keys[i];
    // A version 0 does not identify a value: such a read is always built.
    if (key.version == 0 || key.version != stamps[2 * i] || key.session != stamps[2 * i + 1]) return false;
    if (!rest.starts_with(key.key) || rest.size() == key.key.size() || rest[key.key.size()] != '\0') return false;
    rest.remove_prefix(key.key.size() + 1);
  }
  return true;
}

void AbstractDCS::ReadFingerprint::assign(const std::vector<StoredKey>& keys) {
  names.clear();
  stamps.clear();
  stamps.reserve(2 * keys.size());
  for (const auto& key : keys) {
    names.append(key.key).push_back('\0');
    stamps.push_back(key.version);
    stamps.push_back(key.session);
  }
}

std::shared_ptr<const Cluster> AbstractDCS::get_cluster() {
  std::shared_ptr<const Cluster> cluster;
  std::shared_ptr<const Cluster> previous;
  {
    std::lock_guard lock(mutex_);
    previous = last_loaded_;
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

  if (cluster == previous) {
    // A cache handed out the view we already hold: the status and failsafe remembered from it
    // (or written since) are still right, and re-deriving them would only cost allocations.
    std::lock_guard lock(mutex_);
    cluster_ = cluster;
    cluster_valid_till_ = clock_->now() + ttl_;
    return cluster;
  }
  std::lock_guard lock(mutex_);
  cluster_ = cluster;
  last_loaded_ = cluster;
  cluster_valid_till_ = clock_->now() + ttl_;
  // Nothing is copied: the status is derived from the view when a write needs it, and the
  // failsafe is the view's own (shared) object.
  status_from_last_loaded_ = true;
  last_failsafe_ = cluster->failsafe;
  return cluster;
}

const std::shared_ptr<const Cluster>* AbstractDCS::valid_cluster_locked() const {
  return cluster_ && cluster_valid_till_ > clock_->now() ? &cluster_ : nullptr;
}

std::shared_ptr<const Cluster> AbstractDCS::cluster() const {
  std::lock_guard lock(mutex_);
  const auto* view = valid_cluster_locked();
  return view ? *view : nullptr;
}

void AbstractDCS::reset_cluster() {
  std::lock_guard lock(mutex_);
  cluster_.reset();
  cluster_valid_till_ = {};
}

std::shared_ptr<const Cluster> AbstractDCS::get_citus_coordinator() {
  const auto prefix = base_path_ + "/0/";
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
    std::lock_guard lock(mutex_);
    // A caller that only knows the optime (delete_leader, write_leader_optime) keeps the slots
    // the store already has.
    const auto& remembered = remembered_status_locked();
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
    std::lock_guard lock(mutex_);
    last_status_ = status;
    status_from_last_loaded_ = false;
  }

  // Members older than Patroni 2.1.0 only read optime/leader: keep it up to date while one is
  // around.
  bool legacy_reader = false;
  {
    std::lock_guard lock(mutex_);
    if (const auto* view = valid_cluster_locked()) legacy_reader = has_pre_2_1_member_locked(**view);
  }
  if (!legacy_reader) return;
  const auto optime = status.find(kOptime);
  if (optime == status.end() || !optime->is_number_integer()) return;
  const auto lsn = model::python_int(*optime);
  if (!lsn) return;
  {
    std::lock_guard lock(mutex_);
    if (last_leader_optime_.value_or(0) == *lsn) return;
    last_leader_optime_ = *lsn;
  }
  do_write_leader_optime(std::to_string(*lsn));
}

void AbstractDCS::write_failsafe(const nlohmann::json& value) {
  bool unchanged = false;
  {
    std::lock_guard lock(mutex_);
    unchanged = last_failsafe_ && last_failsafe_->is_object() && deep_compare(*last_failsafe_, value);
  }
  if (!unchanged && do_write_failsafe(to_patroni_json(value))) {
    std::lock_guard lock(mutex_);
    last_failsafe_ = value;
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
    std::lock_guard lock(mutex_);
    if (ttl_ == ttl) return;
    ttl_ = ttl;
  }
  on_ttl_changed(ttl);
}

void AbstractDCS::set_loop_wait(std::chrono::seconds loop_wait) {
  std::lock_guard lock(mutex_);
  loop_wait_ = loop_wait;
}

void AbstractDCS::set_retry_timeout(std::chrono::seconds retry_timeout) {
  {
    std::lock_guard lock(mutex_);
    if (retry_timeout_ == retry_timeout) return;
    retry_timeout_ = retry_timeout;
  }
  on_retry_timeout_changed(retry_timeout);
}

}  // namespace dcs
