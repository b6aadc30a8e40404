#include "http/stream_transfer.hpp"

#include <exception>
#include <memory>

#include "http/curl_easy.hpp"
#include "http/curl_global.hpp"

namespace dcs::http {

void CancelSignal::cancel() noexcept {
  std::lock_guard lock(mutex_);
  cancelled_.store(true, std::memory_order_release);
  if (multi_ != nullptr) curl_multi_wakeup(multi_);
}

void CancelSignal::reset() noexcept {
  std::lock_guard lock(mutex_);
  cancelled_.store(false, std::memory_order_release);
}

bool CancelSignal::attach(CURLM* multi) noexcept {
  std::lock_guard lock(mutex_);
  if (cancelled_.load(std::memory_order_acquire)) return false;
  multi_ = multi;
  return true;
}

void CancelSignal::detach() noexcept {
  std::lock_guard lock(mutex_);
  multi_ = nullptr;
}

namespace {

using Clock = std::chrono::steady_clock;

struct TransferContext {
  const ChunkHandler* on_chunk;
  CURL* easy;
  std::exception_ptr error;
  Clock::time_point last_activity;
};

size_t deliver_chunk(char* data, size_t size, size_t count, void* user) {
  auto* ctx = static_cast<TransferContext*>(user);
  ctx->last_activity = Clock::now();
  long status = 0;
  curl_easy_getinfo(ctx->easy, CURLINFO_RESPONSE_CODE, &status);
  try {
    (*ctx->on_chunk)(status, std::string_view(data, size * count));
  } catch (...) {
    // An exception must not cross libcurl's C frames: keep it, abort the transfer, rethrow later.
    ctx->error = std::current_exception();
    return 0;
  }
  return size * count;
}

struct MultiDeleter {
  void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
struct EasyDeleter {
  void operator()(CURL* e) const noexcept { curl_easy_cleanup(e); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

}  // namespace

StreamOutcome run_stream(const HttpRequest& request, const ChunkHandler& on_chunk, CancelSignal& cancel,
                         std::chrono::milliseconds idle_timeout) {
  ensure_curl_initialised();
  std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  std::unique_ptr<curl_slist, SlistDeleter> headers(build_headers(request));
  if (!multi || !easy) throw std::bad_alloc();

  TransferContext ctx{&on_chunk, easy.get(), nullptr, Clock::now()};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  apply_common_options(easy.get(), request);
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, deliver_chunk);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(easy.get(), CURLOPT_ERRORBUFFER, error_buffer);
  curl_multi_add_handle(multi.get(), easy.get());

  StreamOutcome outcome;
  CURLcode result = CURLE_OK;
  if (!cancel.attach(multi.get())) {
    outcome.end = StreamEnd::cancelled;
  } else {
    for (;;) {
      int running = 0;
      curl_multi_perform(multi.get(), &running);
      if (ctx.error) break;
      if (running == 0) {
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
          if (msg->msg == CURLMSG_DONE) result = msg->data.result;
        }
        break;
      }
      if (cancel.cancelled()) {
        outcome.end = StreamEnd::cancelled;
        break;
      }
      auto wait = std::chrono::milliseconds(1000);
      if (idle_timeout.count() > 0) {
        const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - ctx.last_activity);
        if (silent >= idle_timeout) {
          outcome.end = StreamEnd::idle;
          break;
        }
        wait = std::min(wait, idle_timeout - silent);
      }
      curl_multi_poll(multi.get(), nullptr, 0, static_cast<int>(wait.count()), nullptr);
    }
    cancel.detach();
  }
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &outcome.status);
  long request_size = 0;
  curl_easy_getinfo(easy.get(), CURLINFO_REQUEST_SIZE, &request_size);
  curl_multi_remove_handle(multi.get(), easy.get());

  if (ctx.error) std::rethrow_exception(ctx.error);
  if (outcome.end == StreamEnd::finished && result != CURLE_OK) {
    throw_transport_error(result, error_buffer, request_size > 0);
  }
  return outcome;
}

}  // namespace dcs::http
