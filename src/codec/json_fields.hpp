// Readers for the fields of etcd's JSON answers. etcd omits zero values and prints 64-bit
// integers as strings, so every reader returns the zero value for an absent (or null) field and
// accepts an int64 as string or number. A present field of the wrong type raises DecodeError.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dcs/etcd3/kv.hpp"

namespace dcs::codec {

using nlohmann::json;

/// An answer does not have the shape etcd gives it. The client turns it into MalformedResponse.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The field, or nullptr when absent or null. Throws DecodeError when `object` is not an object.
const json* find_field(const json& object, std::string_view name);

std::int64_t get_int64(const json& object, std::string_view name);
std::uint64_t get_uint64(const json& object, std::string_view name);
bool get_bool(const json& object, std::string_view name);
std::string get_string(const json& object, std::string_view name);
/// A base64 field, decoded.
std::string get_bytes(const json& object, std::string_view name);
/// An array field (empty array when absent).
const json& get_array(const json& object, std::string_view name);

/// Parses a whole response body; DecodeError for anything that is not one JSON object.
json parse_object(std::string_view body);

/// Renders an int64 the way etcd prints it (a JSON string), so IDs above 2^53 stay exact.
inline json int64_field(std::int64_t value) {
  return std::to_string(value);
}

etcd3::ResponseHeader decode_header(const json& response);
etcd3::KeyValue decode_key_value(const json& kv);

}  // namespace dcs::codec
