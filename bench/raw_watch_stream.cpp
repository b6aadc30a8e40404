#include "raw_watch_stream.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "etcd_admin.hpp"
#include "raw_curl_loop.hpp"

namespace bench {
namespace {

constexpr std::string_view kEventsMarker = "\"events\"";

// "/service/demo/" -> "/service/demo0": the end of the range holding every key under the prefix.
std::string watch_range_end(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

}  // namespace

std::int64_t current_revision(const std::string& endpoint) {
  RawCurlLoop loop;
  const long status = loop.post(endpoint + "/v3/kv/range", R"({"key":")" + b64("/") + R"(","count_only":true})");
  if (status != 200) throw std::runtime_error("etcd /v3/kv/range -> " + std::to_string(status));
  const auto answer = nlohmann::json::parse(loop.last_body());
  // The gateway writes int64 fields as JSON strings.
  const auto& revision = answer.at("header").at("revision");
  return revision.is_string() ? std::stoll(revision.get<std::string>()) : revision.get<std::int64_t>();
}

RawWatchStream::RawWatchStream(const std::string& endpoint, const std::string& prefix, std::int64_t start_revision)
    : url_(endpoint + "/v3/watch"),
      body_(R"({"create_request":{"key":")" + b64(prefix) + R"(","range_end":")" + b64(watch_range_end(prefix)) +
            R"(","start_revision":)" + std::to_string(start_revision) + "}}"),
      multi_(curl_multi_init()),
      easy_(curl_easy_init()) {
  if (multi_ == nullptr || easy_ == nullptr) {
    release();
    throw std::runtime_error("raw watch stream: curl init failed");
  }
  headers_ = curl_slist_append(headers_, "Content-Type: application/json");
  headers_ = curl_slist_append(headers_, "Expect:");
  curl_easy_setopt(easy_, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body_.c_str());
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body_.size()));
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy_, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(easy_, CURLOPT_XFERINFODATA, this);
  curl_easy_setopt(easy_, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_multi_add_handle(multi_, easy_);
  thread_ = std::thread([this] { run(); });

  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!created_.load(std::memory_order_acquire)) {
    if (ended_.load(std::memory_order_acquire) || std::chrono::steady_clock::now() > give_up) {
      const std::string why = ended_.load(std::memory_order_acquire) ? error() : "no answer within 10 s";
      release();  // the destructor does not run for a constructor that throws
      throw std::runtime_error("raw watch stream: " + why);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

RawWatchStream::~RawWatchStream() {
  release();
}

void RawWatchStream::release() {
  stop();
  curl_multi_remove_handle(multi_, easy_);
  curl_easy_cleanup(easy_);
  curl_multi_cleanup(multi_);
  curl_slist_free_all(headers_);
}

void RawWatchStream::stop() {
  stop_.store(true, std::memory_order_release);
  curl_multi_wakeup(multi_);  // allowed from any thread: ends the stream thread's curl_multi_poll
  if (thread_.joinable()) thread_.join();
}

std::string RawWatchStream::error() const {
  return ended_.load(std::memory_order_acquire) ? error_ : std::string();
}

bool RawWatchStream::await_events(std::uint64_t count, std::chrono::milliseconds timeout) const {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (events() < count) {
    if (ended_.load(std::memory_order_acquire) || std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

void RawWatchStream::run() {
  tid_.store(static_cast<long>(gettid()), std::memory_order_release);
  CURLcode result = CURLE_OK;
  for (;;) {
    int running = 0;
    curl_multi_perform(multi_, &running);
    if (running == 0) {
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg == CURLMSG_DONE) result = msg->data.result;
      }
      break;
    }
    if (stop_.load(std::memory_order_acquire)) break;
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
  }
  if (!stop_.load(std::memory_order_acquire) && error_.empty()) {
    error_ = result != CURLE_OK ? curl_easy_strerror(result) : "etcd ended the watch";
  }
  ended_.store(true, std::memory_order_release);
}

size_t RawWatchStream::on_data(char* data, size_t size, size_t count, void* user) {
  auto* self = static_cast<RawWatchStream*>(user);
  const std::size_t n = size * count;
  if (!self->status_checked_) {
    // Once, on the first bytes (etcd's "created" answer): anything but 200 is not a watch.
    self->status_checked_ = true;
    long status = 0;
    curl_easy_getinfo(self->easy_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      self->error_ = "etcd /v3/watch -> " + std::to_string(status) + " " + std::string(data, std::min<size_t>(n, 200));
      return 0;  // aborts the transfer
    }
    self->created_.store(true, std::memory_order_release);
  }
  self->count(std::string_view(data, n));
  return n;
}

int RawWatchStream::on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  // Non-zero aborts the transfer: stop() also takes effect inside a curl_multi_perform.
  return static_cast<RawWatchStream*>(user)->stop_.load(std::memory_order_relaxed) ? 1 : 0;
}

// Counts `"events"` in the chunk, including one split between the previous chunk and this one.
// Neither the kept tail (7 bytes) nor this chunk's first 7 bytes can hold the 8-byte marker alone,
// so a match in their concatenation is always a split one, never counted twice.
void RawWatchStream::count(std::string_view chunk) {
  constexpr std::size_t keep = sizeof(tail_);
  static_assert(keep + 1 == kEventsMarker.size(), "the tail holds all but one byte of the marker");
  std::uint64_t found = 0;
  if (tail_len_ > 0) {
    char joined[2 * keep];
    std::memcpy(joined, tail_, tail_len_);
    const std::size_t head = std::min(keep, chunk.size());
    std::memcpy(joined + tail_len_, chunk.data(), head);
    if (std::string_view(joined, tail_len_ + head).find(kEventsMarker) != std::string_view::npos) ++found;
  }
  for (auto pos = chunk.find(kEventsMarker); pos != std::string_view::npos; pos = chunk.find(kEventsMarker, pos + 1))
    ++found;
  if (chunk.size() >= keep) {
    std::memcpy(tail_, chunk.data() + chunk.size() - keep, keep);
    tail_len_ = keep;
  } else {
    // A short chunk: keep the last `keep` bytes of the old tail followed by it.
    const std::size_t from_old = std::min(tail_len_, keep - chunk.size());
    std::memmove(tail_, tail_ + tail_len_ - from_old, from_old);
    std::memcpy(tail_ + from_old, chunk.data(), chunk.size());
    tail_len_ = from_old + chunk.size();
  }
  if (found > 0) events_.fetch_add(found, std::memory_order_release);
}

}  // namespace bench
