#include "http/spare_buffer.hpp"

#include <array>
#include <utility>

namespace dcs::http {

namespace {

// Two: a request's text and its answer's body are alive at the same time.
thread_local std::array<std::string, 2> t_spares;

}  // namespace

std::string take_spare_buffer() noexcept {
  auto& largest = t_spares[0].capacity() >= t_spares[1].capacity() ? t_spares[0] : t_spares[1];
  std::string out = std::move(largest);
  largest = std::string();
  out.clear();
  return out;
}

void give_back_spare_buffer(std::string&& buffer) noexcept {
  if (buffer.capacity() > kMaxSpareCapacity) return;
  auto& smallest = t_spares[0].capacity() <= t_spares[1].capacity() ? t_spares[0] : t_spares[1];
  if (buffer.capacity() > smallest.capacity()) smallest = std::move(buffer);
}

}  // namespace dcs::http
