// JSON codecs of the KV service: request bodies out, typed responses in.
#pragma once

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

etcd3::RangeResponse decode_range_response(const json& response);
etcd3::PutResponse decode_put_response(const json& response);
etcd3::DeleteRangeResponse decode_delete_range_response(const json& response);
etcd3::TxnResponse decode_txn_response(const json& response);

}  // namespace dcs::codec
