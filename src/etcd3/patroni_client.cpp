#include "etcd3/patroni_client.hpp"

#include "etcd3/kv_cache_impl.hpp"

namespace dcs::etcd3::detail {

namespace {

void apply_put(KVCache::Impl& cache, const PutRequest& request, std::int64_t revision) {
  if (revision == 0) return;  // an empty answer
  KeyValue kv;
  kv.key = request.key;
  kv.value = request.value;
  kv.lease = request.lease;
  kv.mod_revision = revision;
  cache.apply_put(kv);
}

void apply_delete(KVCache::Impl& cache, const DeleteRangeRequest& request, std::int64_t revision) {
  if (revision == 0) return;
  // Unlike Patroni, a range delete (delete_cluster) is applied too: the cache holds every key of
  // its prefix, and each one in the range older than the response's revision was deleted by it,
  // so this process also reads its own delete_cluster at once.
  cache.apply_delete(request.key, request.range_end, revision);
}

// The first operation of a success branch, applied when it is a put or a single-key delete.
void apply_first(KVCache::Impl& cache, const std::vector<RequestOp>& ops, std::int64_t revision) {
  if (ops.empty()) return;
  if (const auto* put = std::get_if<PutRequest>(&ops.front().request)) apply_put(cache, *put, revision);
  if (const auto* del = std::get_if<DeleteRangeRequest>(&ops.front().request)) apply_delete(cache, *del, revision);
}

}  // namespace

void write_through_put(KVCache::Impl& cache, const PutRequest& request, const PutResponse& response) {
  apply_put(cache, request, response.header.revision);
}

void write_through_delete(KVCache::Impl& cache, const DeleteRangeRequest& request,
                          const DeleteRangeResponse& response) {
  apply_delete(cache, request, response.header.revision);
}

void write_through_txn(KVCache::Impl& cache, const TxnRequest& request, const TxnResponse& response) {
  const auto revision = response.header.revision;
  if (response.succeeded) {
    apply_first(cache, request.success, revision);
    return;
  }
  if (request.failure.empty()) {
    cache.kill_stream("a compare-guarded transaction failed");
    return;
  }
  // The leader re-bind: a nested create-if-absent transaction in the failure branch.
  const auto* nested = std::get_if<TxnRequest>(&request.failure.front().request);
  if (nested == nullptr || response.responses.empty()) return;
  const auto* nested_response = std::get_if<TxnResponse>(&response.responses.front().response);
  if (nested_response != nullptr && nested_response->succeeded) apply_first(cache, nested->success, revision);
}

template <typename Call>
auto PatroniEtcd3Client::guarded(Call&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const EtcdConnectionFailed&) {
    if (auto* cache = cache_.load()) cache->on_connection_failure();
    throw;
  }
}

RangeResponse PatroniEtcd3Client::range(const RangeRequest& request) {
  return guarded([&] { return client_->range(request); });
}

PutResponse PatroniEtcd3Client::put(const PutRequest& request) {
  auto response = guarded([&] { return client_->put(request); });
  if (auto* cache = cache_.load()) write_through_put(*cache, request, response);
  return response;
}

DeleteRangeResponse PatroniEtcd3Client::delete_range(const DeleteRangeRequest& request) {
  auto response = guarded([&] { return client_->delete_range(request); });
  if (auto* cache = cache_.load()) write_through_delete(*cache, request, response);
  return response;
}

TxnResponse PatroniEtcd3Client::txn(const TxnRequest& request) {
  auto response = guarded([&] { return client_->txn(request); });
  if (auto* cache = cache_.load()) write_through_txn(*cache, request, response);
  return response;
}

}  // namespace dcs::etcd3::detail
