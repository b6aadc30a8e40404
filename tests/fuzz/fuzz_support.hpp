// What the fuzz targets share: a check that aborts with a message (libFuzzer then keeps the input
// as a crash artifact), the rule "only the library's typed errors may escape a decoder", and a
// deterministic splitter of one input into chunks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "codec/json_fields.hpp"
#include "dcs/errors.hpp"

namespace dcs::fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant violated at %s:%d: %s\n", file, line, what);
  std::abort();
}

#define DCS_FUZZ_CHECK(condition) \
  ((condition) ? (void)0 : ::dcs::fuzz::fail("DCS_FUZZ_CHECK(" #condition ")", __FILE__, __LINE__))

/// Runs `decode`; any exception except dcs::Error (and, where the caller allows it, the codec's
/// DecodeError, which the client turns into MalformedResponse) is a bug. Returns true when
/// `decode` returned normally.
template <typename Decode>
bool only_typed_errors(const char* what, Decode&& decode, bool allow_decode_error = false) {
  try {
    decode();
    return true;
  } catch (const dcs::Error&) {
    return false;
  } catch (const dcs::codec::DecodeError&) {
    if (allow_decode_error) return false;
    std::fprintf(stderr, "%s: DecodeError escaped\n", what);
    std::abort();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: untyped exception %s escaped: %s\n", what, typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "%s: non-std exception escaped\n", what);
    std::abort();
  }
}

/// Runs `code` that is documented never to throw.
template <typename Code>
void never_throws(const char* what, Code&& code) {
  try {
    code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s threw %s: %s\n", what, typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "%s threw a non-std exception\n", what);
    std::abort();
  }
}

/// Chunk boundaries for `size` bytes drawn from a small xorshift generator seeded by `seed`: the
/// same input always splits the same way, so a crash reproduces.
inline std::vector<std::string_view> split_chunks(std::string_view bytes, std::uint32_t seed) {
  std::vector<std::string_view> chunks;
  std::uint32_t state = seed | 1U;
  while (!bytes.empty()) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    // Mostly short chunks (1-8 bytes) so that boundaries land inside strings and escapes, now
    // and then a long one.
    const std::size_t want = (state & 0x70U) == 0 ? 1 + state % 257 : 1 + state % 8;
    const std::size_t take = want < bytes.size() ? want : bytes.size();
    chunks.push_back(bytes.substr(0, take));
    bytes.remove_prefix(take);
  }
  return chunks;
}

/// A cheap hash of the input, to seed split_chunks.
inline std::uint32_t hash_bytes(std::string_view bytes) {
  std::uint32_t h = 2166136261U;
  for (unsigned char c : bytes) h = (h ^ c) * 16777619U;
  return h;
}

}  // namespace dcs::fuzz
