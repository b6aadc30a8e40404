#include "http/curl_easy.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "http/curl_global.hpp"

namespace dcs::http {

namespace {

size_t append_to_string(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

TransportFailure classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return TransportFailure::connect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportFailure::timeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
      return TransportFailure::tls;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
      return TransportFailure::protocol;
    default:
      return TransportFailure::other;
  }
}

// Sets what libcurl has no option for: keepalive probe count and TCP_USER_TIMEOUT.
int tune_socket(void* user, curl_socket_t fd, curlsocktype purpose) {
  const auto* keepalive = static_cast<const KeepaliveSettings*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN || keepalive == nullptr) return CURL_SOCKOPT_OK;
  if (keepalive->probes > 0) {
    const int probes = keepalive->probes;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  }
  if (keepalive->user_timeout_ms > 0) {
    const unsigned timeout = keepalive->user_timeout_ms;
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof timeout);
  }
  return CURL_SOCKOPT_OK;
}

}  // namespace

curl_slist* build_headers(const HttpRequest& request) {
  curl_slist* headers = nullptr;
  if (request.post) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    // etcd answers "100 Continue" for large bodies; skipping the handshake saves a round trip.
    headers = curl_slist_append(headers, "Expect:");
  }
  if (!request.authorization.empty()) {
    // etcd before 3.5.32 rejects "Bearer "; the raw token is the documented form.
    headers = curl_slist_append(headers, ("Authorization: " + request.authorization).c_str());
  }
  if (request.total_timeout.count() > 0) {
    // Tells the gateway to stop working on the request when the client gives up on it (and
    // turns a hanging token check into a DeadlineExceeded answer).
    headers =
        curl_slist_append(headers, ("Grpc-Timeout: " + std::to_string(request.total_timeout.count()) + "m").c_str());
  }
  return headers;
}

void apply_common_options(CURL* handle, const HttpRequest& request) {
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  // libcurl enables TCP_NODELAY by default; it is set explicitly because losing it costs a
  // delayed-ACK wait (~40 ms) on every request.
  curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  if (request.keepalive.idle_seconds > 0)
    curl_easy_setopt(handle, CURLOPT_TCP_KEEPIDLE, request.keepalive.idle_seconds);
  if (request.keepalive.interval_seconds > 0) {
    curl_easy_setopt(handle, CURLOPT_TCP_KEEPINTVL, request.keepalive.interval_seconds);
  }
  curl_easy_setopt(handle, CURLOPT_SOCKOPTFUNCTION, tune_socket);
  // The request outlives the transfer, so pointing into it is safe for this perform.
  curl_easy_setopt(handle, CURLOPT_SOCKOPTDATA, &request.keepalive);
  if (request.url.rfind("https://", 0) == 0) {
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(handle, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    // Handles belong to one client, so these never need resetting between requests; an empty CA
    // file keeps libcurl's default trust store.
    if (!request.tls.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, request.tls.ca_file.c_str());
    if (!request.tls.cert_file.empty()) curl_easy_setopt(handle, CURLOPT_SSLCERT, request.tls.cert_file.c_str());
    if (!request.tls.key_file.empty()) curl_easy_setopt(handle, CURLOPT_SSLKEY, request.tls.key_file.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  // etcd endpoints are reached directly: an http_proxy in the daemon's environment must not
  // reroute (or break) DCS traffic. A configured etcd `proxy` is an endpoint, not an HTTP proxy.
  curl_easy_setopt(handle, CURLOPT_PROXY, "");
  // h2c is not served on etcd's plaintext port; HTTP/1.1 everywhere keeps the behaviour uniform.
  curl_easy_setopt(handle, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  if (request.post) {
    curl_easy_setopt(handle, CURLOPT_POST, 1L);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  }
}

void throw_transport_error(int curl_code, const char* error_buffer, bool request_sent) {
  const auto code = static_cast<CURLcode>(curl_code);
  const std::string detail = error_buffer != nullptr ? error_buffer : "";
  std::string message = curl_easy_strerror(code);
  if (!detail.empty()) message += ": " + detail;
  TransportFailure kind = classify(code);
  // curl's own wording does not say which side of TLS failed, and a server that refuses the
  // client certificate (a TLS alert, which TLS 1.3 delivers after curl's side of the handshake)
  // surfaces as a plain receive or send error. Name the problem first.
  const bool peer_alert = (code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR || code == CURLE_SSL_CONNECT_ERROR) &&
                          detail.find("SSL") != std::string::npos && detail.find(" alert ") != std::string::npos;
  if (code == CURLE_PEER_FAILED_VERIFICATION) {
    message = "TLS: the server's certificate failed verification (check 'cacert'): " + message;
  } else if (peer_alert) {
    kind = TransportFailure::tls;
    message =
        "TLS handshake refused by the server (client certificate missing or not accepted; check 'cert' and "
        "'key'): " +
        message;
  } else if (code == CURLE_SSL_CERTPROBLEM) {
    message = "TLS: the client certificate or key cannot be used (check 'cert' and 'key'): " + message;
  } else if (kind == TransportFailure::tls) {
    message = "TLS handshake failed: " + message;
  }
  throw TransportError(kind, message, request_sent);
}

CurlEasy::CurlEasy() {
  ensure_curl_initialised();
  handle_ = curl_easy_init();
  if (handle_ == nullptr) throw std::bad_alloc();
}

CurlEasy::~CurlEasy() {
  curl_easy_cleanup(handle_);
}

HttpResponse CurlEasy::perform(const HttpRequest& request) {
  HttpResponse response;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = build_headers(request);
  curl_slist* resolve = request.resolve.empty() ? nullptr : curl_slist_append(nullptr, request.resolve.c_str());
  apply_common_options(handle_, request);
  curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, headers);
  if (resolve != nullptr) curl_easy_setopt(handle_, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, error_buffer);

  const CURLcode code = curl_easy_perform(handle_);
  long new_connects = 0;
  curl_easy_getinfo(handle_, CURLINFO_NUM_CONNECTS, &new_connects);
  connects_ += new_connects;
  long request_size = 0;
  curl_easy_getinfo(handle_, CURLINFO_REQUEST_SIZE, &request_size);
  curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &response.status);
  // The handle keeps pointers to these until the next request; clear them now.
  curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(handle_, CURLOPT_RESOLVE, nullptr);
  curl_slist_free_all(resolve);
  curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(handle_, CURLOPT_WRITEDATA, nullptr);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) throw_transport_error(code, error_buffer, request_size > 0);
  return response;
}

}  // namespace dcs::http
