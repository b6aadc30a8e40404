#include <algorithm>

#include "codec/cluster_codec.hpp"
#include "codec/kv_codec.hpp"
#include "codec/lease_codec.hpp"
#include "etcd3/client_impl.hpp"
#include "etcd3/version_check.hpp"

namespace dcs::etcd3 {

using codec::json;
using std::chrono::milliseconds;

namespace {

std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 200;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

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

}  // namespace

Etcd3Client::Impl::Impl(Etcd3Options opts) : options(std::move(opts)), log(options.log_sink, "etcd3.client") {
  validate(options);
  if (options.endpoints.empty()) {
    // TODO(issue 3): DNS SRV discovery fills the endpoint list from `srv`.
    throw ConfigError("srv", "SRV discovery is not implemented yet; configure hosts, host or url");
  }
  for (auto& endpoint : options.endpoints) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  }
  if (options.username.empty() != options.password.empty()) {
    log(LogLevel::warning, "etcd3: both username and password are needed to authenticate; only one is set");
  }
}

std::string Etcd3Client::Impl::endpoint_url() const {
  std::lock_guard lock(mutex);
  return options.endpoints[endpoint_index];
}

std::string Etcd3Client::Impl::current_token() const {
  std::lock_guard lock(mutex);
  return token;
}

http::HttpRequest Etcd3Client::Impl::make_request(std::string url, std::string body, bool send_token) const {
  http::HttpRequest request;
  request.url = std::move(url);
  request.body = std::move(body);
  if (send_token) request.authorization = current_token();
  const auto budget = std::chrono::duration_cast<milliseconds>(options.retry_timeout);
  const auto slice = request_timeouts(options.endpoints.size(), budget).per_node;
  request.total_timeout = slice.count() > 0 ? slice : budget;
  request.connect_timeout = std::min(request.total_timeout, std::max(milliseconds(1000), request.total_timeout / 2));
  return request;
}

http::HttpResponse Etcd3Client::Impl::send(const http::HttpRequest& request) {
  auto handle = pool.borrow();
  try {
    return handle->perform(request);
  } catch (const http::TransportError& e) {
    handle.discard();  // never reuse a connection in an unknown state
    log(LogLevel::warning, "Request to server " + request.url + " failed: " + e.what());
    throw EtcdConnectionFailed(std::string(request.post ? "POST " : "GET ") + request.url + " failed: " + e.what(),
                               request.url, e.request_sent());
  }
}

json Etcd3Client::Impl::interpret(const http::HttpResponse& response) const {
  if (response.status >= 400) throw_client_error(response.status, response.body);
  if (response.status < 200 || response.status >= 300) {
    throw MalformedResponse("unexpected HTTP status " + std::to_string(response.status) + ": " + excerpt(response.body),
                            response.status);
  }
  json parsed = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw MalformedResponse("Server response '" + excerpt(response.body) + "' was not valid JSON", response.status);
  }
  // A stream (keepalive) that failed after its headers were sent still says 200.
  if (auto error = parsed.find("error"); error != parsed.end() && error->is_object()) {
    throw_client_error(response.status, response.body);
  }
  return parsed;
}

std::string Etcd3Client::Impl::ensure_prefix() {
  {
    std::lock_guard lock(mutex);
    if (!api_prefix.empty()) return api_prefix;
  }
  detect_version();
  std::lock_guard lock(mutex);
  return api_prefix;
}

VersionInfo Etcd3Client::Impl::detect_version() {
  auto request = make_request(endpoint_url() + "/version", {}, /*send_token=*/false);
  request.post = false;
  const json answer = interpret(send(request));
  const VersionInfo info = decode_answer("version", [&] { return codec::decode_version_response(answer); });
  const std::string prefix = detail::select_api_prefix(info);
  std::lock_guard lock(mutex);
  if (api_prefix != prefix) {
    log(LogLevel::info, "etcd server " + info.server + ", cluster " + info.cluster + ": using API prefix " + prefix);
  }
  api_prefix = prefix;
  return info;
}

json Etcd3Client::Impl::post(std::string_view path, const json& body, bool send_token) {
  const std::string url = endpoint_url() + ensure_prefix() + std::string(path);
  return interpret(send(make_request(url, body.dump(), send_token)));
}

Etcd3Client::Etcd3Client(Etcd3Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Etcd3Client::~Etcd3Client() = default;

RangeResponse Etcd3Client::range(const RangeRequest& request) {
  const json answer = impl_->post("/kv/range", codec::encode(request));
  return decode_answer("range", [&] { return codec::decode_range_response(answer); });
}

PutResponse Etcd3Client::put(const PutRequest& request) {
  const json answer = impl_->post("/kv/put", codec::encode(request));
  return decode_answer("put", [&] { return codec::decode_put_response(answer); });
}

DeleteRangeResponse Etcd3Client::delete_range(const DeleteRangeRequest& request) {
  const json answer = impl_->post("/kv/deleterange", codec::encode(request));
  return decode_answer("deleterange", [&] { return codec::decode_delete_range_response(answer); });
}

TxnResponse Etcd3Client::txn(const TxnRequest& request) {
  const json answer = impl_->post("/kv/txn", codec::encode(request));
  return decode_answer("txn", [&] { return codec::decode_txn_response(answer); });
}

ResponseHeader Etcd3Client::compact(const CompactionRequest& request) {
  const json answer = impl_->post("/kv/compaction", codec::encode(request));
  return decode_answer("compaction", [&] { return codec::decode_header(answer); });
}

LeaseGrantResponse Etcd3Client::lease_grant(std::int64_t ttl_seconds, std::int64_t id) {
  const json answer = impl_->post("/lease/grant", codec::encode_lease_grant(ttl_seconds, id));
  return decode_answer("lease grant", [&] { return codec::decode_lease_grant_response(answer); });
}

LeaseKeepAliveResponse Etcd3Client::lease_keepalive(std::int64_t id) {
  const json answer = impl_->post("/lease/keepalive", codec::encode_lease_id(id));
  return decode_answer("lease keepalive", [&] { return codec::decode_lease_keepalive_message(answer); });
}

LeaseRevokeResponse Etcd3Client::lease_revoke(std::int64_t id) {
  // /lease/revoke exists from 3.4; 3.3 and older only serve the /kv/lease/ alias, which 3.4+
  // still accept.
  const json answer =
      impl_->post(api_prefix() == "/v3" ? "/lease/revoke" : "/kv/lease/revoke", codec::encode_lease_id(id));
  return decode_answer("lease revoke", [&] { return LeaseRevokeResponse{codec::decode_header(answer)}; });
}

LeaseTimeToLiveResponse Etcd3Client::lease_time_to_live(std::int64_t id, bool keys) {
  const json answer = impl_->post(api_prefix() == "/v3" ? "/lease/timetolive" : "/kv/lease/timetolive",
                                  codec::encode_lease_time_to_live(id, keys));
  return decode_answer("lease timetolive", [&] { return codec::decode_lease_time_to_live_response(answer); });
}

AuthenticateResponse Etcd3Client::authenticate(const std::string& name, const std::string& password) {
  if (!is_utf8(name)) throw ConfigError("username", "is not valid UTF-8");
  if (!is_utf8(password)) throw ConfigError("password", "is not valid UTF-8");
  impl_->log(LogLevel::info, "Trying to authenticate on Etcd as '" + name + "'");
  const json answer = impl_->post("/auth/authenticate", {{"name", name}, {"password", password}},
                                  /*send_token=*/false);
  auto response = decode_answer("authenticate", [&] { return codec::decode_authenticate_response(answer); });
  std::lock_guard lock(impl_->mutex);
  impl_->token = response.token;
  return response;
}

void Etcd3Client::clear_token() {
  std::lock_guard lock(impl_->mutex);
  impl_->token.clear();
}

MemberListResponse Etcd3Client::member_list() {
  const json answer = impl_->post("/cluster/member/list", json::object());
  return decode_answer("member list", [&] { return codec::decode_member_list_response(answer); });
}

StatusResponse Etcd3Client::status() {
  const json answer = impl_->post("/maintenance/status", json::object());
  return decode_answer("status", [&] { return codec::decode_status_response(answer); });
}

VersionInfo Etcd3Client::detect_version() {
  return impl_->detect_version();
}

std::string Etcd3Client::api_prefix() {
  return impl_->ensure_prefix();
}

std::string Etcd3Client::current_endpoint() const {
  return impl_->endpoint_url();
}

}  // namespace dcs::etcd3
