#include "codec/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace dcs::codec {

namespace {

const unsigned char* as_uchar(const char* p) {
  return reinterpret_cast<const unsigned char*>(p);
}
unsigned char* as_uchar(char* p) {
  return reinterpret_cast<unsigned char*>(p);
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  if (bytes.empty()) return out;
  const int written = EVP_EncodeBlock(as_uchar(out.data()), as_uchar(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // EVP_DecodeBlock skips whitespace and does not report padding, so the text is validated here
  // first: etcd only ever sends canonical padded base64, anything else is a malformed answer.
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string{};
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  const auto body = text.substr(0, text.size() - padding);
  if (!std::all_of(body.begin(), body.end(), is_base64_char)) return std::nullopt;
  std::string out(3 * (text.size() / 4), '\0');
  const int written = EVP_DecodeBlock(as_uchar(out.data()), as_uchar(text.data()), static_cast<int>(text.size()));
  if (written < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(written) - padding);
  return out;
}

}  // namespace dcs::codec
