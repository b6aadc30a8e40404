// Keys and values travel as standard padded base64; etcd rejects anything else, and an answer
// that is not canonical base64 must not be silently mis-decoded.
#include "codec/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dcs::codec {
namespace {

TEST(Base64, EncodesTheRfc4648TestVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesTheRfc4648TestVectors) {
  EXPECT_EQ(base64_decode(""), std::string());
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
}

TEST(Base64, MatchesTheEncodingEtcdUsedForBinaryAndUtf8Keys) {
  // b64.txt: binary key "\xff\x00\x01k" with value "\x00\xfe", and a UTF-8 key.
  const std::string binary_key("\xff\x00\x01k", 4);
  const std::string binary_value("\x00\xfe", 2);
  EXPECT_EQ(base64_encode(binary_key), "/wABaw==");
  EXPECT_EQ(base64_encode(binary_value), "AP4=");
  EXPECT_EQ(base64_decode("/wABaw=="), binary_key);
  EXPECT_EQ(base64_decode("AP4="), binary_value);
  EXPECT_EQ(base64_encode("\xc3\xbc/\xe6\x97\xa5\xe6\x9c\xac"), "w7wv5pel5pys");
  EXPECT_EQ(base64_decode("+/8="), std::string("\xfb\xff", 2));
}

TEST(Base64, RoundTripsEveryByteValueAndEveryPaddingLength) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  for (std::size_t length = 0; length <= all_bytes.size(); ++length) {
    const std::string bytes = all_bytes.substr(all_bytes.size() - length);  // ends in 0xff, starts anywhere
    const std::string encoded = base64_encode(bytes);
    EXPECT_EQ(encoded.size() % 4, 0u);
    EXPECT_EQ(base64_decode(encoded), bytes) << "length " << length;
  }
}

TEST(Base64, RoundTripsNulBytesInsideAndAtTheEnd) {
  const std::string bytes("\0a\0\0", 4);
  EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  EXPECT_EQ(base64_encode(std::string(1, '\0')), "AA==");
}

TEST(Base64, RoundTripsALargeValue) {
  std::string big(1500000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) & 0xff);
  const auto decoded = base64_decode(base64_encode(big));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, big);
}

TEST(Base64, RejectsTextEtcdWouldNotSend) {
  EXPECT_EQ(base64_decode("Zm8"), std::nullopt) << "unpadded";
  EXPECT_EQ(base64_decode("Zg"), std::nullopt) << "unpadded";
  EXPECT_EQ(base64_decode("-_8="), std::nullopt) << "URL-safe alphabet";
  EXPECT_EQ(base64_decode("Zm9v\n"), std::nullopt) << "trailing newline";
  EXPECT_EQ(base64_decode(" Zm9v"), std::nullopt) << "leading space";
  EXPECT_EQ(base64_decode("Zm 9v"), std::nullopt) << "inner space";
  EXPECT_EQ(base64_decode("not base64!"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm=v"), std::nullopt) << "padding inside";
  EXPECT_EQ(base64_decode("Z==="), std::nullopt) << "three padding characters";
  EXPECT_EQ(base64_decode("===="), std::nullopt) << "only padding";
  EXPECT_EQ(base64_decode("Zm9v===="), std::nullopt) << "a whole block of padding";
  EXPECT_EQ(base64_decode("Zg==Zg=="), std::nullopt) << "padding before the end";
  EXPECT_EQ(base64_decode(std::string_view("Zm9\0", 4)), std::nullopt) << "NUL byte";
  EXPECT_EQ(base64_decode("Zm9\xc3"), std::nullopt) << "non-ASCII byte";
}

TEST(Base64, IgnoresTheUnusedBitsOfTheLastCharacterAsBefore) {
  // Non-zero bits below the padding were accepted (and dropped) by the OpenSSL decoder used
  // before; answers that worked then still do.
  EXPECT_EQ(base64_decode("QR=="), "A");
  EXPECT_EQ(base64_decode("QUJ="), "AB");
}

TEST(Base64, DecodesIntoAReusedBufferAndAppendsEncodings) {
  std::string out = "previous contents that are longer";
  ASSERT_TRUE(base64_decode_into("Zm9vYmE=", out));
  EXPECT_EQ(out, "fooba");
  ASSERT_TRUE(base64_decode_into("", out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(base64_decode_into("Zm9v YmE=", out));
  EXPECT_FALSE(base64_decode_into("Zm9vYm=E", out));
  std::string body = R"({"key":")";
  base64_append(body, "foobar");
  base64_append(body, "");
  EXPECT_EQ(body, R"({"key":"Zm9vYmFy)");
}

TEST(Base64, EveryInvalidCharacterInEveryPositionIsRefused) {
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool valid =
        (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
    if (valid) continue;
    for (std::size_t at = 0; at < 8; ++at) {
      std::string text = "Zm9vYmFy";
      text[at] = ch;
      // '=' is valid only as trailing padding.
      const bool padding_ok = ch == '=' && (at == 7 || false);
      EXPECT_EQ(base64_decode(text).has_value(), padding_ok) << "byte " << c << " at " << at;
    }
  }
}

}  // namespace
}  // namespace dcs::codec
