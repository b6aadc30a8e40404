// JSON codecs of the Lease service.
#pragma once

#include "codec/json_fields.hpp"
#include "dcs/etcd3/lease.hpp"

namespace dcs::codec {

json encode_lease_grant(std::int64_t ttl_seconds, std::int64_t id);
json encode_lease_id(std::int64_t id);
/// encode_lease_id(id).dump() without a JSON tree.
std::string encode_lease_id_text(std::int64_t id);
json encode_lease_time_to_live(std::int64_t id, bool keys);

etcd3::LeaseGrantResponse decode_lease_grant_response(const json& response);
/// `message` is one line of the keepalive stream: {"result":{...}}.
etcd3::LeaseKeepAliveResponse decode_lease_keepalive_message(const json& message);
etcd3::LeaseTimeToLiveResponse decode_lease_time_to_live_response(const json& response);

}  // namespace dcs::codec
