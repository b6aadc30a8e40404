// What AbstractDCS remembers between calls: its settings and paths, the ttl-long cached view,
// the timings, and the change-detection state of the status / failsafe / legacy optime writes.
//
// Kept out of the public header on purpose: a daemon linked against libdcs.so sees only a
// pointer, so this state can change without changing AbstractDCS's size or layout (a daemon
// that was not rebuilt after such a change used to corrupt its heap).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/abstract_dcs.hpp"

namespace dcs {

/// The status key that holds the leader's LSN (also the legacy optime/leader key's meaning).
inline constexpr const char* kOptime = "optime";

/// What identifies a read's keys: their names, versions and sessions, in order. Idle clusters
/// are read again and again unchanged (members skip writes that would change nothing); a read
/// that matches the last one hands back the view built from it, not a copy of it.
class ReadFingerprint {
 public:
  bool matches(const std::vector<StoredKey>& keys) const;
  void assign(const std::vector<StoredKey>& keys);

 private:
  std::string names_;                 // every name, each followed by a NUL
  std::vector<std::int64_t> stamps_;  // version, session of each key
};

/// Whether a view holds a member running a Patroni older than 2.1.0 (such members only read the
/// legacy optime/leader key). Remembers, position by position, the member object it last saw
/// and whether that one is old, plus how many are: a busy cluster rewrites a member or two
/// between status writes, and every other member then costs one identity check.
class LegacyMemberCount {
 public:
  bool any_in(const Cluster& view);

 private:
  /// A member object (watched, not kept) and whether its version is older than 2.1.0.
  struct Age {
    std::weak_ptr<const Member> member;
    bool pre_2_1 = false;
  };
  std::vector<Age> ages_;
  std::size_t pre_2_1_ = 0;
};

// Hidden: AbstractDCS is exported and its nested types would be too; nothing outside the library
// names this one.
struct __attribute__((visibility("hidden"))) AbstractDCS::State {
  explicit State(DCSSettings settings_in);

  /// The view cluster() hands out while it is valid, else null. Needs mutex.
  const std::shared_ptr<const Cluster>* valid_cluster_locked() const;
  /// The status last read or written, derived now if it was marked from a read. Needs mutex.
  const nlohmann::json& remembered_status_locked();

  const DCSSettings settings;
  const std::shared_ptr<const Clock> clock;
  const std::string base_path;

  mutable std::mutex mutex;  // guards everything below: get_cluster may run on several threads
  std::chrono::seconds ttl;
  std::chrono::seconds loop_wait;
  std::chrono::seconds retry_timeout;
  std::shared_ptr<const Cluster> cluster;
  std::shared_ptr<const Cluster> last_loaded;  // survives reset_cluster: members to reuse
  Clock::time_point cluster_valid_till{};
  // The last status read or written (null: none). A read only marks it as last_loaded's: the
  // JSON is derived when a status write first needs it, so reads that write nothing (patronictl)
  // never build it.
  nlohmann::json last_status;
  bool status_from_last_loaded = false;       // last_status is still to be derived from last_loaded
  SharedValue<nlohmann::json> last_failsafe;  // last failsafe read or written (empty: none)
  std::optional<std::int64_t> last_leader_optime;
  LegacyMemberCount legacy_members;
  // The keys the default load_cluster last built `last_read_view` from.
  ReadFingerprint last_read;
  std::shared_ptr<const Cluster> last_read_view;
};

}  // namespace dcs
