// etcd prints 64-bit integers as JSON strings (IDs exceed 2^53) and omits zero values; a field
// of the wrong type means the answer is not from etcd and must not be guessed at.
#include "codec/json_fields.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace dcs::codec {
namespace {

TEST(JsonFields, ReadsInt64AsStringOrNumber) {
  const json j = json::parse(R"({"s":"9","n":9,"neg":"-1","negn":-1,"big":"9223372036854775807"})");
  EXPECT_EQ(get_int64(j, "s"), 9);
  EXPECT_EQ(get_int64(j, "n"), 9);
  EXPECT_EQ(get_int64(j, "neg"), -1);  // watch_id of a failed create
  EXPECT_EQ(get_int64(j, "negn"), -1);
  EXPECT_EQ(get_int64(j, "big"), std::numeric_limits<std::int64_t>::max());
}

TEST(JsonFields, ReadsUint64IdsAbove2To53Exactly) {
  // 17184946936886216709 > 2^63: a double or an int64 would corrupt it.
  const json j = json::parse(R"({"s":"17184946936886216709","n":17184946936886216709,"max":"18446744073709551615"})");
  EXPECT_EQ(get_uint64(j, "s"), 17184946936886216709ULL);
  EXPECT_EQ(get_uint64(j, "n"), 17184946936886216709ULL);
  EXPECT_EQ(get_uint64(j, "max"), std::numeric_limits<std::uint64_t>::max());
  // 2^53 + 1 is the first integer a double cannot hold.
  const json odd = json::parse(R"({"id":"9007199254740993"})");
  EXPECT_EQ(get_int64(odd, "id"), 9007199254740993LL);
  EXPECT_EQ(get_uint64(odd, "id"), 9007199254740993ULL);
}

TEST(JsonFields, AbsentOrNullFieldsReadAsZeroValues) {
  const json j = json::parse(R"({"nothing":null})");
  EXPECT_EQ(get_int64(j, "revision"), 0);
  EXPECT_EQ(get_uint64(j, "member_id"), 0u);
  EXPECT_FALSE(get_bool(j, "succeeded"));
  EXPECT_EQ(get_string(j, "cancel_reason"), "");
  EXPECT_EQ(get_bytes(j, "value"), "");
  EXPECT_TRUE(get_array(j, "kvs").empty());
  EXPECT_EQ(get_int64(j, "nothing"), 0);
  EXPECT_TRUE(get_array(j, "nothing").empty());
}

TEST(JsonFields, ReadsBooleansAndTheirStringSpelling) {
  const json j = json::parse(R"({"t":true,"f":false,"ts":"true","fs":"false"})");
  EXPECT_TRUE(get_bool(j, "t"));
  EXPECT_FALSE(get_bool(j, "f"));
  EXPECT_TRUE(get_bool(j, "ts"));
  EXPECT_FALSE(get_bool(j, "fs"));
}

TEST(JsonFields, RejectsWrongTypedFields) {
  const json j = json::parse(
      R"({"str":"abc","empty":"","float":2.5,"bool":true,"obj":{},"arr":[],"neg":"-1","negn":-5,
          "huge":"17184946936886216709","num":3,"yes":"yes","bad64":"not base64!","plus":"+5"})");
  EXPECT_THROW(get_int64(j, "str"), DecodeError);
  EXPECT_THROW(get_int64(j, "empty"), DecodeError);
  EXPECT_THROW(get_int64(j, "float"), DecodeError);
  EXPECT_THROW(get_int64(j, "bool"), DecodeError);
  EXPECT_THROW(get_int64(j, "obj"), DecodeError);
  EXPECT_THROW(get_int64(j, "huge"), DecodeError) << "out of int64 range";
  EXPECT_THROW(get_int64(j, "plus"), DecodeError);
  EXPECT_THROW(get_uint64(j, "neg"), DecodeError);
  EXPECT_THROW(get_uint64(j, "negn"), DecodeError);
  EXPECT_THROW(get_bool(j, "num"), DecodeError);
  EXPECT_THROW(get_bool(j, "yes"), DecodeError);
  EXPECT_THROW(get_string(j, "num"), DecodeError);
  EXPECT_THROW(get_bytes(j, "num"), DecodeError);
  EXPECT_THROW(get_bytes(j, "bad64"), DecodeError);
  EXPECT_THROW(get_array(j, "obj"), DecodeError);
  EXPECT_THROW(get_array(j, "str"), DecodeError);
  EXPECT_THROW(decode_header(json::parse(R"({"header":[]})")), DecodeError);
  EXPECT_THROW(decode_key_value(json::parse("[]")), DecodeError);
}

TEST(JsonFields, ParseObjectAcceptsOnlyOneObject) {
  EXPECT_EQ(parse_object(R"({"a":"1"})")["a"], "1");
  EXPECT_EQ(parse_object("{\"a\":1}\n\n").size(), 1u) << "trailing newline of a stream line";
  EXPECT_THROW(parse_object("404 page not found"), DecodeError);
  EXPECT_THROW(parse_object(R"({"header":{"cluster_id":"84430)"), DecodeError);
  EXPECT_THROW(parse_object(""), DecodeError);
  EXPECT_THROW(parse_object("[]"), DecodeError);
  EXPECT_THROW(parse_object("\"text\""), DecodeError);
}

TEST(JsonFields, WritesInt64AsJsonStrings) {
  EXPECT_EQ(int64_field(5189732357884290374LL), json("5189732357884290374"));
  EXPECT_EQ(int64_field(-1), json("-1"));
  EXPECT_EQ(int64_field(0), json("0"));
}

TEST(JsonFields, DecodesAFullHeaderAndKeyValue) {
  const json j = json::parse(
      R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"5","raft_term":"2"},
          "kv":{"key":"Zm9v","create_revision":"2","mod_revision":"4","version":"3","value":"YmFyMg==","lease":"1000"}})");
  const auto header = decode_header(j);
  EXPECT_EQ(header.cluster_id, 8443091972210274032ULL);
  EXPECT_EQ(header.member_id, 17184946936886216709ULL);
  EXPECT_EQ(header.revision, 5);
  EXPECT_EQ(header.raft_term, 2u);
  const auto kv = decode_key_value(j["kv"]);
  EXPECT_EQ(kv, (etcd3::KeyValue{"foo", "bar2", 2, 4, 3, 1000}));
}

TEST(JsonFields, MissingHeaderAndEmptyHeaderAreZero) {
  const auto none = decode_header(json::parse("{}"));
  EXPECT_EQ(none.cluster_id, 0u);
  EXPECT_EQ(none.revision, 0);
  const auto empty = decode_header(json::parse(R"({"header":{}})"));  // nested txn header
  EXPECT_EQ(empty.member_id, 0u);
  EXPECT_EQ(empty.raft_term, 0u);
}

}  // namespace
}  // namespace dcs::codec
