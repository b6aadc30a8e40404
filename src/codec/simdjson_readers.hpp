// The simdjson field readers shared by the fast decoders (fast_decode.cpp for unary answers,
// fast_watch_decode.cpp for watch messages). Internal: never included by a public header.
#pragma once

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "codec/base64.hpp"
#include "dcs/etcd3/kv.hpp"

namespace dcs::codec::simdjson_readers {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Thrown when an answer leaves the well-trodden road; the fast decoders catch it and the caller
// then takes the general decoder, which raises the typed errors.
struct OffRoad {};

[[noreturn]] inline void off_road() {
  throw OffRoad{};
}

// The readers below mirror json_fields.cpp: null means absent (zero), int64 as string or
// number, booleans also as "true"/"false"; everything else leaves the road.

template <typename Int>
inline Int integer(element value) {
  switch (value.type()) {
    case element_type::NULL_VALUE:
      return 0;
    case element_type::INT64: {
      const std::int64_t i = value.get_int64().value_unsafe();
      if constexpr (std::is_unsigned_v<Int>) {
        if (i < 0) off_road();
      }
      return static_cast<Int>(i);
    }
    case element_type::UINT64: {
      // Only above INT64_MAX: fine for an unsigned field, out of range for a signed one.
      if constexpr (!std::is_unsigned_v<Int>) off_road();
      return static_cast<Int>(value.get_uint64().value_unsafe());
    }
    case element_type::STRING: {
      const std::string_view text = value.get_string().value_unsafe();
      // etcd sends its int64s as decimal strings (a range answer carries four per key, lease
      // ids with 19 digits): plain digits up to 19 cannot overflow 64 bits and need no
      // from_chars. Signs, out of range values and anything else take from_chars below.
      if (!text.empty() && text.size() <= 19) {
        std::uint64_t digits = 0;
        bool plain = true;
        for (const char c : text) {
          const auto digit = static_cast<unsigned>(c - '0');
          plain &= digit < 10;
          digits = digits * 10 + digit;
        }
        if (plain && digits <= static_cast<std::uint64_t>(std::numeric_limits<Int>::max()))
          return static_cast<Int>(digits);
      }
      Int out{};
      const auto* end = text.data() + text.size();
      const auto [ptr, ec] = std::from_chars(text.data(), end, out);
      if (text.empty() || ec != std::errc{} || ptr != end) off_road();
      return out;
    }
    default:
      off_road();
  }
}

inline bool boolean(element value) {
  switch (value.type()) {
    case element_type::NULL_VALUE:
      return false;
    case element_type::BOOL:
      return value.get_bool().value_unsafe();
    case element_type::STRING: {
      const std::string_view text = value.get_string().value_unsafe();
      if (text == "true") return true;
      if (text == "false") return false;
      off_road();
    }
    default:
      off_road();
  }
}

inline void bytes(element value, std::string& out) {
  if (value.type() == element_type::NULL_VALUE) {
    out.clear();
    return;
  }
  if (value.type() != element_type::STRING || !base64_decode_into(value.get_string().value_unsafe(), out)) off_road();
}

inline simdjson::dom::object object_of(element value) {
  simdjson::dom::object out;
  if (value.get_object().get(out)) off_road();
  return out;
}

inline etcd3::ResponseHeader header(element value) {
  etcd3::ResponseHeader out;
  if (value.type() == element_type::NULL_VALUE) return out;
  for (const auto field : object_of(value)) {
    if (field.key == "cluster_id") {
      out.cluster_id = integer<std::uint64_t>(field.value);
    } else if (field.key == "member_id") {
      out.member_id = integer<std::uint64_t>(field.value);
    } else if (field.key == "revision") {
      out.revision = integer<std::int64_t>(field.value);
    } else if (field.key == "raft_term") {
      out.raft_term = integer<std::uint64_t>(field.value);
    }
  }
  return out;
}

}  // namespace dcs::codec::simdjson_readers
