// Internal state of Etcd3Client, shared by the unary calls (client.cpp, request_path.cpp) and the
// watch (client_watch.cpp). Every unary request goes through execute(): endpoint order and
// failover, the time budget, re-authentication, the stale-member guard and error mapping live in
// that one path.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "codec/json_fields.hpp"
#include "dcs/etcd3/client.hpp"
#include "etcd3/endpoint_set.hpp"
#include "etcd3/listener_list.hpp"
#include "etcd3/metrics_emitter.hpp"
#include "etcd3/raft_term_guard.hpp"
#include "etcd3/retry_policy.hpp"
#include "http/handle_pool.hpp"
#include "log.hpp"
#include "net/dns_cache.hpp"

namespace dcs::etcd3 {

/// Whether a request may be sent again after an attempt whose outcome is unknown (the request
/// went out, no answer came back).
enum class Resend {
  safe,   ///< reads, keepalives, compare-guarded writes: a second copy changes nothing
  never,  ///< plain writes: the caller must learn that the outcome is unknown
};

/// Patroni's re-authentication modes: after which refusals a new token is needed, and whether
/// streams opened with the old token (watches) must be restarted too. A token from an older auth
/// store revision keeps working for an established watch, so that one needs no restart.
enum class ReauthenticateMode { not_required, required, required_without_watcher_restart };

/// Reads a success answer straight into its typed response (codec/fast_decode.hpp). When it
/// cannot (anything unusual about the answer), the request path decodes the answer the general
/// way, which raises what it always raised; `decoded` says which way the last answer went.
class FastDecoder {
 public:
  virtual ~FastDecoder() = default;
  /// False: not a well-formed answer of the expected shape. `top_header`: the answer's top-level
  /// header, for the stale-member check.
  virtual bool decode(std::string& body, ResponseHeader& top_header) = 0;
  bool decoded = false;
};

/// A FastDecoder over one of the codec's fast_decode_* functions.
template <typename Response, bool (*Decode)(std::string&, ResponseHeader&, Response&)>
class FastAnswer final : public FastDecoder {
 public:
  bool decode(std::string& body, ResponseHeader& top_header) override { return Decode(body, top_header, result); }
  Response result;
};

/// What one call did, for its RequestEvent and the health's last error.
struct CallStats {
  int attempts = 0;
  bool switched = false;  ///< the call moved the preferred endpoint
  std::string endpoint;   ///< whose answer or failure ended the call
};

struct Etcd3Client::Impl {
  explicit Impl(Etcd3Options opts);

  /// Sends `body` to `<endpoint><api prefix><path>`, moving to another endpoint on network
  /// failures, Unavailable and stale members, re-authenticating once on token errors, and
  /// backing off on DeadlineExceeded / FailedPrecondition, all within one retry_timeout budget.
  codec::json execute(std::string_view path, const codec::json& body, Resend resend);
  /// The same with the body already rendered. With `fast`, a success answer it can read is
  /// decoded by it (fast->decoded) and the returned JSON is null; otherwise as above.
  codec::json execute(std::string_view path, const std::string& body, Resend resend, FastDecoder* fast = nullptr);
  /// execute() without the call's RequestEvent: counts attempts and switches into `stats`.
  codec::json execute_counted(std::string_view path, const std::string& body, Resend resend, FastDecoder* fast,
                              CallStats& stats);
  /// Remembers `message` as the last failure (health).
  void note_failure(const std::string& endpoint, const std::string& message);

  /// One attempt against one endpoint, no failover: the parsed success answer or an exception.
  codec::json attempt(const std::string& endpoint, std::string_view path, const std::string& body,
                      std::chrono::milliseconds timeout, bool send_token, FastDecoder* fast = nullptr);
  /// The same, but when `endpoint` stays silent for longer than a few of its usual round trips
  /// copies of the request go to the `fallbacks` in turn (requests that may run twice only).
  /// `answered` is the endpoint whose answer is returned.
  codec::json attempt_raced(const std::string& endpoint, std::span<const std::string> fallbacks, std::string_view path,
                            const std::string& body, std::chrono::milliseconds timeout, std::string& answered,
                            FastDecoder* fast = nullptr);
  /// How long to wait for an answer before racing a copy of the request to another endpoint.
  std::chrono::milliseconds hedge_delay(std::chrono::milliseconds timeout) const;
  void record_latency(std::chrono::microseconds latency);
  /// Turns a success answer into JSON (or hands it to `fast`) after the stale-member check.
  codec::json accept(const std::string& endpoint, http::HttpResponse& response, FastDecoder* fast = nullptr);

  /// The API prefix, detecting the version first if needed.
  std::string ensure_prefix(detail::RetryPolicy& policy);
  VersionInfo detect_version_at(const std::string& endpoint, std::chrono::milliseconds timeout);

  /// Builds the seed list from the configuration (SRV, host expansion) on first use.
  void ensure_seeds();
  /// Re-reads the member list when it is due (every 10 x ttl) or never happened.
  void maybe_refresh_topology(detail::RetryPolicy& policy);
  /// Asks the members for the member list; false when none answered.
  bool refresh_topology(detail::RetryPolicy& policy);

  /// Authenticates against `endpoint` unless another thread already replaced the token that
  /// failed (`failed_generation`).
  void reauthenticate(const std::string& endpoint, std::uint64_t failed_generation, std::chrono::milliseconds timeout,
                      ReauthenticateMode mode = ReauthenticateMode::required_without_watcher_restart);
  bool has_credentials() const { return !options.username.empty() && !options.password.empty(); }
  /// The budget of one call: options.retry_timeout until set_retry_timeout changes it.
  std::chrono::milliseconds budget() const { return std::chrono::milliseconds(budget_ms.load()); }

  /// Makes `endpoint` preferred; true (and listeners and the observer told) when that changed it.
  bool switch_to(const std::string& endpoint);
  /// Logs a new preferred endpoint and tells the endpoint listener and the observer.
  void announce_switch(const std::string& endpoint);
  std::string current_token(std::uint64_t* generation = nullptr) const;
  /// `body` is not copied: it must outlive the request.
  http::HttpRequest make_request(std::string url, std::string_view body, bool send_token,
                                 std::chrono::milliseconds timeout) const;
  /// Performs a unary request on a pooled connection; TransportError -> EtcdConnectionFailed.
  http::HttpResponse send(const http::HttpRequest& request);
  http::HttpResponse send_raced(const http::HttpRequest& primary, std::size_t fallbacks,
                                const http::CurlEasy::FallbackFactory& make_fallback,
                                std::chrono::milliseconds hedge_after, int& winner);
  /// Success status + JSON object, or the mapped error.
  codec::json interpret(const http::HttpResponse& response) const;

  Etcd3Options options;
  dcs::detail::Logger log;
  http::HandlePool pool;
  detail::EndpointSet endpoints;
  detail::RaftTermGuard term_guard;
  http::KeepaliveSettings keepalive;
  net::DnsCachingResolver resolver;
  std::atomic<std::int64_t> latency_ewma_us{2000};  // smoothed round trip of answered requests
  std::atomic<std::int64_t> budget_ms;              // see budget()

  mutable std::mutex mutex;  // guards the members below
  std::string token;
  std::uint64_t token_generation = 0;
  std::string api_prefix;
  bool discovered = false;
  bool seeded = false;
  std::optional<ClientFailure> recent_failure;

  std::mutex auth_mutex;  // one re-authentication at a time

  // Listeners (their own locks). Id 1 is set_*'s slot; add_* hands out the ids from 2 on.
  static constexpr std::uint64_t kSetListenerId = 1;
  detail::ListenerList<const std::string&> endpoint_listeners;
  detail::ListenerList<bool> reauthentication_listeners;
  std::atomic<std::uint64_t> next_listener_id{kSetListenerId + 1};
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
