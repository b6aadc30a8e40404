// A libcurl session for unary requests: a multi handle whose connection cache keeps connections
// alive between requests (so a thread that reuses the session pays no TCP handshake per request)
// and two easy handles, so that a slow request can be raced against a copy sent elsewhere.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "http/http_types.hpp"

namespace dcs::http {

class CurlEasy {
 public:
  CurlEasy();
  ~CurlEasy();
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;

  /// Performs the request; throws TransportError when no complete HTTP answer arrived. Any
  /// HTTP status is a response.
  HttpResponse perform(const HttpRequest& request);

  /// Builds the copy of a request for fallback endpoint `k` (0-based); called only when a copy
  /// is actually sent, so the common case (the primary answers) builds nothing.
  using FallbackFactory = std::function<HttpRequest(std::size_t k)>;

  /// Sends `primary`; when it has not answered after `hedge_after`, sends a copy to the first of
  /// `fallbacks` endpoints, then every `resend_every` a fresh copy to the next one in turn, in
  /// place of the oldest transfer still waiting (two are in flight at most), until the primary's
  /// own timeout has passed. Returns the first complete answer; `winner` says whose (0: the
  /// primary, k: fallback k - 1). Only for requests that may be executed more than once. Throws
  /// the primary's TransportError when it fails before any copy went out, or when every
  /// transfer failed.
  HttpResponse perform_hedged(const HttpRequest& primary, std::size_t fallbacks, const FallbackFactory& make_fallback,
                              std::chrono::milliseconds hedge_after, std::chrono::milliseconds resend_every,
                              int& winner);

  /// Number of new connections this session has opened (for tests and benchmarks).
  long connects() const noexcept { return connects_; }

 private:
  struct Transfer;
  // What one easy handle was last configured with. Options that rarely change (TCP and TLS
  // settings, the header list, the CURLOPT_RESOLVE entry) are set again only when they do: libcurl
  // copies or parses most of them on every setopt, and the lists would be rebuilt per request.
  struct HandleState {
    bool configured = false;  // the constant options are set
    KeepaliveSettings keepalive;
    TlsFiles tls;
    bool https = false;
    long connect_timeout_ms = -1;
    long total_timeout_ms = -1;
    std::string header_key;  // what `headers` was built from
    curl_slist* headers = nullptr;
    std::string resolve;  // the entry `resolve_list` holds
    curl_slist* resolve_list = nullptr;
    std::size_t chunked_size = 0;  // body size of the last complete answer without Content-Length
  };
  void configure(int slot, const HttpRequest& request);
  void start(Transfer& transfer, int slot, const HttpRequest& request);
  void finish(Transfer& transfer);

  CURLM* multi_;
  CURL* handles_[2];
  HandleState state_[2];
  long connects_ = 0;
};

/// Applies the options every etcd connection gets (TCP_NODELAY, keepalive, no signals, ...).
void apply_common_options(CURL* handle, const HttpRequest& request);

/// Maps a failed curl transfer to a TransportError.
[[noreturn]] void throw_transport_error(int curl_code, const char* error_buffer, bool request_sent);

/// The headers etcd requests carry. The caller frees the list with curl_slist_free_all.
struct curl_slist* build_headers(const HttpRequest& request);

}  // namespace dcs::http
