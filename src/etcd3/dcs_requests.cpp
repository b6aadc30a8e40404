#include "etcd3/dcs_requests.hpp"

#include <utility>
#include <variant>

namespace dcs::etcd3::requests {

PutRequest put(std::string key, std::string value, std::int64_t lease) {
  PutRequest request;
  request.key = std::move(key);
  request.value = std::move(value);
  request.lease = lease;
  return request;
}

TxnRequest put_if_absent(const std::string& key, const std::string& value, std::int64_t lease) {
  TxnRequest txn;
  txn.compare.push_back(Compare::create_revision(key, CompareResult::equal, 0));
  txn.success.push_back(RequestOp{put(key, value, lease)});
  return txn;
}

TxnRequest put_if_mod_revision(const std::string& key, const std::string& value, std::int64_t revision) {
  TxnRequest txn;
  txn.compare.push_back(Compare::mod_revision(key, CompareResult::equal, revision));
  txn.success.push_back(RequestOp{put(key, value)});
  return txn;
}

TxnRequest delete_if_mod_revision(const std::string& key, std::int64_t revision) {
  TxnRequest txn;
  txn.compare.push_back(Compare::mod_revision(key, CompareResult::equal, revision));
  DeleteRangeRequest del;
  del.key = key;
  txn.success.push_back(RequestOp{std::move(del)});
  return txn;
}

TxnRequest delete_if_value(const std::string& key, const std::string& value) {
  TxnRequest txn;
  txn.compare.push_back(Compare::value_of(key, CompareResult::equal, value));
  DeleteRangeRequest del;
  del.key = key;
  txn.success.push_back(RequestOp{std::move(del)});
  return txn;
}

TxnRequest rebind_leader(const std::string& key, const std::string& name, std::int64_t lease) {
  TxnRequest txn;
  txn.compare.push_back(Compare::value_of(key, CompareResult::equal, name));
  txn.success.push_back(RequestOp{put(key, name, lease)});
  txn.failure.push_back(RequestOp{put_if_absent(key, name, lease)});
  return txn;
}

bool rebind_succeeded(const TxnResponse& response) {
  if (response.succeeded) return true;
  if (response.responses.empty()) return false;
  const auto* nested = std::get_if<TxnResponse>(&response.responses.front().response);
  return nested != nullptr && nested->succeeded;
}

RangeRequest read_prefix(const std::string& prefix, bool serializable) {
  RangeRequest request = RangeRequest::with_prefix(prefix);
  request.serializable = serializable;
  return request;
}

DeleteRangeRequest delete_prefix(const std::string& prefix) {
  DeleteRangeRequest request;
  request.key = prefix;
  request.range_end = prefix_range_end(prefix);
  return request;
}

}  // namespace dcs::etcd3::requests
