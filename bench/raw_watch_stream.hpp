// The floor under a watcher's CPU per event: a bare etcd watch stream on a prefix, run by libcurl on
// a thread of its own, whose write callback only counts the `"events"` entries that arrive (no JSON
// parse, no base64 decode, nothing stored). Whatever its thread spends per event (being woken, the
// poll and recv system calls, libcurl's HTTP chunk handling) any watcher of the same prefix pays
// too; the rest of the libdcs watcher's CPU is libdcs's own work.
//
// It drives its easy handle the way libdcs's watch does (a multi handle, curl_multi_poll for up to
// 1 s), so both pay the same wake-ups; stop() wakes that poll at once (curl_multi_wakeup) and the
// progress callback aborts the transfer.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

namespace bench {

/// etcd's current revision (the header of a count-only range request); a watch that must see every
/// later change starts at this + 1.
std::int64_t current_revision(const std::string& endpoint);

class RawWatchStream {
 public:
  /// Starts watching every key under `prefix` (keys >= prefix and < prefix with its last byte
  /// incremented) from `start_revision`; returns once etcd has answered the watch (its "created"
  /// message arrived), or throws std::runtime_error when it does not within 10 s.
  RawWatchStream(const std::string& endpoint, const std::string& prefix, std::int64_t start_revision);
  ~RawWatchStream();
  RawWatchStream(const RawWatchStream&) = delete;
  RawWatchStream& operator=(const RawWatchStream&) = delete;

  /// Kernel thread id of the stream's thread (for a per-thread CPU clock).
  long thread_id() const { return tid_.load(std::memory_order_acquire); }
  /// `"events"` entries received so far: one per watch message carrying events, i.e. one per
  /// revision (a single put changes one key, so one event each).
  std::uint64_t events() const { return events_.load(std::memory_order_acquire); }
  /// Waits (polling, so the stream's thread pays nothing for it) until `count` events arrived.
  /// False on timeout or when the stream ended first.
  bool await_events(std::uint64_t count, std::chrono::milliseconds timeout) const;
  /// Ends the stream and joins its thread; idempotent.
  void stop();
  /// Why the stream ended early ("" while it runs or after a clean stop).
  std::string error() const;

 private:
  static size_t on_data(char* data, size_t size, size_t count, void* user);
  static int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
  void run();
  void release();
  void count(std::string_view chunk);

  std::string url_, body_;
  CURLM* multi_;
  CURL* easy_;
  curl_slist* headers_ = nullptr;
  bool status_checked_ = false;  // stream thread only
  char tail_[7] = {};            // the last bytes of the previous chunk: "events" split in two
  std::size_t tail_len_ = 0;
  std::atomic<long> tid_{0};
  std::atomic<std::uint64_t> events_{0};
  std::atomic<bool> created_{false}, ended_{false}, stop_{false};
  std::string error_;  // written by the stream thread before ended_
  std::thread thread_;
};

}  // namespace bench
