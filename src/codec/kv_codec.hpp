// JSON codecs of the KV service: request bodies out, typed responses in.
#pragma once

#include <string>

#include "codec/json_fields.hpp"
#include "dcs/etcd3/kv.hpp"
#include "dcs/etcd3/txn.hpp"

namespace dcs::codec {

json encode(const etcd3::RangeRequest& request);
json encode(const etcd3::PutRequest& request);
json encode(const etcd3::DeleteRangeRequest& request);
json encode(const etcd3::TxnRequest& request);
json encode(const etcd3::Compare& compare);
json encode(const etcd3::CompactionRequest& request);

/// The same bodies as encode(...).dump(), byte for byte, appended to `out` without a JSON tree
/// (the requests of the HA loop's path).
void append_json(std::string& out, const etcd3::RangeRequest& request);
void append_json(std::string& out, const etcd3::PutRequest& request);
void append_json(std::string& out, const etcd3::DeleteRangeRequest& request);
void append_json(std::string& out, const etcd3::TxnRequest& request);
void append_json(std::string& out, const etcd3::Compare& compare);

/// append_json into a fresh string.
template <typename Request>
std::string encode_text(const Request& request) {
  std::string out;
  append_json(out, request);
  return out;
}

etcd3::RangeResponse decode_range_response(const json& response);
etcd3::PutResponse decode_put_response(const json& response);
etcd3::DeleteRangeResponse decode_delete_range_response(const json& response);
etcd3::TxnResponse decode_txn_response(const json& response);

}  // namespace dcs::codec
