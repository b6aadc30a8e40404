// Transactions: compares plus success / failure operations, nestable.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "dcs/etcd3/kv.hpp"
#include "dcs/export.hpp"

namespace dcs::etcd3 {

enum class CompareTarget { version = 0, create = 1, mod = 2, value = 3, lease = 4 };
enum class CompareResult { equal = 0, greater = 1, less = 2, not_equal = 3 };

/// One compare of a transaction. Use the named constructors; the operand field that matches
/// `target` is the one sent.
struct Compare {
  std::string key;
  std::string range_end;  ///< non-empty: compare every key in [key, range_end)
  CompareTarget target = CompareTarget::version;
  CompareResult result = CompareResult::equal;
  std::int64_t number = 0;  ///< operand for version / create / mod / lease targets
  std::string value;        ///< operand for the value target

  DCS_EXPORT static Compare version(std::string key, CompareResult result, std::int64_t version);
  DCS_EXPORT static Compare create_revision(std::string key, CompareResult result, std::int64_t revision);
  DCS_EXPORT static Compare mod_revision(std::string key, CompareResult result, std::int64_t revision);
  DCS_EXPORT static Compare value_of(std::string key, CompareResult result, std::string value);
  DCS_EXPORT static Compare lease(std::string key, CompareResult result, std::int64_t lease);
};

struct RequestOp;

struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};

/// One operation of a transaction branch: range, put, delete range or a nested transaction.
struct RequestOp {
  std::variant<RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest> request;
};

struct ResponseOp;

struct TxnResponse {
  ResponseHeader header;
  bool succeeded = false;  ///< false: the compares failed and the failure branch ran
  std::vector<ResponseOp> responses;
};

/// The result of one RequestOp, in the order the operations were given.
struct ResponseOp {
  std::variant<RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse> response;
};

}  // namespace dcs::etcd3
