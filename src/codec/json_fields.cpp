#include "codec/json_fields.hpp"

#include <charconv>
#include <limits>

#include "codec/base64.hpp"

namespace dcs::codec {

namespace {

[[noreturn]] void wrong_type(std::string_view name, std::string_view expected, const json& value) {
  throw DecodeError("field '" + std::string(name) + "' should be " + std::string(expected) + ", got " +
                    std::string(value.type_name()));
}

template <typename Int>
Int parse_integer(std::string_view name, const json& value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned()) {
      const auto u = value.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<Int>::max()))
        wrong_type(name, "an integer in range", value);
      return static_cast<Int>(u);
    }
    const auto i = value.get<std::int64_t>();
    if constexpr (std::is_unsigned_v<Int>) {
      if (i < 0) wrong_type(name, "a non-negative integer", value);
    }
    return static_cast<Int>(i);
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    Int out{};
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, out);
    if (text.empty() || ec != std::errc{} || ptr != end) wrong_type(name, "an integer", value);
    return out;
  }
  wrong_type(name, "an integer", value);
}

}  // namespace

const json* find_field(const json& object, std::string_view name) {
  if (!object.is_object()) throw DecodeError("expected a JSON object, got " + std::string(object.type_name()));
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::int64_t get_int64(const json& object, std::string_view name) {
  const json* v = find_field(object, name);
  return v ? parse_integer<std::int64_t>(name, *v) : 0;
}

std::uint64_t get_uint64(const json& object, std::string_view name) {
  const json* v = find_field(object, name);
  return v ? parse_integer<std::uint64_t>(name, *v) : 0;
}

bool get_bool(const json& object, std::string_view name) {
  const json* v = find_field(object, name);
  if (!v) return false;
  if (v->is_boolean()) return v->get<bool>();
  // Some gateways print booleans as strings; accept the two spellings and nothing else.
  if (v->is_string() && (*v == "true" || *v == "false")) return *v == "true";
  wrong_type(name, "a boolean", *v);
}

std::string get_string(const json& object, std::string_view name) {
  const json* v = find_field(object, name);
  if (!v) return {};
  if (!v->is_string()) wrong_type(name, "a string", *v);
  return v->get<std::string>();
}

std::string get_bytes(const json& object, std::string_view name) {
  const json* v = find_field(object, name);
  if (!v) return {};
  if (!v->is_string()) wrong_type(name, "a base64 string", *v);
  auto decoded = base64_decode(v->get_ref<const std::string&>());
  if (!decoded) throw DecodeError("field '" + std::string(name) + "' is not valid base64");
  return std::move(*decoded);
}

const json& get_array(const json& object, std::string_view name) {
  static const json empty = json::array();
  const json* v = find_field(object, name);
  if (!v) return empty;
  if (!v->is_array()) wrong_type(name, "an array", *v);
  return *v;
}

json parse_object(std::string_view body) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) throw DecodeError("response is not valid JSON");
  if (!parsed.is_object()) throw DecodeError("response is not a JSON object");
  return parsed;
}

etcd3::ResponseHeader decode_header(const json& response) {
  etcd3::ResponseHeader header;
  const json* h = find_field(response, "header");
  if (!h) return header;
  header.cluster_id = get_uint64(*h, "cluster_id");
  header.member_id = get_uint64(*h, "member_id");
  header.revision = get_int64(*h, "revision");
  header.raft_term = get_uint64(*h, "raft_term");
  return header;
}

etcd3::KeyValue decode_key_value(const json& kv) {
  etcd3::KeyValue out;
  out.key = get_bytes(kv, "key");
  out.value = get_bytes(kv, "value");
  out.create_revision = get_int64(kv, "create_revision");
  out.mod_revision = get_int64(kv, "mod_revision");
  out.version = get_int64(kv, "version");
  out.lease = get_int64(kv, "lease");
  return out;
}

}  // namespace dcs::codec
