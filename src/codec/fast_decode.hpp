// Decoders for the answers on the HA loop's path (range, put, txn, keepalive) that read the body
// straight into the response structs, with no JSON tree in between (simdjson's validating
// parser; it stays inside fast_decode.cpp).
//
// They take only the well-trodden road: each returns false for anything that is not a
// well-formed success answer of the expected shape (invalid JSON, an "error" member, a field of
// an unexpected type, bad base64, a number out of range). The caller then decodes the same body
// the general way (json_fields.hpp), which accepts what it accepts and reports the problem with
// the exception it always raised. So these change the speed of decoding, never its outcome.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dcs/etcd3/kv.hpp"
#include "dcs/etcd3/lease.hpp"
#include "dcs/etcd3/txn.hpp"

namespace dcs::codec {

/// `body` may get spare capacity (the parser reads a few bytes past the end); its text is not
/// changed. `top_header` receives the answer's top-level "header" (zero when absent): the one
/// the client's stale-member check looks at.
bool fast_decode_range(std::string& body, etcd3::ResponseHeader& top_header, etcd3::RangeResponse& out);
bool fast_decode_put(std::string& body, etcd3::ResponseHeader& top_header, etcd3::PutResponse& out);
bool fast_decode_txn(std::string& body, etcd3::ResponseHeader& top_header, etcd3::TxnResponse& out);
/// One key a caller already holds decoded: `prefix` + `name`, stored at `mod_revision` under
/// `lease` (see KnownValues).
struct KnownValue {
  std::string_view name;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0;
};

/// While alive, fast_decode_range on this thread leaves the value of a key empty (undecoded)
/// when the key is `prefix` + the name of an entry of `known` and its mod_revision (non-zero)
/// and lease are that entry's. etcd gives a key a new mod_revision with every write, so such a
/// value is byte for byte the one the caller decoded and parsed before: the caller keeps its
/// parsed form (Cluster::from_keys reuses a member whose version and session did not move) and
/// decoding the base64 again would only cost time (most of a large read's decoding).
///
/// The value must still be a JSON string or null (anything else leaves the road as before);
/// a new or moved key is decoded, and its bad base64 still sends the answer to the general
/// decoder, which decodes every value and raises what it always raised. A thread-local hint
/// because the decoder runs inside the client's request path, on the calling thread.
/// `known` should be sorted by name (bytewise; out of order entries are only missed) and must
/// outlive this object. The innermost one alive answers for the keys under its prefix and hands
/// the others to the one it encloses (a cluster's members inside its other keys).
class KnownValues {
 public:
  KnownValues(std::string_view prefix, std::span<const KnownValue> known) noexcept;
  ~KnownValues();
  KnownValues(const KnownValues&) = delete;
  KnownValues& operator=(const KnownValues&) = delete;

  /// Whether the value of `key` at `mod_revision` / `lease` is known. Keys asked in ascending
  /// order are answered in amortised constant time (etcd sorts a range answer by key).
  bool known(std::string_view key, std::int64_t mod_revision, std::int64_t lease) noexcept;
  /// Called by the decoder before each answer: the walk starts again.
  void rewind() noexcept {
    next_ = 0;
    if (outer_ != nullptr) outer_->rewind();
  }

  /// The hint installed on this thread, or null.
  static KnownValues* current() noexcept;

 private:
  std::string_view prefix_;
  std::span<const KnownValue> known_;
  std::size_t next_ = 0;
  KnownValues* outer_ = nullptr;
};

/// A keepalive answer: {"result":{...}}.
bool fast_decode_keepalive(std::string& body, etcd3::ResponseHeader& top_header, etcd3::LeaseKeepAliveResponse& out);

}  // namespace dcs::codec
