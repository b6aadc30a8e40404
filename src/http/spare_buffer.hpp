// Reused buffers for the two strings every request needs: its encoded text and the answer's
// body. A steady HA loop sends the same few requests over and over; keeping their capacity
// per thread saves an allocation and a free of up to a few kilobytes each, and glibc sweeps
// every freed small block back together (malloc_consolidate) before any allocation of a
// kilobyte or more, which a range answer or a member put always was.
#pragma once

#include <cstddef>
#include <string>

namespace dcs::http {

/// An empty string, with the capacity of a string this thread gave back before (the largest
/// kept), or none.
std::string take_spare_buffer() noexcept;

/// Keeps `buffer`'s capacity for this thread's next take_spare_buffer, unless it is over
/// kMaxSpareCapacity (the answer of a huge cluster is not held on to) or smaller than those
/// already kept.
void give_back_spare_buffer(std::string&& buffer) noexcept;

inline constexpr std::size_t kMaxSpareCapacity = std::size_t{256} << 10;

/// A string taken from the spares and given back when it goes out of scope: for text that no
/// one refers to afterwards.
class SpareBuffer {
 public:
  SpareBuffer() noexcept : text(take_spare_buffer()) {}
  ~SpareBuffer() { give_back_spare_buffer(std::move(text)); }
  SpareBuffer(const SpareBuffer&) = delete;
  SpareBuffer& operator=(const SpareBuffer&) = delete;

  std::string text;
};

}  // namespace dcs::http
