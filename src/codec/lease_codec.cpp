#include "codec/lease_codec.hpp"

namespace dcs::codec {

using namespace dcs::etcd3;

json encode_lease_grant(std::int64_t ttl_seconds, std::int64_t id) {
  // The field is "TTL": etcd silently ignores a lower-case "ttl" and grants its minimum.
  json body = {{"TTL", int64_field(ttl_seconds)}};
  if (id != 0) body["ID"] = int64_field(id);
  return body;
}

json encode_lease_id(std::int64_t id) {
  return {{"ID", int64_field(id)}};
}

std::string encode_lease_id_text(std::int64_t id) {
  return "{\"ID\":\"" + std::to_string(id) + "\"}";
}

json encode_lease_time_to_live(std::int64_t id, bool keys) {
  json body = encode_lease_id(id);
  if (keys) body["keys"] = true;
  return body;
}

LeaseGrantResponse decode_lease_grant_response(const json& response) {
  LeaseGrantResponse out;
  out.header = decode_header(response);
  out.id = get_int64(response, "ID");
  out.ttl = get_int64(response, "TTL");
  if (out.id == 0) throw DecodeError("lease grant answer carries no lease ID");
  return out;
}

LeaseKeepAliveResponse decode_lease_keepalive_message(const json& message) {
  const json* result = find_field(message, "result");
  if (!result) throw DecodeError("keepalive answer has no 'result'");
  LeaseKeepAliveResponse out;
  out.header = decode_header(*result);
  out.id = get_int64(*result, "ID");
  out.ttl = get_int64(*result, "TTL");  // absent: the lease is gone
  return out;
}

LeaseTimeToLiveResponse decode_lease_time_to_live_response(const json& response) {
  LeaseTimeToLiveResponse out;
  out.header = decode_header(response);
  out.id = get_int64(response, "ID");
  out.ttl = get_int64(response, "TTL");
  out.granted_ttl = get_int64(response, "grantedTTL");
  for (const auto& key : get_array(response, "keys")) {
    json wrapper = {{"key", key}};
    out.keys.push_back(get_bytes(wrapper, "key"));
  }
  return out;
}

}  // namespace dcs::codec
