// One libcurl easy handle that performs unary requests and keeps its connection alive between
// them, so a thread that reuses it pays no TCP handshake per request.
#pragma once

#include <curl/curl.h>

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

  /// Number of new connections this handle has opened (for tests and benchmarks).
  long connects() const noexcept { return connects_; }

 private:
  CURL* handle_;
  long connects_ = 0;
};

/// Applies the options every etcd connection gets (TCP_NODELAY, keepalive, no signals, ...).
void apply_common_options(CURL* handle, const HttpRequest& request);

/// Maps a failed curl transfer to a TransportError.
[[noreturn]] void throw_transport_error(int curl_code, const char* error_buffer, bool request_sent);

/// The headers etcd requests carry. The caller frees the list with curl_slist_free_all.
struct curl_slist* build_headers(const HttpRequest& request);

}  // namespace dcs::http
