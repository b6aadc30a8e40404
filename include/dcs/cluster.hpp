// The cluster model: the values Patroni keeps in its DCS, read with Patroni's tolerant rules
// (spec 2.3-2.4) and written as the compact JSON Patroni writes, byte for byte. Nothing here knows
// about etcd: a backend hands the loaders a list of StoredKey and gets a Cluster back.
//
// Versions are the store's modification revisions (etcd mod_revision); 0 means "not stored".
// Sessions are lease ids; 0 means "no lease".
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/export.hpp"
#include "dcs/member_list.hpp"
#include "dcs/shared_value.hpp"

namespace dcs {

/// One key of a cluster's keyspace as a backend read it.
struct StoredKey {
  std::string key;  ///< absolute ("/service/demo/leader") or relative ("leader"), see the loaders
  std::string value;
  std::int64_t version = 0;  ///< modification revision
  std::int64_t session = 0;  ///< lease the key is bound to; 0: none

  friend bool operator==(const StoredKey&, const StoredKey&) = default;
};

/// Renders `value` as Patroni does (`json.dumps(value, separators=(',', ':'))`): compact, non-ASCII
/// escaped as \uXXXX. Object keys come out in nlohmann::json's (sorted) order.
DCS_EXPORT std::string to_patroni_json(const nlohmann::json& value);

/// Patroni's deep_compare: the same keys at every level, leaves compared by their text (so
/// 1 equals "1").
DCS_EXPORT bool deep_compare(const nlohmann::json& a, const nlohmann::json& b);

/// A Patroni version string ("3.0.2") as numbers; nullopt when it is not of that form.
DCS_EXPORT std::optional<std::array<int, 3>> parse_patroni_version(std::string_view text);

/// `members/<name>`: the member's JSON data. A legacy `postgres://...` value becomes
/// {conn_url, api_url} (api_url from the application_name parameter, null when absent).
struct DCS_EXPORT Member {
  std::int64_t version = 0;
  std::string name;
  std::int64_t session = 0;
  nlohmann::json data = nlohmann::json::object();

  static Member from_node(std::int64_t version, std::string name, std::int64_t session, std::string_view value);

  /// The string field `key` of data, or "" when absent or not a string.
  std::string text(std::string_view key) const;
  std::string conn_url() const { return text("conn_url"); }
  std::string api_url() const { return text("api_url"); }
  std::string state() const { return text("state"); }
  std::string role() const { return text("role"); }
  /// role is "primary" or Patroni 3.0.2's "master".
  bool is_primary() const;
  bool is_running() const { return state() == "running"; }
  /// data["tags"] when it is an object, else an empty object.
  nlohmann::json tags() const;
  /// tags.nofailover is truthy; without that tag, tags.failover_priority <= 0 (Patroni HEAD).
  bool nofailover() const;
  /// data["xlog_location"] (the member's last known WAL position) when it is an integer.
  std::optional<std::int64_t> lsn() const;
  /// The Patroni version the member runs, parsed from data["version"].
  std::optional<std::array<int, 3>> patroni_version() const;

  friend bool operator==(const Member&, const Member&) = default;
};

/// The `leader` key: the holder's name; `member` is that member's key (the very object the
/// member list holds, shared), or a placeholder with version -1, no session and empty data when
/// the holder has no member key. `member` is never empty in a Leader a view holds.
struct DCS_EXPORT Leader {
  std::int64_t version = 0;
  std::int64_t session = 0;
  SharedValue<Member> member;

  const std::string& name() const noexcept {
    static const std::string kNone;
    return member ? member->name : kNone;
  }
  /// What stands in for the member of a holder `name` that has no member key.
  static Member placeholder_member(std::string name) {
    return Member{-1, std::move(name), 0, nlohmann::json::object()};
  }

  friend bool operator==(const Leader&, const Leader&) = default;
};

/// The `config` key: the dynamic configuration. Not JSON or not an object → empty data and
/// modify_version 0.
struct DCS_EXPORT ClusterConfig {
  std::int64_t version = 0;
  nlohmann::json data = nlohmann::json::object();
  std::int64_t modify_version = 0;

  static ClusterConfig from_node(std::int64_t version, std::string_view value);

  friend bool operator==(const ClusterConfig&, const ClusterConfig&) = default;
};

/// The `sync` key. Empty (no leader) when the value is missing or invalid; the version is kept.
struct DCS_EXPORT SyncState {
  std::int64_t version = 0;
  std::optional<std::string> leader;
  std::optional<std::string> sync_standby;  ///< comma-joined names as stored
  int quorum = 0;

  static SyncState from_node(std::int64_t version, std::string_view value);
  static SyncState from_json(std::int64_t version, const nlohmann::json& value);
  /// The value Patroni (HEAD) writes: {"leader":…,"quorum":…,"sync_standby":"a,b"|null}, names
  /// sorted.
  static std::string value(const std::optional<std::string>& leader, const std::vector<std::string>& sync_standby,
                           int quorum);

  bool is_empty() const noexcept { return !leader || leader->empty(); }
  /// The names in sync_standby.
  std::vector<std::string> members() const;
  /// `name` is the leader or a sync standby (case-insensitive, as Patroni HEAD); with
  /// `check_leader` false only the standbys are considered.
  bool matches(std::string_view name, bool check_leader = false) const;

  friend bool operator==(const SyncState&, const SyncState&) = default;
};

/// The `history` key: [[timeline, switch_lsn, reason, timestamp?, new_leader?], ...]. The raw text
/// is kept; lines is [] when the text is not a JSON array.
struct DCS_EXPORT TimelineHistory {
  std::int64_t version = 0;
  std::string value;
  nlohmann::json lines = nlohmann::json::array();

  static TimelineHistory from_node(std::int64_t version, std::string value);

  friend bool operator==(const TimelineHistory&, const TimelineHistory&) = default;
};

/// The `failover` key: a scheduled or immediate switchover / failover request.
struct DCS_EXPORT Failover {
  std::int64_t version = 0;
  std::string leader;        ///< "" when absent
  std::string candidate;     ///< stored as "member"; "" when absent
  std::string scheduled_at;  ///< ISO 8601 text as stored; "" when absent

  /// Reads an object, the legacy "leader:candidate" text, or anything else as empty.
  static Failover from_node(std::int64_t version, std::string_view value);
  /// The value Patroni writes: only the non-empty items, in the order leader, member,
  /// scheduled_at; {} clears a request.
  static std::string value(std::string_view leader, std::string_view candidate, std::string_view scheduled_at);

  /// Neither leader nor candidate set (an empty request is present but falsy).
  bool is_empty() const noexcept { return leader.empty() && candidate.empty(); }

  friend bool operator==(const Failover&, const Failover&) = default;
};

/// The `status` key (or legacy `optime/leader`): the leader's last WAL position and slots.
struct DCS_EXPORT Status {
  std::int64_t last_lsn = 0;
  std::optional<std::map<std::string, std::int64_t>> slots;  ///< nullopt: not stored
  std::vector<std::string> retain_slots;

  static Status from_node(std::string_view value);
  /// {"optime":…,"slots":{…},"retain_slots":[…]} with absent parts omitted.
  nlohmann::json to_json() const;
  /// The compact text of to_json(), key order optime, slots, retain_slots.
  std::string value() const;

  bool is_empty() const noexcept { return last_lsn == 0 && !slots && retain_slots.empty(); }

  friend bool operator==(const Status&, const Status&) = default;
};

/// Everything one read of a cluster found. Immutable once built: get_cluster hands out
/// std::shared_ptr<const Cluster> snapshots that stay valid while the store moves on.
struct DCS_EXPORT Cluster {
  // The parts that rarely change are SharedValues (read like std::optional): a view built or
  // patched next to an older one shares them while their keys have not moved.
  std::optional<std::string> initialize;  ///< nullopt: not initialised; "": bootstrap running
  SharedValue<ClusterConfig> config;
  SharedValue<Leader> leader;
  Status status;
  MemberList members;  ///< in key order; never null; storage shared with the views it was built from
  std::optional<Failover> failover;
  SyncState sync;
  SharedValue<TimelineHistory> history;
  SharedValue<nlohmann::json> failsafe;                   ///< the decoded `failsafe` value; empty if absent/invalid
  std::map<int, std::shared_ptr<const Cluster>> workers;  ///< Citus: worker groups (coordinator only)
  /// Modification revision of the `status` key `status` was read from (0: none, or read from the
  /// legacy `optime/leader`), and of the `failsafe` key. They identify the values, so a later read
  /// with a `previous` view reuses the parsed forms while the keys have not moved. Not part of
  /// the value: operator== ignores them.
  std::int64_t status_version = 0;
  std::int64_t failsafe_version = 0;

  /// Builds a cluster from the keys under one cluster path; `keys` are relative to it
  /// ("leader", "members/a"). Never throws on bad values: a field that cannot be read is empty.
  /// `previous`: an earlier view of the same path; its Member objects are reused for member keys
  /// whose version (a non-zero modification revision, which identifies the value) and session
  /// are unchanged, so a re-read does not parse every member again.
  static Cluster from_keys(const std::vector<StoredKey>& keys, const Cluster* previous = nullptr);
  /// Builds a Citus coordinator view from every key under the base path (`keys` relative to
  /// "<base>/", e.g. "0/leader", "1/members/a"): group 0 is the result, others become workers.
  static Cluster from_citus_keys(const std::vector<StoredKey>& keys, const Cluster* previous = nullptr);
  static Cluster empty() { return Cluster{}; }

  /// The leader's name, or "" when nobody holds the leader key.
  std::string leader_name() const;
  bool is_unlocked() const { return leader_name().empty(); }
  bool has_member(std::string_view name) const;
  /// The member called `name`; falls back to the leader's member when asked and names match.
  std::optional<Member> get_member(std::string_view name, bool fallback_to_leader = true) const;
  /// The timeline the history implies: last line's timeline + 1; 1 for a stored "[]"; 0 if none.
  std::int64_t timeline() const;
  /// The lowest Patroni version among members that state one.
  std::optional<std::array<int, 3>> min_version() const;
  /// Nothing is stored at all.
  bool is_empty() const;
  std::int64_t last_lsn() const noexcept { return status.last_lsn; }

  friend bool operator==(const Cluster&, const Cluster&);
};

/// Value equality of whole views, workers compared by value. (Redeclared here because a friend
/// declaration does not take the class's DCS_EXPORT: this one puts it in the shared library.)
DCS_EXPORT bool operator==(const Cluster& a, const Cluster& b);

}  // namespace dcs
