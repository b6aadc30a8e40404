// The bytes Patroni writes: every golden string below is Python's own output, re-derivable with
//   python3 -c 'import json; print(json.dumps(<value>, separators=(",", ":")))'
// so a 3.0.2 or HEAD peer reading our values sees exactly what one of its own would have written.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <string_view>

#include "dcs/cluster.hpp"
#include "model/patroni_json.hpp"

namespace dcs {
namespace {

using nlohmann::json;

TEST(PatroniJson, EscapesControlCharactersQuotesAndDelLikePython) {
  // json.dumps("\x00\x01\x08\x09\x0a\x0c\x0d\x1f \"\\/~\x7f", separators=(",", ":"))
  const std::string text("\x00\x01\x08\x09\x0a\x0c\x0d\x1f \"\\/~\x7f", 14);
  EXPECT_EQ(to_patroni_json(json(text)), R"("\u0000\u0001\b\t\n\f\r\u001f \"\\/~\u007f")");
}

TEST(PatroniJson, EscapesNonAsciiAsLowercaseUtf16) {
  // json.dumps("é€😀\u2028", separators=(",", ":"))
  EXPECT_EQ(to_patroni_json(json("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xE2\x80\xA8")),
            R"("\u00e9\u20ac\ud83d\ude00\u2028")");
}

TEST(PatroniJson, PrintsFloatsAsPythonRepr) {
  // json.dumps([1e16, 1e15, 1e-5, 1e-4, 0.1, -0.0, 0.0, 1.5e300, 123456789.125, 5e-324,
  //             1.7976931348623157e308, 1/3, 2.5, 100.0], separators=(",", ":"))
  const json values = {
      1e16,    1e15, 1e-5, 1e-4, 0.1, -0.0, 0.0, 1.5e300, 123456789.125, 5e-324, 1.7976931348623157e308,
      1.0 / 3, 2.5,  100.0};
  EXPECT_EQ(to_patroni_json(values),
            "[1e+16,1000000000000000.0,1e-05,0.0001,0.1,-0.0,0.0,1.5e+300,123456789.125,5e-324,"
            "1.7976931348623157e+308,0.3333333333333333,2.5,100.0]");
}

TEST(PatroniJson, PrintsNonFiniteFloatsAsPythonDoes) {
  // json.dumps([float("nan"), float("inf"), float("-inf")], separators=(",", ":"))
  const json values = {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity()};
  EXPECT_EQ(to_patroni_json(values), "[NaN,Infinity,-Infinity]");
}

TEST(PatroniJson, PrintsIntegersAndLiteralsCompactly) {
  // json.dumps({"a":[True,False,None],"b":1,"c":{"x":-9223372036854775808,"y":18446744073709551615}},
  //            separators=(",", ":"))
  const json value = {
      {"b", 1},
      {"a", {true, false, nullptr}},
      {"c", {{"x", std::numeric_limits<std::int64_t>::min()}, {"y", std::numeric_limits<std::uint64_t>::max()}}}};
  // nlohmann::json keeps keys sorted, so "a" comes first.
  EXPECT_EQ(to_patroni_json(value),
            R"({"a":[true,false,null],"b":1,"c":{"x":-9223372036854775808,"y":18446744073709551615}})");
  EXPECT_EQ(to_patroni_json(json::object()), "{}");
  EXPECT_EQ(to_patroni_json(json::array()), "[]");
  EXPECT_EQ(to_patroni_json(json("")), R"("")");
}

TEST(PatroniJson, ReplacesInvalidUtf8InsteadOfThrowing) {
  // Python cannot even hold such a string; the writer must still produce valid ASCII JSON.
  const json value = {{"name", std::string("a\xFF\xE2\x82z")}, {std::string("k\xC0"), 1}};
  std::string text;
  ASSERT_NO_THROW(text = to_patroni_json(value));
  EXPECT_NE(text.find(R"(\ufffd)"), std::string::npos);
  for (char c : text) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
  EXPECT_TRUE(json::accept(text));
}

TEST(PatroniJson, KeepsInsertionOrderForFixedFormats) {
  nlohmann::ordered_json value;
  value["optime"] = 1;
  value["slots"] = json::object();
  value["retain_slots"] = json::array();
  EXPECT_EQ(model::to_patroni_json_ordered(value), R"({"optime":1,"slots":{},"retain_slots":[]})");
}

TEST(PatroniJson, ParseRefusesWhatPythonRefusesOrWeCannotWalk) {
  EXPECT_EQ(model::parse_json(R"({"a":1})"), json({{"a", 1}}));
  EXPECT_EQ(model::parse_json(" 5 "), json(5));
  EXPECT_FALSE(model::parse_json(""));
  EXPECT_FALSE(model::parse_json("{"));
  EXPECT_FALSE(model::parse_json("1 2"));
  EXPECT_FALSE(model::parse_json("\xEF\xBB\xBF{}"));          // a byte order mark
  EXPECT_FALSE(model::parse_json("\"\xFF\""));                // invalid UTF-8
  EXPECT_FALSE(model::parse_json("1e400"));                   // out of range
  EXPECT_FALSE(model::parse_json(std::string(100000, '[')));  // garbage nesting
  EXPECT_TRUE(model::parse_json(std::string(model::kMaxJsonDepth, '[') + std::string(model::kMaxJsonDepth, ']')));
  EXPECT_FALSE(
      model::parse_json(std::string(model::kMaxJsonDepth + 1, '[') + std::string(model::kMaxJsonDepth + 1, ']')));
  // Brackets inside strings do not count.
  EXPECT_TRUE(model::parse_json("\"" + std::string(10000, '[') + "\""));
}

// Found by fuzz_cluster_values: nlohmann's parser takes a NUL byte for the end of the input, so a
// stored value with a NUL and anything after it read as the JSON before the NUL, where Patroni's
// json.loads refuses the whole value.
TEST(PatroniJson, ParseRefusesTextWithNulBytes) {
  using namespace std::string_view_literals;
  EXPECT_FALSE(model::parse_json("67\0junk"sv));
  EXPECT_FALSE(model::parse_json("{\"role\":\"primary\"}\0"sv));
  EXPECT_FALSE(model::parse_json("\"a\0b\""sv));
  EXPECT_EQ(ClusterConfig::from_node(3, "{\"ttl\":30}\0{"sv).modify_version, 0);
  EXPECT_EQ(Status::from_node("67108864\0\0"sv).last_lsn, 0);
}

// parse_json reads with simdjson and falls back to nlohmann's parser; a member's data must not
// depend on which one read it, down to the number types nlohmann tells apart.
TEST(PatroniJson, ParseReadsEveryValueAsNlohmannAloneWould) {
  using namespace std::string_view_literals;
  const std::string_view texts[] = {
      R"({"conn_url":"postgres://h:5432/postgres","api_url":"http://h:8008/patroni","state":"running",)"
      R"("role":"replica","version":"3.0.2","xlog_location":67108960,"timeline":1,"tags":{"nofailover":false}})",
      R"({"a":1,"a":2})",
      "0",
      "-0",
      "-0.0",
      "7",
      "-7",
      "18446744073709551615",
      "18446744073709551616",
      "-9223372036854775808",
      "-9223372036854775809",
      "123456789012345678901234567890",
      "1.5",
      "1e2",
      "1E+2",
      "-1.0e+2",
      "2.2250738585072011e-308",
      "1.5e-400",
      "1e400",
      R"("\ud834\udd1e")",
      R"("\ud800")",
      R"("\udc00")",
      R"("\ud834x")",
      R"("\u0000")",
      R"("\/")",
      R"("\x")",
      "\"a\x01\"",
      "\"\x7f\"",
      "\"\xed\xa0\x80\"",
      "\"\xf4\x90\x80\x80\"",
      "\"\xc3\xa9\"",
      "[1,]",
      R"({"a":1,})",
      "[1,2",
      "{} x",
      " {} ",
      "\t1\n",
      "\f1",
      "\v1",
      "1.",
      ".5",
      "01",
      "-",
      "1e",
      "tru",
      "nul",
      "NaN",
      "Infinity",
      "[]",
      R"({"":null})",
      "true",
      "null",
      R"([{"a":[1,{"b":-2}]},"2026-01-05",false])",
      ""};
  for (const auto text : texts) {
    SCOPED_TRACE(std::string(text));
    const auto fast = model::parse_json(text);
    const auto reference = model::parse_json_reference(text);
    ASSERT_EQ(fast.has_value(), reference.has_value());
    if (!fast) continue;
    EXPECT_EQ(fast->dump(), reference->dump());
    EXPECT_EQ(fast->type(), reference->type());
  }
  // Around the depth limit, where simdjson's own limit (set to ours) and the bracket count meet.
  for (const int depth : {model::kMaxJsonDepth - 1, model::kMaxJsonDepth, model::kMaxJsonDepth + 1}) {
    std::string array =
        std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']');
    std::string object;
    for (int i = 0; i < depth; ++i) object += R"({"a":)";
    object += "1" + std::string(static_cast<std::size_t>(depth), '}');
    for (const auto& text : {array, object}) {
      SCOPED_TRACE(depth);
      EXPECT_EQ(model::parse_json(text).has_value(), depth <= model::kMaxJsonDepth);
      EXPECT_EQ(model::parse_json(text).has_value(), model::parse_json_reference(text).has_value());
    }
  }
  // The number types themselves, as the readers see them.
  EXPECT_TRUE(model::parse_json("5")->is_number_unsigned());
  EXPECT_TRUE(model::parse_json("-5")->is_number_integer() && !model::parse_json("-5")->is_number_unsigned());
  EXPECT_TRUE(model::parse_json("-0")->is_number_integer() && !model::parse_json("-0")->is_number_unsigned());
  EXPECT_TRUE(model::parse_json("18446744073709551616")->is_number_float());
  EXPECT_EQ(model::parse_json(R"({"a":1,"a":2})"), json({{"a", 2}}));  // the last duplicate wins
}

TEST(DeepCompare, ComparesKeysAtEveryLevelAndLeavesByText) {
  // Patroni's own doctests of utils.deep_compare.
  EXPECT_FALSE(deep_compare(json{{"1", nullptr}}, json::object()));
  EXPECT_FALSE(deep_compare(json{{"1", json::object()}}, json{{"1", nullptr}}));
  EXPECT_FALSE(deep_compare(json{{"1", {1}}}, json{{"1", {2}}}));
  EXPECT_TRUE(deep_compare(json{{"1", 2}}, json{{"1", "2"}}));
  EXPECT_TRUE(deep_compare(json{{"1", {{"2", {3, 4}}}}}, json{{"1", {{"2", {3, 4}}}}}));
}

TEST(DeepCompare, UsesPythonStrOfLeaves) {
  EXPECT_TRUE(deep_compare(json{{"a", true}}, json{{"a", "True"}}));
  EXPECT_TRUE(deep_compare(json{{"a", nullptr}}, json{{"a", "None"}}));
  EXPECT_TRUE(deep_compare(json{{"a", 1.5}}, json{{"a", "1.5"}}));
  EXPECT_FALSE(deep_compare(json{{"a", 1}}, json{{"a", 1.0}}));  // "1" != "1.0"
  // str([1, 'a']) == "[1, 'a']"
  EXPECT_TRUE(deep_compare(json{{"a", {1, "a"}}}, json{{"a", "[1, 'a']"}}));
  EXPECT_FALSE(deep_compare(json{{"a", {1}}}, json{{"a", {"1"}}}));
  EXPECT_FALSE(deep_compare(json{{"a", 1}}, json{{"b", 1}}));
  // Same-typed leaves, compared without printing them, give what str() gives.
  EXPECT_TRUE(deep_compare(json{{"a", "x"}}, json{{"a", "x"}}));
  EXPECT_FALSE(deep_compare(json{{"a", "x"}}, json{{"a", "y"}}));
  EXPECT_TRUE(deep_compare(json{{"a", 5u}}, json{{"a", 5}}));  // unsigned and signed 5: both "5"
  EXPECT_FALSE(deep_compare(json{{"a", -5}}, json{{"a", 5u}}));
  EXPECT_TRUE(deep_compare(json{{"a", false}}, json{{"a", false}}));
  EXPECT_FALSE(deep_compare(json{{"a", false}}, json{{"a", true}}));
  EXPECT_TRUE(deep_compare(json{{"a", nullptr}}, json{{"a", nullptr}}));
  EXPECT_FALSE(deep_compare(json{{"a", 0.0}}, json{{"a", -0.0}}));  // "0.0" != "-0.0"
  EXPECT_TRUE(deep_compare(json{{"a", {1, "a"}}}, json{{"a", {1, "a"}}}));
}

TEST(PythonValues, StrMatchesPython) {
  // str([1, 'a', "it's", None, True, 1.5, {'k': [2]}]); str({'a': 'x\ny'}); str(["a\"b'c"])
  EXPECT_EQ(model::python_str(json::parse(R"([1,"a","it's",null,true,1.5,{"k":[2]}])")),
            R"([1, 'a', "it's", None, True, 1.5, {'k': [2]}])");
  EXPECT_EQ(model::python_str(json{{"a", "x\ny"}}), R"({'a': 'x\ny'})");
  EXPECT_EQ(model::python_str(json::array({"a\"b'c"})), R"(['a"b\'c'])");
  EXPECT_EQ(model::python_str(json("plain")), "plain");
}

TEST(PythonValues, IntAcceptsWhatPythonIntAccepts) {
  EXPECT_EQ(model::python_int(json(42)), 42);
  EXPECT_EQ(model::python_int(json(true)), 1);
  EXPECT_EQ(model::python_int(json(2.9)), 2);
  EXPECT_EQ(model::python_int(json(-2.9)), -2);
  EXPECT_EQ(model::python_int(json(" -17 ")), -17);
  EXPECT_EQ(model::python_int(json("+1_000")), 1000);
  EXPECT_FALSE(model::python_int(json("1.5")));
  EXPECT_FALSE(model::python_int(json("")));
  EXPECT_FALSE(model::python_int(json("_1")));
  EXPECT_FALSE(model::python_int(json("1_")));
  EXPECT_FALSE(model::python_int(json("0x10")));
  EXPECT_FALSE(model::python_int(json(nullptr)));
  EXPECT_FALSE(model::python_int(json::array()));
  EXPECT_FALSE(model::python_int(json(std::numeric_limits<std::uint64_t>::max())));
  EXPECT_FALSE(model::python_int(json("99999999999999999999")));
  EXPECT_FALSE(model::python_int(json(1e300)));
}

TEST(PythonValues, Utf8ReplacementFollowsPython) {
  // b"\xff\xe2\x82A\xf0\x9f\x98".decode("utf-8", "replace") == "\ufffd\ufffdA\ufffd"
  EXPECT_EQ(model::sanitize_utf8("\xFF\xE2\x82"
                                 "A\xF0\x9F\x98"),
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "A\xEF\xBF\xBD");
  // b"\xed\xa0\x80" (a surrogate) -> three replacements; b"\xc0\xaf" (overlong) -> two
  EXPECT_EQ(model::sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(model::sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(model::sanitize_utf8("ok \xC3\xA9"), "ok \xC3\xA9");
}

TEST(PatroniVersion, ParsesDottedNumbers) {
  EXPECT_EQ(parse_patroni_version("3.0.2"), (std::array<int, 3>{3, 0, 2}));
  EXPECT_EQ(parse_patroni_version("4.1.14"), (std::array<int, 3>{4, 1, 14}));
  EXPECT_EQ(parse_patroni_version("2.0"), (std::array<int, 3>{2, 0, 0}));
  EXPECT_FALSE(parse_patroni_version(""));
  EXPECT_FALSE(parse_patroni_version("4.0.0rc1"));
  EXPECT_FALSE(parse_patroni_version("1.2.3.4"));
  EXPECT_FALSE(parse_patroni_version("1..3"));
  EXPECT_FALSE(parse_patroni_version("-1.0.0"));
  EXPECT_FALSE(parse_patroni_version("99999999999.0.0"));
}

}  // namespace
}  // namespace dcs

// Found by fuzz_cluster_values: "-0" was read as Citus group 0. Patroni takes a group directory
// only when its name matches ^(0|[1-9][0-9]*)$.
TEST(PythonValues, CitusGroupNamesAreCanonicalDecimals) {
  EXPECT_EQ(dcs::model::citus_group("0"), 0);
  EXPECT_EQ(dcs::model::citus_group("12"), 12);
  for (const char* name : {"-0", "-1", "+1", "01", "1a", " 1", ""}) {
    EXPECT_FALSE(dcs::model::citus_group(name)) << "'" << name << "'";
  }
}
