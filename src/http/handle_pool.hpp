// A pool of kept-alive easy handles: a thread borrows one for a request and gives it back, so
// each concurrently calling thread ends up with its own reused connection.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "http/curl_easy.hpp"

namespace dcs::http {

class HandlePool {
 public:
  class Borrowed {
   public:
    Borrowed(HandlePool& pool, std::unique_ptr<CurlEasy> handle) : pool_(&pool), handle_(std::move(handle)) {}
    ~Borrowed() {
      if (handle_) pool_->give_back(std::move(handle_));
    }
    Borrowed(Borrowed&&) noexcept = default;
    Borrowed(const Borrowed&) = delete;
    Borrowed& operator=(const Borrowed&) = delete;
    Borrowed& operator=(Borrowed&&) = delete;

    CurlEasy* operator->() const noexcept { return handle_.get(); }
    /// Drops the handle and its connection instead of returning it (after a network failure,
    /// so the next request opens a fresh connection).
    void discard() noexcept { handle_.reset(); }

   private:
    HandlePool* pool_;
    std::unique_ptr<CurlEasy> handle_;
  };

  Borrowed borrow();
  /// Closes every idle connection.
  void clear();
  /// Connections opened by handles currently idle in the pool.
  long idle_connects() const;

 private:
  void give_back(std::unique_ptr<CurlEasy> handle);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<CurlEasy>> idle_;
};

}  // namespace dcs::http
