#include "codec/kv_codec.hpp"

#include <charconv>

#include "codec/base64.hpp"

namespace dcs::codec {

using namespace dcs::etcd3;

namespace {

const char* sort_order_name(SortOrder order) {
  switch (order) {
    case SortOrder::ascend:
      return "ASCEND";
    case SortOrder::descend:
      return "DESCEND";
    case SortOrder::none:
      break;
  }
  return "NONE";
}

const char* sort_target_name(SortTarget target) {
  switch (target) {
    case SortTarget::version:
      return "VERSION";
    case SortTarget::create:
      return "CREATE";
    case SortTarget::mod:
      return "MOD";
    case SortTarget::value:
      return "VALUE";
    case SortTarget::key:
      break;
  }
  return "KEY";
}

const char* compare_target_name(CompareTarget target) {
  switch (target) {
    case CompareTarget::create:
      return "CREATE";
    case CompareTarget::mod:
      return "MOD";
    case CompareTarget::value:
      return "VALUE";
    case CompareTarget::lease:
      return "LEASE";
    case CompareTarget::version:
      break;
  }
  return "VERSION";
}

const char* compare_result_name(CompareResult result) {
  switch (result) {
    case CompareResult::greater:
      return "GREATER";
    case CompareResult::less:
      return "LESS";
    case CompareResult::not_equal:
      return "NOT_EQUAL";
    case CompareResult::equal:
      break;
  }
  return "EQUAL";
}

json encode_ops(const std::vector<RequestOp>& ops) {
  json out = json::array();
  for (const auto& op : ops) {
    out.push_back(std::visit(
        [](const auto& request) -> json {
          using T = std::decay_t<decltype(request)>;
          if constexpr (std::is_same_v<T, RangeRequest>) return {{"request_range", encode(request)}};
          if constexpr (std::is_same_v<T, PutRequest>) return {{"request_put", encode(request)}};
          if constexpr (std::is_same_v<T, DeleteRangeRequest>) return {{"request_delete_range", encode(request)}};
          if constexpr (std::is_same_v<T, TxnRequest>) return {{"request_txn", encode(request)}};
        },
        op.request));
  }
  return out;
}

std::vector<KeyValue> decode_kvs(const json& response, std::string_view field) {
  std::vector<KeyValue> kvs;
  const json& array = get_array(response, field);
  kvs.reserve(array.size());
  for (const auto& kv : array) kvs.push_back(decode_key_value(kv));
  return kvs;
}

ResponseOp decode_response_op(const json& op) {
  if (const json* r = find_field(op, "response_range")) return {decode_range_response(*r)};
  if (const json* r = find_field(op, "response_put")) return {decode_put_response(*r)};
  if (const json* r = find_field(op, "response_delete_range")) return {decode_delete_range_response(*r)};
  if (const json* r = find_field(op, "response_txn")) return {decode_txn_response(*r)};
  throw DecodeError("txn response operation of unknown kind: " + op.dump());
}

// Appends one JSON object member by member. Keys are written in sorted order, which is what
// nlohmann's dump of the same object prints: the bodies are byte for byte those of encode().
// Every string written is base64 or a fixed name, so nothing needs escaping.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ~ObjectWriter() { out_ += '}'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  std::string& key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += name;
    out_ += "\":";
    return out_;
  }
  void bytes(std::string_view name, std::string_view value) {
    key(name) += '"';
    base64_append(out_, value);
    out_ += '"';
  }
  void int64(std::string_view name, std::int64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    key(name) += '"';
    out_.append(digits, end);
    out_ += '"';
  }
  void text(std::string_view name, std::string_view value) {
    key(name) += '"';
    out_ += value;
    out_ += '"';
  }
  void yes(std::string_view name) { key(name) += "true"; }

 private:
  std::string& out_;
  bool first_ = true;
};

void append_ops(std::string& out, const std::vector<RequestOp>& ops) {
  out += '[';
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (i != 0) out += ',';
    std::visit(
        [&out](const auto& request) {
          using T = std::decay_t<decltype(request)>;
          ObjectWriter op(out);
          if constexpr (std::is_same_v<T, RangeRequest>) op.key("request_range");
          if constexpr (std::is_same_v<T, PutRequest>) op.key("request_put");
          if constexpr (std::is_same_v<T, DeleteRangeRequest>) op.key("request_delete_range");
          if constexpr (std::is_same_v<T, TxnRequest>) op.key("request_txn");
          append_json(out, request);
        },
        ops[i].request);
  }
  out += ']';
}

}  // namespace

void append_json(std::string& out, const RangeRequest& request) {
  ObjectWriter w(out);
  if (request.count_only) w.yes("count_only");
  w.bytes("key", request.key);
  if (request.keys_only) w.yes("keys_only");
  if (request.limit != 0) w.int64("limit", request.limit);
  if (!request.range_end.empty()) w.bytes("range_end", request.range_end);
  if (request.revision != 0) w.int64("revision", request.revision);
  if (request.serializable) w.yes("serializable");
  if (request.sort_order != SortOrder::none) w.text("sort_order", sort_order_name(request.sort_order));
  if (request.sort_target != SortTarget::key) w.text("sort_target", sort_target_name(request.sort_target));
}

void append_json(std::string& out, const PutRequest& request) {
  ObjectWriter w(out);
  if (request.ignore_lease) w.yes("ignore_lease");
  if (request.ignore_value) w.yes("ignore_value");
  w.bytes("key", request.key);
  if (request.lease != 0) w.int64("lease", request.lease);
  if (request.prev_kv) w.yes("prev_kv");
  if (!request.ignore_value) w.bytes("value", request.value);
}

void append_json(std::string& out, const DeleteRangeRequest& request) {
  ObjectWriter w(out);
  w.bytes("key", request.key);
  if (request.prev_kv) w.yes("prev_kv");
  if (!request.range_end.empty()) w.bytes("range_end", request.range_end);
}

void append_json(std::string& out, const Compare& compare) {
  ObjectWriter w(out);
  if (compare.target == CompareTarget::create) w.int64("create_revision", compare.number);
  w.bytes("key", compare.key);
  if (compare.target == CompareTarget::lease) w.int64("lease", compare.number);
  if (compare.target == CompareTarget::mod) w.int64("mod_revision", compare.number);
  if (!compare.range_end.empty()) w.bytes("range_end", compare.range_end);
  if (compare.result != CompareResult::equal) w.text("result", compare_result_name(compare.result));
  w.text("target", compare_target_name(compare.target));
  if (compare.target == CompareTarget::value) w.bytes("value", compare.value);
  if (compare.target == CompareTarget::version) w.int64("version", compare.number);
}

void append_json(std::string& out, const TxnRequest& request) {
  ObjectWriter w(out);
  if (!request.compare.empty()) {
    w.key("compare") += '[';
    for (std::size_t i = 0; i < request.compare.size(); ++i) {
      if (i != 0) out += ',';
      append_json(out, request.compare[i]);
    }
    out += ']';
  }
  if (!request.failure.empty()) append_ops(w.key("failure"), request.failure);
  if (!request.success.empty()) append_ops(w.key("success"), request.success);
}

json encode(const RangeRequest& request) {
  json body = {{"key", base64_encode(request.key)}};
  if (!request.range_end.empty()) body["range_end"] = base64_encode(request.range_end);
  if (request.limit != 0) body["limit"] = int64_field(request.limit);
  if (request.revision != 0) body["revision"] = int64_field(request.revision);
  if (request.sort_order != SortOrder::none) body["sort_order"] = sort_order_name(request.sort_order);
  if (request.sort_target != SortTarget::key) body["sort_target"] = sort_target_name(request.sort_target);
  if (request.serializable) body["serializable"] = true;
  if (request.keys_only) body["keys_only"] = true;
  if (request.count_only) body["count_only"] = true;
  return body;
}

json encode(const PutRequest& request) {
  json body = {{"key", base64_encode(request.key)}};
  if (!request.ignore_value) body["value"] = base64_encode(request.value);
  if (request.lease != 0) body["lease"] = int64_field(request.lease);
  if (request.prev_kv) body["prev_kv"] = true;
  if (request.ignore_value) body["ignore_value"] = true;
  if (request.ignore_lease) body["ignore_lease"] = true;
  return body;
}

json encode(const DeleteRangeRequest& request) {
  json body = {{"key", base64_encode(request.key)}};
  if (!request.range_end.empty()) body["range_end"] = base64_encode(request.range_end);
  if (request.prev_kv) body["prev_kv"] = true;
  return body;
}

json encode(const Compare& compare) {
  json body = {{"key", base64_encode(compare.key)}, {"target", compare_target_name(compare.target)}};
  if (compare.result != CompareResult::equal) body["result"] = compare_result_name(compare.result);
  if (!compare.range_end.empty()) body["range_end"] = base64_encode(compare.range_end);
  switch (compare.target) {
    case CompareTarget::version:
      body["version"] = int64_field(compare.number);
      break;
    case CompareTarget::create:
      body["create_revision"] = int64_field(compare.number);
      break;
    case CompareTarget::mod:
      body["mod_revision"] = int64_field(compare.number);
      break;
    case CompareTarget::lease:
      body["lease"] = int64_field(compare.number);
      break;
    case CompareTarget::value:
      body["value"] = base64_encode(compare.value);
      break;
  }
  return body;
}

json encode(const TxnRequest& request) {
  json body = json::object();
  if (!request.compare.empty()) {
    json compares = json::array();
    for (const auto& c : request.compare) compares.push_back(encode(c));
    body["compare"] = std::move(compares);
  }
  if (!request.success.empty()) body["success"] = encode_ops(request.success);
  if (!request.failure.empty()) body["failure"] = encode_ops(request.failure);
  return body;
}

json encode(const CompactionRequest& request) {
  json body = {{"revision", int64_field(request.revision)}};
  if (request.physical) body["physical"] = true;
  return body;
}

RangeResponse decode_range_response(const json& response) {
  RangeResponse out;
  out.header = decode_header(response);
  out.kvs = decode_kvs(response, "kvs");
  out.more = get_bool(response, "more");
  out.count = get_int64(response, "count");
  return out;
}

PutResponse decode_put_response(const json& response) {
  PutResponse out;
  out.header = decode_header(response);
  if (const json* prev = find_field(response, "prev_kv")) out.prev_kv = decode_key_value(*prev);
  return out;
}

DeleteRangeResponse decode_delete_range_response(const json& response) {
  DeleteRangeResponse out;
  out.header = decode_header(response);
  out.deleted = get_int64(response, "deleted");
  out.prev_kvs = decode_kvs(response, "prev_kvs");
  return out;
}

TxnResponse decode_txn_response(const json& response) {
  TxnResponse out;
  out.header = decode_header(response);
  out.succeeded = get_bool(response, "succeeded");
  for (const auto& op : get_array(response, "responses")) out.responses.push_back(decode_response_op(op));
  return out;
}

}  // namespace dcs::codec
