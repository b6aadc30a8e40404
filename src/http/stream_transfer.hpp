// A streaming HTTP request (etcd's watch) that another thread can interrupt at once. It runs a
// libcurl multi handle so that cancel() can wake the waiting poll (curl_multi_wakeup) instead
// of waiting for data or a timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string_view>

#include <curl/curl.h>

#include "http/http_types.hpp"

namespace dcs::http {

/// Shared between the thread running a stream and the thread that wants it stopped.
class CancelSignal {
 public:
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
  void reset() noexcept;

  /// Registers the multi handle to wake on cancel(); false if already cancelled.
  bool attach(CURLM* multi) noexcept;
  void detach() noexcept;

 private:
  std::mutex mutex_;
  std::atomic<bool> cancelled_{false};
  CURLM* multi_ = nullptr;
};

/// Receives each piece of the response body with the HTTP status. May throw: the transfer is
/// then aborted and the exception re-thrown by run_stream.
using ChunkHandler = std::function<void(long status, std::string_view chunk)>;

enum class StreamEnd {
  finished,   ///< the server ended the response
  cancelled,  ///< CancelSignal::cancel()
  idle,       ///< no byte for `idle_timeout`
};

struct StreamOutcome {
  StreamEnd end = StreamEnd::finished;
  long status = 0;
};

/// Runs the request until the body ends, the signal fires or the stream stays silent for
/// `idle_timeout` (0: no limit). Throws TransportError when the connection fails.
StreamOutcome run_stream(const HttpRequest& request, const ChunkHandler& on_chunk, CancelSignal& cancel,
                         std::chrono::milliseconds idle_timeout);

}  // namespace dcs::http
