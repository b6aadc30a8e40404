// The range end that selects "every key under a prefix": a wrong one silently reads or deletes
// the wrong keys.
#include <gtest/gtest.h>

#include <string>

#include "dcs/etcd3/kv.hpp"

namespace dcs::etcd3 {
namespace {

TEST(PrefixRangeEnd, IncrementsTheLastByte) {
  EXPECT_EQ(prefix_range_end("a/"), "a0");  // kv2.txt: YS8= .. YTA=
  EXPECT_EQ(prefix_range_end("/service/batman/"), "/service/batman0");
  EXPECT_EQ(prefix_range_end("a"), "b");
  EXPECT_EQ(prefix_range_end(std::string("ab\xfe", 3)), std::string("ab\xff", 3));
  EXPECT_EQ(prefix_range_end(std::string("\x00", 1)), std::string("\x01", 1));
}

TEST(PrefixRangeEnd, DropsTrailing0xffBytesBeforeIncrementing) {
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\x01\xff", 2)), std::string("\x02", 1));
  EXPECT_EQ(prefix_range_end(std::string{'a', '\xff', 'b', '\xff'}), (std::string{'a', '\xff', 'c'}));
}

TEST(PrefixRangeEnd, AllFfOrEmptyPrefixMeansToTheEndOfTheKeyspace) {
  EXPECT_EQ(prefix_range_end(std::string("\xff", 1)), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff\xff", 3)), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
}

TEST(PrefixRangeEnd, WithPrefixBuildsTheRangeRequest) {
  const RangeRequest request = RangeRequest::with_prefix("a/");
  EXPECT_EQ(request.key, "a/");
  EXPECT_EQ(request.range_end, "a0");
  EXPECT_EQ(request.limit, 0);
  EXPECT_FALSE(request.keys_only);

  const RangeRequest everything = RangeRequest::with_prefix(std::string(1, '\0'));
  EXPECT_EQ(everything.key, std::string(1, '\0'));
  EXPECT_EQ(everything.range_end, std::string(1, '\x01'));
}

}  // namespace
}  // namespace dcs::etcd3
