// The transport's view of one HTTP exchange. Internal: nothing here reaches a public header.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace dcs::http {

struct HttpRequest {
  std::string url;
  bool post = true;  ///< false: GET without a body
  std::string body;
  std::string authorization;  ///< raw etcd token; empty: no Authorization header
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds total_timeout{0};  ///< 0: none (streams only)
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

/// Why no HTTP answer came back.
enum class TransportFailure {
  connect,   ///< refused, unreachable, DNS: nothing was sent
  timeout,   ///< the connect or total timeout expired
  protocol,  ///< the peer broke HTTP (reset, garbage, truncated body)
  tls,       ///< certificate or handshake problem
  other,
};

class TransportError : public std::runtime_error {
 public:
  TransportError(TransportFailure kind, const std::string& message, bool request_sent)
      : std::runtime_error(message), kind_(kind), request_sent_(request_sent) {}
  TransportFailure kind() const noexcept { return kind_; }
  /// Whether any byte of the request went out: an unsent request cannot have been applied.
  bool request_sent() const noexcept { return request_sent_; }

 private:
  TransportFailure kind_;
  bool request_sent_;
};

}  // namespace dcs::http
