#include "codec/kv_codec.hpp"

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

}  // namespace

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
