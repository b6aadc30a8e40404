// The etcd requests the Etcd3 DCS sends, built in one place so that each matches Patroni's wire
// form exactly (spec 3.3): which compare guards which write, and which keys carry the lease.
#pragma once

#include <cstdint>
#include <string>

#include "dcs/etcd3/kv.hpp"
#include "dcs/etcd3/txn.hpp"

namespace dcs::etcd3::requests {

/// A plain put; `lease` 0 leaves the key without a lease (the field is then not sent).
PutRequest put(std::string key, std::string value, std::int64_t lease = 0);

/// Writes `key` only if it does not exist (compare CREATE create_revision == 0): the leader race
/// and the initialisation race.
TxnRequest put_if_absent(const std::string& key, const std::string& value, std::int64_t lease = 0);

/// Compare-and-set on the key's modification revision (compare MOD == revision).
TxnRequest put_if_mod_revision(const std::string& key, const std::string& value, std::int64_t revision);
TxnRequest delete_if_mod_revision(const std::string& key, std::int64_t revision);

/// Deletes `key` only while it still holds `value` (the leader key still names us).
TxnRequest delete_if_value(const std::string& key, const std::string& value);

/// Re-binds the leader key to a new lease: if it still holds `name` it is rewritten with `lease`;
/// otherwise (nested transaction in the failure branch) it is created only if nobody holds it.
/// Never overwrites another member's leader key.
TxnRequest rebind_leader(const std::string& key, const std::string& name, std::int64_t lease);

/// Whether rebind_leader wrote the key: the outer transaction succeeded, or the nested one did.
bool rebind_succeeded(const TxnResponse& response);

/// Every key under `prefix`; `serializable` answers from the member asked without a quorum read.
RangeRequest read_prefix(const std::string& prefix, bool serializable);
/// Deletes every key under `prefix`.
DeleteRangeRequest delete_prefix(const std::string& prefix);

}  // namespace dcs::etcd3::requests
