#include "codec/base64.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>

namespace dcs::codec {

namespace {

const unsigned char* as_uchar(const char* p) {
  return reinterpret_cast<const unsigned char*>(p);
}
unsigned char* as_uchar(char* p) {
  return reinterpret_cast<unsigned char*>(p);
}

// Decoding is a hand-written table loop rather than EVP_DecodeBlock: that one skips whitespace
// and does not report padding, so it needed a validation pass of its own first, and every key
// and value of a range answer goes through here (a tenth of get_cluster's instructions before).
constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::uint8_t i = 0; i < 64; ++i) table[static_cast<unsigned char>(alphabet[i])] = i;
  return table;
}

constexpr auto kDecode = make_decode_table();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  base64_append(out, bytes);
  return out;
}

void base64_append(std::string& out, std::string_view bytes) {
  if (bytes.empty()) return;
  const std::size_t at = out.size();
  out.resize(at + 4 * ((bytes.size() + 2) / 3) + 1);  // EVP_EncodeBlock writes a terminating NUL
  const int written =
      EVP_EncodeBlock(as_uchar(out.data() + at), as_uchar(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(at + static_cast<std::size_t>(written));
}

bool base64_decode_into(std::string_view text, std::string& out) {
  // etcd only ever sends canonical padded base64: anything else is a malformed answer.
  if (text.size() % 4 != 0) return false;
  out.clear();
  if (text.empty()) return true;
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  out.resize(3 * (text.size() / 4));
  const auto* in = as_uchar(text.data());
  auto* dst = as_uchar(out.data());
  const std::size_t full = text.size() / 4 - (padding != 0 ? 1 : 0);  // quads without '='
  std::uint8_t bad = 0;
  for (std::size_t q = 0; q < full; ++q, in += 4, dst += 3) {
    const std::uint8_t a = kDecode[in[0]], b = kDecode[in[1]], c = kDecode[in[2]], d = kDecode[in[3]];
    bad |= static_cast<std::uint8_t>(a | b | c | d);
    const std::uint32_t v = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) | (std::uint32_t{c} << 6) | d;
    dst[0] = static_cast<unsigned char>(v >> 16);
    dst[1] = static_cast<unsigned char>(v >> 8);
    dst[2] = static_cast<unsigned char>(v);
  }
  // kInvalid is the only table value with bit 7 set (valid digits are below 64).
  if (bad & 0x80) return false;
  if (padding != 0) {
    // The last quad: "xy==" or "xyz=" (a '=' anywhere else is invalid).
    const std::uint8_t a = kDecode[in[0]], b = kDecode[in[1]], c = padding == 1 ? kDecode[in[2]] : 0;
    if ((a | b | c) & 0x80) return false;
    const std::uint32_t v = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) | (std::uint32_t{c} << 6);
    dst[0] = static_cast<unsigned char>(v >> 16);
    if (padding == 1) dst[1] = static_cast<unsigned char>(v >> 8);
    out.resize(out.size() - padding);
  }
  return true;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  if (!base64_decode_into(text, out)) return std::nullopt;
  return out;
}

}  // namespace dcs::codec
