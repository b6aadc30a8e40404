// Remembers the newest raft term seen from an etcd cluster, so that an answer from a member with
// an older term (partitioned or restored from an old snapshot, i.e. stale) is recognised and the
// client moves to another member instead of trusting it.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "dcs/etcd3/kv.hpp"

namespace dcs::etcd3::detail {

class RaftTermGuard {
 public:
  enum class Verdict { fresh, stale, cluster_changed };

  /// Records the header and says whether it came from a stale member. Headers lacking a
  /// cluster id or term are ignored (fresh). A new cluster id resets the remembered term.
  Verdict observe(const ResponseHeader& header);

  std::uint64_t term() const;
  std::uint64_t cluster_id() const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t cluster_id_ = 0;
  std::uint64_t term_ = 0;
};

}  // namespace dcs::etcd3::detail
