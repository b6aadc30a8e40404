// MemoryStore: the shared keyspace of a simulated DCS (see memory_store_state.hpp).
#include <algorithm>
#include <utility>

#include "dcs/memory_dcs.hpp"
#include "memory/memory_store_state.hpp"

namespace dcs {

namespace {

bool starts_with(const std::string& key, const std::string& prefix) {
  return key.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

void MemoryStore::State::expire_leases() {
  const auto now = clock->now();
  for (auto it = leases.begin(); it != leases.end();) {
    // Alive up to and including last keepalive + ttl: a keepalive exactly at the deadline saves it.
    if (now <= it->second.last_keepalive + it->second.ttl) {
      ++it;
      continue;
    }
    const auto dead = it->first;
    it = leases.erase(it);
    // Like etcd's lease revoke: every key of the lease goes in one revision.
    std::vector<std::pair<std::string, std::string>> gone;
    for (auto key = keys.begin(); key != keys.end();) {
      if (key->second.lease != dead) {
        ++key;
        continue;
      }
      gone.emplace_back(key->first, std::move(key->second.value));
      key = keys.erase(key);
    }
    if (!gone.empty()) ++revision;
    for (const auto& [key, before] : gone) notify(key, before, std::nullopt);
  }
}

std::optional<Clock::time_point> MemoryStore::State::next_expiry() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& [id, lease] : leases) {
    const auto at = lease.last_keepalive + lease.ttl;
    if (!earliest || at < *earliest) earliest = at;
  }
  return earliest;
}

std::int64_t MemoryStore::State::grant(std::chrono::seconds ttl) {
  const auto id = next_lease_id++;
  leases[id] = Lease{ttl, clock->now()};
  return id;
}

bool MemoryStore::State::keepalive(std::int64_t lease) {
  auto it = leases.find(lease);
  if (it == leases.end()) return false;
  it->second.last_keepalive = clock->now();
  return true;
}

bool MemoryStore::State::lease_alive(std::int64_t lease) const {
  return leases.count(lease) != 0;
}

const MemoryStore::State::Record* MemoryStore::State::find(const std::string& key) const {
  auto it = keys.find(key);
  return it == keys.end() ? nullptr : &it->second;
}

std::int64_t MemoryStore::State::mod_revision(const std::string& key) const {
  const auto* record = find(key);
  return record ? record->mod_revision : 0;
}

std::optional<std::int64_t> MemoryStore::State::put(const std::string& key, const std::string& value,
                                                    std::int64_t lease) {
  if (lease != 0 && !lease_alive(lease)) return std::nullopt;  // etcd: "requested lease not found"
  std::optional<std::string> before;
  auto& record = keys[key];
  if (record.mod_revision != 0) before = record.value;
  record = Record{value, ++revision, lease};
  notify(key, before, value);
  return revision;
}

bool MemoryStore::State::erase(const std::string& key) {
  auto it = keys.find(key);
  if (it == keys.end()) return false;  // etcd does not bump the revision for a no-op delete
  auto before = std::move(it->second.value);
  keys.erase(it);
  ++revision;
  notify(key, before, std::nullopt);
  return true;
}

std::size_t MemoryStore::State::erase_prefix(const std::string& prefix) {
  std::vector<std::pair<std::string, std::string>> gone;
  for (auto it = keys.lower_bound(prefix); it != keys.end() && starts_with(it->first, prefix);) {
    gone.emplace_back(it->first, std::move(it->second.value));
    it = keys.erase(it);
  }
  if (gone.empty()) return 0;
  ++revision;
  for (const auto& [key, before] : gone) notify(key, before, std::nullopt);
  return gone.size();
}

std::vector<StoredKey> MemoryStore::State::range(const std::string& prefix) const {
  std::vector<StoredKey> out;
  for (auto it = keys.lower_bound(prefix); it != keys.end() && starts_with(it->first, prefix); ++it) {
    out.push_back(StoredKey{it->first, it->second.value, it->second.mod_revision, it->second.lease});
  }
  return out;
}

void MemoryStore::State::notify(const std::string& key, const std::optional<std::string>& before,
                                const std::optional<std::string>& after) {
  if (before == after) return;  // a re-put of the same value (e.g. a new lease) wakes nobody
  bool woke = false;
  for (auto* interest : interests) {
    bool wake = false;
    if (key == interest->leader_key) {
      wake = true;
    } else if (key == interest->config_key) {
      wake = before && after;  // only a change of an existing config, as the etcd watcher does
    } else if (key == interest->status_key || key == interest->optime_key) {
      // The leader wrote it itself; only followers care about a new leader position.
      const auto* leader = find(interest->leader_key);
      wake = after && (!leader || leader->value != interest->name);
    }
    if (wake) {
      interest->pending = true;
      woke = true;
    }
  }
  if (woke) changed.notify_all();
}

MemoryStore::MemoryStore(std::shared_ptr<const Clock> clock)
    : state_(std::make_shared<State>(clock ? std::move(clock) : steady_clock())) {}

MemoryStore::~MemoryStore() = default;

const std::shared_ptr<const Clock>& MemoryStore::clock() const noexcept {
  return state_->clock;
}

std::int64_t MemoryStore::revision() const {
  std::lock_guard lock(state_->mutex);
  state_->expire_leases();
  return state_->revision;
}

std::vector<StoredKey> MemoryStore::range(const std::string& prefix) const {
  std::lock_guard lock(state_->mutex);
  state_->expire_leases();
  return state_->range(prefix);
}

void MemoryStore::put(const std::string& key, const std::string& value) {
  std::lock_guard lock(state_->mutex);
  state_->expire_leases();
  state_->put(key, value);
}

void MemoryStore::set_available(bool available) {
  std::lock_guard lock(state_->mutex);
  state_->available = available;
}

bool MemoryStore::available() const {
  std::lock_guard lock(state_->mutex);
  return state_->available;
}

}  // namespace dcs
