#include "ha_daemon/ha_node.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "common/iso8601.hpp"
#include "dcs/errors.hpp"

namespace dcs_examples {
namespace {

using dcs::Cluster;
using dcs::LogLevel;
using dcs::Member;
using dcs::MemberPtr;
using nlohmann::json;

// The Patroni release whose key formats the daemon writes (role "primary", sync with quorum).
// Patroni members compare this to choose formats (e.g. the legacy optime key below 2.1.0).
constexpr const char* kPatroniFormatVersion = "4.0.0";
// Where a fresh cluster's fake WAL starts (what initdb leaves behind, roughly).
constexpr std::int64_t kInitialLsn = 0x3000000;
// Patroni's default maximum_lag_on_failover.
constexpr std::int64_t kDefaultMaximumLag = 1048576;

bool truthy(const json* value) {
  if (value == nullptr || value->is_null()) return false;
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_number_integer()) return value->get<long long>() != 0;
  if (value->is_string()) {
    const auto text = value->get<std::string>();
    return text == "on" || text == "true" || text == "yes" || text == "1";
  }
  return false;
}

const json* config_value(const Cluster& cluster, const char* key) {
  if (!cluster.config || !cluster.config->data.is_object()) return nullptr;
  const auto it = cluster.config->data.find(key);
  return it == cluster.config->data.end() ? nullptr : &*it;
}

std::optional<std::int64_t> sync_version(const Cluster& cluster) {
  if (cluster.sync.version == 0) return std::nullopt;
  return cluster.sync.version;
}

std::int64_t member_timeline(const Member& member) {
  const auto it = member.data.find("timeline");
  if (it != member.data.end() && it->is_number_integer()) return it->get<std::int64_t>();
  return 0;
}

std::string make_sysid(double now) {
  // Like PostgreSQL's system identifier: creation time in the high bits.
  const auto seconds = static_cast<std::uint64_t>(now);
  const auto micros = static_cast<std::uint64_t>((now - std::floor(now)) * 1e6);
  return std::to_string((seconds << 32) | (micros << 12) | 0x5a5);
}

}  // namespace

HaNode::HaNode(dcs::AbstractDCS& dcs, NodeSettings settings, EventSink on_event)
    : dcs_(dcs), settings_(std::move(settings)), on_event_(std::move(on_event)) {
  if (!settings_.unix_time) settings_.unix_time = &unix_now;
}

json HaNode::member_data() const {
  json data = {{"conn_url", settings_.conn_url},
               {"api_url", settings_.api_url},
               {"state", state_},
               {"role", std::string(to_string(role_))},
               {"version", kPatroniFormatVersion}};
  if (role_ != Role::uninitialized) {
    data["timeline"] = timeline_;
    data["xlog_location"] = lsn_;
  }
  if (role_ == Role::replica && state_ == "running") data["replication_state"] = "streaming";
  if (settings_.tags.is_object() && !settings_.tags.empty()) data["tags"] = settings_.tags;
  return data;
}

std::string HaNode::run_cycle() {
  try {
    cluster_ = dcs_.get_cluster();
  } catch (const dcs::Error& e) {
    cluster_.reset();
    return handle_dcs_error(e.what());
  }
  std::string result;
  try {
    result = cycle(*cluster_);
  } catch (const dcs::Error& e) {
    return handle_dcs_error(e.what());
  }
  // As Patroni's `finally: touch_member()`: the member key tells the others where we stand.
  touch_member();
  return result;
}

bool HaNode::watch(std::chrono::milliseconds timeout) {
  // A follower watches the leader key's version: its deletion or expiry ends the wait at once.
  std::optional<std::int64_t> leader_version;
  if (cluster_ && cluster_->leader && cluster_->leader_name() != settings_.name) {
    leader_version = cluster_->leader->version;
  }
  try {
    return dcs_.watch(leader_version, timeout);
  } catch (const dcs::Error& e) {
    log(LogLevel::warning, std::string("watch failed: ") + e.what());
    return false;
  }
}

void HaNode::shutdown() {
  try {
    if (role_ == Role::primary) {
      // "Stop PostgreSQL", then hand the key over at once instead of letting it expire.
      role_ = Role::replica;
      state_ = "stopped";
      std::optional<dcs::Leader> leader;
      if (cluster_ && cluster_->leader && cluster_->leader_name() == settings_.name) leader = cluster_->leader;
      if (!leader && has_lock_) {
        leader.emplace();
        leader->member = dcs::Member{0, settings_.name, 0, nlohmann::json::object()};
      }
      if (leader) {
        // Stepped down before the key goes: a successor may hold it a millisecond after the
        // delete, before this member could say anything.
        emit("demoted");
        dcs_.delete_leader(leader, lsn_);
        log(LogLevel::info, "Leader key released");
        has_lock_ = false;
        emit("released");
      }
    } else {
      state_ = "stopped";
    }
    touch_member();
  } catch (const dcs::Error& e) {
    log(LogLevel::error, std::string("shutdown: ") + e.what());
  }
}

std::string HaNode::cycle(const Cluster& cluster) {
  if (!cluster.has_member(settings_.name)) touch_member();
  if (role_ == Role::uninitialized) return bootstrap_or_clone(cluster);

  // A replica has replayed everything the leader published.
  if (role_ == Role::replica) {
    lsn_ = std::max(lsn_, cluster.last_lsn());
    if (cluster.leader && cluster.leader_name() != settings_.name) {
      timeline_ = std::max(timeline_, member_timeline(*cluster.leader->member));
    }
    timeline_ = std::max(timeline_, cluster.timeline());
  }
  if (cluster.is_unlocked()) return process_unhealthy_cluster(cluster);
  return process_healthy_cluster(cluster);
}

std::string HaNode::bootstrap_or_clone(const Cluster& cluster) {
  if (!cluster.initialize && cluster.is_unlocked()) {
    if (nofailover()) return "waiting for a leader to bootstrap (nofailover tag)";
    if (!dcs_.initialize(true, "")) return "failed to acquire initialize lock";
    // The "initdb" of the fake database.
    sysid_ = make_sysid(settings_.unix_time());
    role_ = Role::primary;
    state_ = "running";
    timeline_ = 1;
    lsn_ = kInitialLsn;
    dcs_.initialize(false, sysid_);
    if (dcs_.set_config_value(dcs::to_patroni_json(settings_.bootstrap_config))) {
      trace("config_written", {{"value", settings_.bootstrap_config}});
    }
    // take_leader() sends no keepalive: the lease is the one obtained at start-up, moments ago.
    const double since = settings_.unix_time();
    if (!dcs_.take_leader()) {
      dcs_.cancel_initialization();
      role_ = Role::uninitialized;
      state_ = "stopped";
      return "bootstrap failed: could not take the leader key";
    }
    has_lock_ = true;
    emit("acquired", acquired_details(since, settings_.unix_time(), nullptr));
    return "initialized a new cluster";
  }
  if (cluster.leader && cluster.initialize && !cluster.initialize->empty()) {
    // "basebackup" from the leader: a replica at the leader's published position.
    sysid_ = *cluster.initialize;
    role_ = Role::replica;
    state_ = "running";
    timeline_ = std::max<std::int64_t>({1, member_timeline(*cluster.leader->member), cluster.timeline()});
    // Right after bootstrap the leader has published its position only in its member key.
    lsn_ = std::max(cluster.last_lsn(), cluster.leader->member->lsn().value_or(0));
    return "created a replica from the leader " + cluster.leader_name();
  }
  return "waiting for leader to bootstrap";
}

std::string HaNode::process_unhealthy_cluster(const Cluster& cluster) {
  if (!is_healthiest_node(cluster)) {
    return follow("following a different leader because i am not the healthiest node");
  }
  has_lock_ = false;  // no leader key in this view: whatever we held is gone
  const double since = settings_.unix_time();
  bool won = false;
  try {
    won = dcs_.attempt_to_acquire_leader();
  } catch (const dcs::DCSError&) {
    trace("race_error", {{"since", since}});  // the key may be ours all the same
    throw;
  }
  const double won_at = settings_.unix_time();
  if (!won) {
    has_lock_ = false;
    return follow("following new leader after trying and failing to obtain lock");
  }
  // Before anything else can fail: from here on we hold the key.
  trace("race_won", {{"since", since}, {"won_at", won_at}, {"ttl", dcs_.ttl().count()}});
  if (cluster.failover) {
    log(LogLevel::info, "Cleaning up failover key after acquiring leader lock...");
    dcs_.manual_failover("", "");
  }
  cluster_ = dcs_.get_cluster();
  // Set only once "acquired" is certain to be reported: when a DCS error ends this cycle first,
  // the next one finds the key ours and reports it from process_healthy_cluster.
  has_lock_ = true;
  const std::string message = enforce_primary_role(*cluster_, "acquired session lock as a leader");
  emit("acquired", acquired_details(since, won_at, cluster_.get()));
  return message;
}

std::string HaNode::process_healthy_cluster(const Cluster& cluster) {
  if (cluster.leader_name() != settings_.name) {
    has_lock_ = false;
    return follow("no action. I am (" + settings_.name + "), a secondary, and following a leader (" +
                  cluster.leader_name() + ")");
  }
  const bool had_lock = has_lock_;
  if (role_ == Role::primary) lsn_ += settings_.lsn_step;
  const double since = settings_.unix_time();
  bool kept = false;
  try {
    kept = dcs_.update_leader(cluster, role_ == Role::primary ? std::optional<std::int64_t>(lsn_) : std::nullopt);
  } catch (const dcs::DCSError&) {
    if (had_lock) emit("renewed_failed");
    has_lock_ = false;
    throw;
  }
  if (!kept) {
    log(LogLevel::error, "failed to update leader lock");
    if (had_lock) emit("renewed_failed");
    has_lock_ = false;
    if (role_ == Role::primary) {
      demote("demoted");
      return "demoted self because failed to update leader lock in DCS";
    }
    return "not promoting because failed to update leader lock in DCS";
  }
  const double kept_at = settings_.unix_time();
  has_lock_ = true;
  trace("renewed",
        {{"since", since}, {"ttl", dcs_.ttl().count()}, {"revision", cluster.leader ? cluster.leader->version : 0}});
  // A leader makes sure the cluster-wide keys exist (Patroni does this at the top of its cycle).
  if ((!cluster.initialize || cluster.initialize->empty()) && !sysid_.empty()) {
    dcs_.initialize(!cluster.initialize.has_value(), sysid_);
  }
  if (!cluster.config || cluster.config->data.empty()) {
    if (dcs_.set_config_value(dcs::to_patroni_json(settings_.bootstrap_config))) {
      trace("config_written", {{"value", settings_.bootstrap_config}});
    }
  }
  if (auto message = process_manual_failover_from_leader(cluster)) return *message;
  std::string message =
      enforce_primary_role(cluster, "no action. I am (" + settings_.name + "), the leader with the lock");
  if (!had_lock) emit("acquired", acquired_details(since, kept_at, &cluster));
  return message;
}

std::optional<std::string> HaNode::process_manual_failover_from_leader(const Cluster& cluster) {
  if (!cluster.failover || cluster.failover->is_empty()) return std::nullopt;
  const dcs::Failover& failover = *cluster.failover;
  const auto clear = [&] { dcs_.manual_failover("", "", "", failover.version); };

  if (!failover.scheduled_at.empty()) {
    const auto at = parse_iso8601(failover.scheduled_at);
    if (!at) {
      log(LogLevel::warning, "Incorrect value of scheduled_at: " + failover.scheduled_at);
      clear();
      return std::nullopt;
    }
    const double delta = *at - settings_.unix_time();
    if (delta > 0) {
      // Patroni sleeps out the last loop_wait; the next cycles come often enough here.
      log(LogLevel::info, "Awaiting failover at " + failover.scheduled_at + " (in " +
                              std::to_string(static_cast<long long>(std::ceil(delta))) + " seconds)");
      return std::nullopt;
    }
    if (delta < -std::floor(static_cast<double>(dcs_.loop_wait().count()) * 1.5)) {
      log(LogLevel::warning, "Found a stale failover value, cleaning up: " + failover.scheduled_at);
      clear();
      return std::nullopt;
    }
    log(LogLevel::info, "Manual scheduled failover at " + failover.scheduled_at);
  }

  if (!failover.leader.empty() && failover.leader != settings_.name) {
    log(LogLevel::warning, "manual failover: leader name does not match: " + failover.leader + " != " + settings_.name);
  } else if (failover.candidate == settings_.name) {
    log(LogLevel::warning, "manual failover: I am already the leader, no need to failover");
  } else {
    std::vector<MemberPtr> members;
    if (synchronous_mode(cluster)) {
      if (!failover.candidate.empty() && !cluster.sync.matches(failover.candidate)) {
        log(LogLevel::warning, "Failover candidate=" + failover.candidate +
                                   " does not match with sync_standbys=" + cluster.sync.sync_standby.value_or(""));
      } else {
        for (const auto& m : cluster.members) {
          if (cluster.sync.matches(m->name)) members.push_back(m);
        }
      }
    } else {
      for (const auto& m : cluster.members) {
        if (failover.candidate.empty() || m->name == failover.candidate) members.push_back(m);
      }
    }
    if (is_failover_possible(cluster, members)) {
      // Graceful demotion: stop being primary, then release the key so the candidate takes it.
      role_ = Role::replica;
      has_lock_ = false;
      // Stepped down before the key goes (the candidate takes it as soon as it sees the delete).
      emit("demoted");
      dcs_.delete_leader(cluster.leader, lsn_);
      dcs_.reset_cluster();
      touch_member();
      log(LogLevel::info, "Leader key released");
      emit("released");
      return "manual failover: demoting myself";
    }
    log(LogLevel::warning, "manual failover: no healthy members found, failover is not possible");
  }
  log(LogLevel::info, "Cleaning up failover key");
  clear();
  return std::nullopt;
}

std::string HaNode::enforce_primary_role(const Cluster& cluster, const std::string& message) {
  if (role_ == Role::primary) {
    process_sync_replication(cluster);
    return message;
  }
  if (synchronous_mode(cluster)) {
    // No standby is synchronous yet: we alone are the source of truth until one is picked.
    if (!dcs_.write_sync_state(settings_.name, {}, 0, sync_version(cluster))) {
      return "Postponing promotion because synchronous replication state was updated by somebody else";
    }
  }
  promote(cluster);
  return "promoted self to leader by acquiring session lock";
}

std::string HaNode::follow(const std::string& message) {
  if (role_ == Role::primary) {
    demote("demoted");
    return "demoting self because I do not have the lock and I was a leader";
  }
  return message;
}

std::string HaNode::handle_dcs_error(const std::string& what) {
  log(LogLevel::error, "Error communicating with DCS: " + what);
  if (role_ == Role::primary) {
    // Without the DCS nobody can tell whether another member took over: stop accepting writes.
    demote("demoted");
    return "demoted self because DCS is not accessible and I was a leader";
  }
  return "DCS is not accessible";
}

bool HaNode::is_healthiest_node(const Cluster& cluster) const {
  if (role_ == Role::primary) return true;
  if (nofailover()) return false;
  const bool sync_mode = synchronous_mode(cluster);
  if (cluster.failover && !cluster.failover->is_empty()) {
    // In a switchover under synchronous mode only the sync standbys (and the old leader) race.
    if (sync_mode && !cluster.failover->leader.empty() && !cluster.sync.matches(settings_.name)) return false;
    if (const auto verdict = manual_failover_process_no_leader(cluster)) return *verdict;
  }
  std::vector<MemberPtr> members;
  if (sync_mode && !cluster.sync.is_empty()) {
    // Only the last primary and its sync standby may promote: nobody else is known to have
    // every acknowledged commit.
    if (!cluster.sync.matches(settings_.name, true)) return false;
    for (const auto& m : cluster.members) {
      if (cluster.sync.matches(m->name, true)) members.push_back(m);
    }
  } else {
    members = cluster.members.items();
  }

  if (cluster.last_lsn() - lsn_ > maximum_lag_on_failover(cluster)) {
    log(LogLevel::info, "My wal position exceeds maximum replication lag");
    return false;
  }
  for (const auto& m : members) {
    if (m->name == settings_.name || m->nofailover() || !m->is_running()) continue;
    if (m->is_primary()) {
      log(LogLevel::warning, "Primary (" + m->name + ") is still alive");
      return false;
    }
    const auto their = m->lsn();
    if (their && lsn_ < *their) {
      if (!sync_mode || cluster.sync.leader != m->name) {
        log(LogLevel::info, "Wal position of " + m->name + " is ahead of my wal position");
        return false;
      }
    }
  }
  return true;
}

std::optional<bool> HaNode::manual_failover_process_no_leader(const Cluster& cluster) const {
  const dcs::Failover& failover = *cluster.failover;
  if (!failover.candidate.empty()) {
    if (failover.candidate == settings_.name) return true;
    if (synchronous_mode(cluster) && !cluster.sync.matches(settings_.name)) return false;
    const auto candidate = cluster.get_member(failover.candidate, false);
    if (candidate && is_member_healthy(*candidate)) {
      log(LogLevel::info, "manual failover: to " + failover.candidate + ", i am " + settings_.name);
      return false;
    }
    log(LogLevel::warning, "manual failover: member " + failover.candidate + " is not healthy");
  }
  std::vector<MemberPtr> members;
  if (!failover.leader.empty() && failover.leader == settings_.name) {
    // The old leader races only when nobody else can take over.
    for (const auto& m : cluster.members) {
      if (m->name != failover.candidate && m->name != failover.leader) members.push_back(m);
    }
    return !is_failover_possible(cluster, members);
  }
  for (const auto& m : cluster.members) {
    if (m->name != failover.leader) members.push_back(m);
  }
  for (const auto& m : members) {
    if (m->name == settings_.name || m->nofailover() || !m->is_running()) continue;
    if (m->is_primary()) return false;
    if (const auto their = m->lsn(); their && lsn_ < *their) return false;
  }
  return true;
}

bool HaNode::is_failover_possible(const Cluster& cluster, const std::vector<MemberPtr>& members) const {
  const std::int64_t max_lag = maximum_lag_on_failover(cluster);
  for (const auto& m : members) {
    if (m->name == settings_.name || !is_member_healthy(*m)) continue;
    const auto lsn = m->lsn();
    if (!lsn) {
      log(LogLevel::info, "Member " + m->name + " does not report wal_position");
    } else if (cluster.last_lsn() - *lsn > max_lag) {
      log(LogLevel::info, "Member " + m->name + " exceeds maximum replication lag");
    } else {
      return true;
    }
  }
  return false;
}

bool HaNode::is_member_healthy(const Member& member) const {
  return member.is_running() && !member.nofailover();
}

bool HaNode::synchronous_mode(const Cluster& cluster) const {
  return truthy(config_value(cluster, "synchronous_mode"));
}

std::int64_t HaNode::maximum_lag_on_failover(const Cluster& cluster) const {
  const json* value = config_value(cluster, "maximum_lag_on_failover");
  if (value != nullptr && value->is_number_integer()) return value->get<std::int64_t>();
  return kDefaultMaximumLag;
}

void HaNode::promote(const Cluster& cluster) {
  const std::int64_t old_timeline = std::max<std::int64_t>({1, timeline_, cluster.timeline()});
  json lines = cluster.history && cluster.history->lines.is_array() ? cluster.history->lines : json::array();
  lines.push_back(
      {old_timeline, lsn_, "no recovery target specified", format_iso8601_utc(settings_.unix_time()), settings_.name});
  role_ = Role::primary;
  state_ = "running";
  timeline_ = old_timeline + 1;
  dcs_.set_history_value(dcs::to_patroni_json(lines));
  log(LogLevel::info, "promoted to primary on timeline " + std::to_string(timeline_));
}

void HaNode::demote(const std::string& event) {
  role_ = Role::replica;
  has_lock_ = false;
  log(LogLevel::warning, "demoted to replica");
  emit(event);
}

void HaNode::process_sync_replication(const Cluster& cluster) {
  if (!synchronous_mode(cluster)) {
    if (!cluster.sync.is_empty() && dcs_.delete_sync_state(sync_version(cluster))) {
      log(LogLevel::info, "Disabled synchronous replication");
    }
    return;
  }
  std::vector<std::string> candidates;
  for (const auto& m : cluster.members) {
    if (m->name == settings_.name || !m->is_running() || m->is_primary()) continue;
    const json tags = m->tags();
    const auto nosync = tags.find("nosync");
    if (nosync != tags.end() && truthy(&*nosync)) continue;
    candidates.push_back(m->name);
  }
  const std::vector<std::string> current =
      cluster.sync.is_empty() ? std::vector<std::string>{} : cluster.sync.members();
  std::vector<std::string> picked;
  for (const auto& name : current) {
    if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) {
      picked.push_back(name);  // keep the standby we have: no needless churn
      break;
    }
  }
  if (picked.empty() && !candidates.empty()) picked.push_back(candidates.front());
  const bool same = cluster.sync.leader == settings_.name && std::set<std::string>(current.begin(), current.end()) ==
                                                                 std::set<std::string>(picked.begin(), picked.end());
  if (same) return;
  if (dcs_.write_sync_state(settings_.name, picked, 0, sync_version(cluster))) {
    log(LogLevel::info, picked.empty() ? std::string("No synchronous standby available")
                                       : "Synchronous standby status assigned to " + picked.front());
  } else {
    log(LogLevel::info, "Synchronous replication key updated by someone else");
  }
}

void HaNode::touch_member() {
  const json data = member_data();
  if (!dcs_.touch_member(data)) {
    log(LogLevel::warning, "could not update the member key");
    return;
  }
  trace("member_written", {{"data", data}});
}

void HaNode::emit(const std::string& event, json details) {
  if (!on_event_) return;
  on_event_(RoleEvent{settings_.unix_time(), settings_.name, event, role_, timeline_, std::move(details)});
}

void HaNode::trace(const std::string& event, json details) {
  if (settings_.trace) emit(event, std::move(details));
}

json HaNode::acquired_details(double since, double won_at, const Cluster* cluster) const {
  if (!settings_.trace) return json::object();
  const bool ours = cluster != nullptr && cluster->leader && cluster->leader_name() == settings_.name;
  return {{"since", since},
          {"won_at", won_at},
          {"ttl", dcs_.ttl().count()},
          {"revision", ours ? cluster->leader->version : 0}};
}

void HaNode::log(LogLevel level, const std::string& message) const {
  if (!settings_.log) return;
  try {
    settings_.log(level, "ha", message);
  } catch (...) {
    // Logging never changes a decision.
  }
}

bool HaNode::nofailover() const {
  if (!settings_.tags.is_object()) return false;
  const auto it = settings_.tags.find("nofailover");
  return it != settings_.tags.end() && truthy(&*it);
}

}  // namespace dcs_examples
