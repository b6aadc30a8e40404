// A backend for AbstractDCS tests that stores nothing: it serves the keys a test gives it, throws
// what a test tells it to, and records every hook call and written value, so the tests see
// exactly what the backend-neutral layer asks a real store to do.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dcs/abstract_dcs.hpp"

namespace dcs::testing {

class RecordingDCS final : public AbstractDCS {
 public:
  explicit RecordingDCS(DCSSettings settings) : AbstractDCS(std::move(settings)) {}

  // --- what the store holds and how hooks answer (set before the calls) ----------------------
  void set_keys(std::vector<StoredKey> keys) {
    std::lock_guard lock(recording_mutex_);
    keys_ = std::move(keys);
  }
  void fail_loads_with(std::exception_ptr error) {
    std::lock_guard lock(recording_mutex_);
    load_error_ = std::move(error);
  }
  bool update_leader_result = true;
  bool write_result = true;
  bool delete_leader_result = true;
  std::optional<std::int64_t> sync_revision = 100;
  bool watch_result = false;

  // --- what the layer did --------------------------------------------------------------------
  std::vector<std::string> load_prefixes() const {
    std::lock_guard lock(recording_mutex_);
    return load_prefixes_;
  }
  std::vector<std::string> status_writes() const {
    std::lock_guard lock(recording_mutex_);
    return status_writes_;
  }
  std::vector<std::string> failsafe_writes;
  std::vector<std::string> leader_optime_writes;
  std::vector<std::string> failover_writes;
  std::vector<std::optional<std::int64_t>> failover_versions;
  std::vector<std::string> sync_writes;
  std::vector<std::optional<std::string>> update_leader_calls;  // the leader name passed, or nullopt
  std::vector<std::string> delete_leader_calls;
  std::vector<const Cluster*> touch_member_views;
  std::vector<std::chrono::seconds> ttl_changes;
  std::vector<std::chrono::seconds> retry_timeout_changes;
  std::vector<std::pair<std::optional<std::int64_t>, std::chrono::milliseconds>> watch_calls;

  using AbstractDCS::clock;

 protected:
  std::vector<StoredKey> load_keys(const std::string& prefix) override {
    std::lock_guard lock(recording_mutex_);
    load_prefixes_.push_back(prefix);
    if (load_error_) std::rethrow_exception(load_error_);
    return keys_;
  }
  bool do_attempt_to_acquire_leader() override { return true; }
  bool do_take_leader() override { return true; }
  bool do_update_leader(const Leader* leader) override {
    update_leader_calls.push_back(leader ? std::optional<std::string>(leader->name()) : std::nullopt);
    return update_leader_result;
  }
  bool do_delete_leader(const Leader& leader) override {
    delete_leader_calls.push_back(leader.name());
    return delete_leader_result;
  }
  bool do_initialize(bool, const std::string&) override { return true; }
  bool do_cancel_initialization() override { return true; }
  bool do_delete_cluster() override { return true; }
  bool do_touch_member(const nlohmann::json&, const Cluster* cached) override {
    touch_member_views.push_back(cached);
    return true;
  }
  bool do_set_config_value(const std::string&, std::optional<std::int64_t>) override { return true; }
  bool do_set_failover_value(const std::string& value, std::optional<std::int64_t> version) override {
    failover_writes.push_back(value);
    failover_versions.push_back(version);
    return write_result;
  }
  bool do_set_history_value(const std::string&) override { return true; }
  std::optional<std::int64_t> do_set_sync_state_value(const std::string& value, std::optional<std::int64_t>) override {
    sync_writes.push_back(value);
    return sync_revision;
  }
  bool do_delete_sync_state(std::optional<std::int64_t>) override { return true; }
  bool do_write_status(const std::string& value) override {
    std::lock_guard lock(recording_mutex_);
    status_writes_.push_back(value);
    return write_result;
  }
  bool do_write_failsafe(const std::string& value) override {
    failsafe_writes.push_back(value);
    return write_result;
  }
  bool do_write_leader_optime(const std::string& value) override {
    leader_optime_writes.push_back(value);
    return write_result;
  }
  bool do_watch(std::optional<std::int64_t> leader_version, std::chrono::milliseconds timeout) override {
    watch_calls.emplace_back(leader_version, timeout);
    return watch_result;
  }
  void on_ttl_changed(std::chrono::seconds ttl) override { ttl_changes.push_back(ttl); }
  void on_retry_timeout_changed(std::chrono::seconds retry_timeout) override {
    retry_timeout_changes.push_back(retry_timeout);
  }

 private:
  mutable std::mutex recording_mutex_;  // only what the concurrency test touches from several threads
  std::vector<StoredKey> keys_;
  std::exception_ptr load_error_;
  std::vector<std::string> load_prefixes_;
  std::vector<std::string> status_writes_;
};

/// A ManualClock and settings for member "node1" of cluster "demo" (ttl 30 s).
struct RecordingSetup {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();

  DCSSettings settings(std::optional<int> citus_group = std::nullopt) const {
    DCSSettings s;
    s.scope = "demo";
    s.name = "node1";
    s.ttl = std::chrono::seconds{30};
    s.citus_group = citus_group;
    s.clock = clock;
    return s;
  }
};

}  // namespace dcs::testing
