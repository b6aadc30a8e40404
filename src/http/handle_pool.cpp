#include "http/handle_pool.hpp"

namespace dcs::http {

HandlePool::Borrowed HandlePool::borrow() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      return Borrowed(*this, std::move(handle));
    }
  }
  return Borrowed(*this, std::make_unique<CurlEasy>());
}

void HandlePool::give_back(std::unique_ptr<CurlEasy> handle) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(handle));
}

void HandlePool::clear() {
  std::vector<std::unique_ptr<CurlEasy>> doomed;
  std::lock_guard lock(mutex_);
  doomed.swap(idle_);
}

long HandlePool::idle_connects() const {
  std::lock_guard lock(mutex_);
  long total = 0;
  for (const auto& handle : idle_) total += handle->connects();
  return total;
}

}  // namespace dcs::http
