// Internal: Patroni's client subclass (spec 4.10) as a layer over the generic Etcd3Client. Every
// KV write of the Etcd3 DCS goes through it, so that with a watcher cache attached:
// - a successful put, transaction (its first success operation; the nested transaction of the
//   leader re-bind when that one succeeded) or delete (single key as in Patroni, and also a range)
//   is applied to the cache at the response's revision, if newer than what the cache holds: a
//   process reads its own writes at once, before the watch event arrives;
// - a transaction without a failure branch whose compare failed restarts the watch (the cache
//   may be stale, and a relist makes the next read fresh);
// - a request that found no connection restarts the watch (its member may be gone too).
#pragma once

#include <atomic>
#include <memory>

#include "dcs/etcd3/client.hpp"
#include "dcs/etcd3/kv_cache.hpp"

namespace dcs::etcd3::detail {

class PatroniEtcd3Client {
 public:
  explicit PatroniEtcd3Client(std::shared_ptr<Etcd3Client> client) : client_(std::move(client)) {}

  /// Attaches the cache writes go through to (null: none). The cache must outlive the
  /// attachment; detach before destroying it.
  void attach(KVCache::Impl* cache) noexcept { cache_.store(cache); }

  RangeResponse range(const RangeRequest& request);
  PutResponse put(const PutRequest& request);
  DeleteRangeResponse delete_range(const DeleteRangeRequest& request);
  TxnResponse txn(const TxnRequest& request);

  Etcd3Client& raw() noexcept { return *client_; }

 private:
  template <typename Call>
  auto guarded(Call&& call) -> decltype(call());

  std::shared_ptr<Etcd3Client> client_;
  std::atomic<KVCache::Impl*> cache_{nullptr};
};

/// The write-through rules on their own (unit-tested without a server).
void write_through_put(KVCache::Impl& cache, const PutRequest& request, const PutResponse& response);
void write_through_delete(KVCache::Impl& cache, const DeleteRangeRequest& request, const DeleteRangeResponse& response);
void write_through_txn(KVCache::Impl& cache, const TxnRequest& request, const TxnResponse& response);

}  // namespace dcs::etcd3::detail
