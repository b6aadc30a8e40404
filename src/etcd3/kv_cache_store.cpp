#include "etcd3/kv_cache_store.hpp"

#include <algorithm>

namespace dcs::etcd3::detail {

CacheStore::CacheStore(std::string prefix, bool citus, WakeKeys wake)
    : prefix_(std::move(prefix)), citus_(citus), wake_(std::move(wake)), snapshot_(model::build_cluster({}, citus)) {}

void CacheStore::reset(const std::vector<KeyValue>& kvs, std::int64_t list_revision) {
  model::KeyIndex keys;
  for (const auto& kv : kvs) {
    auto rel = relative(kv.key);
    if (!rel) continue;
    keys[*rel] = StoredKey{*rel, kv.value, kv.mod_revision, kv.lease};
    revision_ = std::max(revision_, kv.mod_revision);
  }
  std::map<std::string, std::int64_t> deleted;
  for (const auto& [rel, stored] : keys_) {
    if (stored.version > list_revision) keys[rel] = stored;
  }
  for (const auto& [rel, revision] : deleted_) {
    if (revision <= list_revision) continue;
    if (const auto it = keys.find(rel); it != keys.end() && it->second.version < revision) keys.erase(it);
    deleted.emplace(rel, revision);
  }
  keys_ = std::move(keys);
  deleted_ = std::move(deleted);
  revision_ = std::max(revision_, list_revision);
  // Members whose key did not change since the last snapshot are reused, not parsed again.
  snapshot_ = model::build_cluster(keys_, citus_, snapshot_.get());
}

void CacheStore::clear() {
  keys_.clear();
  deleted_.clear();
  snapshot_ = model::build_cluster({}, citus_);
}

std::optional<std::string> CacheStore::relative(const std::string& key) const {
  if (!key.starts_with(prefix_)) return std::nullopt;
  return key.substr(prefix_.size());
}

std::optional<std::int64_t> CacheStore::known_revision(const std::string& rel) const {
  if (const auto it = keys_.find(rel); it != keys_.end()) return it->second.version;
  if (const auto it = deleted_.find(rel); it != deleted_.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string> CacheStore::value_of(const std::string& rel) const {
  const auto it = keys_.find(rel);
  if (it == keys_.end()) return std::nullopt;
  return it->second.value;
}

std::optional<StoredKey> CacheStore::find(const std::string& key) const {
  const auto rel = relative(key);
  if (!rel) return std::nullopt;
  const auto it = keys_.find(*rel);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

bool CacheStore::may_wake(const std::string& rel) const {
  return rel == wake_.leader || rel == wake_.config || rel == wake_.status || rel == wake_.optime;
}

CacheStore::Outcome CacheStore::changed(const std::string& rel, const std::optional<std::string>& old_value,
                                        const std::optional<std::string>& new_value) {
  // Patched in place unless a reader still holds the snapshot (it never sees it change).
  model::apply_key_change_in_place(snapshot_, keys_, rel, citus_);
  // Most events are member keys, which never wake: no copy of the leader's value for those.
  if (!may_wake(rel)) return Outcome{true, false};
  return Outcome{true, wakes_ha_loop(wake_, rel, old_value, new_value, value_of(wake_.leader))};
}

CacheStore::Outcome CacheStore::put(const KeyValue& kv, bool overwrite_equal) {
  const auto rel = relative(kv.key);
  if (!rel) return {};
  const auto known = known_revision(*rel);
  const auto live = keys_.find(*rel);
  const bool newer = !known || *known < kv.mod_revision;
  const bool equal_live = live != keys_.end() && live->second.version == kv.mod_revision;
  if (!newer && !(overwrite_equal && equal_live)) return {};
  if (!newer && live->second.value == kv.value && live->second.session == kv.lease) return {};  // same copy

  revision_ = std::max(revision_, kv.mod_revision);
  // The old value only matters to the wake-up rule: not copied for the other keys.
  std::optional<std::string> old_value;
  if (live != keys_.end() && may_wake(*rel)) old_value = live->second.value;
  if (!deleted_.empty()) deleted_.erase(*rel);
  if (live != keys_.end()) {
    live->second.value = kv.value;
    live->second.version = kv.mod_revision;
    live->second.session = kv.lease;
  } else {
    keys_.emplace(*rel, StoredKey{*rel, kv.value, kv.mod_revision, kv.lease});
  }
  return changed(*rel, old_value, kv.value);
}

CacheStore::Outcome CacheStore::remove(const std::string& key, std::int64_t revision) {
  const auto rel = relative(key);
  if (!rel) return {};
  const auto known = known_revision(*rel);
  if (known && *known >= revision) return {};
  revision_ = std::max(revision_, revision);
  deleted_[*rel] = revision;
  const auto live = keys_.find(*rel);
  if (live == keys_.end()) return {};  // only the tombstone moved
  auto old_value = std::move(live->second.value);
  keys_.erase(live);
  return changed(*rel, old_value, std::nullopt);
}

CacheStore::Outcome CacheStore::remove_range(const std::string& key, const std::string& range_end,
                                             std::int64_t revision) {
  const bool to_end = range_end == std::string(1, '\0');
  std::vector<std::string> doomed;
  for (const auto& [rel, stored] : keys_) {
    const std::string absolute = prefix_ + rel;
    if (absolute >= key && (to_end || absolute < range_end) && stored.version < revision) doomed.push_back(absolute);
  }
  Outcome total;
  for (const auto& absolute : doomed) {
    const auto outcome = remove(absolute, revision);
    total.applied = total.applied || outcome.applied;
    total.wake = total.wake || outcome.wake;
  }
  return total;
}

}  // namespace dcs::etcd3::detail
