// Plain value types for etcd's KV service (range, put, delete range), as the JSON gateway
// carries them. Keys and values are bytes held in std::string; the client base64-encodes them.
// Fields that etcd omits when they are zero are simply zero here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dcs/export.hpp"

namespace dcs::etcd3 {

/// The header etcd puts on (nearly) every response.
struct ResponseHeader {
  std::uint64_t cluster_id = 0;
  std::uint64_t member_id = 0;
  std::int64_t revision = 0;
  std::uint64_t raft_term = 0;
};

struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;
  std::int64_t lease = 0;  ///< 0: the key is not attached to a lease

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

/// The range end that selects every key starting with `prefix` (etcd's "prefix end": the last
/// byte below 0xff incremented, trailing 0xff bytes dropped; "\0" selects to the end of the
/// keyspace when no such byte exists).
DCS_EXPORT std::string prefix_range_end(const std::string& prefix);

enum class SortOrder { none = 0, ascend = 1, descend = 2 };
enum class SortTarget { key = 0, version = 1, create = 2, mod = 3, value = 4 };

struct RangeRequest {
  std::string key;
  std::string range_end;      ///< empty: exactly `key`
  std::int64_t limit = 0;     ///< 0: no limit
  std::int64_t revision = 0;  ///< 0: the current revision
  SortOrder sort_order = SortOrder::none;
  SortTarget sort_target = SortTarget::key;
  bool serializable = false;  ///< answer from the local member without a quorum read
  bool keys_only = false;
  bool count_only = false;

  /// Every key under `prefix`.
  DCS_EXPORT static RangeRequest with_prefix(std::string prefix);
};

struct RangeResponse {
  ResponseHeader header;
  std::vector<KeyValue> kvs;
  bool more = false;
  std::int64_t count = 0;  ///< keys in the range, not the page size
};

struct PutRequest {
  std::string key;
  std::string value;
  std::int64_t lease = 0;
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
};

struct PutResponse {
  ResponseHeader header;
  std::optional<KeyValue> prev_kv;
};

struct DeleteRangeRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;
};

struct DeleteRangeResponse {
  ResponseHeader header;
  std::int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
};

struct CompactionRequest {
  std::int64_t revision = 0;
  bool physical = false;
};

}  // namespace dcs::etcd3
