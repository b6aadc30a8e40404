// The transport's view of one HTTP exchange. Internal: nothing here reaches a public header.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dcs::http {

/// Files for https endpoints. Verification of the server (certificate and host name) is always
/// on; an empty ca_file means the system trust store.
struct TlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

/// TCP keepalive of etcd connections, so that a dead peer is noticed while a connection idles
/// (and a silent one is dropped after user_timeout). Zero fields keep the system defaults.
struct KeepaliveSettings {
  long idle_seconds = 0;
  long interval_seconds = 0;
  int probes = 0;
  unsigned user_timeout_ms = 0;
};

struct HttpRequest {
  std::string url;
  bool post = true;  ///< false: GET without a body
  /// Not owned: the caller keeps the text alive until the transfer is over. A request is sent
  /// from the text the caller encoded (and copies raced elsewhere share it), never a copy.
  std::string_view body;
  std::string authorization;  ///< raw etcd token; empty: no Authorization header
  /// Sends gRPC metadata `hasleader: true`: a member without a raft leader refuses the request
  /// at once ("etcdserver: no leader") instead of holding it, and cancels a watch it serves when
  /// it loses its leader.
  bool require_leader = false;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds total_timeout{0};  ///< 0: none (streams only)
  TlsFiles tls;
  KeepaliveSettings keepalive;
  /// "host:port:addr[,addr]" from the DNS cache, so libcurl connects without resolving; empty:
  /// libcurl resolves (numeric hosts need nothing).
  std::string resolve;
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
