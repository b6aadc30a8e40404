// The `status` key (and the legacy `optime/leader`): every shape Patroni HEAD's Status.from_node
// accepts, and what it makes of the rest.
#include <gtest/gtest.h>

#include "dcs/cluster.hpp"

namespace dcs {
namespace {

using nlohmann::json;
using Slots = std::map<std::string, std::int64_t>;

TEST(Status, ReadsHeadValue) {
  const auto s = Status::from_node(R"({"optime":1234,"slots":{"s1":10,"s2":20},"retain_slots":["m1","m2"]})");
  EXPECT_EQ(s.last_lsn, 1234);
  EXPECT_EQ(s.slots, (Slots{{"s1", 10}, {"s2", 20}}));
  EXPECT_EQ(s.retain_slots, (std::vector<std::string>{"m1", "m2"}));
  EXPECT_FALSE(s.is_empty());
}

TEST(Status, WritesInPatroniKeyOrder) {
  // json.dumps({"optime":1234,"slots":{"s1":10},"retain_slots":["m1","m2"]}, separators=(",", ":"))
  const Status s{1234, Slots{{"s1", 10}}, {"m1", "m2"}};
  EXPECT_EQ(s.value(), R"({"optime":1234,"slots":{"s1":10},"retain_slots":["m1","m2"]})");
  EXPECT_EQ(s.to_json(), json::parse(s.value()));
  EXPECT_EQ((Status{5, std::nullopt, {}}).value(), R"({"optime":5})");
  EXPECT_EQ(Status::from_node(s.value()), s);
}

TEST(Status, BareIntegerIsTheLegacyOptime) {
  EXPECT_EQ(Status::from_node("5678"), (Status{5678, std::nullopt, {}}));
  EXPECT_EQ(Status::from_node(" 42\n").last_lsn, 42);
}

TEST(Status, SlotsAndRetainSlotsMayBeJsonStrings) {
  const auto s = Status::from_node(R"({"optime":1,"slots":"{\"s\":7}","retain_slots":"[\"a\"]"})");
  EXPECT_EQ(s.slots, (Slots{{"s", 7}}));
  EXPECT_EQ(s.retain_slots, (std::vector<std::string>{"a"}));
}

TEST(Status, UnreadablePartsAreDroppedOneByOne) {
  const auto s = Status::from_node(R"({"optime":"x","slots":[1],"retain_slots":{"a":1}})");
  EXPECT_EQ(s.last_lsn, 0);
  EXPECT_FALSE(s.slots);
  EXPECT_TRUE(s.retain_slots.empty());
  EXPECT_TRUE(s.is_empty());

  const auto t = Status::from_node(R"({"optime":"77","slots":"{","retain_slots":"nope"})");
  EXPECT_EQ(t.last_lsn, 77);  // int("77")
  EXPECT_FALSE(t.slots);
  EXPECT_TRUE(t.retain_slots.empty());

  // An unreadable slot position becomes 0; names that are not strings are skipped.
  const auto u = Status::from_node(R"({"optime":3,"slots":{"a":"12","b":null,"c":1.9},"retain_slots":["x",5,null]})");
  EXPECT_EQ(u.slots, (Slots{{"a", 12}, {"b", 0}, {"c", 1}}));
  EXPECT_EQ(u.retain_slots, (std::vector<std::string>{"x"}));
}

TEST(Status, MissingOptimeIsZero) {
  const auto s = Status::from_node(R"({"slots":{}})");
  EXPECT_EQ(s.last_lsn, 0);
  EXPECT_EQ(s.slots, Slots{});
  EXPECT_FALSE(s.is_empty());  // slots are stored, even empty
}

TEST(Status, GarbageIsEmpty) {
  for (const char* value : {"", "{", "[]", "\"5\"", "null", "1.5", "99999999999999999999999"}) {
    EXPECT_TRUE(Status::from_node(value).is_empty()) << value;
  }
  EXPECT_TRUE(Status::from_node(std::string(100000, '{')).is_empty());
}

}  // namespace
}  // namespace dcs
