// Building a Cluster from the keys of one read (spec 2.4), the Citus split into groups, and the
// questions the HA loop asks of a cluster. Every value goes through its tolerant reader: a key
// that holds garbage yields an empty field, never an exception.
#include <algorithm>
#include <limits>
#include <map>

#include "dcs/cluster.hpp"
#include "model/patroni_json.hpp"

namespace dcs {

namespace {

constexpr std::string_view kMembers = "members/";

}  // namespace

Cluster Cluster::from_keys(const std::vector<StoredKey>& keys, const Cluster* previous) {
  // Like Patroni's dict of nodes: one entry per key (the last one read wins), in key order. A
  // sorted vector rather than a map: etcd answers in key order already, so the sort is usually
  // skipped, and there is no node to allocate per key.
  std::vector<const StoredKey*> nodes;
  nodes.reserve(keys.size());
  for (const auto& key : keys) nodes.push_back(&key);
  const auto by_key = [](const StoredKey* a, const StoredKey* b) { return a->key < b->key; };
  if (!std::is_sorted(nodes.begin(), nodes.end(), by_key)) std::stable_sort(nodes.begin(), nodes.end(), by_key);
  // Of equal keys (stable: in reading order) the last one stays.
  const auto last_of_equal = std::unique(nodes.rbegin(), nodes.rend(),
                                         [](const StoredKey* a, const StoredKey* b) { return a->key == b->key; });
  nodes.erase(nodes.begin(), last_of_equal.base());
  const auto node = [&nodes](std::string_view name) -> const StoredKey* {
    const auto it = std::lower_bound(nodes.begin(), nodes.end(), name,
                                     [](const StoredKey* n, std::string_view k) { return n->key < k; });
    return it != nodes.end() && (*it)->key == name ? *it : nullptr;
  };

  // A key whose modification revision is that of the previous view's value holds the same value:
  // its parsed form is copied instead of parsing the text again (0: revision unknown, parsed).
  const auto unchanged = [](const StoredKey* n, const auto& before) {
    return before && n->version != 0 && before->version == n->version;
  };

  Cluster cluster;
  if (const auto* n = node("initialize")) cluster.initialize = n->value;
  if (const auto* n = node("config")) {
    if (previous && unchanged(n, previous->config))
      cluster.config = previous->config;
    else
      cluster.config = ClusterConfig::from_node(n->version, n->value);
  }
  if (const auto* n = node("history")) {
    if (previous && unchanged(n, previous->history) && previous->history->value == n->value)
      cluster.history = previous->history;
    else
      cluster.history = TimelineHistory::from_node(n->version, n->value);
  }

  // `status` wins whenever it exists, even unreadable; the legacy key is only a fallback (and
  // always parsed: it is rare, and it may share a revision with a `status` written beside it).
  if (const auto* n = node("status")) {
    if (previous && n->version != 0 && previous->status_version == n->version)
      cluster.status = previous->status;
    else
      cluster.status = Status::from_node(n->value);
    cluster.status_version = n->version;
  } else if (const auto* legacy = node("optime/leader")) {
    cluster.status = Status::from_node(legacy->value);
  }

  // Both lists are in key order, so the previous view is walked alongside.
  static const MemberList kNoMembers;
  const auto& previous_members = previous ? previous->members : kNoMembers;
  cluster.members.reserve(nodes.size());  // an upper bound: no regrowth on the way
  auto reusable = previous_members.begin();
  const auto reusable_end = previous_members.end();
  for (const StoredKey* n : nodes) {
    const std::string_view key = n->key;
    // Only direct children: members/<name>, never members/<name>/<more>.
    if (!key.starts_with(kMembers) || key.find('/', kMembers.size()) != std::string_view::npos) continue;
    const auto name = key.substr(kMembers.size());
    // Mostly the next previous member is this one: one comparison.
    if (reusable != reusable_end && (*reusable)->name != name) {
      while (reusable != reusable_end && (*reusable)->name < name) ++reusable;
    }
    if (reusable != reusable_end && (*reusable)->name == name && n->version != 0 &&
        (*reusable)->version == n->version && (*reusable)->session == n->session) {
      cluster.members.push_back(*reusable);
      continue;
    }
    cluster.members.push_back(
        std::make_shared<const Member>(Member::from_node(n->version, std::string(name), n->session, n->value)));
  }

  if (const auto* n = node("leader")) {
    const auto& name = n->value;
    const auto it = std::find_if(cluster.members.begin(), cluster.members.end(),
                                 [&name](const MemberPtr& m) { return m->name == name; });
    const Member* holder = it != cluster.members.end() ? it->get() : nullptr;
    // The same leader key, held by the same version of the holder's member key (or still by no
    // member key): the previous view's Leader is this one, so it is shared, not copied.
    const auto same_holder = [&](const Member& before) {
      if (!holder) return before.version == -1 && before.name == name;
      return holder->version != 0 && before.version == holder->version && before.session == holder->session &&
             before.name == holder->name;
    };
    if (previous && unchanged(n, previous->leader) && previous->leader->session == n->session &&
        same_holder(*previous->leader->member)) {
      cluster.leader = previous->leader;
    } else {
      // A leader without a member key still holds the lock: a placeholder stands in for it.
      cluster.leader =
          Leader{n->version, n->session,
                 holder ? SharedValue<Member>(*it) : SharedValue<Member>(Leader::placeholder_member(name))};
    }
  }

  if (const auto* n = node("failover")) {
    if (previous && unchanged(n, previous->failover))
      cluster.failover = previous->failover;
    else
      cluster.failover = Failover::from_node(n->version, n->value);
  }
  if (const auto* n = node("sync")) {
    if (previous && n->version != 0 && previous->sync.version == n->version)
      cluster.sync = previous->sync;
    else
      cluster.sync = SyncState::from_node(n->version, n->value);
  }

  if (const auto* n = node("failsafe")) {
    if (previous && n->version != 0 && previous->failsafe_version == n->version) {
      cluster.failsafe = previous->failsafe;
    } else if (auto parsed = model::parse_json(n->value); parsed && !parsed->is_null()) {
      // Any JSON at all (Patroni does not check the type); JSON null is the same as no value.
      cluster.failsafe = std::move(*parsed);
    }
    cluster.failsafe_version = n->version;
  }
  return cluster;
}

Cluster Cluster::from_citus_keys(const std::vector<StoredKey>& keys, const Cluster* previous) {
  std::map<int, std::vector<StoredKey>> groups;
  for (const auto& key : keys) {
    const auto slash = key.key.find('/');
    if (slash == std::string::npos) continue;  // directly under the base path: not a group
    const auto group = model::citus_group(std::string_view(key.key).substr(0, slash));
    if (!group) continue;
    groups[*group].push_back(StoredKey{key.key.substr(slash + 1), key.value, key.version, key.session});
  }
  Cluster coordinator;
  if (const auto it = groups.find(0); it != groups.end()) coordinator = from_keys(it->second, previous);
  for (const auto& [group, group_keys] : groups) {
    if (group == 0) continue;
    const Cluster* previous_worker = nullptr;
    if (previous) {
      if (const auto it = previous->workers.find(group); it != previous->workers.end())
        previous_worker = it->second.get();
    }
    coordinator.workers[group] = std::make_shared<const Cluster>(from_keys(group_keys, previous_worker));
  }
  return coordinator;
}

std::string Cluster::leader_name() const {
  return leader ? leader->name() : std::string{};
}

bool Cluster::has_member(std::string_view name) const {
  return std::any_of(members.begin(), members.end(), [name](const MemberPtr& m) { return m->name == name; });
}

std::optional<Member> Cluster::get_member(std::string_view name, bool fallback_to_leader) const {
  const auto it = std::find_if(members.begin(), members.end(), [name](const MemberPtr& m) { return m->name == name; });
  if (it != members.end()) return **it;
  if (fallback_to_leader && leader && leader->name() == name && leader->member) return *leader->member;
  return std::nullopt;
}

std::int64_t Cluster::timeline() const {
  if (!history) return 0;
  const auto& lines = history->lines;
  if (!lines.is_array() || lines.empty()) return history->value == "[]" ? 1 : 0;
  // int(lines[-1][0]) + 1, with Python's indexing: a list gives its first item, a string its
  // first character; anything else (or int() failing) means the history cannot be read.
  const auto& last = lines.back();
  nlohmann::json first;
  if (last.is_array() && !last.empty()) {
    first = last.front();
  } else if (last.is_string() && !last.get_ref<const std::string&>().empty()) {
    const auto& text = last.get_ref<const std::string&>();
    std::size_t length = 1;
    while (length < text.size() && (static_cast<unsigned char>(text[length]) & 0xC0) == 0x80) ++length;
    first = text.substr(0, length);
  } else {
    return 0;
  }
  const auto timeline = model::python_int(first);
  if (!timeline || *timeline == std::numeric_limits<std::int64_t>::max()) return 0;
  return *timeline + 1;
}

std::optional<std::array<int, 3>> Cluster::min_version() const {
  std::optional<std::array<int, 3>> lowest;
  for (const auto& member : members) {
    const auto version = member->patroni_version();
    if (version && (!lowest || *version < *lowest)) lowest = version;
  }
  return lowest;
}

bool Cluster::is_empty() const {
  // sync.version 0: no sync key was read (a stored key always has a revision).
  return !initialize && !config && !leader && status.is_empty() && members.empty() && !failover && sync.version == 0 &&
         !history && !failsafe && workers.empty();
}

bool operator==(const Cluster& a, const Cluster& b) {
  if (!(a.initialize == b.initialize && a.config == b.config && a.leader == b.leader && a.status == b.status &&
        a.failover == b.failover && a.sync == b.sync && a.history == b.history && a.failsafe == b.failsafe &&
        a.workers.size() == b.workers.size()))
    return false;
  // Members and workers compare by value, not by pointer.
  if (!std::equal(a.members.begin(), a.members.end(), b.members.begin(), b.members.end(),
                  [](const MemberPtr& x, const MemberPtr& y) { return x == y || (x && y && *x == *y); }))
    return false;
  return std::equal(a.workers.begin(), a.workers.end(), b.workers.begin(), [](const auto& x, const auto& y) {
    if (x.first != y.first) return false;
    if (x.second == y.second) return true;
    return x.second && y.second && *x.second == *y.second;
  });
}

}  // namespace dcs
