#include "http/curl_easy.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <list>
#include <string>

#include "http/curl_global.hpp"
#include "http/spare_buffer.hpp"

namespace dcs::http {

namespace {

// Spare room kept at the end of an answer body: the JSON decoder reads up to 64 bytes past the
// text (codec/fast_decode.cpp) and would otherwise copy the body to get them.
constexpr std::size_t kBodyPadding = 64;

// The key of a header list: every request field build_headers reads.
void header_key(std::string& key, const HttpRequest& request) {
  key.clear();
  key += request.post ? 'P' : 'G';
  key += request.require_leader ? 'L' : '-';
  key += std::to_string(request.total_timeout.count());
  key += ':';
  key += request.authorization;
}

bool same(const KeepaliveSettings& a, const KeepaliveSettings& b) {
  return a.idle_seconds == b.idle_seconds && a.interval_seconds == b.interval_seconds && a.probes == b.probes &&
         a.user_timeout_ms == b.user_timeout_ms;
}

bool same(const TlsFiles& a, const TlsFiles& b) {
  return a.ca_file == b.ca_file && a.cert_file == b.cert_file && a.key_file == b.key_file;
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

/// Verified TLS 1.2+ with the client's files. Handles belong to one client, whose files never
/// change, so these are never reset; an empty CA file keeps libcurl's default trust store.
void set_tls_options(CURL* handle, const TlsFiles& tls) {
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(handle, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!tls.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.cert_file.empty()) curl_easy_setopt(handle, CURLOPT_SSLCERT, tls.cert_file.c_str());
  if (!tls.key_file.empty()) curl_easy_setopt(handle, CURLOPT_SSLKEY, tls.key_file.c_str());
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
  if (request.require_leader) {
    // The gateway turns Grpc-Metadata-* headers into gRPC metadata; etcd's interceptors check
    // `hasleader` before the request reaches raft (unary) or the watch starts (streams).
    headers = curl_slist_append(headers, "Grpc-Metadata-hasleader: true");
  }
  if (request.total_timeout.count() > 0) {
    // Tells the gateway to stop working on the request when the client gives up on it (and
    // turns a hanging token check into a DeadlineExceeded answer).
    headers =
        curl_slist_append(headers, ("Grpc-Timeout: " + std::to_string(request.total_timeout.count()) + "m").c_str());
  }
  return headers;
}

namespace {
// An empty view may have no data pointer, and a null CURLOPT_POSTFIELDS would make libcurl read
// the body from a callback instead.
const char* post_fields(const HttpRequest& request) {
  return request.body.empty() ? "" : request.body.data();
}
}  // namespace

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
    set_tls_options(handle, request.tls);
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
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, post_fields(request));
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

// One request in flight on one easy handle of the session.
struct CurlEasy::Transfer {
  // Appends to the body, sized up front (one allocation, with the padding) from Content-Length,
  // or without one (etcd sends big answers chunked) from the last chunked answer on the handle:
  // a large range read again would otherwise grow its body a dozen times.
  static size_t receive(char* data, size_t size, size_t count, void* user) {
    auto& self = *static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    auto& body = self.response.body;
    if (body.empty()) {
      curl_off_t length = -1;
      if (curl_easy_getinfo(self.handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK && length > 0 &&
          length < (curl_off_t{1} << 30)) {
        body.reserve(static_cast<std::size_t>(length) + kBodyPadding);
      } else {
        self.chunked = true;
        if (self.chunked_size_hint != nullptr && *self.chunked_size_hint > 0)
          body.reserve(*self.chunked_size_hint + *self.chunked_size_hint / 8 + kBodyPadding);
      }
    }
    body.append(data, n);
    return n;
  }

  CURL* handle = nullptr;
  std::size_t* chunked_size_hint = nullptr;  // the handle's last chunked answer's size
  bool chunked = false;
  const HttpRequest* request = nullptr;
  HttpResponse response;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  bool running = false;
  bool done = false;
  CURLcode result = CURLE_OK;
  bool request_sent = false;
};

CurlEasy::CurlEasy() : multi_(nullptr), handles_{nullptr, nullptr} {
  ensure_curl_initialised();
  multi_ = curl_multi_init();
  handles_[0] = curl_easy_init();
  handles_[1] = curl_easy_init();
  if (multi_ == nullptr || handles_[0] == nullptr || handles_[1] == nullptr) {
    curl_easy_cleanup(handles_[0]);
    curl_easy_cleanup(handles_[1]);
    curl_multi_cleanup(multi_);
    throw std::bad_alloc();
  }
}

CurlEasy::~CurlEasy() {
  curl_easy_cleanup(handles_[0]);
  curl_easy_cleanup(handles_[1]);
  curl_multi_cleanup(multi_);
  for (auto& state : state_) {
    curl_slist_free_all(state.headers);
    curl_slist_free_all(state.resolve_list);
  }
}

// Sets what the request needs on the handle of `slot`, skipping what it already holds. The
// same options as apply_common_options, which streams use on their one-off handles.
void CurlEasy::configure(int slot, const HttpRequest& request) {
  CURL* handle = handles_[slot];
  HandleState& state = state_[slot];
  if (!state.configured) {
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    // libcurl enables TCP_NODELAY by default; it is set explicitly because losing it costs a
    // delayed-ACK wait (~40 ms) on every request.
    curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(handle, CURLOPT_SOCKOPTFUNCTION, tune_socket);
    // The handle's own copy: it outlives every request.
    curl_easy_setopt(handle, CURLOPT_SOCKOPTDATA, &state.keepalive);
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
    // etcd endpoints are reached directly: an http_proxy in the daemon's environment must not
    // reroute (or break) DCS traffic. A configured etcd `proxy` is an endpoint, not an HTTP proxy.
    curl_easy_setopt(handle, CURLOPT_PROXY, "");
    // h2c is not served on etcd's plaintext port; HTTP/1.1 everywhere keeps the behaviour uniform.
    curl_easy_setopt(handle, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, Transfer::receive);
    state.configured = true;
  }
  if (!same(state.keepalive, request.keepalive)) {
    state.keepalive = request.keepalive;
    curl_easy_setopt(handle, CURLOPT_TCP_KEEPIDLE,
                     state.keepalive.idle_seconds > 0 ? state.keepalive.idle_seconds : 60L);
    curl_easy_setopt(handle, CURLOPT_TCP_KEEPINTVL,
                     state.keepalive.interval_seconds > 0 ? state.keepalive.interval_seconds : 60L);
  }
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  const bool https = request.url.rfind("https://", 0) == 0;
  if (https && (!state.https || !same(state.tls, request.tls))) {
    set_tls_options(handle, request.tls);
    state.tls = request.tls;
    state.https = true;
  }
  if (state.connect_timeout_ms != request.connect_timeout.count()) {
    state.connect_timeout_ms = static_cast<long>(request.connect_timeout.count());
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, state.connect_timeout_ms);
  }
  if (state.total_timeout_ms != request.total_timeout.count()) {
    state.total_timeout_ms = static_cast<long>(request.total_timeout.count());
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, state.total_timeout_ms);
  }
  if (request.post) {
    curl_easy_setopt(handle, CURLOPT_POST, 1L);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, post_fields(request));
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  }
  // The header list and the resolve entry are rebuilt only when their inputs change (a new
  // token, another timeout, a new address); libcurl parses a resolve list when it is set.
  thread_local std::string key;
  header_key(key, request);
  if (state.headers == nullptr || key != state.header_key) {
    curl_slist* headers = build_headers(request);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_slist_free_all(state.headers);
    state.headers = headers;
    state.header_key = key;
  }
  if (request.resolve != state.resolve) {
    curl_slist* resolve = request.resolve.empty() ? nullptr : curl_slist_append(nullptr, request.resolve.c_str());
    curl_easy_setopt(handle, CURLOPT_RESOLVE, resolve);
    curl_slist_free_all(state.resolve_list);
    state.resolve_list = resolve;
    state.resolve = request.resolve;
  }
}

void CurlEasy::start(Transfer& transfer, int slot, const HttpRequest& request) {
  CURL* handle = handles_[slot];
  transfer.handle = handle;
  transfer.request = &request;
  transfer.chunked_size_hint = &state_[slot].chunked_size;
  transfer.response.body = take_spare_buffer();
  configure(slot, request);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, transfer.error_buffer);
  curl_multi_add_handle(multi_, handle);
  transfer.running = true;
}

// Detaches the transfer from the session (aborting it if it is still running: its connection is
// closed, the others stay cached) and releases what it borrowed.
void CurlEasy::finish(Transfer& transfer) {
  if (!transfer.running) return;
  long new_connects = 0;
  curl_easy_getinfo(transfer.handle, CURLINFO_NUM_CONNECTS, &new_connects);
  connects_ += new_connects;
  long request_size = 0;
  curl_easy_getinfo(transfer.handle, CURLINFO_REQUEST_SIZE, &request_size);
  transfer.request_sent = request_size > 0;
  curl_easy_getinfo(transfer.handle, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  if (transfer.chunked && transfer.result == CURLE_OK && transfer.done) {
    *transfer.chunked_size_hint = transfer.response.body.size();
  }
  curl_multi_remove_handle(multi_, transfer.handle);
  // The handle points into the transfer (on the caller's stack) until its next request; clear
  // that now. The header and resolve lists belong to the session and stay.
  curl_easy_setopt(transfer.handle, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(transfer.handle, CURLOPT_WRITEDATA, nullptr);
  transfer.running = false;
}

HttpResponse CurlEasy::perform(const HttpRequest& request) {
  int winner = 0;
  return perform_hedged(request, 0, nullptr, std::chrono::milliseconds::max(), std::chrono::milliseconds::max(),
                        winner);
}

HttpResponse CurlEasy::perform_hedged(const HttpRequest& primary, std::size_t fallbacks,
                                      const FallbackFactory& make_fallback, std::chrono::milliseconds hedge_after,
                                      std::chrono::milliseconds resend_every, int& winner) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  const auto later = [&](std::chrono::milliseconds delay) {
    return delay == std::chrono::milliseconds::max() ? Clock::time_point::max() : Clock::now() + delay;
  };
  // Copies are sent only while the primary's own timeout runs; after that the call just waits
  // for what is in flight.
  const auto stop_sending =
      primary.total_timeout.count() > 0 ? started + primary.total_timeout : Clock::time_point::max();
  Transfer slots[2];
  int candidate_of[2] = {0, 0};  // 0: the primary, k: fallbacks[k - 1]
  Clock::time_point started_at[2];
  std::size_t next_fallback = 0;
  auto next_send = fallbacks == 0 ? Clock::time_point::max() : later(hedge_after);
  // Stable addresses: a running transfer points into its request. A list, not a deque: an empty
  // list allocates nothing, and most calls never send a copy.
  std::list<HttpRequest> copies;
  CURLcode primary_result = CURLE_OK;
  std::string primary_error;
  bool primary_sent = false;
  struct Cleanup {
    CurlEasy* self;
    Transfer* slots;
    ~Cleanup() {
      self->finish(slots[0]);
      self->finish(slots[1]);
    }
  } cleanup{this, slots};

  start(slots[0], 0, primary);
  started_at[0] = started;
  for (;;) {
    int running = 0;
    curl_multi_perform(multi_, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (auto& t : slots) {
        if (t.running && t.handle == msg->easy_handle) {
          t.done = true;
          t.result = msg->data.result;
        }
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (!slots[i].done) continue;
      if (slots[i].result == CURLE_OK) {
        winner = candidate_of[i];
        finish(slots[i]);
        return std::move(slots[i].response);
      }
      finish(slots[i]);
      if (candidate_of[i] == 0) {
        primary_result = slots[i].result;
        primary_error = slots[i].error_buffer;
        primary_sent = slots[i].request_sent;
      }
      slots[i] = Transfer{};
    }
    const bool any_running = slots[0].running || slots[1].running;
    const bool copies_left = fallbacks > 0 && next_fallback > 0 && Clock::now() < stop_sending;
    if (!any_running && (next_fallback == 0 || !copies_left)) {
      // Nothing in flight and nothing more to send: the primary's failure is the answer (a
      // primary that fails before any copy went out is left to the caller's failover).
      throw_transport_error(primary_result, primary_error.c_str(), primary_sent);
    }
    if (fallbacks > 0 && Clock::now() >= next_send && Clock::now() < stop_sending) {
      // Start a copy on a free slot, or in place of the oldest transfer: a member that has not
      // answered by now is unlikely to, and a fresh copy reaches a member after its election.
      int slot = !slots[0].running ? 0 : !slots[1].running ? 1 : (started_at[0] <= started_at[1] ? 0 : 1);
      if (slots[slot].running && candidate_of[slot] == 0) {
        primary_result = CURLE_OPERATION_TIMEDOUT;
        primary_error = "no answer before copies of the request were sent elsewhere";
        primary_sent = true;
      }
      finish(slots[slot]);
      slots[slot] = Transfer{};
      const std::size_t k = next_fallback++ % fallbacks;
      copies.push_back(make_fallback(k));
      start(slots[slot], slot, copies.back());
      candidate_of[slot] = static_cast<int>(k) + 1;
      started_at[slot] = Clock::now();
      next_send = later(resend_every);
    }
    int wait_ms = 1000;
    if (next_send != Clock::time_point::max()) {
      const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(next_send - Clock::now());
      wait_ms = static_cast<int>(std::clamp<long long>(until.count(), 0, 1000));
    }
    curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
  }
}

}  // namespace dcs::http
