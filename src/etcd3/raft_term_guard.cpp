#include "etcd3/raft_term_guard.hpp"

namespace dcs::etcd3::detail {

RaftTermGuard::Verdict RaftTermGuard::observe(const ResponseHeader& header) {
  if (header.cluster_id == 0 || header.raft_term == 0) return Verdict::fresh;
  std::lock_guard lock(mutex_);
  if (cluster_id_ != 0 && header.cluster_id != cluster_id_) {
    cluster_id_ = header.cluster_id;
    term_ = header.raft_term;
    return Verdict::cluster_changed;
  }
  cluster_id_ = header.cluster_id;
  if (header.raft_term < term_) return Verdict::stale;
  term_ = header.raft_term;
  return Verdict::fresh;
}

std::uint64_t RaftTermGuard::term() const {
  std::lock_guard lock(mutex_);
  return term_;
}

std::uint64_t RaftTermGuard::cluster_id() const {
  std::lock_guard lock(mutex_);
  return cluster_id_;
}

}  // namespace dcs::etcd3::detail
