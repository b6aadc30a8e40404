// Lease service value types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dcs/etcd3/kv.hpp"

namespace dcs::etcd3 {

struct LeaseGrantResponse {
  ResponseHeader header;
  std::int64_t id = 0;
  std::int64_t ttl = 0;  ///< seconds granted (etcd raises values below its minimum)
};

struct LeaseKeepAliveResponse {
  ResponseHeader header;
  std::int64_t id = 0;
  std::int64_t ttl = 0;  ///< 0: the lease no longer exists (expired or revoked)

  bool alive() const noexcept { return ttl > 0; }
};

struct LeaseTimeToLiveResponse {
  ResponseHeader header;
  std::int64_t id = 0;
  std::int64_t ttl = -1;  ///< remaining seconds; -1: the lease does not exist
  std::int64_t granted_ttl = 0;
  std::vector<std::string> keys;  ///< filled when asked for
};

struct LeaseRevokeResponse {
  ResponseHeader header;
};

}  // namespace dcs::etcd3
