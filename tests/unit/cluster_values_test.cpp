// `config` and `history`: kept nearly as stored, with Patroni's fallbacks for unreadable values.
#include <gtest/gtest.h>

#include "dcs/cluster.hpp"

namespace dcs {
namespace {

using nlohmann::json;

TEST(ClusterConfig, ObjectKeepsItsRevisionAsModifyVersion) {
  const auto c = ClusterConfig::from_node(42, R"({"ttl":30,"loop_wait":10,"postgresql":{"use_slots":true}})");
  EXPECT_EQ(c.version, 42);
  EXPECT_EQ(c.modify_version, 42);
  EXPECT_EQ(c.data["ttl"], 30);
  EXPECT_EQ(c.data["postgresql"]["use_slots"], true);
}

TEST(ClusterConfig, NotJsonOrNotAnObjectIsEmptyWithModifyVersionZero) {
  for (const char* value : {"", "{", "[]", "5", "\"x\"", "null", "{\"a\":1}}"}) {
    const auto c = ClusterConfig::from_node(42, value);
    EXPECT_EQ(c.version, 42) << value;
    EXPECT_EQ(c.modify_version, 0) << value;
    EXPECT_EQ(c.data, json::object()) << value;
  }
  EXPECT_EQ(ClusterConfig::from_node(1, std::string(5000, '{')).data, json::object());
}

TEST(TimelineHistory, KeepsRawTextAndParsedLines) {
  const std::string text = R"([[1,25165984,"no recovery target specified","2024-05-01T10:00:00+00:00","node2"]])";
  const auto h = TimelineHistory::from_node(9, text);
  EXPECT_EQ(h.version, 9);
  EXPECT_EQ(h.value, text);
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_EQ(h.lines[0][0], 1);
}

TEST(TimelineHistory, NotAnArrayHasNoLines) {
  for (const char* value : {"", "[", "{}", "2", "null"}) {
    const auto h = TimelineHistory::from_node(3, value);
    EXPECT_EQ(h.lines, json::array()) << value;
    EXPECT_EQ(h.value, value);
  }
}

}  // namespace
}  // namespace dcs
