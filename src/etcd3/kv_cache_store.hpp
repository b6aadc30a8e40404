// Internal: the watcher cache's keyspace (spec 5.1, 5.4) and the Cluster snapshot built from it.
// Not thread-safe: KVCache guards it with its mutex. No I/O.
//
// Every change is accepted only when it is newer than what the store knows of the key (its
// mod_revision, or the revision at which it was deleted: deletions leave a tombstone, so a late
// write-through of an older put cannot resurrect a key the watch has already seen deleted). An
// accepted change patches the snapshot for that one key (model::apply_key_change).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dcs/cluster.hpp"
#include "dcs/etcd3/kv.hpp"
#include "etcd3/kv_cache_wakeup.hpp"
#include "model/cluster_patch.hpp"

namespace dcs::etcd3::detail {

class CacheStore {
 public:
  /// `prefix`: the absolute prefix every key is under; `citus`: the keys are a Citus
  /// coordinator's read of all groups; `wake`: keys relative to `prefix`.
  CacheStore(std::string prefix, bool citus, WakeKeys wake);

  /// Replaces everything by a fresh list (absolute keys, as a range returned them) taken at
  /// `list_revision`. What the store learnt after that revision (a write-through that raced the
  /// list, and deletions) is kept: a relist never takes back this process's own writes.
  void reset(const std::vector<KeyValue>& kvs, std::int64_t list_revision);
  /// Forgets everything (the snapshot becomes an empty cluster).
  void clear();

  struct Outcome {
    bool applied = false;  ///< the store changed
    bool wake = false;     ///< the HA loop must be woken (spec 5.4)
  };
  /// A put seen by the watch or made by this process. Stored when newer than what is known; an
  /// entry with an equal revision is overwritten when `overwrite_equal` (a watch event is the
  /// authoritative copy of a write-through entry). Keys outside the prefix are ignored.
  Outcome put(const KeyValue& kv, bool overwrite_equal);
  /// A deletion of the single key `key` at `revision`.
  Outcome remove(const std::string& key, std::int64_t revision);
  /// A deletion of every key in [key, range_end) at `revision` ("\0" as range_end: to the end
  /// of the keyspace): each cached key of the range older than `revision` is removed.
  Outcome remove_range(const std::string& key, const std::string& range_end, std::int64_t revision);

  const std::shared_ptr<const Cluster>& snapshot() const noexcept { return snapshot_; }
  std::size_t size() const noexcept { return keys_.size(); }
  /// The newest revision any accepted change or list carried.
  std::int64_t revision() const noexcept { return revision_; }
  /// The stored value of an absolute key, nullopt when absent.
  std::optional<StoredKey> find(const std::string& key) const;

 private:
  std::optional<std::string> relative(const std::string& key) const;
  std::optional<std::int64_t> known_revision(const std::string& rel) const;
  std::optional<std::string> value_of(const std::string& rel) const;
  /// Whether a change of `rel` can wake the HA loop at all (spec 5.4 looks at four keys).
  bool may_wake(const std::string& rel) const;
  Outcome changed(const std::string& rel, const std::optional<std::string>& old_value,
                  const std::optional<std::string>& new_value);

  std::string prefix_;
  bool citus_;
  WakeKeys wake_;
  model::KeyIndex keys_;                         // live keys, relative
  std::map<std::string, std::int64_t> deleted_;  // tombstones: relative key -> deletion revision
  std::shared_ptr<const Cluster> snapshot_;
  std::int64_t revision_ = 0;
};

}  // namespace dcs::etcd3::detail
