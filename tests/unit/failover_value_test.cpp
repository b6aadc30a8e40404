// The `failover` key: the object HEAD and 3.0.2 write, the legacy "leader:candidate" text, and
// the cleared request {} (present but falsy).
#include <gtest/gtest.h>

#include "dcs/cluster.hpp"

namespace dcs {
namespace {

TEST(FailoverValue, WritesOnlyGivenItemsInPatroniOrder) {
  // json.dumps({"leader":"a","member":"b","scheduled_at":"2024-05-01T10:00:00+00:00"}, separators=(",", ":"))
  EXPECT_EQ(Failover::value("a", "b", "2024-05-01T10:00:00+00:00"),
            R"({"leader":"a","member":"b","scheduled_at":"2024-05-01T10:00:00+00:00"})");
  EXPECT_EQ(Failover::value("", "b", ""), R"({"member":"b"})");
  EXPECT_EQ(Failover::value("a", "", ""), R"({"leader":"a"})");
  EXPECT_EQ(Failover::value("", "", ""), "{}");
}

TEST(FailoverValue, ReadsObject) {
  const auto f = Failover::from_node(4, R"({"leader":"a","member":"b","scheduled_at":"2016-01-14T10:09:57.1394Z"})");
  EXPECT_EQ(f.version, 4);
  EXPECT_EQ(f.leader, "a");
  EXPECT_EQ(f.candidate, "b");
  EXPECT_EQ(f.scheduled_at, "2016-01-14T10:09:57.1394Z");
  EXPECT_FALSE(f.is_empty());
}

TEST(FailoverValue, ReadsLegacyColonForm) {
  const auto f = Failover::from_node(2, " a : b ");
  EXPECT_EQ(f.leader, "a");
  EXPECT_EQ(f.candidate, "b");
  const auto three = Failover::from_node(2, "a:b:c");
  EXPECT_EQ(three.leader, "a");
  EXPECT_EQ(three.candidate, "b");
  const auto only_leader = Failover::from_node(2, "abc");
  EXPECT_EQ(only_leader.leader, "abc");
  EXPECT_EQ(only_leader.candidate, "");
  // HEAD keeps an empty object where 3.0.2 had none.
  const auto both_empty = Failover::from_node(2, ":");
  EXPECT_TRUE(both_empty.is_empty());
  EXPECT_EQ(both_empty.version, 2);
}

TEST(FailoverValue, EmptyOrNonObjectJsonIsAnEmptyRequest) {
  for (const char* value : {"", "{}", "[]", "5", "null", "\"a:b\""}) {
    const auto f = Failover::from_node(6, value);
    EXPECT_TRUE(f.is_empty()) << value;
    EXPECT_EQ(f.version, 6) << value;
    EXPECT_EQ(f.scheduled_at, "") << value;
  }
}

TEST(FailoverValue, WrongTypedFieldsAndGarbageReadAsEmpty) {
  const auto f = Failover::from_node(1, R"({"leader":1,"member":["b"],"scheduled_at":5})");
  EXPECT_TRUE(f.is_empty());
  EXPECT_EQ(f.scheduled_at, "");
  EXPECT_TRUE(Failover::from_node(1, std::string(100000, '[')).is_empty());
}

}  // namespace
}  // namespace dcs
