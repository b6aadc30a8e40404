// Internal state of Etcd3Client, shared by the unary calls (client.cpp) and the watch
// (client_watch.cpp). Every request goes through post(): endpoint choice, token, timeouts,
// transport errors and error-body mapping live in that one path, which is where endpoint
// failover and re-authentication hook in.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "codec/json_fields.hpp"
#include "dcs/etcd3/client.hpp"
#include "http/handle_pool.hpp"
#include "log.hpp"

namespace dcs::etcd3 {

struct Etcd3Client::Impl {
  explicit Impl(Etcd3Options opts);

  /// POSTs `body` to `<endpoint><api prefix><path>` and returns the parsed success answer.
  codec::json post(std::string_view path, const codec::json& body, bool send_token = true);
  /// The API prefix, detecting the version first if needed.
  std::string ensure_prefix();
  VersionInfo detect_version();

  std::string endpoint_url() const;
  std::string current_token() const;
  http::HttpRequest make_request(std::string url, std::string body, bool send_token) const;
  /// Performs a unary request on a pooled connection; TransportError -> EtcdConnectionFailed.
  http::HttpResponse send(const http::HttpRequest& request);
  /// Success status + JSON object, or the mapped error.
  codec::json interpret(const http::HttpResponse& response) const;

  Etcd3Options options;
  detail::Logger log;
  http::HandlePool pool;

  mutable std::mutex mutex;  // guards the members below
  std::string token;
  std::string api_prefix;
  std::size_t endpoint_index = 0;
};

/// Runs a decoder; a DecodeError (an answer of the wrong shape) becomes MalformedResponse.
template <typename Decode>
auto decode_answer(std::string_view what, Decode&& decode) -> decltype(decode()) {
  try {
    return decode();
  } catch (const codec::DecodeError& e) {
    throw MalformedResponse(std::string(what) + ": " + e.what(), 200);
  }
}

}  // namespace dcs::etcd3
