#include <algorithm>
#include <thread>

#include "codec/cluster_codec.hpp"
#include "codec/fast_decode.hpp"
#include "codec/kv_codec.hpp"
#include "codec/lease_codec.hpp"
#include "etcd3/client_impl.hpp"
#include "http/spare_buffer.hpp"

namespace dcs::etcd3 {

using codec::json;
using std::chrono::milliseconds;

namespace {

// JSON strings must be UTF-8: nlohmann refuses to serialise anything else (with an exception that
// is no dcs::Error and quotes the offending byte).
bool is_utf8(const std::string& text) {
  try {
    (void)json(text).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

// Writes that do not compare anything may not be re-sent once they might have been applied.
Resend resend_for(const TxnRequest& request) {
  return request.compare.empty() ? Resend::never : Resend::safe;
}

}  // namespace

Etcd3Client::Etcd3Client(Etcd3Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Etcd3Client::~Etcd3Client() = default;

// The HA loop's requests (range, put, txn, keepalive) are rendered without a JSON tree (range,
// put and txn into a reused buffer) and their answers read by the fast decoders; an answer those
// cannot read takes the general decoder.

RangeResponse Etcd3Client::range(const RangeRequest& request) {
  FastAnswer<RangeResponse, codec::fast_decode_range> fast;
  http::SpareBuffer text;
  codec::append_json(text.text, request);
  const json answer = impl_->execute("/kv/range", text.text, Resend::safe, &fast);
  if (fast.decoded) return std::move(fast.result);
  return decode_answer("range", [&] { return codec::decode_range_response(answer); });
}

PutResponse Etcd3Client::put(const PutRequest& request) {
  FastAnswer<PutResponse, codec::fast_decode_put> fast;
  http::SpareBuffer text;
  codec::append_json(text.text, request);
  const json answer = impl_->execute("/kv/put", text.text, Resend::never, &fast);
  if (fast.decoded) return std::move(fast.result);
  return decode_answer("put", [&] { return codec::decode_put_response(answer); });
}

DeleteRangeResponse Etcd3Client::delete_range(const DeleteRangeRequest& request) {
  const json answer = impl_->execute("/kv/deleterange", codec::encode(request), Resend::never);
  return decode_answer("deleterange", [&] { return codec::decode_delete_range_response(answer); });
}

TxnResponse Etcd3Client::txn(const TxnRequest& request) {
  FastAnswer<TxnResponse, codec::fast_decode_txn> fast;
  http::SpareBuffer text;
  codec::append_json(text.text, request);
  const json answer = impl_->execute("/kv/txn", text.text, resend_for(request), &fast);
  if (fast.decoded) return std::move(fast.result);
  return decode_answer("txn", [&] { return codec::decode_txn_response(answer); });
}

ResponseHeader Etcd3Client::compact(const CompactionRequest& request) {
  const json answer = impl_->execute("/kv/compaction", codec::encode(request), Resend::safe);
  return decode_answer("compaction", [&] { return codec::decode_header(answer); });
}

LeaseGrantResponse Etcd3Client::lease_grant(std::int64_t ttl_seconds, std::int64_t id) {
  // Sending a grant twice at worst leaves one unused lease, which expires by its TTL; retrying it
  // elsewhere is worth more than that.
  const json answer = impl_->execute("/lease/grant", codec::encode_lease_grant(ttl_seconds, id), Resend::safe);
  return decode_answer("lease grant", [&] { return codec::decode_lease_grant_response(answer); });
}

LeaseKeepAliveResponse Etcd3Client::lease_keepalive(std::int64_t id) {
  FastAnswer<LeaseKeepAliveResponse, codec::fast_decode_keepalive> fast;
  const json answer = impl_->execute("/lease/keepalive", codec::encode_lease_id_text(id), Resend::safe, &fast);
  if (fast.decoded) return std::move(fast.result);
  return decode_answer("lease keepalive", [&] { return codec::decode_lease_keepalive_message(answer); });
}

LeaseRevokeResponse Etcd3Client::lease_revoke(std::int64_t id) {
  // /lease/revoke exists from 3.4; 3.3 and older only serve the /kv/lease/ alias, which 3.4+
  // still accept.
  const json answer = impl_->execute(api_prefix() == "/v3" ? "/lease/revoke" : "/kv/lease/revoke",
                                     codec::encode_lease_id(id), Resend::safe);
  return decode_answer("lease revoke", [&] { return LeaseRevokeResponse{codec::decode_header(answer)}; });
}

LeaseTimeToLiveResponse Etcd3Client::lease_time_to_live(std::int64_t id, bool keys) {
  const json answer = impl_->execute(api_prefix() == "/v3" ? "/lease/timetolive" : "/kv/lease/timetolive",
                                     codec::encode_lease_time_to_live(id, keys), Resend::safe);
  return decode_answer("lease timetolive", [&] { return codec::decode_lease_time_to_live_response(answer); });
}

AuthenticateResponse Etcd3Client::authenticate(const std::string& name, const std::string& password) {
  if (!is_utf8(name)) throw ConfigError("username", "is not valid UTF-8");
  if (!is_utf8(password)) throw ConfigError("password", "is not valid UTF-8");
  impl_->log(LogLevel::info, "Trying to authenticate on Etcd as '" + name + "'");
  const json answer = impl_->execute("/auth/authenticate", {{"name", name}, {"password", password}}, Resend::safe);
  auto response = decode_answer("authenticate", [&] { return codec::decode_authenticate_response(answer); });
  std::lock_guard lock(impl_->mutex);
  impl_->token = response.token;
  ++impl_->token_generation;
  return response;
}

void Etcd3Client::set_retry_timeout(milliseconds retry_timeout) {
  impl_->budget_ms.store(std::max(retry_timeout, milliseconds(1)).count());
}

milliseconds Etcd3Client::retry_timeout() const {
  return impl_->budget();
}

void Etcd3Client::clear_token() {
  std::lock_guard lock(impl_->mutex);
  impl_->token.clear();
  ++impl_->token_generation;
}

MemberListResponse Etcd3Client::member_list() {
  const json answer = impl_->execute("/cluster/member/list", json::object(), Resend::safe);
  return decode_answer("member list", [&] { return codec::decode_member_list_response(answer); });
}

StatusResponse Etcd3Client::status() {
  const json answer = impl_->execute("/maintenance/status", json::object(), Resend::safe);
  return decode_answer("status", [&] { return codec::decode_status_response(answer); });
}

VersionInfo Etcd3Client::detect_version() {
  detail::RetryPolicy policy(impl_->budget());
  std::exception_ptr last;
  const auto order = impl_->endpoints.try_order();
  for (const auto& endpoint : *order) {
    try {
      return impl_->detect_version_at(endpoint, std::max(policy.remaining(), milliseconds(1)));
    } catch (const EtcdException& e) {
      if (!e.retry_on_other_endpoint() || policy.expired()) throw;
      last = std::current_exception();
    }
  }
  std::rethrow_exception(last);
}

std::string Etcd3Client::api_prefix() {
  detail::RetryPolicy policy(impl_->budget());
  return impl_->ensure_prefix(policy);
}

std::string Etcd3Client::current_endpoint() const {
  return impl_->endpoints.preferred();
}

std::vector<std::string> Etcd3Client::endpoints() const {
  return impl_->endpoints.all();
}

void Etcd3Client::set_endpoint_listener(std::function<void(const std::string& endpoint)> listener) {
  impl_->endpoint_listeners.set(Impl::kSetListenerId, std::move(listener));
}

void Etcd3Client::set_reauthentication_listener(std::function<void(bool watch_restart_needed)> listener) {
  impl_->reauthentication_listeners.set(Impl::kSetListenerId, std::move(listener));
}

Etcd3Client::ListenerId Etcd3Client::add_endpoint_listener(std::function<void(const std::string& endpoint)> listener) {
  const auto id = impl_->next_listener_id++;
  impl_->endpoint_listeners.set(id, std::move(listener));
  return id;
}

Etcd3Client::ListenerId Etcd3Client::add_reauthentication_listener(
    std::function<void(bool watch_restart_needed)> listener) {
  const auto id = impl_->next_listener_id++;
  impl_->reauthentication_listeners.set(id, std::move(listener));
  return id;
}

void Etcd3Client::remove_listener(ListenerId id) {
  if (!impl_->endpoint_listeners.remove(id)) impl_->reauthentication_listeners.remove(id);
}

bool Etcd3Client::observe_raft_term(const ResponseHeader& header) {
  return impl_->term_guard.observe(header) != detail::RaftTermGuard::Verdict::stale;
}

void Etcd3Client::mark_endpoint_failed(const std::string& endpoint) {
  impl_->log(LogLevel::warning, "etcd server " + endpoint + " reported as failing; it is tried last for a while");
  impl_->endpoints.mark_failed(endpoint);
}

std::optional<ClientFailure> Etcd3Client::last_error() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->recent_failure;
}

bool Etcd3Client::refresh_endpoints() {
  detail::RetryPolicy policy(impl_->budget());
  impl_->ensure_prefix(policy);
  return impl_->refresh_topology(policy);
}

}  // namespace dcs::etcd3
