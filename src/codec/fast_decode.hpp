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

#include <string>

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
/// A keepalive answer: {"result":{...}}.
bool fast_decode_keepalive(std::string& body, etcd3::ResponseHeader& top_header, etcd3::LeaseKeepAliveResponse& out);

}  // namespace dcs::codec
