// One key change applied to a Cluster view with exactly the rules of cluster_loader.cpp: the
// field the key feeds is recomputed from the current keys, the rest of the view is copied (the
// member list, config, leader, history and failsafe are shared storage: a copy costs a reference
// count each).
#include "model/cluster_patch.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "model/patroni_json.hpp"

namespace dcs::model {

namespace {

constexpr std::string_view kMembers = "members/";

const StoredKey* find(const KeyIndex& keys, std::string_view prefix, std::string_view name) {
  std::string full;
  full.reserve(prefix.size() + name.size());
  full.append(prefix).append(name);
  const auto it = keys.find(full);
  return it == keys.end() ? nullptr : &it->second;
}

// The leader's member follows the member list: the member object itself (shared) when the
// holder has a key, a placeholder otherwise.
SharedValue<Member> leader_member(const Cluster& cluster, const std::string& name) {
  const auto it = std::find_if(cluster.members.begin(), cluster.members.end(),
                               [&name](const MemberPtr& m) { return m->name == name; });
  if (it != cluster.members.end()) return SharedValue<Member>(*it);
  return Leader::placeholder_member(name);
}

void patch_member(Cluster& cluster, const StoredKey* node, std::string_view name) {
  auto& members = cluster.members;
  const auto it = std::lower_bound(members.begin(), members.end(), name,
                                   [](const MemberPtr& m, std::string_view n) { return m->name < n; });
  const bool present = it != members.end() && (*it)->name == name;
  if (node) {
    auto member =
        std::make_shared<const Member>(Member::from_node(node->version, std::string(name), node->session, node->value));
    if (present) {
      members.replace(it, std::move(member));
    } else {
      members.insert(it, std::move(member));
    }
  } else if (present) {
    members.erase(it);
  }
  if (cluster.leader && cluster.leader->name() == name) {
    cluster.leader =
        Leader{cluster.leader->version, cluster.leader->session, leader_member(cluster, std::string(name))};
  }
}

// Recomputes in `cluster` the field `key` (relative to the group at `prefix`) feeds. False when
// the key feeds no field at all.
bool patch_group(Cluster& cluster, const KeyIndex& keys, std::string_view prefix, std::string_view key) {
  const StoredKey* node = find(keys, prefix, key);
  if (key == "initialize") {
    cluster.initialize = node ? std::optional<std::string>(node->value) : std::nullopt;
  } else if (key == "config") {
    if (node)
      cluster.config = ClusterConfig::from_node(node->version, node->value);
    else
      cluster.config.reset();
  } else if (key == "history") {
    if (node)
      cluster.history = TimelineHistory::from_node(node->version, node->value);
    else
      cluster.history.reset();
  } else if (key == "status" || key == "optime/leader") {
    // `status` wins whenever it exists, even unreadable; the legacy key is only a fallback.
    const StoredKey* status = find(keys, prefix, "status");
    cluster.status_version = status ? status->version : 0;  // 0 for the legacy key (cluster_loader.cpp)
    if (!status) status = find(keys, prefix, "optime/leader");
    cluster.status = status ? Status::from_node(status->value) : Status{};
  } else if (key == "failover") {
    cluster.failover = node ? std::optional(Failover::from_node(node->version, node->value)) : std::nullopt;
  } else if (key == "sync") {
    cluster.sync = node ? SyncState::from_node(node->version, node->value) : SyncState{};
  } else if (key == "failsafe") {
    cluster.failsafe.reset();
    cluster.failsafe_version = node ? node->version : 0;
    if (node) {
      if (auto parsed = parse_json(node->value); parsed && !parsed->is_null()) cluster.failsafe = std::move(*parsed);
    }
  } else if (key == "leader") {
    if (node) {
      cluster.leader = Leader{node->version, node->session, leader_member(cluster, node->value)};
    } else {
      cluster.leader.reset();
    }
  } else if (key.starts_with(kMembers) && key.find('/', kMembers.size()) == std::string_view::npos) {
    patch_member(cluster, node, key.substr(kMembers.size()));
  } else {
    return false;
  }
  return true;
}

bool group_exists(const KeyIndex& keys, const std::string& group_prefix) {
  const auto it = keys.lower_bound(group_prefix);
  return it != keys.end() && std::string_view(it->first).starts_with(group_prefix);
}

}  // namespace

std::shared_ptr<const Cluster> apply_key_change(const std::shared_ptr<const Cluster>& previous, const KeyIndex& keys,
                                                std::string_view changed, bool citus) {
  static const Cluster kEmpty;
  const Cluster& before = previous ? *previous : kEmpty;
  // Views are allocated non-const (make_shared<Cluster>) so that apply_key_change_in_place may
  // patch one that nobody else holds.
  if (!citus) {
    Cluster next = before;
    if (!patch_group(next, keys, "", changed)) return previous ? previous : std::make_shared<Cluster>();
    return std::make_shared<Cluster>(std::move(next));
  }

  const auto slash = changed.find('/');
  const auto group = slash == std::string_view::npos ? std::nullopt : citus_group(changed.substr(0, slash));
  if (!group) return previous ? previous : std::make_shared<Cluster>();
  const std::string group_prefix(changed.substr(0, slash + 1));
  const auto key = changed.substr(slash + 1);

  if (*group == 0) {
    Cluster next = before;
    if (!patch_group(next, keys, group_prefix, key)) return previous ? previous : std::make_shared<Cluster>();
    return std::make_shared<Cluster>(std::move(next));
  }

  // A worker group exists while any key of it does (even one that feeds no field).
  const auto old_worker = before.workers.find(*group);
  const bool exists = group_exists(keys, group_prefix);
  Cluster next = before;
  if (!exists) {
    if (old_worker == before.workers.end()) return previous ? previous : std::make_shared<Cluster>();
    next.workers.erase(*group);
    return std::make_shared<Cluster>(std::move(next));
  }
  Cluster worker = old_worker != before.workers.end() && old_worker->second ? *old_worker->second : Cluster{};
  const bool fed = patch_group(worker, keys, group_prefix, key);
  if (!fed && old_worker != before.workers.end()) return previous;
  next.workers[*group] = std::make_shared<Cluster>(std::move(worker));
  return std::make_shared<Cluster>(std::move(next));
}

void apply_key_change_in_place(std::shared_ptr<const Cluster>& view, const KeyIndex& keys, std::string_view changed,
                               bool citus) {
  // The group whose own fields the key feeds: "" without Citus, the coordinator's "0/" with it.
  // A worker group's key changes a shared worker view: those take the copying path.
  std::string_view prefix;
  std::string_view key = changed;
  if (citus) {
    const auto slash = changed.find('/');
    if (slash == std::string_view::npos || citus_group(changed.substr(0, slash)) != 0) {
      view = apply_key_change(view, keys, changed, citus);
      return;
    }
    prefix = changed.substr(0, slash + 1);
    key = changed.substr(slash + 1);
  }
  // use_count() is exact here: the caller's lock keeps anyone from taking a new reference, and
  // one released concurrently only makes this take the copying path.
  if (!view || view.use_count() != 1) {
    view = apply_key_change(view, keys, changed, citus);
    return;
  }
  // Every view this file hands out was allocated as a non-const Cluster.
  patch_group(const_cast<Cluster&>(*view), keys, prefix, key);
}

std::shared_ptr<const Cluster> build_cluster(const KeyIndex& keys, bool citus, const Cluster* previous) {
  std::vector<StoredKey> list;
  list.reserve(keys.size());
  for (const auto& [key, stored] : keys) list.push_back(stored);
  return std::make_shared<Cluster>(citus ? Cluster::from_citus_keys(list, previous)
                                         : Cluster::from_keys(list, previous));
}

}  // namespace dcs::model
