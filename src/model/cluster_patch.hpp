// Internal: keeps a Cluster view up to date one key change at a time, so a watcher cache can
// refresh its snapshot per event without rebuilding the whole view (which re-parses every
// member). The result is always the view Cluster::from_keys (or from_citus_keys) would build over
// the same key set; only the fields the changed key feeds are recomputed, and every other member
// object is shared with the previous view. Nothing here knows about etcd.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "dcs/cluster.hpp"

namespace dcs::model {

/// The current keys of one cluster read, by key relative to the read's prefix (StoredKey::key
/// holds the same relative key). Ordered like the loaders' own dict of nodes.
using KeyIndex = std::map<std::string, StoredKey, std::less<>>;

/// The view over `keys` (already holding the change, or no longer holding a deleted key) given
/// `previous`, the view over the same keys before `changed` was put or deleted. `citus`: the keys
/// are a Citus coordinator's read of every group ("0/leader", "1/members/a"), as in
/// from_citus_keys. Returns `previous` itself when the key feeds no field of the view.
std::shared_ptr<const Cluster> apply_key_change(const std::shared_ptr<const Cluster>& previous, const KeyIndex& keys,
                                                std::string_view changed, bool citus);

/// The same, replacing `view` by the new view. When the caller holds the only reference to it
/// (use_count 1, and the caller's lock keeps anyone from taking another) the view is patched in
/// place: no copy of the Cluster and of its member list per change, and nobody can observe the
/// change. A view someone else holds is never modified (it is replaced by a patched copy).
/// `view` must come from apply_key_change or build_cluster (they allocate mutable Clusters).
void apply_key_change_in_place(std::shared_ptr<const Cluster>& view, const KeyIndex& keys, std::string_view changed,
                               bool citus);

/// from_keys / from_citus_keys over a whole index (a fresh list).
std::shared_ptr<const Cluster> build_cluster(const KeyIndex& keys, bool citus, const Cluster* previous = nullptr);

}  // namespace dcs::model
