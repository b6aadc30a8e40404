// Cluster membership, server status and version information.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dcs/etcd3/kv.hpp"

namespace dcs::etcd3 {

/// One etcd cluster member as the member list reports it. A member that has not started yet
/// has no name and no client URLs.
struct EtcdMember {
  std::uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

struct MemberListResponse {
  ResponseHeader header;
  std::vector<EtcdMember> members;
};

struct StatusResponse {
  ResponseHeader header;
  std::string version;
  std::int64_t db_size = 0;
  std::uint64_t leader = 0;  ///< 0: no leader known to this member
  std::uint64_t raft_index = 0;
  std::uint64_t raft_term = 0;
  std::uint64_t raft_applied_index = 0;
  std::vector<std::string> errors;
  std::int64_t db_size_in_use = 0;
  bool is_learner = false;
};

/// A dotted version number; components that are not numbers are read up to the first non-digit.
struct EtcdVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;

  friend auto operator<=>(const EtcdVersion&, const EtcdVersion&) = default;
};

/// What GET /version reports.
struct VersionInfo {
  std::string server;   ///< "3.4.23"
  std::string cluster;  ///< "3.4.0"
};

struct AuthenticateResponse {
  ResponseHeader header;
  std::string token;
};

}  // namespace dcs::etcd3
