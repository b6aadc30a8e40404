#include "codec/fast_decode.hpp"

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string_view>

#include "codec/base64.hpp"
#include "codec/simdjson_readers.hpp"

namespace dcs::codec {

using namespace dcs::etcd3;
using simdjson::dom::element;
using simdjson::dom::element_type;

using namespace simdjson_readers;

namespace {

// One parser per thread: it keeps its buffers between answers, so a steady HA loop allocates
// nothing here. A parser grown by a huge answer is dropped afterwards rather than kept.
constexpr std::size_t kKeptCapacity = 1 << 20;

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

simdjson::dom::object parse_object(std::string& body) {
  // simdjson reads up to SIMDJSON_PADDING bytes past the text: give the string that much spare
  // capacity instead of letting the parser copy the whole body.
  if (body.capacity() - body.size() < simdjson::SIMDJSON_PADDING)
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  auto& parser = thread_parser();
  simdjson::dom::object root;
  if (parser.parse(body.data(), body.size(), /*realloc_if_needed=*/false).get_object().get(root)) off_road();
  return root;
}

// Drops the buffers of a parser grown by a big answer, once nothing points into them any more.
void trim_parser() {
  auto& parser = thread_parser();
  if (parser.capacity() > kKeptCapacity) parser = simdjson::dom::parser();
}

// Fields are read in document order and a repeated field overwrites the earlier one (what the
// general decoder sees: its JSON object keeps the last duplicate).

void key_value(element value, KeyValue& out, KnownValues* known) {
  out.value.clear();
  out.key.clear();
  out.create_revision = out.mod_revision = out.version = out.lease = 0;
  // The value is decoded last: whether it is needed depends on the fields after it ("lease").
  element value_text;
  bool has_value = false;
  for (const auto field : object_of(value)) {
    const std::string_view key = field.key;
    if (key == "key") {
      bytes(field.value, out.key);
    } else if (key == "value") {
      value_text = field.value;
      has_value = true;
    } else if (key == "create_revision") {
      out.create_revision = integer<std::int64_t>(field.value);
    } else if (key == "mod_revision") {
      out.mod_revision = integer<std::int64_t>(field.value);
    } else if (key == "version") {
      out.version = integer<std::int64_t>(field.value);
    } else if (key == "lease") {
      out.lease = integer<std::int64_t>(field.value);
    }
  }
  if (!has_value) return;
  if (known != nullptr && known->known(out.key, out.mod_revision, out.lease)) {
    // Decoded (and accepted) before at this revision: only its type is checked again.
    const auto type = value_text.type();
    if (type != element_type::STRING && type != element_type::NULL_VALUE) off_road();
    return;
  }
  bytes(value_text, out.value);
}

void key_values(element value, std::vector<KeyValue>& out, KnownValues* known = nullptr) {
  out.clear();
  if (value.type() == element_type::NULL_VALUE) return;
  simdjson::dom::array array;
  if (value.get_array().get(array)) off_road();
  out.resize(array.size());
  std::size_t i = 0;
  for (const auto kv : array) key_value(kv, out[i++], known);
}

// The top-level members every answer shares; true when `key` was one of them. An "error"
// member (a stream that failed after its headers) is the general path's to report.
bool common_field(std::string_view key, element value, ResponseHeader& top_header) {
  if (key == "header") {
    top_header = header(value);
    return true;
  }
  if (key == "error") off_road();
  return false;
}

RangeResponse range_response(simdjson::dom::object object, ResponseHeader* top_header);
PutResponse put_response(simdjson::dom::object object, ResponseHeader* top_header);
DeleteRangeResponse delete_range_response(simdjson::dom::object object);
TxnResponse txn_response(simdjson::dom::object object, ResponseHeader* top_header);

// A nested response's header is its own; only the top level has to watch for "error".
bool header_field(std::string_view key, element value, ResponseHeader& header_out, ResponseHeader* top_header) {
  if (top_header != nullptr) {
    if (!common_field(key, value, *top_header)) return false;
    header_out = *top_header;
    return true;
  }
  if (key != "header") return false;
  header_out = header(value);
  return true;
}

RangeResponse range_response(simdjson::dom::object object, ResponseHeader* top_header) {
  RangeResponse out;
  // Only a range request's own answer (top_header set), not a range inside a txn answer.
  KnownValues* known = top_header != nullptr ? KnownValues::current() : nullptr;
  for (const auto field : object) {
    if (header_field(field.key, field.value, out.header, top_header)) continue;
    if (field.key == "kvs") {
      if (known != nullptr) known->rewind();
      key_values(field.value, out.kvs, known);
    } else if (field.key == "more") {
      out.more = boolean(field.value);
    } else if (field.key == "count") {
      out.count = integer<std::int64_t>(field.value);
    }
  }
  return out;
}

PutResponse put_response(simdjson::dom::object object, ResponseHeader* top_header) {
  PutResponse out;
  for (const auto field : object) {
    if (header_field(field.key, field.value, out.header, top_header)) continue;
    if (field.key == "prev_kv") {
      if (field.value.type() == element_type::NULL_VALUE) {
        out.prev_kv.reset();
      } else {
        key_value(field.value, out.prev_kv.emplace(), nullptr);
      }
    }
  }
  return out;
}

DeleteRangeResponse delete_range_response(simdjson::dom::object object) {
  DeleteRangeResponse out;
  for (const auto field : object) {
    if (header_field(field.key, field.value, out.header, nullptr)) continue;
    if (field.key == "deleted") {
      out.deleted = integer<std::int64_t>(field.value);
    } else if (field.key == "prev_kvs") {
      key_values(field.value, out.prev_kvs);
    }
  }
  return out;
}

// One entry of "responses": the first of the four kinds present (not null) in this order,
// whatever order the members come in, as the general decoder picks it.
ResponseOp response_op(element value) {
  const auto object = object_of(value);
  element kinds[4];
  bool present[4] = {false, false, false, false};
  for (const auto field : object) {
    int kind = -1;
    if (field.key == "response_range") {
      kind = 0;
    } else if (field.key == "response_put") {
      kind = 1;
    } else if (field.key == "response_delete_range") {
      kind = 2;
    } else if (field.key == "response_txn") {
      kind = 3;
    }
    if (kind < 0) continue;
    present[kind] = field.value.type() != element_type::NULL_VALUE;
    kinds[kind] = field.value;
  }
  if (present[0]) return {range_response(object_of(kinds[0]), nullptr)};
  if (present[1]) return {put_response(object_of(kinds[1]), nullptr)};
  if (present[2]) return {delete_range_response(object_of(kinds[2]))};
  if (present[3]) return {txn_response(object_of(kinds[3]), nullptr)};
  off_road();
}

TxnResponse txn_response(simdjson::dom::object object, ResponseHeader* top_header) {
  TxnResponse out;
  for (const auto field : object) {
    if (header_field(field.key, field.value, out.header, top_header)) continue;
    if (field.key == "succeeded") {
      out.succeeded = boolean(field.value);
    } else if (field.key == "responses") {
      out.responses.clear();
      if (field.value.type() == element_type::NULL_VALUE) continue;
      simdjson::dom::array array;
      if (field.value.get_array().get(array)) off_road();
      for (const auto op : array) out.responses.push_back(response_op(op));
    }
  }
  return out;
}

LeaseKeepAliveResponse keepalive_message(simdjson::dom::object object, ResponseHeader& top_header) {
  bool has_result = false;
  element result;
  for (const auto field : object) {
    if (common_field(field.key, field.value, top_header)) continue;
    if (field.key == "result") {
      has_result = field.value.type() != element_type::NULL_VALUE;
      result = field.value;
    }
  }
  if (!has_result) off_road();
  LeaseKeepAliveResponse out;
  for (const auto field : object_of(result)) {
    if (field.key == "header") {
      out.header = header(field.value);
    } else if (field.key == "ID") {
      out.id = integer<std::int64_t>(field.value);
    } else if (field.key == "TTL") {
      out.ttl = integer<std::int64_t>(field.value);
    }
  }
  return out;
}

template <typename Response, typename Decode>
bool decode_body(std::string& body, ResponseHeader& top_header, Response& out, Decode&& decode) {
  top_header = {};
  bool ok = true;
  try {
    out = decode(parse_object(body));
  } catch (const OffRoad&) {
    top_header = {};
    ok = false;
  }
  trim_parser();
  return ok;
}

thread_local KnownValues* t_known_values = nullptr;

}  // namespace

KnownValues::KnownValues(std::string_view prefix, std::span<const KnownValue> known) noexcept
    : prefix_(prefix), known_(known), outer_(t_known_values) {
  t_known_values = this;
}

KnownValues::~KnownValues() {
  t_known_values = outer_;
}

KnownValues* KnownValues::current() noexcept {
  return t_known_values;
}

bool KnownValues::known(std::string_view key, std::int64_t mod_revision, std::int64_t lease) noexcept {
  if (!key.starts_with(prefix_)) return outer_ != nullptr && outer_->known(key, mod_revision, lease);
  if (mod_revision == 0) return false;
  const std::string_view name = key.substr(prefix_.size());
  // A walk alongside the sorted entries; a key out of order only misses the shortcut. Mostly
  // the next entry is the key itself: one comparison.
  if (next_ < known_.size() && known_[next_].name == name) {
    const auto& entry = known_[next_++];
    return entry.mod_revision == mod_revision && entry.lease == lease;
  }
  while (next_ < known_.size() && known_[next_].name < name) ++next_;
  if (next_ == known_.size() || known_[next_].name != name) return false;
  const auto& entry = known_[next_];
  return entry.mod_revision == mod_revision && entry.lease == lease;
}

bool fast_decode_range(std::string& body, ResponseHeader& top_header, RangeResponse& out) {
  return decode_body(body, top_header, out,
                     [&](simdjson::dom::object root) { return range_response(root, &top_header); });
}

bool fast_decode_put(std::string& body, ResponseHeader& top_header, PutResponse& out) {
  return decode_body(body, top_header, out,
                     [&](simdjson::dom::object root) { return put_response(root, &top_header); });
}

bool fast_decode_txn(std::string& body, ResponseHeader& top_header, TxnResponse& out) {
  return decode_body(body, top_header, out,
                     [&](simdjson::dom::object root) { return txn_response(root, &top_header); });
}

bool fast_decode_keepalive(std::string& body, ResponseHeader& top_header, LeaseKeepAliveResponse& out) {
  return decode_body(body, top_header, out,
                     [&](simdjson::dom::object root) { return keepalive_message(root, top_header); });
}

}  // namespace dcs::codec
